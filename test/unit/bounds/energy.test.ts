import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { energyLowerBound, fleetEnergyLowerBound, linearise } from '../../../policy/bounds/energy.js';
import { powerModel } from '../../../policy/energy/power.js';
import { maximalLayouts } from '../../../policy/mig/enumerate.js';
import { simulate } from '../../../policy/sim/simulator.js';
import { simConfig } from '../../support/sim-builders.js';
import { findGpuModel, type GpuModel } from '../../../policy/mig/catalog.js';
import type { Job } from '../../../policy/workload/job.js';
import { preemptiveEdf } from './preemptive-edf.js';

/** docs/model.md §3, A100-40GB at a 250 W cap, by busy compute slices. */
const A100_W = [40, 119, 160, 205.3, 243.9, 247.7, 248.5, 248.5];
const A30_W = [30, 80, 120, 150, 165];
const table = (t: readonly number[]) => (k: number) => t[k]!;

function gpu(name: string): GpuModel {
  const m = findGpuModel(name);
  if (!m) throw new Error(`no ${name}`);
  return m;
}
const A100 = gpu('A100-40GB');
const A30 = gpu('A30-24GB');

function job(id: number, release: number, work: number): Job {
  return { id, release, deadline: release + work, work, profile: 'bert-inference', kind: 'inference' };
}

describe('energyLowerBound', () => {
  const cases: Array<{
    name: string;
    jobs: Job[];
    gpus: number;
    model: GpuModel;
    watts: number[];
    want: { energyWmin: number; makespanMin: number; busyWmin: number; idleWmin: number };
  }> = [
    {
      name: 'one whole-GPU job on one A100 draws full power for p = 70/7 minutes',
      jobs: [job(0, 0, 70)],
      gpus: 1,
      model: A100,
      watts: A100_W,
      want: { energyWmin: 2485, makespanMin: 10, busyWmin: 2485, idleWmin: 0 },
    },
    {
      name: 'a second GPU idles for the whole makespan',
      jobs: [job(0, 0, 70)],
      gpus: 2,
      model: A100,
      watts: A100_W,
      want: { energyWmin: 2885, makespanMin: 10, busyWmin: 2485, idleWmin: 400 },
    },
    {
      name: 'idle time before the first release counts',
      jobs: [job(0, 5, 70)],
      gpus: 1,
      model: A100,
      watts: A100_W,
      want: { energyWmin: 2485 + 5 * 40, makespanMin: 15, busyWmin: 2485, idleWmin: 200 },
    },
    {
      name: 'two equal jobs on two GPUs run side by side',
      jobs: [job(0, 0, 70), job(1, 0, 70)],
      gpus: 2,
      model: A100,
      watts: A100_W,
      want: { energyWmin: 4970, makespanMin: 10, busyWmin: 4970, idleWmin: 0 },
    },
    {
      name: 'an A30 is whole at 4 compute slices',
      jobs: [job(0, 0, 40)],
      gpus: 2,
      model: A30,
      watts: A30_W,
      want: { energyWmin: 1650 + 300, makespanMin: 10, busyWmin: 1650, idleWmin: 300 },
    },
    {
      // (P[1] − P[0])/1 = 1 W per slice is the cheapest way to be busy: 10 min × (40 + 7 × 1) W, not 300 W.
      name: 'a power curve below its chord uses the cheapest slope instead',
      jobs: [job(0, 0, 70)],
      gpus: 1,
      model: A100,
      watts: [40, 41, 42, 43, 44, 45, 46, 300],
      want: { energyWmin: 470, makespanMin: 10, busyWmin: 470, idleWmin: 0 },
    },
  ];
  it.each(cases)('$name', ({ jobs, gpus, model, watts, want }) => {
    const got = energyLowerBound(jobs, { gpus, model, power: table(watts) });
    expect(got.energyWmin).toBeCloseTo(want.energyWmin, 9);
    expect(got.makespanMin).toBeCloseTo(want.makespanMin, 9);
    expect(got.busyWmin).toBeCloseTo(want.busyWmin, 9);
    expect(got.idleWmin).toBeCloseTo(want.idleWmin, 9);
  });

  it('rejects a non-integer GPU count', () => {
    expect(() => energyLowerBound([job(0, 0, 1)], { gpus: 1.5, model: A100, power: table(A100_W) })).toThrow(
      RangeError,
    );
  });

  const workload = fc.record({
    gpus: fc.integer({ min: 1, max: 3 }),
    jobs: fc.array(
      fc.record({ release: fc.integer({ min: 0, max: 60 }), work: fc.double({ min: 0.5, max: 90, noNaN: true }) }),
      { minLength: 1, maxLength: 25 },
    ),
  });

  it('is below the energy of real MIG schedules: every job on a 1g slice, and every job on a whole GPU', () => {
    fc.assert(
      fc.property(workload, ({ gpus, jobs: raw }) => {
        const jobs = raw.map((j, i) => job(i, j.release, j.work));
        const bound = energyLowerBound(jobs, { gpus, model: A100, power: table(A100_W) }).energyWmin;
        expect(bound).toBeLessThanOrEqual(oneSliceListSchedule(jobs, gpus, A100_W) + 1e-6);
        const whole = preemptiveEdf(
          linearise(jobs, 7).map((j) => ({ ...j, deadline: j.release })),
          gpus,
        );
        const wholeEnergy = whole.busy * A100_W[7]! + (gpus * whole.makespan - whole.busy) * A100_W[0]!;
        expect(bound).toBeLessThanOrEqual(wholeEnergy + 1e-6);
      }),
      { numRuns: 150, seed: 11 },
    );
  });
});

/**
 * A real MIG schedule with seven 1g slices per GPU: jobs in release order, each on the slice that frees
 * first, running its full 1g work without preemption. Energy integrates P[busy slices] per GPU over
 * [0, last completion].
 */
function oneSliceListSchedule(jobs: readonly Job[], gpus: number, watts: readonly number[]): number {
  const slots = Array.from({ length: gpus * 7 }, () => 0);
  const intervals: Array<{ gpu: number; start: number; end: number }> = [];
  for (const j of [...jobs].sort((a, b) => a.release - b.release || a.id - b.id)) {
    let best = 0;
    for (let s = 1; s < slots.length; s++) if (slots[s]! < slots[best]!) best = s;
    const start = Math.max(j.release, slots[best]!);
    slots[best] = start + j.work;
    intervals.push({ gpu: Math.floor(best / 7), start, end: start + j.work });
  }
  const horizon = Math.max(...intervals.map((i) => i.end));
  let energy = 0;
  for (let g = 0; g < gpus; g++) {
    const mine = intervals.filter((i) => i.gpu === g);
    const cuts = [...new Set([0, horizon, ...mine.flatMap((i) => [i.start, i.end])])].sort((a, b) => a - b);
    for (let c = 0; c + 1 < cuts.length; c++) {
      const [a, b] = [cuts[c]!, cuts[c + 1]!];
      const busy = mine.filter((i) => i.start <= a && i.end >= b).length;
      energy += (b - a) * watts[busy]!;
    }
  }
  return energy;
}

describe('fleetEnergyLowerBound (clusters that mix GPU models)', () => {
  const arbJobs = fc
    .array(fc.tuple(fc.integer({ min: 0, max: 120 }), fc.integer({ min: 1, max: 200 })), {
      minLength: 1,
      maxLength: 25,
    })
    .map((rows) => rows.sort((a, b) => a[0] - b[0]).map(([release, work], id) => job(id, release, work)));

  it('is energyLowerBound when the fleet has one model', () => {
    fc.assert(
      fc.property(arbJobs, fc.integer({ min: 1, max: 4 }), (jobs, gpus) => {
        const one = energyLowerBound(jobs, { gpus, model: A100, power: table(A100_W) });
        const fleet = fleetEnergyLowerBound(jobs, [{ gpus, model: A100, power: table(A100_W) }]);
        expect(fleet.energyWmin).toBeCloseTo(one.energyWmin, 6);
        expect(fleet.makespanMin).toBe(one.makespanMin);
      }),
      { numRuns: 100, seed: 5 },
    );
  });

  it('stays below what the simulator spends on a mixed cluster, whatever the layouts', () => {
    const H100 = gpu('H100-80GB');
    const fleet = [A100, H100, A30].map((model) => ({ model, power: powerModel(model) }));
    fc.assert(
      fc.property(arbJobs, fc.nat(), fc.nat(), fc.nat(), (jobs, i, j, k) => {
        const gpus = fleet.map(({ model }, n) => {
          const all = maximalLayouts(model);
          return { model, layout: all[[i, j, k][n]! % all.length]! };
        });
        const run = simulate({
          ...simConfig({ jobs, gpus, horizonMin: 0 }, 'cluster', 'first-fit'),
          powerTable: (m) => (fleet.find((f) => f.model === m) as (typeof fleet)[number]).power.table,
        });
        const lb = fleetEnergyLowerBound(
          jobs,
          fleet.map(({ model, power }) => ({ model, gpus: 1, power: (b: number) => power.watts(b) })),
        );
        expect(lb.energyWmin).toBeLessThanOrEqual(run.energyWmin + 1e-6);
      }),
      { numRuns: 150, seed: 6 },
    );
  });
});
