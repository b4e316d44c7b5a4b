// The extender's warm prioritize answers. kube-scheduler sends the same candidates for pod after pod while
// no node changes, and with thousands of nodes in a list the scoring was most of a prioritize request. So
// per list and demand the extender keeps the parts of the scores' keys that do not move with the clock
// (policy/placement/node-score.ts `clockFreeParts`) and scores each request from them (`scoresAt`) while
// every node state is the same object. The decisions stay in the decision core; only the keeping is here.
import type { PlacementName } from '../policy/placement/heuristics.js';
import {
  clockFreeParts,
  demandKey,
  scoresAt,
  type ClockFreeParts,
  type NodeMigState,
  type PodDemand,
  type ScoreOptions,
} from '../policy/placement/node-score.js';
import type { ProfileBook, SpeedupProfile } from '../policy/workload/job.js';

/**
 * Whether two lists hold the same node states, object for object. States are immutable and the cache
 * replaces one whenever its node or one of its pods changes, so an answer worked out from one list holds
 * for the other (the memos of KeptScores and of the filter answers, name-replies.ts).
 */
export function sameStates(
  a: readonly (NodeMigState | undefined)[],
  b: readonly (NodeMigState | undefined)[],
): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Clock-free parts with everything they were worked out from but the clock and the deadline. */
interface Kept {
  readonly states: readonly (NodeMigState | undefined)[];
  readonly slices: string;
  readonly work: number | undefined;
  readonly speedup: SpeedupProfile | undefined;
  readonly heuristic: PlacementName;
  readonly etWeight: number;
  readonly profiles: ProfileBook;
  readonly watts: ScoreOptions['watts'];
  readonly parts: ClockFreeParts;
}

/** Demands kept per list: a scheduler queue holds pods of a few shapes. */
const KEPT_PER_OWNER = 4;

/**
 * scoreNodes for lists that come again: per owner (the caller's object for a list, e.g. the extender's
 * NameList) and demand it keeps the clock-free parts of the keys, and uses them while every node state is
 * the same object. The scores are scoreNodes' own (`scoresAt`).
 */
export class KeptScores {
  private readonly kept = new WeakMap<object, Kept[]>();

  score(owner: object, demand: PodDemand, nodes: readonly (NodeMigState | undefined)[], opts: ScoreOptions): number[] {
    const slices = demandKey(demand);
    const list = this.kept.get(owner) ?? [];
    let k = list.find((x) => matches(x, nodes, slices, demand, opts));
    if (!k) {
      k = {
        states: nodes.slice(),
        slices,
        work: demand.work,
        speedup: demand.speedup,
        heuristic: opts.heuristic,
        etWeight: opts.etWeight,
        profiles: opts.profiles,
        watts: opts.watts,
        parts: clockFreeParts(demand, nodes, opts),
      };
      this.kept.set(owner, [k, ...list.filter((x) => x.slices !== slices).slice(0, KEPT_PER_OWNER - 1)]);
    }
    return scoresAt(k.parts, demand, opts);
  }
}

function matches(
  k: Kept,
  nodes: readonly (NodeMigState | undefined)[],
  slices: string,
  demand: PodDemand,
  opts: ScoreOptions,
): boolean {
  if (k.slices !== slices || k.work !== demand.work || k.speedup !== demand.speedup) return false;
  if (k.heuristic !== opts.heuristic || k.etWeight !== opts.etWeight) return false;
  return k.profiles === opts.profiles && k.watts === opts.watts && sameStates(k.states, nodes);
}
