import { describe, expect, it } from 'vitest';
import {
  expectedPaperJobs,
  generatePaperWorkload,
  PAPER_BASE_RATES,
  WorkloadParseError,
  PAPER_PROFILES,
  speedupOn,
  type Job,
} from '../../../policy/workload/index.js';

const SEEDS = Array.from({ length: 12 }, (_, i) => i + 1);
const pooled: Job[] = SEEDS.flatMap((seed) => generatePaperWorkload({ seed }));
const share = (jobs: readonly Job[], pred: (j: Job) => boolean) => jobs.filter(pred).length / jobs.length;

describe('generatePaperWorkload: volume and shape', () => {
  it('integrates the base rates to about 4,150 jobs a day at 20×', () => {
    expect(expectedPaperJobs({})).toBeCloseTo(4148.4, 6);
    const mean = pooled.length / SEEDS.length;
    expect(Math.abs(mean / 4148.4 - 1)).toBeLessThan(0.02);
  });

  it.each([
    { name: '12× scales the day', opts: { multiplier: 12 }, expected: 3.457 * 60 * 12 },
    { name: 'one hour from 10:00', opts: { startHour: 10, hours: 1 }, expected: 0.201 * 60 * 20 },
    { name: 'half an hour from midnight', opts: { hours: 0.5 }, expected: 0.111 * 30 * 20 },
    { name: 'a 2-day run wraps the day', opts: { hours: 48 }, expected: 2 * 4148.4 },
  ])('$name', ({ opts, expected }) => {
    expect(expectedPaperJobs(opts)).toBeCloseTo(expected, 6);
    const counts = SEEDS.map((seed) => generatePaperWorkload({ seed, ...opts }).length);
    const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
    // Poisson: the mean of 12 runs has sd sqrt(expected/12); allow 4 sd.
    expect(Math.abs(mean - expected)).toBeLessThan(4 * Math.sqrt(expected / SEEDS.length));
  });

  it('follows the hourly rate shape', () => {
    const byHour = new Array<number>(24).fill(0);
    for (const j of pooled) byHour[Math.floor(j.release / 60)]! += 1;
    PAPER_BASE_RATES.forEach((rate, h) => {
      const expected = rate * 60 * 20 * SEEDS.length;
      expect(Math.abs(byHour[h]! - expected), `hour ${h}`).toBeLessThan(4 * Math.sqrt(expected));
    });
    // The busiest hour (10:00) clearly beats the quietest (01:00).
    expect(byHour[10]! / byHour[1]!).toBeGreaterThan(2);
  });

  it('keeps releases inside the window, sorted, with ids 0..n−1', () => {
    for (const hours of [24, 2.5]) {
      const jobs = generatePaperWorkload({ seed: 7, hours });
      jobs.forEach((j, i) => {
        expect(j.id).toBe(i);
        expect(j.release).toBeGreaterThanOrEqual(0);
        expect(j.release).toBeLessThan(hours * 60);
        if (i > 0) expect(j.release).toBeGreaterThanOrEqual(jobs[i - 1]!.release);
      });
    }
  });

  it('makes nothing at multiplier 0', () => {
    expect(generatePaperWorkload({ seed: 1, multiplier: 0 })).toEqual([]);
  });
});

describe('generatePaperWorkload: job attributes', () => {
  const training = pooled.filter((j) => j.kind === 'training');
  const inference = pooled.filter((j) => j.kind === 'inference');

  it.each([
    { name: 'training share 20 %', got: () => training.length / pooled.length, want: 0.2, tol: 0.01 },
    {
      name: 'BERT within training 2/3',
      got: () => share(training, (j) => j.profile.startsWith('bert')),
      want: 2 / 3,
      tol: 0.03,
    },
    {
      name: 'BERT within inference 2/3',
      got: () => share(inference, (j) => j.profile.startsWith('bert')),
      want: 2 / 3,
      tol: 0.015,
    },
    {
      name: 'training work 90 % in [40, 60] min',
      got: () => share(training, (j) => j.work >= 40 && j.work <= 60),
      want: 0.9,
      tol: 0.02,
    },
    {
      name: 'training work median √(40·60)',
      got: () => median(training.map((j) => j.work)),
      want: Math.sqrt(2400),
      tol: 0.5,
    },
    { name: 'inference work mean 3 min', got: () => mean(inference.map((j) => j.work)), want: 3, tol: 0.1 },
    {
      name: 'inference work median 3·ln2 (exponential)',
      got: () => median(inference.map((j) => j.work)),
      want: 3 * Math.LN2,
      tol: 0.08,
    },
  ])('$name', ({ got, want, tol }) => {
    expect(Math.abs(got() - want)).toBeLessThan(tol);
  });

  it('uses only the paper profiles, each with its own kind', () => {
    const kinds = new Map(PAPER_PROFILES.map((p) => [p.name, p.kind]));
    expect(pooled.filter((j) => kinds.get(j.profile) !== j.kind)).toEqual([]);
    expect(new Set(pooled.map((j) => j.profile)).size).toBe(4);
  });

  it('sets deadlines between 1 and 1.5 times the whole-GPU time after release', () => {
    const factors = pooled.map((j) => {
      const p7 =
        j.work /
        speedupOn(
          PAPER_PROFILES.find((p) => p.name === j.profile)!,
          7,
        );
      return (j.deadline - j.release) / p7;
    });
    expect(Math.min(...factors)).toBeGreaterThanOrEqual(1 - 1e-12);
    expect(Math.max(...factors)).toBeLessThan(1.5 + 1e-12);
    expect(Math.abs(mean(factors) - 1.25)).toBeLessThan(0.01);
  });
});

describe('generatePaperWorkload: determinism', () => {
  it('gives identical jobs for one seed and different jobs for another', () => {
    expect(generatePaperWorkload({ seed: 42 })).toEqual(generatePaperWorkload({ seed: 42 }));
    expect(generatePaperWorkload({ seed: 43 })[0]).not.toEqual(generatePaperWorkload({ seed: 42 })[0]);
  });

  it('keeps arrival times when the mix changes', () => {
    const a = generatePaperWorkload({ seed: 5, trainingFraction: 0.2 });
    const b = generatePaperWorkload({ seed: 5, trainingFraction: 0.6 });
    expect(b.map((j) => j.release)).toEqual(a.map((j) => j.release));
    expect(share(b, (j) => j.kind === 'training')).toBeGreaterThan(0.5);
  });

  it('keeps early jobs when the run is longer', () => {
    const short = generatePaperWorkload({ seed: 9, hours: 3 });
    const long = generatePaperWorkload({ seed: 9, hours: 24 });
    expect(long.slice(0, short.length)).toEqual(short);
  });
});

describe('generatePaperWorkload: options', () => {
  it.each([
    { name: 'negative hours', opts: { hours: -1 } },
    { name: 'startHour 24', opts: { startHour: 24 } },
    { name: 'fractional startHour', opts: { startHour: 1.5 } },
    { name: 'negative multiplier', opts: { multiplier: -2 } },
    { name: 'training fraction above 1', opts: { trainingFraction: 1.2 } },
    { name: 'fractional seed', opts: { seed: 1.5 } },
  ])('rejects $name', ({ opts }) => {
    expect(() => generatePaperWorkload({ seed: 1, ...opts })).toThrow(WorkloadParseError);
  });
});

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
