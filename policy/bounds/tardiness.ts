// Tardiness lower bound (docs/model.md §7): a time-indexed MIP on m whole GPUs, solved with HiGHS.
import type { Job } from '../workload/job.js';
import { linearise } from './energy.js';
import { loadHighs } from './highs.js';

export interface TardinessBoundOptions {
  readonly gpus: number;
  /** Compute slices of a whole GPU (7, or 4 for an A30): p_j = work_j / computeSlices. */
  readonly computeSlices: number;
  /** Time step ε, minutes. */
  readonly stepMin: number;
  /** HiGHS time limit; on expiry the solver's proven dual bound is returned. Default 30 s. */
  readonly timeLimitSec?: number;
  /** Refuse models with more job × step cells than this (default 12,000, e.g. 40 jobs × 300 steps). */
  readonly maxCells?: number;
}

export type TardinessBoundStatus = 'optimal' | 'time-limit' | 'too-large';

export interface TardinessLowerBound {
  /** A lower bound on the mean tardiness over these jobs, minutes; 0 when status is 'too-large'. */
  readonly meanTardinessMin: number;
  readonly status: TardinessBoundStatus;
  /** Time steps in the model. */
  readonly steps: number;
  /** The true optimum mean tardiness is at most meanTardinessMin + errorBoundMin when optimal (2ε). */
  readonly errorBoundMin: number;
  /** HiGHS's relative gap between its incumbent and its dual bound (0 when optimal to tolerance). */
  readonly mipGap: number;
  /** Mean of the best MIP solution found, minutes (an upper bound of the MIP, not of real schedules). */
  readonly incumbentMeanMin: number;
}

const DEFAULT_TIME_LIMIT_SEC = 30;
const DEFAULT_MAX_CELLS = 12_000;
/** Continuation lines keep LP rows short for the LP-file reader. */
const TERMS_PER_LINE = 12;

interface Model {
  readonly text: string;
  readonly steps: number;
}

/**
 * The MIP, on m identical machines, steps t = [tε, (t+1)ε):
 *   x_{j,t} ∈ [0,1] fraction of step t that j runs; x_{j,t} = 0 if the step ends at or before r_j
 *   Σ_j x_{j,t} ≤ m;   Σ_t ε·x_{j,t} = p_j
 *   z_{j,t} ∈ {0,1} "j unfinished in step t";   x_{j,t} ≤ z_{j,t};   z_{j,t} ≥ z_{j,t+1}
 *   T_j ≥ ε·Σ_t z_{j,t} − ε − d_j,   T_j ≥ 0;   minimise Σ_j T_j / n
 * and two strengthenings that every schedule also satisfies, so they keep the bound valid while making the
 * LP relaxation far tighter: R_{j,t} = p_j − ε·Σ_{s≤t} x_{j,s} (work left after step t) ≤ p_j·z_{j,t+1},
 * and z_{j,t} = 1 while tε < r_j + p_j (no job finishes sooner).
 *
 * Why it is a lower bound. Take any real schedule; as a rate schedule it runs each job at rate ≤ 1 of a
 * whole GPU (a job on k of K slices advances at ≤ k/K) and at most m in total, with completion times C_j.
 * Set x_{j,t} = (work of j done in step t)/ε and z_{j,t} = 1 iff tε < C_j. Nothing runs before r_j, so the
 * release rule holds; work in step t, or work left after it, means tε < C_j, so x ≤ z and R ≤ p·z; z is a
 * prefix of ones; and Σ_t z_{j,t} = ⌈C_j/ε⌉ < C_j/ε + 1, so ε·Σ_t z − ε < C_j and the smallest feasible
 * T_j is at most max(0, C_j − d_j). The MIP optimum is thus ≤ the mean tardiness of every schedule,
 * provided the horizon holds its completions: some optimal schedule never idles a machine while a released
 * unfinished job waits (moving a piece of that job earlier delays nobody), and such a schedule ends by
 * max r + Σp/m + max p (after the last release, time with every machine busy is at most Σp/m, and time
 * with a machine idle runs every unfinished job, at most max p of it).
 * Why it is close: shifting an MIP solution one step later respects releases and finishes j by
 * ε·Σ_t z + ε, so an optimal MIP solution gives a schedule within 2ε of the bound per job.
 */
function buildModel(jobs: readonly Job[], opts: TardinessBoundOptions, steps: number): string {
  const lin = linearise(jobs, opts.computeSlices);
  const lp: LpParts = { rows: [], bounds: [], binaries: [], perStep: Array.from({ length: steps }, () => []) };
  jobs.forEach((job, j) =>
    addJob(lp, j, { release: job.release, deadline: job.deadline, p: lin[j]!.p }, opts.stepMin, steps),
  );
  lp.perStep.forEach((xs, t) => {
    if (xs.length > opts.gpus) lp.rows.push(`c${t}: ${expr(xs)} <= ${opts.gpus}`);
  });
  return [
    'Minimize',
    ` obj: ${expr(jobs.map((_, j): Term => [1, `T${j}`]))}`,
    'Subject To',
    ...lp.rows.map((r) => ` ${r}`),
    'Bounds',
    ...lp.bounds.map((b) => ` ${b}`),
    'Binary',
    ...chunk(lp.binaries).map((line) => ` ${line.join(' ')}`),
    'End',
  ].join('\n');
}

interface LpParts {
  readonly rows: string[];
  readonly bounds: string[];
  readonly binaries: string[];
  /** The x variables of each step, for the machine rows. */
  readonly perStep: Term[][];
}

function addJob(
  lp: LpParts,
  j: number,
  job: { release: number; deadline: number; p: number },
  eps: number,
  steps: number,
): void {
  const { p } = job;
  // Steps before `first` end at or before the release; steps before `fixed` start before r_j + p_j. In
  // every schedule z = 1 there, so those z are the constant `fixed` in the tardiness row. The 1e-9 only
  // ever lowers `fixed`, which keeps the bound valid under rounding.
  const first = Math.max(0, Math.floor(job.release / eps));
  const fixed = Math.min(steps, Math.max(first, Math.ceil((job.release + p) / eps - 1e-9)));
  const late: Term[] = [[1, `T${j}`]];
  for (let t = first; t < steps && p > 0; t++) {
    const [x, z, left] = [`x${j}_${t}`, `z${j}_${t}`, `r${j}_${t}`];
    lp.perStep[t]!.push([1, x]);
    lp.bounds.push(`${x} <= 1`);
    if (t === first) lp.rows.push(`a${j}_${t}: ${left} + ${num(eps)} ${x} = ${num(p)}`);
    else lp.rows.push(`a${j}_${t}: ${left} - r${j}_${t - 1} + ${num(eps)} ${x} = 0`);
    if (t === steps - 1) lp.bounds.push(`${left} <= 0`);
    if (t < fixed) continue;
    late.push([-eps, z]);
    lp.binaries.push(z);
    lp.rows.push(`l${j}_${t}: ${x} - ${z} <= 0`);
    if (t > first) lp.rows.push(`q${j}_${t}: r${j}_${t - 1} - ${num(p)} ${z} <= 0`);
    if (t > fixed) lp.rows.push(`o${j}_${t}: z${j}_${t - 1} - ${z} >= 0`);
  }
  lp.rows.push(`d${j}: ${expr(late)} >= ${num(eps * fixed - eps - job.deadline)}`);
}

/** Minutes until every job could finish under a non-idling schedule (see buildModel's comment). */
export function tardinessHorizon(jobs: readonly Job[], gpus: number, computeSlices: number): number {
  if (jobs.length === 0) return 0;
  const lin = linearise(jobs, computeSlices);
  const maxRelease = Math.max(...lin.map((j) => j.release));
  const total = lin.reduce((s, j) => s + j.p, 0);
  const longest = Math.max(...lin.map((j) => j.p));
  return maxRelease + total / gpus + longest;
}

function plan(jobs: readonly Job[], opts: TardinessBoundOptions): Model | { steps: number; tooLarge: true } {
  const horizon = tardinessHorizon(jobs, opts.gpus, opts.computeSlices);
  // One spare step absorbs rounding in ⌈C_j/ε⌉ at the horizon itself.
  const steps = Math.ceil(horizon / opts.stepMin) + 1;
  if (jobs.length * steps > (opts.maxCells ?? DEFAULT_MAX_CELLS)) return { steps, tooLarge: true };
  return { text: buildModel(jobs, opts, steps), steps };
}

export async function tardinessLowerBound(
  jobs: readonly Job[],
  opts: TardinessBoundOptions,
): Promise<TardinessLowerBound> {
  validate(jobs, opts);
  const errorBoundMin = 2 * opts.stepMin;
  const planned = plan(jobs, opts);
  if ('tooLarge' in planned || jobs.length === 0) {
    const status = 'tooLarge' in planned ? 'too-large' : 'optimal';
    return { meanTardinessMin: 0, status, steps: planned.steps, errorBoundMin, mipGap: 0, incumbentMeanMin: 0 };
  }
  const highs = await loadHighs();
  const model = highs.createModel({ format: 'lp', data: planned.text });
  try {
    model.options.set({
      output_flag: false,
      time_limit: opts.timeLimitSec ?? DEFAULT_TIME_LIMIT_SEC,
      mip_rel_gap: 1e-6,
      random_seed: 0,
    });
    model.run();
    const code = model.getModelStatus();
    const { optimal, timeLimit } = highs.constants.modelStatus;
    if (code !== optimal && code !== timeLimit) {
      throw new Error(`tardiness bound: HiGHS stopped with model status ${code}; the model should always be feasible`);
    }
    const hasIncumbent = Number(model.info.get('primal_solution_status')) === 2;
    const incumbent = hasIncumbent ? model.getObjectiveValue() : Infinity;
    // The dual bound, not the incumbent: "optimal" means within the gap tolerance, and only the dual bound is
    // proven. T_j ≥ 0, so 0 is always a valid fallback when no bound was established yet.
    const dual = Number(model.info.get('mip_dual_bound'));
    const proven = Number.isFinite(dual) ? Math.min(dual, incumbent) : code === optimal ? incumbent : 0;
    const n = jobs.length;
    return {
      meanTardinessMin: Math.max(0, proven) / n,
      status: code === optimal ? 'optimal' : 'time-limit',
      steps: planned.steps,
      errorBoundMin,
      mipGap: Number(model.info.get('mip_gap')),
      incumbentMeanMin: incumbent / n,
    };
  } finally {
    model.dispose();
  }
}

function validate(jobs: readonly Job[], opts: TardinessBoundOptions): void {
  if (!Number.isInteger(opts.gpus) || opts.gpus < 1)
    throw new RangeError(`gpus must be a positive integer, got ${opts.gpus}`);
  if (!(opts.stepMin > 0) || !Number.isFinite(opts.stepMin))
    throw new RangeError(`stepMin must be > 0, got ${opts.stepMin}`);
  if (!(opts.computeSlices > 0)) throw new RangeError(`computeSlices must be > 0, got ${opts.computeSlices}`);
  for (const j of jobs) {
    if (![j.release, j.deadline, j.work].every(Number.isFinite) || j.work < 0) {
      throw new RangeError(`job ${j.id}: release, deadline and work must be finite, work ≥ 0`);
    }
  }
}

type Term = readonly [coefficient: number, variable: string];

function num(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(15);
}

function chunk<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += TERMS_PER_LINE) out.push(items.slice(i, i + TERMS_PER_LINE));
  return out;
}

/** A linear expression in LP-file syntax, every term signed, wrapped over continuation lines. */
function expr(terms: readonly Term[]): string {
  return chunk(terms)
    .map((line) => line.map(([c, v]) => `${c < 0 ? '-' : '+'} ${num(Math.abs(c))} ${v}`).join(' '))
    .join('\n   ');
}
