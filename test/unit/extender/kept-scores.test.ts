// The extender's warm prioritize answers (extender/kept-scores.ts): scores from kept clock-free parts are
// scoreNodes' own, whatever happens between requests.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeptScores } from '../../../extender/kept-scores.js';
import { powerModel } from '../../../policy/energy/power.js';
import type { GpuModel } from '../../../policy/mig/catalog.js';
import { PLACEMENTS, type PlacementName } from '../../../policy/placement/heuristics.js';
import { scoreNodes, type NodeMigState } from '../../../policy/placement/node-score.js';
import {
  arbNodeSpec,
  book,
  H100,
  oneSlice,
  SCORE_PROFILES,
  scoreOpts as opts,
  state,
  arbTiedNodeSpecs,
} from './builders.js';

describe('KeptScores', () => {
  it("gives scoreNodes' scores while the clock moves, nodes change and pods of other shapes come", () => {
    // One watts function, as the extender has: kept parts hold only for the function they were made with.
    const watts = (model: GpuModel, busy: number) => powerModel(model).watts(busy);
    const step = fc.oneof(
      fc.record({ kind: fc.constant('tick' as const), minutes: fc.integer({ min: 0, max: 90 }) }),
      fc.record({ kind: fc.constant('node' as const), at: fc.nat(), spec: arbNodeSpec, h100: fc.boolean() }),
      fc.record({
        kind: fc.constant('pod' as const),
        profile: fc.constantFrom(...SCORE_PROFILES),
        work: fc.integer({ min: 1, max: 120 }),
      }),
      fc.record({ kind: fc.constant('heuristic' as const), heuristic: fc.constantFrom(...PLACEMENTS) }),
    );
    fc.assert(
      fc.property(arbTiedNodeSpecs, fc.array(step, { maxLength: 12 }), (specs, steps) => {
        let nodes: (NodeMigState | undefined)[] = specs.map((sp, i) => state(`n${i}`, sp));
        nodes.push(undefined);
        let now = 0;
        let heuristic: PlacementName = 'cedf';
        let demand = oneSlice('1g.5gb', { work: 30, deadline: 40, speedup: book.get('resnet-training') });
        const kept = new KeptScores();
        const owner = {};
        for (const s of [{ kind: 'tick' as const, minutes: 0 }, ...steps]) {
          if (s.kind === 'tick') now += s.minutes;
          else if (s.kind === 'node') {
            const i = s.at % specs.length;
            nodes = nodes.map((n, k) =>
              k === i ? state(`n${i}`, s.h100 ? { ...s.spec, model: H100, allocatable: { '1g.10gb': 7 } } : s.spec) : n,
            );
          } else if (s.kind === 'pod') demand = { ...demand, slices: { [s.profile]: 1 }, work: s.work };
          else heuristic = s.heuristic;
          const o = { ...opts(heuristic, now), watts };
          // Twice: the first call may make the kept parts, the second must use them.
          expect(kept.score(owner, demand, nodes, o)).toEqual(scoreNodes(demand, nodes, o));
          expect(kept.score(owner, demand, nodes, o)).toEqual(scoreNodes(demand, nodes, o));
        }
      }),
      { numRuns: 300, seed: 8 },
    );
  });
});
