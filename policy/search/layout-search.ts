// Searches that tune non-learned controllers on search seeds: the best static layout, the best twice-daily
// and block-by-block timetables, and (knowing the day's arrivals) the hindsight timetable. Each is a coordinate descent whose cost
// is the mean ET of simulated days, so every controller is compared at its best, not as hand-picked.
import type { Layout } from '../mig/layout.js';
import { layoutOptions, runDay, type Setting } from '../evaluate/setting.js';
import type { Repartitioner } from '../repartition/controller.js';
import { scheduleRepartitioner, phaseAt, type SchedulePhase } from '../repartition/schedule.js';
import { staticRepartitioner } from '../repartition/static.js';
import type { Job } from '../workload/job.js';
import { coordinateDescent } from './coordinate-descent.js';

export interface SearchContext {
  readonly setting: Setting;
  readonly seeds: readonly number[];
  readonly maxPasses?: number;
  readonly onEvaluate?: () => void;
}

export interface StaticFound {
  /** One layout per GPU of a node, repeated over the cluster. */
  readonly pattern: Layout[];
  /** The same as indices into layoutOptions(model). */
  readonly choice: number[];
  readonly et: number;
  /** Mean ET of each option applied to every GPU, by option index. */
  readonly uniformEt: number[];
  readonly evaluations: number;
}

export interface ScheduleFound {
  readonly phases: SchedulePhase[];
  readonly et: number;
  readonly evaluations: number;
}

/** The pattern length: a node's GPUs, or the whole cluster when it is smaller than a node. */
export function patternLength(setting: Setting): number {
  return Math.min(setting.gpus, setting.gpusPerNode);
}

/** A pattern repeated to one layout per GPU. */
export function expand(setting: Setting, pattern: readonly Layout[]): Layout[] {
  return Array.from({ length: setting.gpus }, (_, g) => pattern[g % pattern.length] as Layout);
}

/** Initial layouts of a timetable: the phase in force at minute 0. */
export function scheduleStart(setting: Setting, phases: readonly SchedulePhase[]): Layout[] {
  return expand(
    setting,
    phaseAt(
      [...phases].sort((a, b) => a.fromMin - b.fromMin),
      0,
    ).layouts,
  );
}

class Evaluator {
  private readonly jobs = new Map<number, readonly Job[]>();
  constructor(private readonly ctx: SearchContext) {}

  meanEt(layouts: readonly Layout[], make: () => Repartitioner): number {
    const { setting, seeds } = this.ctx;
    let sum = 0;
    for (const seed of seeds) {
      let jobs = this.jobs.get(seed);
      if (!jobs) {
        jobs = setting.workload(seed);
        this.jobs.set(seed, jobs);
      }
      sum += runDay(setting, layouts, make(), seed, jobs).et;
    }
    return sum / seeds.length;
  }
}

export function searchBestStatic(ctx: SearchContext): StaticFound {
  const { setting } = ctx;
  const options = layoutOptions(setting.model);
  const ev = new Evaluator(ctx);
  const n = patternLength(setting);
  const costOf = (x: readonly number[]): number =>
    ev.meanEt(
      expand(
        setting,
        x.map((i) => options[i] as Layout),
      ),
      staticRepartitioner,
    );
  const uniformEt = options.map((_, i) => {
    const c = costOf([i]);
    ctx.onEvaluate?.();
    return c;
  });
  const bestUniform = uniformEt.indexOf(Math.min(...uniformEt));
  const found = coordinateDescent({
    initial: new Array<number>(n).fill(bestUniform),
    options: () => options.length,
    cost: costOf,
    maxPasses: ctx.maxPasses ?? 2,
    onEvaluate: ctx.onEvaluate,
  });
  return {
    pattern: found.x.map((i) => options[i] as Layout),
    choice: found.x,
    et: found.cost,
    uniformEt,
    evaluations: found.evaluations + options.length,
  };
}

/** Candidate phase patterns to seed a timetable search: the best static pattern and the best uniform ones. */
function seedPatterns(found: StaticFound, n: number, count: number): number[][] {
  const order = found.uniformEt.map((et, i) => ({ et, i })).sort((a, b) => a.et - b.et || a.i - b.i);
  return [found.choice, ...order.slice(0, count).map(({ i }) => new Array<number>(n).fill(i))];
}

/**
 * Two layouts switched at two hours of the day (the single-GPU RL paper's baseline): the pair of seed
 * patterns that scores best, then coordinate descent over both patterns and both hours.
 */
export function searchTwiceDaily(ctx: SearchContext, found: StaticFound): ScheduleFound {
  const { setting } = ctx;
  const options = layoutOptions(setting.model);
  const n = patternLength(setting);
  const ev = new Evaluator(ctx);
  // x = pattern A (n), pattern B (n), hour A starts, hour B starts.
  const phasesOf = (x: readonly number[]): SchedulePhase[] => {
    const a = x.slice(0, n).map((i) => options[i] as Layout);
    const b = x.slice(n, 2 * n).map((i) => options[i] as Layout);
    const ha = x[2 * n] as number;
    const hb = x[2 * n + 1] as number;
    if (ha === hb) return [{ fromMin: 0, layouts: a }];
    return [
      { fromMin: ha * 60, layouts: a },
      { fromMin: hb * 60, layouts: b },
    ];
  };
  const costOf = (x: readonly number[]): number => {
    const phases = phasesOf(x);
    return ev.meanEt(scheduleStart(setting, phases), () => scheduleRepartitioner('twice-daily', phases));
  };
  let initial: number[] = [];
  let best = Infinity;
  const seeds = seedPatterns(found, n, 4);
  for (const a of seeds) {
    for (const b of seeds) {
      if (a === b) continue;
      const x = [...a, ...b, 8, 20];
      const c = costOf(x);
      ctx.onEvaluate?.();
      if (c < best) {
        best = c;
        initial = x;
      }
    }
  }
  const result = coordinateDescent({
    initial,
    options: (i) => (i < 2 * n ? options.length : 24),
    cost: costOf,
    maxPasses: ctx.maxPasses ?? 2,
    onEvaluate: ctx.onEvaluate,
  });
  return { phases: phasesOf(result.x), et: result.cost, evaluations: result.evaluations + seeds.length ** 2 };
}

/** Minutes per block of the `timetable` controller: six phases a day. */
export const TIMETABLE_BLOCK_MIN = 240;

/** A node pattern per block of the day: x holds the pattern of block 0, then block 1, … as option indices. */
function blockPhases(options: readonly Layout[], n: number, blockMin: number, x: readonly number[]): SchedulePhase[] {
  return Array.from({ length: x.length / n }, (_, b) => ({
    fromMin: b * blockMin,
    layouts: x.slice(b * n, b * n + n).map((i) => options[i] as Layout),
  }));
}

/** Coordinate descent over a node pattern per block, from `initial` (one pattern per block, as indices). */
function searchBlocks(
  ctx: SearchContext,
  name: string,
  blockMin: number,
  initial: readonly number[],
): ScheduleFound & { readonly x: number[] } {
  const { setting } = ctx;
  const options = layoutOptions(setting.model);
  const n = patternLength(setting);
  const ev = new Evaluator(ctx);
  const result = coordinateDescent({
    initial,
    options: () => options.length,
    cost: (x) => {
      const phases = blockPhases(options, n, blockMin, x);
      return ev.meanEt(scheduleStart(setting, phases), () => scheduleRepartitioner(name, phases));
    },
    maxPasses: ctx.maxPasses ?? 2,
    onEvaluate: ctx.onEvaluate,
  });
  return {
    phases: blockPhases(options, n, blockMin, result.x),
    et: result.cost,
    evaluations: result.evaluations,
    x: result.x,
  };
}

/**
 * A node pattern per block of the day (four hours by default), each GPU of the pattern searched by
 * coordinate descent from the best static pattern in every block. Where twice-daily follows the day in two
 * steps, this follows its shape (night, morning ramp, peak, evening).
 */
export function searchTimetable(
  ctx: SearchContext,
  found: StaticFound,
  blockMin = TIMETABLE_BLOCK_MIN,
): ScheduleFound & { readonly x: number[] } {
  const blocks = Math.ceil(Math.min(ctx.setting.horizonMin, 1440) / blockMin);
  return searchBlocks(ctx, 'timetable', blockMin, Array.from({ length: blocks }, () => found.choice).flat());
}

/**
 * The hindsight reference, searched on the very day it is scored on (not deployable: it measures how much
 * repartitioning could gain on that day). The better of two families: one layout per hour (a uniform option
 * or the best static pattern), and a node pattern per block of the timetable started from the timetable
 * found on the search seeds, so that hindsight is never worse than `timetable` on its day.
 */
export function searchHindsight(
  ctx: SearchContext,
  found: StaticFound,
  timetable?: { readonly x: readonly number[]; readonly blockMin: number },
  hourMin = 60,
): ScheduleFound {
  const hourly = searchHourly(ctx, found, hourMin);
  if (!timetable) return hourly;
  const blocks = searchBlocks(ctx, 'hindsight', timetable.blockMin, timetable.x);
  const better = blocks.et < hourly.et ? blocks : hourly;
  return { phases: better.phases, et: better.et, evaluations: hourly.evaluations + blocks.evaluations };
}

/** One layout per hour: a uniform option, or the best static pattern. */
function searchHourly(ctx: SearchContext, found: StaticFound, blockMin: number): ScheduleFound {
  const { setting } = ctx;
  const options = layoutOptions(setting.model);
  const blocks = Math.ceil(Math.min(setting.horizonMin, 1440) / blockMin);
  const ev = new Evaluator(ctx);
  const patternOf = (i: number): Layout[] => (i === options.length ? found.pattern : [options[i] as Layout]);
  const phasesOf = (x: readonly number[]): SchedulePhase[] =>
    x.map((i, b) => ({ fromMin: b * blockMin, layouts: patternOf(i) }));
  const result = coordinateDescent({
    initial: new Array<number>(blocks).fill(options.length),
    options: () => options.length + 1,
    cost: (x) => {
      const phases = phasesOf(x);
      return ev.meanEt(scheduleStart(setting, phases), () => scheduleRepartitioner('hindsight', phases));
    },
    maxPasses: ctx.maxPasses ?? 2,
    onEvaluate: ctx.onEvaluate,
  });
  return { phases: phasesOf(result.x), et: result.cost, evaluations: result.evaluations };
}
