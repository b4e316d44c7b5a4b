import { describe, expect, it } from 'vitest';
import { esStart, esStep, generationSeeds, type EsConfig } from '../../../policy/learn/evolution.js';

const cfg: EsConfig = {
  pairs: 8,
  sigma: 0.1,
  learningRate: 0.05,
  seedsPerGeneration: 2,
  trainSeeds: [1, 2, 3, 4, 5],
  seed: 3,
};
const target = Float32Array.from([0.5, -1, 2]);
/** Higher is better: minus the squared distance to `target`, plus a little noise per seed. */
const fitness = (theta: Float32Array, seeds: readonly number[]) =>
  -theta.reduce((s, v, i) => s + (v - (target[i] as number)) ** 2, 0) + seeds.reduce((a, b) => a + b, 0) * 1e-4;

describe('evolution strategies', () => {
  it('climbs a smooth return', () => {
    const state = esStart(new Float32Array(3));
    const before = fitness(state.theta, []);
    for (let g = 0; g < 150; g++) esStep(state, cfg, fitness);
    expect(fitness(state.theta, [])).toBeGreaterThan(before / 20);
    expect(state.generation).toBe(150);
  });

  it('is deterministic for a seed, and a run resumed from a copy of its state continues exactly', () => {
    const a = esStart(new Float32Array(3));
    for (let g = 0; g < 10; g++) esStep(a, cfg, fitness);
    const b = esStart(new Float32Array(3));
    for (let g = 0; g < 5; g++) esStep(b, cfg, fitness);
    const resumed = { theta: b.theta.slice(), m: b.m.slice(), v: b.v.slice(), generation: b.generation };
    for (let g = 0; g < 5; g++) esStep(resumed, cfg, fitness);
    expect([...resumed.theta]).toEqual([...a.theta]);
    const other = esStart(new Float32Array(3));
    for (let g = 0; g < 10; g++) esStep(other, { ...cfg, seed: 4 }, fitness);
    expect([...other.theta]).not.toEqual([...a.theta]);
  });

  it('draws distinct training seeds per generation', () => {
    const seeds = generationSeeds(cfg, 7);
    expect(new Set(seeds).size).toBe(2);
    for (const s of seeds) expect(cfg.trainSeeds).toContain(s);
    expect(generationSeeds(cfg, 7)).toEqual(seeds);
  });
});
