// The repartitioning controllers a Dynamic MigPartition can name, built from the policy's limits. A learned
// controller plugs in here under its own name.
import type { ControllerTraits, Repartitioner } from '../policy/repartition/controller.js';
import { greedyRepartitioner } from '../policy/repartition/greedy.js';
import { timetableRepartitioner, type TimedTarget } from '../policy/repartition/schedule.js';
import { staticRepartitioner } from '../policy/repartition/static.js';
import { meanFieldRepartitioner } from '../policy/repartition/meanfield.js';
import { checkedActor } from '../policy/learn/card.js';
import type { LoadedActor } from '../model-store/actor-files.js';
import { staticTargets, type ResolvedPolicy } from './policy.js';

/** The loaded actor of a model name, if it loaded. */
export type ActorLookup = (name: string) => LoadedActor | undefined;

/** A controller for the policy, or undefined when what it needs (its model) is not there. */
export type ControllerFactory = (policy: ResolvedPolicy, actors: ActorLookup) => Repartitioner | undefined;

/** A named controller: what it takes (checked against the policy first) and how to build it. */
export interface ControllerEntry extends ControllerTraits {
  readonly make: ControllerFactory;
}

export const CONTROLLERS: ReadonlyMap<string, ControllerEntry> = new Map<string, ControllerEntry>([
  // Idle GPUs only: draining busy ones for greedy's choices cost more than they gained (docs/controllers.md).
  [
    'greedy',
    { takesModel: false, make: (p) => greedyRepartitioner({ minDwell: p.minDwellMs / 60_000, drainBusy: false }) },
  ],
  ['static', { takesModel: false, make: () => staticRepartitioner() }],
  // Two phases a day, or a phase per block of the day: both follow the policy's schedule.
  ['twice-daily', { takesModel: false, actsOnTime: true, takesSchedule: true, make: timetable }],
  ['timetable', { takesModel: false, actsOnTime: true, takesSchedule: true, make: timetable }],
  // The learned actor also acts with nothing pending (it may shrink or merge slices ahead of demand).
  ['meanfield', { takesModel: true, actsOnTime: true, make: meanfield }],
]);

function meanfield(p: ResolvedPolicy, actors: ActorLookup): Repartitioner | undefined {
  const actor = p.modelRef === undefined ? undefined : actors(p.modelRef);
  if (!actor) return undefined;
  const { model, options } = checkedActor(actor.card);
  // The name carries the model, so the decision-time metric tells models apart.
  return meanFieldRepartitioner(
    { model, options, net: actor.net, everyMin: actor.card.everyMin },
    `meanfield/${p.modelRef ?? ''}`,
  );
}

/**
 * The policy's timetable as a controller. The operator's clock is minutes since the Unix epoch, so minutes
 * of the day are UTC. Entries resolve per GPU model and index as static layouts do; a GPU no entry covers,
 * or whose entry does not fit its model (reported as a spec issue), is left alone.
 */
function timetable(p: ResolvedPolicy): Repartitioner {
  const phases: TimedTarget[] = p.schedule.map((phase) => ({
    fromMin: phase.fromMin,
    target: (g) => {
      const r = staticTargets(phase.entries, g.model, (g.index ?? 0) + 1, []);
      return r.ok ? r.targets[g.index ?? 0]?.layout : undefined;
    },
  }));
  return timetableRepartitioner(p.controller, phases);
}

/**
 * Keeps one controller per policy generation, so a timetable is compiled once and controllers that keep
 * state between decisions keep it between rounds; any edit of the spec (schedule, controller, dwell, model)
 * makes a new one. `wrap` lets the caller time each decision.
 */
export function controllerCache(
  controllers: ReadonlyMap<string, ControllerEntry>,
  wrap: (r: Repartitioner) => Repartitioner = (r) => r,
  actors: ActorLookup = () => undefined,
): (policy: ResolvedPolicy) => Repartitioner | undefined {
  const cache = new Map<string, Repartitioner>();
  return (policy) => {
    const make = controllers.get(policy.controller)?.make;
    if (!make) return undefined;
    const key = `${policy.name}|${policy.generation}`;
    let r = cache.get(key);
    if (!r) {
      for (const k of cache.keys()) if (k.startsWith(`${policy.name}|`)) cache.delete(k);
      const made = make(policy, actors);
      if (!made) return undefined;
      r = wrap(made);
      cache.set(key, r);
    }
    return r;
  };
}
