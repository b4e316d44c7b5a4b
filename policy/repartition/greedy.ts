// The demand-greedy repartitioner, today's common practice in MIG partitioners: give pending work the slice
// profiles it lacks, changing as few GPUs as possible. It prefers GPUs where a change disturbs nothing (every
// slice idle, not reconfiguring, past the minimum dwell); when none helps it may set a target on a busy GPU,
// which then drains (takes no new work) until its jobs end. What it optimises is coverage of the profiles
// pending work asks for, nothing else: it knows neither energy nor the work still to come. Pure and
// deterministic: the same view gives the same changes, in the same order.
import type { GpuModel } from '../mig/catalog.js';
import { maximalLayouts } from '../mig/enumerate.js';
import type { Layout, Slice } from '../mig/layout.js';
import type { ClusterView, GpuState, LayoutChange, PendingDemand, Repartitioner } from './controller.js';

export interface GreedyOptions {
  /** Minutes a GPU keeps a layout before it may change again (default 0). */
  readonly minDwell?: number;
  /** At most this many GPUs change per decision (default: no limit). */
  readonly maxChanges?: number;
  /** Whether a busy GPU may be given a target (it drains first) when no idle one helps (default true). */
  readonly drainBusy?: boolean;
}

/** Pending deadlines per profile, each list earliest first. */
type Lack = Map<string, number[]>;

/**
 * A GPU that may change. `used` holds, per profile, the deadlines of pending demands that its current free
 * slices already cover: changing the GPU gives those demands back unless the new layout covers them again.
 */
interface Candidate {
  readonly gpu: GpuState;
  readonly used: ReadonlyMap<string, number[]>;
}

/**
 * Candidates whose moves score alike: the same model, layout, busy-or-idle and number of demands covered per
 * profile. A tie picks the lowest GPU id, so a class offers its members in id order. Classes are built once:
 * a chosen candidate leaves its class, and no other candidate's class changes.
 */
class CandidateClass {
  readonly members: Candidate[] = [];
  /** Demands its free slices serve now: a pod may land there before the change, so fewer is better. */
  readonly released: number;
  private taken = 0;

  constructor(
    readonly model: GpuModel,
    readonly layout: Layout,
    /** Demands covered now per profile: the same for every member. */
    readonly covered: ReadonlyMap<string, number>,
    /** `covered` as text (with busy-or-idle). */
    readonly coveredKey: string,
  ) {
    let n = 0;
    for (const k of covered.values()) n += k;
    this.released = n;
  }

  /** The member a move picks: the lowest id still here. */
  first(): Candidate | undefined {
    return this.members[this.taken];
  }

  take(): Candidate {
    return this.members[this.taken++] as Candidate;
  }
}

/** One option of a class: change its first GPU to `layout`, the table's entry `layoutIndex`. */
interface Option {
  readonly cls: CandidateClass;
  readonly layout: Layout;
  readonly layoutIndex: number;
  /** Slices kept unchanged (more is better: the smallest physical change). */
  readonly kept: number;
}

/** The option a move takes, with what made it best. */
interface Move {
  readonly option: Option;
  readonly gain: number;
  /** Earliest deadline among the demands the move newly covers (sooner is better). */
  readonly urgency: number;
}

/**
 * Layout tables depend only on the model and the profile set, and enumerating one costs tens of
 * milliseconds, so they are shared by every controller (a few tables per model at most: general profiles
 * with or without each `+me` one). Shared tables also keep the choices cached per table below.
 */
const TABLES = new Map<string, Layout[]>();
function layoutTable(model: GpuModel, profiles: readonly string[]): Layout[] {
  const key = `${model.name}|${profiles.join(',')}`;
  let t = TABLES.get(key);
  if (!t) TABLES.set(key, (t = maximalLayouts(model, profiles)));
  return t;
}

/** Profiles worth building layouts from: the model's general ones plus any `+me` profile that is asked for. */
function profileSetFor(model: GpuModel, lack: Lack): string[] {
  return model.profiles
    .filter((p) => !p.mediaExtensions || (lack.get(p.name)?.length ?? 0) > 0)
    .map((p) => p.name)
    .sort();
}

/** The table each model's moves come from now. */
function tablesNow(models: Iterable<GpuModel>, lack: Lack): Map<GpuModel, Layout[]> {
  const tables = new Map<GpuModel, Layout[]>();
  for (const m of models) tables.set(m, layoutTable(m, profileSetFor(m, lack)));
  return tables;
}

/**
 * The model's `+me` profiles that wait now, as text: the only part of its profile set that changes during a
 * decision, so comparing this text tells whether its table did, without building the set at every step.
 */
function waitingMedia(model: GpuModel, lack: Lack): string {
  let text = '';
  for (const p of model.profiles) {
    if (p.mediaExtensions && (lack.get(p.name)?.length ?? 0) > 0) text = text ? `${text},${p.name}` : p.name;
  }
  return text;
}

const sliceKey = (s: { profile: string; start: number }): string => `${s.profile}@${s.start}`;

/** The text of a layout, kept per layout object: thousands of GPUs share a few layouts. */
const KEYS = new WeakMap<Layout, string>();
function layoutKey(l: Layout): string {
  let key = KEYS.get(l);
  if (key === undefined) KEYS.set(l, (key = l.slices.map(sliceKey).join(',')));
  return key;
}

/** Instances per profile; layouts come from shared tables, so the counts are kept per layout object. */
const COUNTS = new WeakMap<Layout, ReadonlyMap<string, number>>();
function countProfiles(layout: Layout): ReadonlyMap<string, number> {
  let m = COUNTS.get(layout);
  if (!m) {
    const counts = new Map<string, number>();
    for (const s of layout.slices) counts.set(s.profile, (counts.get(s.profile) ?? 0) + 1);
    COUNTS.set(layout, (m = counts));
  }
  return m;
}

/** Of the layouts with one set of profile counts, the one that keeps most of the GPU's slices (then the first). */
interface Choice {
  readonly counts: ReadonlyMap<string, number>;
  /** The counts as text, e.g. `1g.5gb:3,3g.20gb:1`. */
  readonly countsKey: string;
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
    if (!seen || kept > seen.kept) byCounts.set(countsKey, { counts, countsKey, layoutIndex, kept });
  });
  choices = [...byCounts.values()];
  byCurrent.set(key, choices);
  return choices;
}

export function greedyRepartitioner(options: GreedyOptions = {}): Repartitioner {
  const limits: Limits = {
    minDwell: options.minDwell ?? 0,
    maxChanges: options.maxChanges ?? Infinity,
    drainBusy: options.drainBusy ?? true,
  };
  return { name: 'greedy', decide: (view) => decideGreedy(view, limits) };
}

interface Limits {
  readonly minDwell: number;
  readonly maxChanges: number;
  readonly drainBusy: boolean;
}

function decideGreedy(view: ClusterView, limits: Limits): LayoutChange[] {
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
  const classes = classify(candidates, lack);
  if (!isWaiting(lack)) return [];

  // An idle GPU's move beats any busy one's, so busy classes are scored only when no idle one gains.
  const idle = new Pool(classes.idle);
  const busy = new Pool(classes.busy);
  const changes: LayoutChange[] = [];
  while (changes.length < maxChanges) {
    const move = idle.best(lack) ?? busy.best(lack);
    if (!move) break;
    const chosen = move.option.cls.take();
    apply(chosen, move.option.layout, lack);
    changes.push({ gpu: chosen.gpu.id, layout: move.option.layout });
  }
  return changes;
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

function demandsByProfile(pending: readonly PendingDemand[]): Lack {
  const lack: Lack = new Map();
  for (const d of pending) {
    const list = lack.get(d.profile);
    if (list) list.push(d.deadline);
    else lack.set(d.profile, [d.deadline]);
  }
  for (const list of lack.values()) list.sort((a, b) => a - b);
  return lack;
}

function isWaiting(lack: Lack): boolean {
  for (const list of lack.values()) if (list.length > 0) return true;
  return false;
}

/** Lets the GPU's free slices (all slices when it is reconfiguring towards `layout`) cover demand. */
function coverWithFreeSlices(g: GpuState, lack: Lack): void {
  const slices = g.layout.slices;
  for (let i = 0; i < slices.length; i++) {
    if (g.busy[i] && !g.reconfiguring) continue;
    const list = lack.get((slices[i] as Slice).profile);
    if (list && list.length > 0) list.shift();
  }
}

/**
 * Lets each candidate's free slices cover demand, in GPU id order, and puts candidates that agree on model,
 * layout, busy-or-idle and covered counts in one class; classes in order of their lowest id.
 */
function classify(candidates: readonly GpuState[], lack: Lack): ClassIndex {
  const index = new ClassIndex();
  for (const g of candidates) {
    const isBusy = g.busy.some(Boolean);
    index.add(g, isBusy, coverWithCandidate(g, isBusy, lack));
  }
  return index;
}

/**
 * Classes by model, then layout text, then busy-or-idle and covered counts. Nested maps find a GPU's class
 * by the layout's cached text, so that thousands of GPUs covering nothing build no key strings.
 */
class ClassIndex {
  readonly idle: CandidateClass[] = [];
  readonly busy: CandidateClass[] = [];
  private readonly byModel = new Map<GpuModel, Map<string, Map<string, CandidateClass>>>();

  add(g: GpuState, isBusy: boolean, used: ReadonlyMap<string, number[]>): void {
    let byLayout = this.byModel.get(g.model);
    if (!byLayout) this.byModel.set(g.model, (byLayout = new Map()));
    const text = layoutKey(g.layout);
    let byUse = byLayout.get(text);
    if (!byUse) byLayout.set(text, (byUse = new Map()));
    let key = isBusy ? 'busy' : 'idle';
    for (const [profile, d] of used) key += `|${profile}:${d.length}`;
    let cls = byUse.get(key);
    if (!cls) {
      const covered = new Map([...used].map(([profile, d]) => [profile, d.length]));
      byUse.set(key, (cls = new CandidateClass(g.model, g.layout, covered, key)));
      (isBusy ? this.busy : this.idle).push(cls);
    }
    cls.members.push({ gpu: g, used });
  }
}

/** What a candidate that covers nothing holds: most candidates of a large cluster once the demand is served. */
const NOTHING: ReadonlyMap<string, number[]> = new Map();

/** Takes the earliest demands the candidate's free slices serve, per profile. */
function coverWithCandidate(g: GpuState, isBusy: boolean, lack: Lack): ReadonlyMap<string, number[]> {
  let used: Map<string, number[]> | undefined;
  for (const [profile, n] of isBusy ? freeProfiles(g) : countProfiles(g.layout)) {
    const list = lack.get(profile);
    if (list && list.length > 0) (used ??= new Map()).set(profile, list.splice(0, n));
  }
  return used ?? NOTHING;
}

/**
 * Free instances per profile of a GPU with busy slices. Thousands of GPUs share a few layouts and busy
 * patterns, so the counts are kept per layout object and pattern.
 */
const FREE = new WeakMap<Layout, Map<number, ReadonlyMap<string, number>>>();
function freeProfiles(g: GpuState): ReadonlyMap<string, number> {
  const slices = g.layout.slices;
  let mask = 0;
  for (let i = 0; i < slices.length; i++) if (g.busy[i]) mask |= 1 << i;
  let byMask = FREE.get(g.layout);
  if (!byMask) FREE.set(g.layout, (byMask = new Map()));
  let free = byMask.get(mask);
  if (!free) {
    const m = new Map<string, number>();
    slices.forEach((s, i) => {
      if (!g.busy[i]) m.set(s.profile, (m.get(s.profile) ?? 0) + 1);
    });
    byMask.set(mask, (free = m));
  }
  return free;
}

/**
 * Commits a move: the GPU's old coverage returns to the lack, then the new layout covers what it can. The GPU
 * has left its class, so what it covers now need not be kept.
 */
function apply(c: Candidate, layout: Layout, lack: Lack): void {
  for (const [profile, d] of c.used) lack.set(profile, mergeSorted(lack.get(profile) ?? [], d));
  for (const [profile, n] of countProfiles(layout)) lack.get(profile)?.splice(0, n);
}

/** Merges two sorted deadline lists into one sorted list. */
function mergeSorted(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length)
    out.push((a[i] as number) <= (b[j] as number) ? (a[i++] as number) : (b[j++] as number));
  while (i < a.length) out.push(a[i++] as number);
  while (j < b.length) out.push(b[j++] as number);
  return out;
}

/**
 * Options whose gain and urgency agree whatever the waiting demand, as long as every waiting profile is
 * tracked. A layout with n instances of a profile on a GPU that covers u demands of it covers
 * min(n, u + waiting) = min(n, u) + min(n − u, waiting) when n > u, so a move's gain is a constant base plus
 * min(room, waiting) for each waiting profile it has room for, and its urgency is the earliest waiting
 * deadline among those profiles. Options with the same base and the same room per tracked profile therefore
 * always score alike, and a step scores each bucket once instead of every class and layout.
 */
interface Bucket {
  /** Σ min(n, u) − released: the gain if nothing waited; never positive. */
  readonly base: number;
  /** The tracked profiles the layout has more instances of than the GPU covers now, and how many more. */
  readonly room: readonly (readonly [profile: string, extra: number])[];
  /** At most one option per class: the one with most slices kept, then the first in the table. */
  readonly options: Option[];
  /** Cached best option and the id of its GPU then; null when none is left. */
  best?: Option | null;
  bestId?: number;
}

/**
 * The classes of one pool (idle or busy) and the buckets of their options. The buckets hold while no
 * untracked profile waits and each model keeps its table; otherwise they are rebuilt, tracking every profile
 * tracked before as well, so a decision rebuilds a few times at most (more only when a `+me` profile keeps
 * starting and stopping to wait).
 */
class Pool {
  private readonly tracked = new Set<string>();
  /** Per model, the `+me` profiles that waited when the buckets were built (see waitingMedia). */
  private media = new Map<GpuModel, string>();
  private buckets: Bucket[] = [];
  private readonly models: Set<GpuModel>;

  constructor(private readonly classes: readonly CandidateClass[]) {
    this.models = new Set(classes.map((c) => c.model));
  }

  /** The best move of the pool, or undefined when no move gains. */
  best(lack: Lack): Move | undefined {
    if (this.classes.length === 0) return undefined;
    if (!this.holds(lack)) this.rebuild(lack);
    let top: Move | undefined;
    for (const b of this.buckets) {
      const { gain, urgency } = scoreBucket(b, lack);
      if (gain <= 0 || (top && (gain < top.gain || (gain === top.gain && urgency > top.urgency)))) continue;
      const option = bestOption(b);
      if (!option) continue;
      if (top && gain === top.gain && urgency === top.urgency && !before(option, top.option)) continue;
      top = { option, gain, urgency };
    }
    return top;
  }

  private holds(lack: Lack): boolean {
    if (this.media.size === 0) return false;
    for (const [profile, list] of lack) if (list.length > 0 && !this.tracked.has(profile)) return false;
    for (const [model, media] of this.media) if (waitingMedia(model, lack) !== media) return false;
    return true;
  }

  private rebuild(lack: Lack): void {
    for (const [profile, list] of lack) if (list.length > 0) this.tracked.add(profile);
    this.media = new Map([...this.models].map((m) => [m, waitingMedia(m, lack)]));
    const tables = tablesNow(this.models, lack);
    const byKey = new Map<string, Bucket>();
    // A bucket depends on the counts and the demand covered now, not on the layout: classes that cover the
    // same demand (most cover none) share their shapes, per covered demand and counts.
    const shapes = new Map<string, Map<string, Shape | null>>();
    for (const cls of this.classes) {
      if (!cls.first()) continue;
      const table = tables.get(cls.model) as Layout[];
      let byCounts = shapes.get(cls.coveredKey);
      if (!byCounts) shapes.set(cls.coveredKey, (byCounts = new Map()));
      for (const choice of choicesFrom(table, cls.layout)) {
        let shape = byCounts.get(choice.countsKey);
        if (shape === undefined)
          byCounts.set(choice.countsKey, (shape = bucketShape(choice.counts, cls, this.tracked)));
        if (!shape) continue;
        let b = byKey.get(shape.key);
        if (!b) byKey.set(shape.key, (b = { base: shape.base, room: shape.room, options: [] }));
        addOption(b, {
          cls,
          layout: table[choice.layoutIndex] as Layout,
          layoutIndex: choice.layoutIndex,
          kept: choice.kept,
        });
      }
    }
    this.buckets = [...byKey.values()];
  }
}

/** Where a move falls: its bucket's key, base gain and room. */
interface Shape {
  readonly key: string;
  readonly base: number;
  readonly room: [string, number][];
}

/** The shape of a move to a layout with these counts on a GPU of this class, or null when it can never gain. */
function bucketShape(
  counts: ReadonlyMap<string, number>,
  cls: CandidateClass,
  tracked: ReadonlySet<string>,
): Shape | null {
  let base = -cls.released;
  let room: [string, number][] | undefined;
  for (const [profile, n] of counts) {
    const u = cls.covered.get(profile) ?? 0;
    base += Math.min(n, u);
    if (n > u && tracked.has(profile)) (room ??= []).push([profile, n - u]);
  }
  // Most layouts can never gain (base is never positive); they are dropped before a key is built.
  let most = base;
  for (const [, extra] of room ?? []) most += extra;
  if (!room || most <= 0) return null;
  room.sort(([a], [b]) => (a < b ? -1 : 1));
  return { key: `${base}|${room.join('|')}`, base, room };
}

/** Keeps one option per class in a bucket: options of one class in a bucket differ only in what they keep. */
function addOption(b: Bucket, o: Option): void {
  const last = b.options[b.options.length - 1];
  if (last?.cls !== o.cls) b.options.push(o);
  else if (o.kept > last.kept || (o.kept === last.kept && o.layoutIndex < last.layoutIndex))
    b.options[b.options.length - 1] = o;
}

/** Demand a bucket's moves would cover beyond what their GPUs cover now, and the most urgent of it. */
function scoreBucket(b: Bucket, lack: Lack): { gain: number; urgency: number } {
  let gain = b.base;
  let urgency = Infinity;
  for (const [profile, extra] of b.room) {
    const waiting = lack.get(profile);
    if (!waiting || waiting.length === 0) continue;
    gain += Math.min(extra, waiting.length);
    urgency = Math.min(urgency, waiting[0] as number);
  }
  return { gain, urgency };
}

/**
 * The bucket's option a tie picks. Taking a GPU only makes its class's options worse (a higher id, or none),
 * so a cached best stays best until its own class loses its first GPU.
 */
function bestOption(b: Bucket): Option | undefined {
  if (b.best !== undefined && (b.best === null || b.best.cls.first()?.gpu.id === b.bestId)) return b.best ?? undefined;
  let best: Option | undefined;
  for (const o of b.options) if (o.cls.first() && (!best || before(o, best))) best = o;
  b.best = best ?? null;
  b.bestId = best?.cls.first()?.gpu.id;
  return best;
}

/**
 * Between options of equal gain and urgency: a GPU that serves less demand now, then the smallest physical
 * change, then the lowest GPU id and the first layout in the table.
 */
function before(a: Option, b: Option): boolean {
  if (a.cls.released !== b.cls.released) return a.cls.released < b.cls.released;
  if (a.kept !== b.kept) return a.kept > b.kept;
  const ga = (a.cls.first() as Candidate).gpu.id;
  const gb = (b.cls.first() as Candidate).gpu.id;
  if (ga !== gb) return ga < gb;
  return a.layoutIndex < b.layoutIndex;
}
