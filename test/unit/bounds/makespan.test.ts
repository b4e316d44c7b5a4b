import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadHighs } from '../../../policy/bounds/highs.js';
import { minPreemptiveMakespan, type LinearJob } from '../../../policy/bounds/makespan.js';
import { preemptiveEdf } from './preemptive-edf.js';

const highs = await loadHighs();

/**
 * The interval LP for P|pmtn,r_j|Cmax, independent of the closed form: time is cut at the distinct release
 * dates and at C; x_{j,i} is j's work in interval i (only intervals after r_j); a job fits in an interval's
 * length, the machines in m times it, and each job gets all of its work. Minimise C.
 */
function lpMakespan(jobs: readonly LinearJob[], m: number): number {
  const cuts = [...new Set(jobs.map((j) => j.release))].sort((a, b) => a - b);
  const last = cuts.length - 1;
  const rows: string[] = [];
  const bounds: string[] = [`C >= ${cuts[last]}`];
  const perInterval: string[][] = cuts.map(() => []);
  jobs.forEach((job, j) => {
    const mine: string[] = [];
    cuts.forEach((start, i) => {
      if (start < job.release) return;
      const x = `x${j}_${i}`;
      mine.push(x);
      perInterval[i]!.push(x);
      if (i < last) bounds.push(`${x} <= ${cuts[i + 1]! - start}`);
      else rows.push(`f${j}: ${x} - C <= ${-start}`);
    });
    rows.push(`p${j}: ${mine.join(' + ')} = ${job.p}`);
  });
  perInterval.forEach((xs, i) => {
    if (i < last) rows.push(`m${i}: ${xs.join(' + ')} <= ${m * (cuts[i + 1]! - cuts[i]!)}`);
    else rows.push(`m${i}: ${xs.join(' + ')} - ${m} C <= ${-m * cuts[i]!}`);
  });
  const lp = ['Minimize', ' obj: C', 'Subject To', ...rows, 'Bounds', ...bounds, 'End'].join('\n');
  const result = highs.solve(lp, { output_flag: false });
  if (result.Status !== 'Optimal') throw new Error(`LP status ${result.Status}`);
  return result.ObjectiveValue;
}

describe('minPreemptiveMakespan', () => {
  const cases: Array<{ name: string; jobs: LinearJob[]; m: number; want: number }> = [
    { name: 'no jobs', jobs: [], m: 3, want: 0 },
    {
      name: 'one machine runs back to back from the first release',
      jobs: [
        { release: 2, p: 3 },
        { release: 0, p: 1 },
      ],
      m: 1,
      want: 5,
    },
    {
      name: 'one machine waits for a late release',
      jobs: [
        { release: 0, p: 1 },
        { release: 10, p: 2 },
      ],
      m: 1,
      want: 12,
    },
    {
      name: 'two machines share three equal jobs',
      jobs: [
        { release: 0, p: 3 },
        { release: 0, p: 3 },
        { release: 0, p: 3 },
      ],
      m: 2,
      want: 4.5,
    },
    {
      name: 'two machines, two equal jobs run side by side',
      jobs: [
        { release: 0, p: 5 },
        { release: 0, p: 5 },
      ],
      m: 2,
      want: 5,
    },
    {
      name: 'a long job dominates the machines',
      jobs: [
        { release: 0, p: 10 },
        { release: 0, p: 1 },
        { release: 0, p: 1 },
      ],
      m: 4,
      want: 10,
    },
    {
      name: 'a late long job dominates',
      jobs: [
        { release: 0, p: 4 },
        { release: 0, p: 4 },
        { release: 3, p: 6 },
      ],
      m: 2,
      want: 9,
    },
    // At u = 3 three unstarted jobs hold 6 of work for 2 machines: 3 + 6/2 = 6 > max(r + p) = 5 > Σp/m = 3.5.
    {
      name: 'a busy middle beats both simple bounds',
      jobs: [
        { release: 0, p: 1 },
        { release: 3, p: 2 },
        { release: 3, p: 2 },
        { release: 3, p: 2 },
      ],
      m: 2,
      want: 6,
    },
    {
      name: 'a job without work still counts its release',
      jobs: [
        { release: 0, p: 1 },
        { release: 4, p: 0 },
      ],
      m: 1,
      want: 4,
    },
    {
      name: 'more machines than jobs',
      jobs: [
        { release: 1, p: 2 },
        { release: 0, p: 2.5 },
      ],
      m: 8,
      want: 3,
    },
  ];
  it.each(cases)('$name', ({ jobs, m, want }) => {
    expect(minPreemptiveMakespan(jobs, m)).toBeCloseTo(want, 12);
  });

  it.each([
    { name: 'zero machines', jobs: [{ release: 0, p: 1 }], m: 0 },
    { name: 'negative work', jobs: [{ release: 0, p: -1 }], m: 1 },
    { name: 'infinite release', jobs: [{ release: Infinity, p: 1 }], m: 1 },
  ])('rejects $name', ({ jobs, m }) => {
    expect(() => minPreemptiveMakespan(jobs, m)).toThrow(RangeError);
  });

  const instance = fc.record({
    m: fc.integer({ min: 1, max: 4 }),
    jobs: fc.array(
      fc.record({
        release: fc.oneof(fc.integer({ min: 0, max: 12 }), fc.double({ min: 0, max: 12, noNaN: true })),
        p: fc.double({ min: 0.01, max: 8, noNaN: true }),
      }),
      { minLength: 1, maxLength: 9 },
    ),
  });

  it('agrees with the interval LP solved by HiGHS', () => {
    fc.assert(
      fc.property(instance, ({ jobs, m }) => {
        const closed = minPreemptiveMakespan(jobs, m);
        const lp = lpMakespan(jobs, m);
        expect(Math.abs(closed - lp)).toBeLessThanOrEqual(1e-6 * Math.max(1, lp));
      }),
      { numRuns: 200, seed: 20260 },
    );
  });

  it('is never above a feasible schedule (preemptive EDF) and never below Σp/m or any r + p', () => {
    fc.assert(
      fc.property(instance, ({ jobs, m }) => {
        const c = minPreemptiveMakespan(jobs, m);
        const edf = preemptiveEdf(
          jobs.map((j) => ({ ...j, deadline: j.release })),
          m,
        );
        expect(c).toBeLessThanOrEqual(edf.makespan + 1e-9);
        const minRelease = Math.min(...jobs.map((j) => j.release));
        expect(c).toBeGreaterThanOrEqual(minRelease + jobs.reduce((s, j) => s + j.p, 0) / m - 1e-9);
        for (const j of jobs) expect(c).toBeGreaterThanOrEqual(j.release + j.p - 1e-9);
      }),
      { numRuns: 200, seed: 7 },
    );
  });
});
