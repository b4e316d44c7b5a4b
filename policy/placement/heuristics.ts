// The paper's placement heuristics (docs/model.md §5) over a FreeSlices index, and `first-fit`, what the
// built-in DRA allocator does. Each is a job order plus a rule for picking a free slice; the simulator and
// the extender share them.
import type { Rng } from '../random.js';
import type { Job, ProfileBook } from '../workload/job.js';
import { cedfClass, type CedfClass } from './cedf-class.js';
import type { FreeSlices } from './free-slices.js';

export const PLACEMENTS = ['cedf', 'edf-most-packed', 'marginal-et', 'random', 'first-fit'] as const;
export type PlacementName = (typeof PLACEMENTS)[number];

/** What a heuristic may know about the GPU a free slice sits on. */
export interface GpuFacts {
  /** Busy compute slices. */
  readonly busy: number;
  readonly total: number;
  /** Mean compute slices per instance of its layout. */
  readonly avgSliceSize: number;
  /** GPUs of one class draw the same power at the same busy count: its model's place in the cluster (0 when
   * the cluster has one model). */
  readonly powerClass?: number;
}

export interface PlacementContext {
  readonly now: number;
  /** Minutes the job still needs on a slice of k compute slices (its remaining work, if preempted). */
  duration(job: Job, k: number): number;
  /** Busy compute slices of the GPU holding `slice`. */
  busyOf(slice: number): number;
  /** Index of the GPU holding `slice`: its place in the cluster's device listing. */
  gpuOf(slice: number): number;
  /** Power in watts of the GPU holding `slice` with this many busy compute slices (models may differ). */
  watts(slice: number, busy: number): number;
  /** Objective weight a of ET = (a·e + t)/(a + 1), per W·min. */
  readonly etWeight: number;
  readonly rng: Rng;
}

export interface PlacementHeuristic {
  readonly name: PlacementName;
  /** Queue order: the job that compares first is placed first. */
  compare(a: Job, b: Job): number;
  /** Preference among GPUs holding free slices of one size; higher wins. Must be a small integer. */
  rank(gpu: GpuFacts): number;
  /** A free slice for the job, or −1 to leave it waiting. */
  choose(job: Job, free: FreeSlices, ctx: PlacementContext): number;
}

const byArrival = (a: Job, b: Job): number => a.release - b.release || a.id - b.id;

const byDeadline = (a: Job, b: Job): number => a.deadline - b.deadline || a.release - b.release || a.id - b.id;

/** Packing as an integer rank: more busy compute, relative to the GPU, ranks higher. */
const packingRank = (g: GpuFacts): number => Math.round((g.busy / g.total) * 1000);

/**
 * The slowest free slice that still meets the deadline; if none does, the one that finishes the job
 * earliest (ties to the smaller slice, which costs less energy).
 */
function slowestOnTime(job: Job, free: FreeSlices, ctx: PlacementContext): number {
  const slack = job.deadline - ctx.now;
  const min = job.minCompute ?? 0;
  let fastest = -1;
  let fastestTime = Infinity;
  // Sizes by index rather than `freeSizes()`: this runs for every job at every paper-mode event.
  for (const k of free.knownSizes()) {
    if (k < min || free.countOf(k) === 0) continue;
    const d = ctx.duration(job, k);
    if (d <= slack) return free.best(k);
    if (d < fastestTime) {
      fastestTime = d;
      fastest = k;
    }
  }
  return fastest < 0 ? -1 : free.best(fastest);
}

function marginalEt(job: Job, free: FreeSlices, ctx: PlacementContext): number {
  const a = ctx.etWeight;
  const min = job.minCompute ?? 0;
  let best = -1;
  let bestCost = Infinity;
  for (const k of free.freeSizes()) {
    if (k < min) continue;
    const d = ctx.duration(job, k);
    const tardiness = Math.max(0, ctx.now + d - job.deadline);
    for (const [, slice] of free.ranksOf(k)) {
      const b = ctx.busyOf(slice);
      const energy = (ctx.watts(slice, b + k) - ctx.watts(slice, b)) * d;
      const cost = (a * energy + tardiness) / (a + 1);
      if (cost < bestCost) {
        bestCost = cost;
        best = slice;
      }
    }
  }
  return best;
}

function randomFree(job: Job, free: FreeSlices, ctx: PlacementContext): number {
  const all = free.all(job.minCompute ?? 0);
  return all.length === 0 ? -1 : (all[ctx.rng.int(all.length)] as number);
}

/**
 * Kubernetes' DRA allocator without scoring: the first GPU in listing order that can take the job, and on it
 * the first alternative of the claim that fits, the claim listing the sizes the job accepts smallest first.
 * Taking the lowest-numbered GPU packs the cluster, which is kinder to energy than kube-scheduler's spread.
 */
function firstFit(job: Job, free: FreeSlices, ctx: PlacementContext): number {
  let best = -1;
  let bestGpu = Infinity;
  let bestSize = Infinity;
  for (const k of free.knownSizes()) {
    if (k < (job.minCompute ?? 0) || free.countOf(k) === 0) continue;
    for (const slice of free.ofSize(k)) {
      const g = ctx.gpuOf(slice);
      if (g < bestGpu || (g === bestGpu && k < bestSize)) {
        best = slice;
        bestGpu = g;
        bestSize = k;
      }
    }
  }
  return best;
}

export function placementHeuristic(name: PlacementName, profiles: ProfileBook, fullGpu = 7): PlacementHeuristic {
  switch (name) {
    case 'edf-most-packed':
      return { name, compare: byDeadline, rank: packingRank, choose: slowestOnTime };
    case 'marginal-et':
      // One rank per power class and busy count: the cost rule prices one slice of each, so GPUs that would
      // cost differently (another model, another packing) must not share a rank.
      return { name, compare: byDeadline, rank: (g) => (g.powerClass ?? 0) * 1000 + g.busy, choose: marginalEt };
    case 'random':
      return { name, compare: byDeadline, rank: () => 0, choose: randomFree };
    case 'first-fit':
      // Arrival order: kube-scheduler's queue sorts by priority, then by when the pod was created.
      return { name, compare: byArrival, rank: () => 0, choose: firstFit };
    case 'cedf': {
      const classes = new Map<string, CedfClass>();
      const classOf = (job: Job): CedfClass => {
        let c = classes.get(job.profile);
        if (c === undefined) {
          c = cedfClass(profiles.get(job.profile), fullGpu);
          classes.set(job.profile, c);
        }
        return c;
      };
      return {
        name,
        compare: (a, b) => classOf(a) - classOf(b) || byDeadline(a, b),
        // Largest average slice first, then most packed.
        rank: (g) => Math.round(g.avgSliceSize * 100) * 1001 + packingRank(g),
        choose: slowestOnTime,
      };
    }
  }
}
