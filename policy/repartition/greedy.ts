// The demand-greedy repartitioner, today's common practice in MIG partitioners: give pending work the slice
// profiles it lacks, changing as few GPUs as possible. It prefers GPUs where a change disturbs nothing (every
// slice idle, not reconfiguring, past the minimum dwell); when none helps it may set a target on a busy GPU,
// which then drains (takes no new work) until its jobs end. What it optimises is coverage of the profiles
// pending work asks for, nothing else: it knows neither energy nor the work still to come. Pure and
// deterministic: the same view gives the same changes, in the same order.
import type { GpuModel } from '../mig/catalog.js';
import { maximalLayouts } from '../mig/enumerate.js';
import type { Layout } from '../mig/layout.js';
import type { ClusterView, GpuState, LayoutChange, PendingDemand, Repartitioner } from './controller.js';

export interface GreedyOptions {
  /** Minutes a GPU keeps a layout before it may change again (default 0). */
  readonly minDwell?: number;
  /** At most this many GPUs change per decision (default: no limit). */
  readonly maxChanges?: number;
  /** Whether a busy GPU may be given a target (it drains first) when no idle one helps (default true). */
  readonly drainBusy?: boolean;
}

/**
 * A GPU that may change. `used` holds, per profile, the deadlines of pending demands that its current free
 * slices already cover: changing the GPU gives those demands back unless the new layout covers them again.
 */
interface Candidate {
  readonly gpu: GpuState;
  readonly key: string;
  readonly used: Map<string, number[]>;
}

/** One scored option: change a GPU of a class of equivalent candidates to a layout. */
interface Move {
  readonly cls: Candidate[];
  readonly layout: Layout;
  readonly layoutIndex: number;
  readonly gain: number;
  /** Earliest deadline among the demands the move newly covers (sooner is better). */
  readonly urgency: number;
  /** Demands the GPU's free slices serve now: a pod may land there before the change, so fewer is better. */
  readonly released: number;
  /** Slices kept unchanged (more is better: the smallest physical change). */
  readonly kept: number;
  /** Busy slices of the GPU: a busy GPU serves the new layout only after it drains, so idle ones go first. */
  readonly busy: number;
}

const sliceKey = (s: { profile: string; start: number }): string => `${s.profile}@${s.start}`;
const layoutKey = (l: Layout): string => l.slices.map(sliceKey).join(',');

function byDeadline(a: PendingDemand, b: PendingDemand): number {
  return a.deadline - b.deadline;
}

/** Removes and returns the first `n` (earliest) deadlines of a sorted list. */
function takeEarliest(list: number[], n: number): number[] {
  return list.splice(0, Math.min(n, list.length));
}

/** Merges sorted deadline lists into one sorted list. */
function mergeSorted(a: readonly number[], b: readonly number[]): number[] {
  return [...a, ...b].sort((x, y) => x - y);
}

/** Instances per profile; layouts come from shared tables, so the counts are kept per layout object. */
const COUNTS = new WeakMap<Layout, ReadonlyMap<string, number>>();
function countProfiles(layout: Layout): ReadonlyMap<string, number> {
  let m = COUNTS.get(layout);
  if (!m) {
    const counts = new Map<string, number>();
    for (const s of layout.slices) counts.set(s.profile, (counts.get(s.profile) ?? 0) + 1);
    COUNTS.set(layout, counts);
    m = counts;
  }
  return m;
}

/** Whether the GPU may get a new target: settled, past its dwell, and idle unless busy ones may drain. */
function isCandidate(g: GpuState, now: number, minDwell: number, drainBusy: boolean): boolean {
  if (g.locked || g.reconfiguring || g.target !== undefined || now - g.lastChange < minDwell) return false;
  return drainBusy || !g.busy.some(Boolean);
}

/** A GPU on its way to a target offers the target's slices, as one that reconfigures does. */
function settled(g: GpuState): GpuState {
  return g.target === undefined ? g : { ...g, layout: g.target, busy: [], reconfiguring: true };
}

export function greedyRepartitioner(options: GreedyOptions = {}): Repartitioner {
  const minDwell = options.minDwell ?? 0;
  const maxChanges = options.maxChanges ?? Infinity;
  const drainBusy = options.drainBusy ?? true;
  // Layout tables depend only on the model and the profile set; caching them keeps a decision cheap.
  const tables = new Map<string, Layout[]>();
  const layoutsFor = (model: GpuModel, profiles: readonly string[]): Layout[] => {
    const key = `${model.name}|${profiles.join(',')}`;
    let t = tables.get(key);
    if (!t) {
      t = maximalLayouts(model, profiles);
      tables.set(key, t);
    }
    return t;
  };
  return {
    name: 'greedy',
    decide: (view) => decideGreedy(view, { minDwell, maxChanges, drainBusy }, layoutsFor),
  };
}

interface Limits {
  readonly minDwell: number;
  readonly maxChanges: number;
  readonly drainBusy: boolean;
}

type LayoutsFor = (model: GpuModel, profiles: readonly string[]) => Layout[];

function decideGreedy(view: ClusterView, limits: Limits, layoutsFor: LayoutsFor): LayoutChange[] {
  const { minDwell, maxChanges, drainBusy } = limits;
  if (maxChanges <= 0 || view.pending.length === 0) return [];
  const lack = demandsByProfile(view.pending);
  const gpus = [...view.gpus].sort((a, b) => a.id - b.id);
  const candidates: GpuState[] = [];
  // Slices that cannot change (or are on their way) serve demand first; candidates' free slices next.
  for (const g of gpus) {
    if (isCandidate(g, view.now, minDwell, drainBusy)) candidates.push(g);
    else coverWithFreeSlices(settled(g), lack);
  }
  const pool = new Pool(candidates.map((g) => toCandidate(g, lack)));
  if (![...lack.values()].some((l) => l.length > 0)) return [];

  const changes: LayoutChange[] = [];
  while (changes.length < maxChanges) {
    const move = bestMove(pool, lack, layoutsFor);
    if (!move) break;
    const chosen = pool.take(move.cls);
    apply(chosen, move.layout, lack);
    changes.push({ gpu: chosen.gpu.id, layout: move.layout });
  }
  return changes;
}

/**
 * The candidates in classes of equivalent ones, each class in GPU id order. A move's score depends on the
 * GPU's layout, whether it is busy and how many demands of each profile its free slices cover, so
 * candidates that agree on those are scored once, and the lowest id of a class is the one a tie picks.
 * Classes are built once: a chosen candidate leaves the pool, and no other candidate's class changes.
 */
class Pool {
  readonly idle: Candidate[][] = [];
  readonly busy: Candidate[][] = [];

  constructor(candidates: readonly Candidate[]) {
    const byKey = new Map<string, Candidate[]>();
    for (const c of candidates) {
      let cls = byKey.get(c.key);
      if (!cls) {
        byKey.set(c.key, (cls = []));
        (c.gpu.busy.some(Boolean) ? this.busy : this.idle).push(cls);
      }
      cls.push(c);
    }
  }

  /** Removes and returns the class's first candidate (the lowest id). */
  take(cls: Candidate[]): Candidate {
    return cls.shift() as Candidate;
  }
}

/** Pending deadlines per profile, each list earliest first. */
function demandsByProfile(pending: readonly PendingDemand[]): Map<string, number[]> {
  const lack = new Map<string, number[]>();
  for (const d of [...pending].sort(byDeadline)) {
    const list = lack.get(d.profile) ?? [];
    list.push(d.deadline);
    lack.set(d.profile, list);
  }
  return lack;
}

/** Lets the GPU's free slices (all slices when it is reconfiguring towards `layout`) cover demand. */
function coverWithFreeSlices(g: GpuState, lack: Map<string, number[]>): void {
  g.layout.slices.forEach((s, i) => {
    if (g.busy[i] && !g.reconfiguring) return;
    const list = lack.get(s.profile);
    if (list && list.length > 0) list.shift();
  });
}

function toCandidate(g: GpuState, lack: Map<string, number[]>): Candidate {
  const used = new Map<string, number[]>();
  const free = g.busy.some(Boolean) ? freeProfiles(g) : countProfiles(g.layout);
  for (const [profile, n] of free) {
    const list = lack.get(profile);
    if (!list || list.length === 0) continue;
    used.set(profile, takeEarliest(list, n));
  }
  const usedKey = [...used.entries()].map(([p, d]) => `${p}:${d.length}`).join(';');
  const busyKey = g.busy.some(Boolean) ? 'busy' : 'idle';
  return { gpu: g, used, key: `${g.model.name}|${layoutKey(g.layout)}|${busyKey}|${usedKey}` };
}

/** Free instances per profile of a GPU with busy slices. */
function freeProfiles(g: GpuState): Map<string, number> {
  const m = new Map<string, number>();
  g.layout.slices.forEach((s, i) => {
    if (!g.busy[i]) m.set(s.profile, (m.get(s.profile) ?? 0) + 1);
  });
  return m;
}

/** Profiles worth building layouts from: the model's general ones plus any `+me` profile that is asked for. */
function profileSetFor(model: GpuModel, lack: Map<string, number[]>): string[] {
  return model.profiles
    .filter((p) => !p.mediaExtensions || (lack.get(p.name)?.length ?? 0) > 0)
    .map((p) => p.name)
    .sort();
}

/**
 * The best move over all candidate classes and layouts, or undefined when nothing gains. An idle GPU's move
 * beats any busy one's, so busy classes are scored only when no idle one gains.
 */
function bestMove(pool: Pool, lack: Map<string, number[]>, layoutsFor: LayoutsFor): Move | undefined {
  const profileSets = new Map<string, string[]>();
  const layoutsOf = (model: GpuModel): Layout[] => {
    let profiles = profileSets.get(model.name);
    if (!profiles) {
      profiles = profileSetFor(model, lack);
      profileSets.set(model.name, profiles);
    }
    return layoutsFor(model, profiles);
  };
  return bestIn(pool.idle, lack, layoutsOf) ?? bestIn(pool.busy, lack, layoutsOf);
}

function bestIn(
  classes: readonly Candidate[][],
  lack: Map<string, number[]>,
  layoutsOf: (model: GpuModel) => Layout[],
): Move | undefined {
  let best: Move | undefined;
  for (const cls of classes) {
    const c = cls[0];
    if (!c) continue;
    const table = layoutsOf(c.gpu.model);
    const busy = c.gpu.busy.reduce((n, b) => n + (b ? 1 : 0), 0);
    let released = 0;
    for (const d of c.used.values()) released += d.length;
    for (const { counts, layoutIndex, kept } of choicesFrom(table, c.gpu.layout)) {
      const s = score(c, counts, released, lack);
      if (!s) continue;
      const layout = table[layoutIndex] as Layout;
      const move = { cls, layout, layoutIndex, gain: s.gain, urgency: s.urgency, released, kept, busy };
      if (!best || better(move, best)) best = move;
    }
  }
  return best;
}

/** Of the layouts with one set of profile counts, the one that keeps most of the GPU's slices (then the first). */
interface Choice {
  readonly counts: ReadonlyMap<string, number>;
  readonly layoutIndex: number;
  readonly kept: number;
}

/**
 * Layouts with the same profile counts cover the same demand, so only the one that keeps most slices of the
 * current layout can be chosen among them: scoring one per count set instead of every placement makes a
 * decision on thousands of GPUs cheap. Kept per table and current layout.
 */
const CHOICES = new WeakMap<readonly Layout[], Map<string, Choice[]>>();
function choicesFrom(table: readonly Layout[], current: Layout): Choice[] {
  let byCurrent = CHOICES.get(table);
  if (!byCurrent) CHOICES.set(table, (byCurrent = new Map()));
  const key = layoutKey(current);
  let choices = byCurrent.get(key);
  if (choices) return choices;
  const slices = new Set(current.slices.map(sliceKey));
  const byCounts = new Map<string, Choice>();
  table.forEach((layout, layoutIndex) => {
    const counts = countProfiles(layout);
    const countsKey = [...counts]
      .map(([p, n]) => `${p}:${n}`)
      .sort()
      .join(',');
    const kept = layout.slices.reduce((k, s) => k + (slices.has(sliceKey(s)) ? 1 : 0), 0);
    const seen = byCounts.get(countsKey);
    if (!seen || kept > seen.kept) byCounts.set(countsKey, { counts, layoutIndex, kept });
  });
  choices = [...byCounts.values()];
  byCurrent.set(key, choices);
  return choices;
}

/** Demand a GPU would cover with these profile counts beyond what it covers now, and the most urgent of it. */
function score(
  c: Candidate,
  counts: ReadonlyMap<string, number>,
  released: number,
  lack: Map<string, number[]>,
): { gain: number; urgency: number } | undefined {
  let covered = 0;
  let urgency = Infinity;
  for (const [profile, n] of counts) {
    const used = c.used.get(profile)?.length ?? 0;
    const waiting = lack.get(profile);
    const cover = Math.min(n, used + (waiting?.length ?? 0));
    covered += cover;
    // Demands beyond the ones this GPU already served are the newly covered ones.
    if (cover > used) urgency = Math.min(urgency, waiting?.[0] ?? Infinity);
  }
  const gain = covered - released;
  return gain > 0 ? { gain, urgency } : undefined;
}

/**
 * An idle GPU before a busy one, then the most demand covered, then the most urgent, then a GPU that serves no demand now, then the smallest physical
 * change, then the lowest GPU id and the first layout in the table.
 */
function better(a: Move, b: Move): boolean {
  if ((a.busy === 0) !== (b.busy === 0)) return a.busy === 0;
  if (a.gain !== b.gain) return a.gain > b.gain;
  if (a.urgency !== b.urgency) return a.urgency < b.urgency;
  if (a.released !== b.released) return a.released < b.released;
  if (a.kept !== b.kept) return a.kept > b.kept;
  const ga = (a.cls[0] as Candidate).gpu.id;
  const gb = (b.cls[0] as Candidate).gpu.id;
  if (ga !== gb) return ga < gb;
  return a.layoutIndex < b.layoutIndex;
}

/** Commits a move: the GPU's old coverage returns to the lack, then the new layout covers what it can. */
function apply(c: Candidate, layout: Layout, lack: Map<string, number[]>): void {
  for (const [profile, d] of c.used) lack.set(profile, mergeSorted(lack.get(profile) ?? [], d));
  c.used.clear();
  for (const [profile, n] of countProfiles(layout)) {
    const list = lack.get(profile);
    if (list && list.length > 0) c.used.set(profile, takeEarliest(list, n));
  }
}
