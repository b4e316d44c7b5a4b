import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tardinessHorizon, tardinessLowerBound } from '../../../policy/bounds/tardiness.js';
import { createRng } from '../../../policy/random.js';
import type { Job } from '../../../policy/workload/job.js';
import { preemptiveEdf } from './preemptive-edf.js';

/** With computeSlices 1 a job's work is its time on a whole machine, which keeps hand cases readable. */
function job(id: number, release: number, work: number, deadline: number): Job {
  return { id, release, deadline, work, profile: 'bert-inference', kind: 'inference' };
}

function edfMean(jobs: readonly Job[], gpus: number, computeSlices: number): number {
  return preemptiveEdf(
    jobs.map((j) => ({ release: j.release, p: j.work / computeSlices, deadline: j.deadline })),
    gpus,
  ).meanTardiness;
}

describe('tardinessLowerBound', () => {
  const cases: Array<{ name: string; jobs: Job[]; gpus: number; step: number; want: number }> = [
    // Finishes at 10, due at 5: tardiness 5; the model counts 10 unfinished steps, minus one step of slack.
    { name: 'one late job, step 1', jobs: [job(0, 0, 10, 5)], gpus: 1, step: 1, want: 4 },
    { name: 'one late job, step 0.5', jobs: [job(0, 0, 10, 5)], gpus: 1, step: 0.5, want: 4.5 },
    { name: 'a job with room to spare', jobs: [job(0, 0, 10, 12)], gpus: 1, step: 1, want: 0 },
    {
      name: 'two equal late jobs on two machines run side by side',
      jobs: [job(0, 0, 10, 5), job(1, 0, 10, 5)],
      gpus: 2,
      step: 1,
      want: 4,
    },
    // One machine, both due at 10: one finishes by 10 at best, the other at 20, so Σ T ≥ 10 less 2 steps.
    {
      name: 'two jobs on one machine queue',
      jobs: [job(0, 0, 10, 10), job(1, 0, 10, 10)],
      gpus: 1,
      step: 1,
      want: 4.5,
    },
    { name: 'a late release', jobs: [job(0, 3, 4, 5)], gpus: 1, step: 1, want: 1 },
  ];
  it.each(cases)('$name', async ({ jobs, gpus, step, want }) => {
    const got = await tardinessLowerBound(jobs, { gpus, computeSlices: 1, stepMin: step });
    expect(got.status).toBe('optimal');
    expect(got.meanTardinessMin).toBeCloseTo(want, 6);
    expect(got.errorBoundMin).toBe(2 * step);
    // The true optimum of each hand case is the EDF schedule's, and it lies within the stated error.
    const truth = edfMean(jobs, gpus, 1);
    expect(got.meanTardinessMin).toBeLessThanOrEqual(truth + 1e-9);
    expect(truth).toBeLessThanOrEqual(got.meanTardinessMin + got.errorBoundMin + 1e-9);
  });

  it('linearises work over the GPU compute slices', async () => {
    // 70 min on 1g is 10 min on a whole 7-slice GPU: the same as the first hand case.
    const got = await tardinessLowerBound([job(0, 0, 70, 5)], { gpus: 1, computeSlices: 7, stepMin: 1 });
    expect(got.meanTardinessMin).toBeCloseTo(4, 6);
  });

  it('has a horizon long enough for any non-idling schedule', () => {
    expect(tardinessHorizon([job(0, 2, 6, 0), job(1, 4, 2, 0)], 2, 1)).toBe(4 + 8 / 2 + 6);
    expect(tardinessHorizon([], 2, 1)).toBe(0);
  });

  it('refuses a model that is too large without solving it', async () => {
    const jobs = Array.from({ length: 40 }, (_, i) => job(i, i * 10, 60, i * 10 + 60));
    const got = await tardinessLowerBound(jobs, { gpus: 1, computeSlices: 1, stepMin: 1 });
    expect(got.status).toBe('too-large');
    expect(got.steps).toBe(Math.ceil(390 + 2400 + 60) + 1);
    expect(got.meanTardinessMin).toBe(0);
  });

  it('returns a proven bound, still valid, when HiGHS hits its time limit', async () => {
    const rng = createRng(3);
    const jobs = Array.from({ length: 30 }, (_, i) => {
      const release = rng.next() * 20;
      const work = 1 + rng.next() * 20;
      return job(i, release, work, release + work * (1 + rng.next() * 0.5));
    });
    const got = await tardinessLowerBound(jobs, { gpus: 2, computeSlices: 1, stepMin: 1, timeLimitSec: 0 });
    expect(got.status).toBe('time-limit');
    expect(got.meanTardinessMin).toBeGreaterThanOrEqual(0);
    expect(got.meanTardinessMin).toBeLessThanOrEqual(edfMean(jobs, 2, 1));
  });

  it('rejects bad options', async () => {
    await expect(tardinessLowerBound([], { gpus: 0, computeSlices: 7, stepMin: 1 })).rejects.toThrow(RangeError);
    await expect(tardinessLowerBound([], { gpus: 1, computeSlices: 7, stepMin: 0 })).rejects.toThrow(RangeError);
  });

  it('is at most the mean tardiness of a feasible schedule and at least each job alone, less a step', async () => {
    const instance = fc.record({
      gpus: fc.integer({ min: 1, max: 3 }),
      step: fc.constantFrom(0.5, 1),
      jobs: fc.array(
        fc.record({
          release: fc.double({ min: 0, max: 8, noNaN: true }),
          work: fc.double({ min: 0.2, max: 6, noNaN: true }),
          slack: fc.double({ min: 0.3, max: 1.5, noNaN: true }),
        }),
        { minLength: 1, maxLength: 6 },
      ),
    });
    await fc.assert(
      fc.asyncProperty(instance, async ({ gpus, step, jobs: raw }) => {
        const jobs = raw.map((j, i) => job(i, j.release, j.work, j.release + j.slack * j.work));
        const got = await tardinessLowerBound(jobs, { gpus, computeSlices: 1, stepMin: step, timeLimitSec: 10 });
        expect(got.status).toBe('optimal');
        expect(got.meanTardinessMin).toBeLessThanOrEqual(edfMean(jobs, gpus, 1) + 1e-7);
        const alone = jobs.reduce((s, j) => s + Math.max(0, j.release + j.work - step - j.deadline), 0) / jobs.length;
        expect(got.meanTardinessMin).toBeGreaterThanOrEqual(alone - 1e-7);
      }),
      { numRuns: 25, seed: 5 },
    );
  });
});
