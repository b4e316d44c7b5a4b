import { describe, expect, it } from 'vitest';
import { A100_40GB_WATTS, powerModel } from '../../../policy/energy/power.js';
import { findGpuModel, type GpuModel } from '../../../policy/mig/catalog.js';
import { PLACEMENTS } from '../../../policy/placement/heuristics.js';
import type { ClusterView, Repartitioner } from '../../../policy/repartition/controller.js';
import { greedyRepartitioner } from '../../../policy/repartition/greedy.js';
import { SIM_MODES } from '../../../policy/sim/config.js';
import { simulate } from '../../../policy/sim/simulator.js';
import { generatePaperWorkload } from '../../../policy/workload/paper-generator.js';
import { job, ordered, paperGpus, simConfig } from '../../support/sim-builders.js';

const P = A100_40GB_WATTS;

describe('simulate: hand-checked cases', () => {
  it('one inference job alone on a 7g GPU finishes after work/7 and draws P[7] meanwhile', () => {
    const jobs = ordered([job({ release: 0, work: 7, deadline: 10 })]);
    for (const mode of SIM_MODES) {
      const r = simulate(simConfig({ jobs, gpus: paperGpus([1]), horizonMin: 2 }, mode));
      expect(r.completed).toBe(1);
      expect(r.meanTardinessMin).toBe(0);
      // 1 minute busy at P[7], then idle to the 2-minute horizon.
      expect(r.energyWmin).toBeCloseTo(P[7]! * 1 + P[0]! * 1, 9);
      expect(r.endMin).toBe(2);
    }
  });

  it('tardiness is completion minus deadline when a job cannot finish in time', () => {
    const jobs = ordered([job({ release: 0, work: 14, deadline: 1 })]);
    const r = simulate(simConfig({ jobs, gpus: paperGpus([1]) }, 'cluster'));
    expect(r.meanTardinessMin).toBeCloseTo(1, 9);
    expect(r.onTimeFraction).toBe(0);
  });

  it('paper mode preempts: an urgent arrival takes the only slice and the first job resumes its remaining work', () => {
    const jobs = ordered([
      job({ release: 0, work: 14, deadline: 100 }), // 2 min on 7g
      job({ release: 1, work: 7, deadline: 2 }), // needs the 7g at once
    ]);
    const paper = simulate(simConfig({ jobs, gpus: paperGpus([1]) }, 'paper', 'edf-most-packed'));
    expect(paper.meanTardinessMin).toBe(0);
    expect(paper.endMin).toBeCloseTo(3, 9);
    const cluster = simulate(simConfig({ jobs, gpus: paperGpus([1]) }, 'cluster', 'edf-most-packed'));
    // Without preemption the urgent job waits for the first to finish at 2 and ends at 3: 1 minute late.
    expect(cluster.meanTardinessMin).toBeCloseTo(0.5, 9);
  });

  it('the slowest slice that meets the deadline is chosen (less energy than the biggest)', () => {
    // 4+2+1 GPU: a job with work 4 and deadline 2.5 fits on 2g (2 min) but not on 1g (4 min).
    const jobs = ordered([job({ release: 0, work: 4, deadline: 2.5 })]);
    const r = simulate(simConfig({ jobs, gpus: paperGpus([3]) }, 'cluster', 'edf-most-packed'));
    expect(r.endMin).toBeCloseTo(2, 9);
    expect(r.energyWmin).toBeCloseTo(P[2]! * 2, 9);
  });

  it('respects minCompute: a job that needs 3 slices never lands on a 1g or 2g', () => {
    const jobs = ordered([job({ release: 0, work: 3, deadline: 100, minCompute: 3 })]);
    const r = simulate(simConfig({ jobs, gpus: paperGpus([3]) }, 'cluster', 'edf-most-packed'));
    expect(r.endMin).toBeCloseTo(3 / 4, 9); // on the 4g
  });

  it('first-fit (plain DRA) serves in arrival order on the smallest slice; CEDF meets the urgent deadline', () => {
    // A 4+2+1 GPU. The relaxed job arrives first; the urgent one needs the 4g to be on time.
    const jobs = ordered([job({ release: 0, work: 4, deadline: 100 }), job({ release: 0, work: 4, deadline: 1 })]);
    const ff = simulate(simConfig({ jobs, gpus: paperGpus([3]) }, 'cluster', 'first-fit'));
    const cedf = simulate(simConfig({ jobs, gpus: paperGpus([3]) }, 'cluster', 'cedf'));
    // First-fit: relaxed job on the 1g (4 min), urgent one on the 2g (2 min, 1 late).
    expect(ff.meanTardinessMin).toBeCloseTo(0.5, 9);
    expect(ff.endMin).toBeCloseTo(4, 9);
    expect(cedf.meanTardinessMin).toBe(0);
  });

  it('marginal-ET prices each GPU at its own power in a cluster that mixes models', () => {
    // A whole-GPU job fits on either 7g; the A100 adds 208.5 W for it, the H100 630 W.
    const h100 = findGpuModel('H100-80GB') as GpuModel;
    const gpus = [...paperGpus([1], h100), ...paperGpus([1])];
    const power = (m: GpuModel) => powerModel(m).table;
    const jobs = ordered([job({ release: 0, work: 7, deadline: 10 })]);
    const r = simulate({ ...simConfig({ jobs, gpus, horizonMin: 1 }, 'cluster', 'marginal-et'), powerTable: power });
    expect(r.energyWmin).toBeCloseTo(P[7]! + power(h100)[0]!, 9);
  });

  it('rejects jobs out of release order', () => {
    const jobs = [job({ release: 5, work: 1 }), job({ release: 1, work: 1 })].map((j, id) => ({ ...j, id }));
    expect(() => simulate(simConfig({ jobs, gpus: paperGpus([1]) }))).toThrow(/sorted by release/);
  });
});

describe('simulate: determinism (the same seed gives the same numbers)', () => {
  const jobs = generatePaperWorkload({ seed: 7, hours: 3 });
  const cases = SIM_MODES.flatMap((mode) => PLACEMENTS.map((placement) => ({ mode, placement })));
  it.each(cases)('$mode / $placement', ({ mode, placement }) => {
    const run = () =>
      simulate(
        simConfig(
          { jobs, gpus: paperGpus([1, 2, 3, 5, 10, 12]), horizonMin: 180, seed: 3 },
          mode,
          placement,
          greedyRepartitioner(),
        ),
      );
    expect(run()).toEqual(run());
  });

  it('a different seed changes what the random heuristic does', () => {
    const run = (seed: number) =>
      simulate(simConfig({ jobs, gpus: paperGpus([10, 11, 12]), horizonMin: 180, seed }, 'cluster', 'random'));
    expect(run(1).gpuEnergyWmin).not.toEqual(run(2).gpuEnergyWmin);
  });
});

describe('simulate: invariants over a paper workload', () => {
  const jobs = generatePaperWorkload({ seed: 11, hours: 4 });
  it.each(SIM_MODES)(
    '%s mode: every job completes, energy sums over GPUs and hours, on-time share in [0,1]',
    (mode) => {
      const r = simulate(simConfig({ jobs, gpus: paperGpus([1, 1, 2, 3, 3, 5, 5, 10]), horizonMin: 240 }, mode));
      expect(r.completed).toBe(jobs.length);
      const byGpu = r.gpuEnergyWmin.reduce((a, b) => a + b, 0);
      const byHour = r.hourly.reduce((a, h) => a + h.energyWmin, 0);
      expect(byGpu).toBeCloseTo(r.energyWmin, 3);
      expect(byHour).toBeCloseTo(r.energyWmin, 3);
      expect(r.hourly.reduce((a, h) => a + h.arrivals, 0)).toBe(jobs.length);
      // Every GPU draws at least idle power for the whole run.
      expect(r.energyWmin).toBeGreaterThanOrEqual(8 * P[0]! * r.endMin);
      const gpuMinutes = Object.values(r.layoutMinutes).reduce((a, b) => a + b, 0);
      expect(gpuMinutes).toBeCloseTo(8 * r.endMin, 6);
    },
  );
});

describe('simulate: the repartitioning hook', () => {
  /** Asks to turn every GPU into 7 × 1g at each decision and records what it saw. */
  function recorder(): Repartitioner & { views: ClusterView[] } {
    const views: ClusterView[] = [];
    return {
      name: 'all-to-12',
      views,
      decide(view) {
        views.push(view);
        return view.gpus.map((g) => ({ gpu: g.id, layout: paperGpus([12])[0]!.layout }));
      },
    };
  }

  it('a busy GPU with a new target drains: no new work lands on it and it changes when its last job ends', () => {
    // GPU 0 runs a 10-minute job (70 on 7g); the job at 0.1 would fit GPU 0's layout but must go to GPU 1.
    const jobs = ordered([job({ release: 0, work: 70, deadline: 100 }), job({ release: 0.1, work: 1, deadline: 100 })]);
    const ctl = recorder();
    const r = simulate({
      ...simConfig({ jobs, gpus: paperGpus([1, 1]), horizonMin: 30 }, 'cluster', 'cedf', ctl),
      decideEveryMin: 1,
      gpusPerNode: 1,
    });
    const first = ctl.views[0]!;
    expect(first.gpus[0]!.busy.some(Boolean)).toBe(true);
    const gpu0 = r.changes.filter((c) => c.gpu === 0);
    expect(gpu0[0]!.t).toBeCloseTo(10, 9);
    expect(gpu0[0]!.layout).toBe('1+1+1+1+1+1+1');
    // GPU 0 drained from the first decision (t = 1) until its job ended at 10.
    expect(r.drainingGpuMin).toBeGreaterThanOrEqual(9 - 1e-9);
    expect(ctl.views.some((v) => v.gpus[0]!.target !== undefined)).toBe(true);
    expect(r.completed).toBe(2);
  });

  it('maxNodesReconfiguring holds targets of other nodes back; minDwell refuses a new target too soon', () => {
    // The second job keeps decisions coming after the first change.
    const jobs = ordered([job({ release: 0, work: 70, deadline: 100 }), job({ release: 20, work: 1, deadline: 100 })]);
    const ctl = recorder();
    const r = simulate({
      ...simConfig({ jobs, gpus: paperGpus([1, 1]), horizonMin: 30 }, 'cluster', 'cedf', ctl),
      decideEveryMin: 1,
      gpusPerNode: 1,
      limits: { maxNodesReconfiguring: 1, minDwellMin: 1000 },
    });
    // One node at a time, then the dwell stops every further change: two changes, each GPU once.
    expect(r.changes.map((c) => c.gpu).sort()).toEqual([0, 1]);
    expect(r.refusedRepartitions).toBeGreaterThan(0);
    expect(r.changes[1]!.t).toBeGreaterThanOrEqual(r.changes[0]!.t + 0.5);
  });

  it('drainTimeout gives a drain up and the GPU takes work again', () => {
    const jobs = ordered([job({ release: 0, work: 700, deadline: 1000 })]);
    const once: Repartitioner = {
      name: 'once',
      decide: (v) => (v.now === 1 ? [{ gpu: 0, layout: paperGpus([12])[0]!.layout }] : []),
    };
    const r = simulate({
      ...simConfig({ jobs, gpus: paperGpus([1]), horizonMin: 30 }, 'cluster', 'cedf', once),
      decideEveryMin: 1,
      limits: { drainTimeoutMin: 5 },
    });
    expect(r.abandonedDrains).toBe(1);
    expect(r.changes).toEqual([]);
    expect(r.drainingGpuMin).toBeCloseTo(5, 9);
  });

  it('hands pending demand to the controller as profile names with deadlines', () => {
    const jobs = ordered(Array.from({ length: 4 }, (_, i) => job({ release: 0, work: 70, deadline: 11 + i })));
    const ctl = recorder();
    simulate({
      ...simConfig({ jobs, gpus: paperGpus([1]), horizonMin: 5 }, 'cluster', 'cedf', ctl),
      decideEveryMin: 1,
    });
    const waiting = ctl.views[0]!.pending;
    expect(waiting.length).toBe(3);
    expect(waiting.every((d) => d.profile === '7g.40gb')).toBe(true);
  });
});

describe('simulate: regressions', () => {
  it('paper mode: a remainder below the clock resolution at a late time still completes (no endless loop)', () => {
    const jobs = ordered([
      job({ release: 1000, work: 1e-12, deadline: 1001 }),
      job({ release: 1000, work: 1, deadline: 1001 }),
    ]);
    const r = simulate(simConfig({ jobs, gpus: paperGpus([12]) }, 'paper', 'marginal-et'));
    expect(r.completed).toBe(2);
  });

  it('cluster mode: a decision interval of 20 s (1/3 min, not exact in binary) moves on at every tick', () => {
    // At t = 7 × (1/3) the old next tick, (floor(t / step) + 1) × step, was t itself: the run never ended.
    const jobs = ordered([job({ release: 0, work: 70, deadline: 100 })]);
    const seen: number[] = [];
    const keep: Repartitioner = { name: 'keep', decide: (v) => (seen.push(v.now), []) };
    const r = simulate({
      ...simConfig({ jobs, gpus: paperGpus([1]), horizonMin: 30 }, 'cluster', 'cedf', keep),
      decideEveryMin: 1 / 3,
    });
    expect(r.completed).toBe(1);
    // One decision per tick while the job runs (10 minutes), each later than the one before.
    expect(seen.length).toBeGreaterThanOrEqual(29);
    expect(seen.length).toBeLessThanOrEqual(31);
    expect(seen.every((t, i) => i === 0 || t > (seen[i - 1] as number))).toBe(true);
  });
});
