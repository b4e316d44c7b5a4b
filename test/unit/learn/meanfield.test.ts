import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../../model-store/backend.js';
import { biasedNet } from '../../support/actors.js';
import { ES_DEFAULTS } from '../../../policy/learn/evolution.js';
import { actorShape, MeanFieldTrainer } from '../../../policy/learn/train.js';
import { layoutOptions, makeSetting } from '../../../policy/evaluate/setting.js';
import { paper12Layout } from '../../../policy/mig/paper12.js';
import { layoutsEqual } from '../../../policy/mig/layout.js';
import type { ClusterView, GpuState } from '../../../policy/repartition/controller.js';
import { meanFieldRepartitioner } from '../../../policy/repartition/meanfield.js';
import { generatePaperWorkload } from '../../../policy/workload/paper-generator.js';
import { A100 } from '../../support/sim-builders.js';

const options = layoutOptions(A100);
beforeAll(() => useBackend('cpu'));
const k = options.length;
const L = (n: number) => paper12Layout(A100, n)!;

const biasedActor = (action: number) => biasedNet(A100, action);

const gpu = (id: number, n: number, extra: Partial<GpuState> = {}): GpuState => ({
  id,
  model: A100,
  layout: L(n),
  node: 0,
  index: id,
  busy: L(n).slices.map(() => false),
  reconfiguring: false,
  lastChange: -Infinity,
  ...extra,
});
const view = (gpus: GpuState[], now: number): ClusterView => ({ now, gpus, pending: [] });

describe('meanfield controller', () => {
  it('moves GPUs to the layout its actor scores highest, and never a locked or reconfiguring GPU', () => {
    const c = meanFieldRepartitioner({ model: A100, options, net: biasedActor(6), everyMin: 5 });
    const changes = c.decide(
      view([gpu(0, 1), gpu(1, 6), gpu(2, 1, { locked: true }), gpu(3, 1, { reconfiguring: true })], 0),
    );
    expect(changes.map((x) => x.gpu)).toEqual([0]); // GPU 1 already has configuration 6
    expect(layoutsEqual(changes[0]!.layout, L(6))).toBe(true);
    expect(c.decide(view([gpu(0, 1)], 2))).toEqual([]); // not due before 5 minutes
  });

  it('keeps when the keep action scores highest, and cancels a drain by choosing the current layout', () => {
    const keep = meanFieldRepartitioner({ model: A100, options, net: biasedActor(0), everyMin: 0 });
    expect(keep.decide(view([gpu(0, 1, { target: L(6) })], 0))).toEqual([]);
    const stay = meanFieldRepartitioner({ model: A100, options, net: biasedActor(1), everyMin: 0 });
    const [cancel] = stay.decide(view([gpu(0, 1, { target: L(6) })], 0));
    expect(layoutsEqual(cancel!.layout, L(1))).toBe(true);
  });
});

describe('training', () => {
  const setting = makeSetting({
    model: A100,
    gpus: 2,
    gpusPerNode: 2,
    mode: 'cluster',
    horizonMin: 180,
    workload: (seed) => generatePaperWorkload({ seed, hours: 3, multiplier: 5 }),
  });
  const trainer = (seed: number) =>
    new MeanFieldTrainer({
      setting,
      actor: { hidden: [8], everyMin: 5, keepBias: 1 },
      es: { ...ES_DEFAULTS, pairs: 2, trainSeeds: [1, 2, 3], seed },
      start: [L(6), L(1)],
      validationSeeds: [4],
    });

  it('imitates a timetable closely enough to follow it', () => {
    const t = trainer(1);
    const phases = [
      { fromMin: 0, layouts: [L(6), L(1)] },
      { fromMin: 60, layouts: [L(1), L(1)] },
      { fromMin: 120, layouts: [L(6), L(6)] },
    ];
    const accuracy = t.imitateTimetable(phases, [1, 2], { epochs: 40, batch: 64, learningRate: 1e-2, seed: 1 });
    expect(accuracy).toBeGreaterThan(0.9);
  });

  it('is deterministic for a seed: two runs of two generations end with the same weights and returns', () => {
    const a = trainer(5);
    const b = trainer(5);
    const ra = [a.step(), a.step()];
    const rb = [b.step(), b.step()];
    expect(rb).toEqual(ra);
    expect([...b.state.theta]).toEqual([...a.state.theta]);
    expect(a.state.theta.length).toBe((actorShape(setting, [8]).inputs + 1) * 8 + 9 * (k + 1));
  });
});
