// Seeded randomness for the decision core. The algorithm is pinned (xoroshiro128+ from pure-rand) so a
// seed gives the same numbers on every machine and Node version.
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

export function createRng(seed: number): Rng {
  const gen = xoroshiro128plus(seed | 0);
  const next = (): number => uniformFloat64(gen);
  return { next, int: (n) => Math.floor(next() * n) };
}

/** A child generator whose stream depends only on the parent seed and a label, not on call order. */
export function deriveRng(seed: number, label: string): Rng {
  let h = seed | 0;
  for (let i = 0; i < label.length; i++) h = (Math.imul(h ^ label.charCodeAt(i), 0x9e3779b1) + 0x7f4a7c15) | 0;
  return createRng(h);
}
