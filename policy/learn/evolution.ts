// Evolution strategies (antithetic Gaussian perturbations, centred ranks, Adam): the optimiser that trains the
// mean-field actor. A simulated day's ET is a noisy, non-differentiable return of thousands of decisions; ES
// needs only that return, is deterministic for a seed (noise and seeds derive from the generation number, so a
// resumed run continues exactly) and spends its time in the simulator, which is where the signal is.
import { deriveRng, type Rng } from '../random.js';

export interface EsConfig {
  /** Antithetic pairs per generation (population = 2 × pairs). */
  readonly pairs: number;
  readonly sigma: number;
  readonly learningRate: number;
  /** Training days each candidate is scored on per generation (the same days for all of them). */
  readonly seedsPerGeneration: number;
  readonly trainSeeds: readonly number[];
  readonly seed: number;
}

export const ES_DEFAULTS: Omit<EsConfig, 'trainSeeds' | 'seed'> = {
  pairs: 8,
  sigma: 0.05,
  learningRate: 0.02,
  seedsPerGeneration: 2,
};

export interface EsState {
  theta: Float32Array;
  /** Adam's moments. */
  m: Float32Array;
  v: Float32Array;
  generation: number;
}

export function esStart(theta: Float32Array): EsState {
  return { theta, m: new Float32Array(theta.length), v: new Float32Array(theta.length), generation: 0 };
}

export interface Generation {
  readonly generation: number;
  readonly seeds: readonly number[];
  /** Mean and best fitness of the population. */
  readonly mean: number;
  readonly best: number;
}

/** Fitness of weights on some seeds (higher is better). */
export type Fitness = (theta: Float32Array, seeds: readonly number[]) => number;

function gaussian(rng: Rng): number {
  const u = 1 - rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/** The days of a generation: drawn without replacement from the training seeds. */
export function generationSeeds(cfg: EsConfig, generation: number): number[] {
  const rng = deriveRng(cfg.seed, `es/seeds/${generation}`);
  const pool = [...cfg.trainSeeds];
  const out: number[] = [];
  while (out.length < Math.min(cfg.seedsPerGeneration, cfg.trainSeeds.length))
    out.push(pool.splice(rng.int(pool.length), 1)[0] as number);
  return out;
}

/** One generation: scores 2 × pairs perturbations on the same days and moves θ along their ranked sum. */
export function esStep(state: EsState, cfg: EsConfig, fitness: Fitness): Generation {
  const d = state.theta.length;
  const g = state.generation;
  const seeds = generationSeeds(cfg, g);
  const rng = deriveRng(cfg.seed, `es/noise/${g}`);
  const noise: Float32Array[] = [];
  const scores: number[] = [];
  const probe = new Float32Array(d);
  for (let p = 0; p < cfg.pairs; p++) {
    const eps = new Float32Array(d);
    for (let i = 0; i < d; i++) eps[i] = gaussian(rng);
    noise.push(eps);
    for (const sign of [1, -1]) {
      for (let i = 0; i < d; i++) probe[i] = (state.theta[i] as number) + sign * cfg.sigma * (eps[i] as number);
      scores.push(fitness(probe, seeds));
    }
  }
  const ranks = centredRanks(scores);
  const grad = new Float32Array(d);
  for (let p = 0; p < cfg.pairs; p++) {
    const w = (ranks[2 * p] as number) - (ranks[2 * p + 1] as number);
    const eps = noise[p] as Float32Array;
    for (let i = 0; i < d; i++) grad[i] = (grad[i] as number) + (w * (eps[i] as number)) / (2 * cfg.pairs * cfg.sigma);
  }
  adamAscent(state, grad, cfg.learningRate);
  state.generation = g + 1;
  return {
    generation: g + 1,
    seeds,
    mean: scores.reduce((a, b) => a + b, 0) / scores.length,
    best: Math.max(...scores),
  };
}

/** Ranks mapped to [−0.5, 0.5], so one lucky day cannot dominate a step. */
function centredRanks(scores: readonly number[]): number[] {
  const order = scores.map((s, i) => ({ s, i })).sort((a, b) => a.s - b.s || a.i - b.i);
  const out = new Array<number>(scores.length);
  const n = Math.max(1, scores.length - 1);
  order.forEach(({ i }, r) => (out[i] = r / n - 0.5));
  return out;
}

function adamAscent(state: EsState, grad: Float32Array, lr: number): void {
  const b1 = 0.9;
  const b2 = 0.999;
  const t = state.generation + 1;
  const c1 = 1 - b1 ** t;
  const c2 = 1 - b2 ** t;
  for (let i = 0; i < grad.length; i++) {
    const gi = grad[i] as number;
    state.m[i] = b1 * (state.m[i] as number) + (1 - b1) * gi;
    state.v[i] = b2 * (state.v[i] as number) + (1 - b2) * gi * gi;
    state.theta[i] =
      (state.theta[i] as number) +
      (lr * ((state.m[i] as number) / c1)) / (Math.sqrt((state.v[i] as number) / c2) + 1e-8);
  }
}
