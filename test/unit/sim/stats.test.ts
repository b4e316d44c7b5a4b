import { describe, expect, it } from 'vitest';
import { meanInterval, pairedImprovement } from '../../../policy/evaluate/stats.js';

describe('meanInterval and pairedImprovement', () => {
  it('uses Student t for few seeds: 1,2,3 has mean 2 and half-width 4.303 · 1/√3', () => {
    const i = meanInterval([1, 2, 3]);
    expect(i.mean).toBe(2);
    expect(i.half).toBeCloseTo((4.303 * 1) / Math.sqrt(3), 9);
  });

  it('a single value has no spread; none is NaN', () => {
    expect(meanInterval([5])).toEqual({ mean: 5, half: 0, n: 1 });
    expect(Number.isNaN(meanInterval([]).mean)).toBe(true);
  });

  it('pairs seeds: a constant 10 % gain has a zero-width interval however the days differ', () => {
    const base = [1, 5, 20];
    const r = pairedImprovement(
      base.map((b) => b * 0.9),
      base,
    );
    expect(r.mean).toBeCloseTo(0.1, 12);
    expect(r.half).toBeCloseTo(0, 12);
    expect(() => pairedImprovement([1], [1, 2])).toThrow(/seeds differ/);
  });
});
