// Node-level placement for the scheduler extender. A Kubernetes node advertises how many slices of each
// MIG profile it has and how many are in use, not which GPU holds them, so the heuristics of
// heuristics.ts are applied to node aggregates: the node plays the part of one GPU, and its busy share and
// average slice size are those of its GPUs together. Everything here is a pure function of its inputs.
import { lateChoice } from './late-choice.js';
import { GPU_MODELS, findGpuModel, findProfile, type GpuModel, type MigProfile } from '../mig/catalog.js';
import { speedupOn, type ProfileBook, type SpeedupProfile } from '../workload/job.js';
import { placementHeuristic, type GpuFacts, type PlacementName } from './heuristics.js';

/** What the extender knows about one node's MIG state. */
export interface NodeMigState {
  readonly name: string;
  /** Undefined when neither its labels nor its resources identify it; such a node never fits. */
  readonly model: GpuModel | undefined;
  readonly gpus: number;
  /**
   * Slices the device plugin advertises, by profile name (`2g.10gb`). Maps, not records: records keyed by
   * profile take a different shape per node, which makes V8's property access megamorphic (about 1 µs
   * per node against tens of nanoseconds), and prioritize reads thousands of nodes per request.
   */
  readonly allocatable: ReadonlyMap<string, number>;
  /** Slices held by pods bound to the node and not finished, by profile name. */
  readonly used: ReadonlyMap<string, number>;
  /** mig-manager is applying a new layout (`nvidia.com/mig.config.state=pending`). */
  readonly reconfiguring: boolean;
  /** The operator is emptying the node before a repartition. */
  readonly draining: boolean;
  /** `spec.unschedulable` (kubectl cordon). */
  readonly cordoned: boolean;
  /** Latest expected finish, minutes, of the pods running on it; undefined when idle or unknown. */
  readonly busyUntil?: number;
  /** The objective weight of the policy that manages the node, per W·min; undefined: ScoreOptions.etWeight. */
  readonly etWeight?: number;
}

/** What one pod needs and knows about itself. */
export interface PodDemand {
  /** Slices needed at once, by profile name; usually one slice of one profile. */
  readonly slices: Readonly<Record<string, number>>;
  /** Soft deadline, minutes on the caller's clock; undefined: none. */
  readonly deadline?: number;
  /** Minutes on a 1g slice; undefined: unknown. */
  readonly work?: number;
  /** Undefined: linear speed-up (time ∝ 1/compute slices), the neutral guess. */
  readonly speedup?: SpeedupProfile;
}

export interface ScoreOptions {
  readonly heuristic: PlacementName;
  /** Minutes on the same clock as deadlines and `busyUntil`. */
  readonly now: number;
  /** Objective weight a of ET = (a·e + t)/(a + 1), per W·min, for nodes without their own. */
  readonly etWeight: number;
  readonly profiles: ProfileBook;
  /** Watts of one GPU of `model` with `busy` compute slices busy (fractions allowed). */
  readonly watts: (model: GpuModel, busy: number) => number;
}

export type RejectCode =
  'cordoned' | 'reconfiguring' | 'draining' | 'unknown-gpu' | 'no-such-profile' | 'not-in-layout' | 'no-free-slice';

export type NodeVerdict =
  | { readonly fits: true }
  | {
      readonly fits: false;
      readonly code: RejectCode;
      readonly reason: string;
      /** Whether evicting pods could make it fit (kube-scheduler's FailedNodes vs FailedAndUnresolvableNodes). */
      readonly resolvable: boolean;
    };

export interface RankedNode {
  readonly name: string;
  /** 0..10, the extender protocol's range; only the best tier gets 10. */
  readonly score: number;
  /** 0 for the best nodes, then 1, 2, …; nodes that do not fit have tier −1. */
  readonly tier: number;
  readonly fits: boolean;
  /** Expected finish (minutes) and tardiness; undefined when the pod's work is unknown. */
  readonly finish?: number;
  readonly tardiness: number;
  /** Estimated energy the pod adds, W·min (W per minute of run time when the work is unknown). */
  readonly marginalEnergy: number;
  /** The heuristic's GPU preference for this node (heuristics.ts `rank`), higher first. */
  readonly rank: number;
}

export const MAX_SCORE = 10;

function reject(code: RejectCode, reason: string, resolvable = false): NodeVerdict {
  return { fits: false, code, reason, resolvable };
}

const FITS: NodeVerdict = Object.freeze({ fits: true });
const BLOCKED = {
  reconfiguring: Object.freeze(reject('reconfiguring', 'MIG layout is being reconfigured')),
  draining: Object.freeze(reject('draining', 'node is being drained for a MIG repartition')),
  cordoned: Object.freeze(reject('cordoned', 'node is cordoned')),
  unknownGpu: Object.freeze(
    reject('unknown-gpu', 'GPU model unknown (no nvidia.com/gpu.product label or MIG resources)'),
  ),
};

// Prioritize reads thousands of nodes per request, so each node state is compiled once into arrays
// indexed by a small integer per profile name; a request then costs a few array reads per node.

/** Every profile name of the catalog → a small integer (a name means the same slice on every model). */
const PROFILE_ID = new Map<string, number>();
for (const m of GPU_MODELS) {
  for (const p of (findGpuModel(m) as GpuModel).profiles)
    if (!PROFILE_ID.has(p.name)) PROFILE_ID.set(p.name, PROFILE_ID.size);
}
const modelProfiles = new WeakMap<GpuModel, readonly (MigProfile | undefined)[]>();

/** The model's profiles indexed by PROFILE_ID (undefined where the model lacks one). */
function profilesById(model: GpuModel): readonly (MigProfile | undefined)[] {
  let byId = modelProfiles.get(model);
  if (!byId) {
    const arr: (MigProfile | undefined)[] = new Array(PROFILE_ID.size).fill(undefined);
    for (const p of model.profiles) arr[PROFILE_ID.get(p.name) as number] = p;
    modelProfiles.set(model, (byId = arr));
  }
  return byId;
}

interface Compiled {
  /** A verdict that holds whatever the pod asks (reconfiguring, draining, cordoned, unknown GPU). */
  readonly blocked?: NodeVerdict;
  readonly model?: GpuModel;
  readonly profiles: readonly (MigProfile | undefined)[];
  readonly alloc: Int32Array;
  readonly used: Int32Array;
  /**
   * What fits() reads, in one array so a node costs one memory read, not three: at [2·id] the slices
   * of the profile in the layout (−1 when the model has no such profile), at [2·id + 1] those free.
   */
  readonly slots: Int32Array;
  readonly facts: GpuFacts;
  /** Busy compute slices of an average GPU of the node. */
  readonly perGpu: number;
  /** The heuristic's rank of the node (a memo for heuristic rankFor; fields, not a Map, read per node). */
  rankFor: PlacementName | undefined;
  rank: number;
  /** The node's own objective weight (read here once: a per-request read of the state costs ~10 % at 5,000 nodes). */
  readonly etWeight: number | undefined;
  /**
   * Verdicts for demands the node cannot take, by DemandIds.key (a memo): a rejection's reason is a new
   * string each time, and a filter of 5,000 nodes rejects thousands. The state, and so this, is replaced
   * when the node or its pods change.
   */
  readonly rejects: Map<string, NodeVerdict>;
  /** Watts that `k` more busy compute slices add to the node's average GPU, at [k] (a memo; NaN: not yet). */
  readonly addedWatts: Float64Array;
  /** The watts function addedWatts was worked out with. */
  wattsOf?: ScoreOptions['watts'];
}

/** The most rejections a node keeps (distinct pod demands); past it the memo starts again. */
const MAX_REJECTS = 32;

const COMPILED = Symbol('node-score.compiled');
const compiledMemo = new WeakMap<NodeMigState, Compiled>();

function compile(node: NodeMigState): Compiled {
  const alloc = new Int32Array(PROFILE_ID.size);
  const used = new Int32Array(PROFILE_ID.size);
  for (const [name, n] of node.allocatable) {
    const id = PROFILE_ID.get(name);
    if (id !== undefined) alloc[id] = n;
  }
  for (const [name, n] of node.used) {
    const id = PROFILE_ID.get(name);
    if (id !== undefined) used[id] = n;
  }
  const model = node.model;
  const blocked = node.reconfiguring
    ? BLOCKED.reconfiguring
    : node.draining
      ? BLOCKED.draining
      : node.cordoned
        ? BLOCKED.cordoned
        : model
          ? undefined
          : BLOCKED.unknownGpu;
  const facts = model ? nodeFacts(node, model) : { busy: 0, total: 0, avgSliceSize: 0 };
  const gpus = model ? facts.total / model.computeSlices : 1;
  const perGpu = model ? Math.min(model.computeSlices, facts.busy / gpus) : 0;
  const profiles = model ? profilesById(model) : [];
  const slots = new Int32Array(2 * PROFILE_ID.size);
  for (let id = 0; id < PROFILE_ID.size; id++) {
    slots[2 * id] = profiles[id] ? (alloc[id] as number) : -1;
    slots[2 * id + 1] = (alloc[id] as number) - (used[id] as number);
  }
  const addedWatts = new Float64Array((model?.computeSlices ?? 0) + 1);
  return {
    blocked,
    model,
    profiles,
    alloc,
    used,
    slots,
    facts,
    perGpu,
    rankFor: undefined,
    rank: 0,
    etWeight: node.etWeight,
    rejects: new Map(),
    addedWatts,
    wattsOf: undefined,
  };
}

/**
 * The compiled form of a node state, kept on the (immutable) state object under a symbol: a property
 * read is far cheaper than a WeakMap lookup per node per request. Frozen states use the WeakMap.
 */
function compiled(node: NodeMigState): Compiled {
  const own = (node as { [COMPILED]?: Compiled })[COMPILED];
  if (own) return own;
  let c = compiledMemo.get(node);
  if (c) return c;
  c = compile(node);
  if (Object.isExtensible(node)) Object.defineProperty(node, COMPILED, { value: c });
  else compiledMemo.set(node, c);
  return c;
}

/** A demand as profile ids; a name the catalog lacks gets −1 and fits no node. */
interface DemandIds {
  readonly names: readonly string[];
  readonly ids: Int32Array;
  readonly counts: Int32Array;
  /** The demand as text (names and counts), the key of Compiled.rejects. */
  readonly key: string;
}

function demandIds(demand: PodDemand): DemandIds {
  const names = Object.keys(demand.slices);
  return {
    names,
    ids: Int32Array.from(names, (n) => PROFILE_ID.get(n) ?? -1),
    counts: Int32Array.from(names, (n) => demand.slices[n] as number),
    key: demandKey(demand),
  };
}

/** The slices a demand asks for, as text: the key memos of per-demand answers are kept under. */
export function demandKey(demand: PodDemand): string {
  return JSON.stringify(demand.slices);
}

/** Whether the node can take the demand now: check() without the reasons, for the hot loops. */
function fits(c: Compiled, d: DemandIds): boolean {
  if (c.blocked) return false;
  const slots = c.slots;
  for (let j = 0; j < d.ids.length; j++) {
    const id = d.ids[j] as number;
    if (id < 0 || (slots[2 * id] as number) <= 0 || (slots[2 * id + 1] as number) < (d.counts[j] as number)) {
      return false;
    }
  }
  return true;
}

function check(c: Compiled, d: DemandIds): NodeVerdict {
  if (c.blocked) return c.blocked;
  if (fits(c, d)) return FITS;
  let v = c.rejects.get(d.key);
  if (!v) {
    if (c.rejects.size >= MAX_REJECTS) c.rejects.clear();
    c.rejects.set(d.key, (v = whyNot(c, d)));
  }
  return v;
}

/** Why a node that is not blocked cannot take the demand (FITS when it can). */
function whyNot(c: Compiled, d: DemandIds): NodeVerdict {
  const model = c.model as GpuModel;
  for (let j = 0; j < d.ids.length; j++) {
    const id = d.ids[j] as number;
    const profile = d.names[j] as string;
    if (id < 0 || !c.profiles[id]) return reject('no-such-profile', `${model.name} has no MIG profile ${profile}`);
    const alloc = c.alloc[id] as number;
    if (alloc === 0) return reject('not-in-layout', `no ${profile} slices in its current MIG layout`);
    const need = d.counts[j] as number;
    const free = alloc - (c.used[id] as number);
    if (free < need) {
      return reject('no-free-slice', `${free} of ${alloc} ${profile} slices free, ${need} needed`, alloc >= need);
    }
  }
  return FITS;
}

/** Whether the node can take the pod now; if not, why, in words for `kubectl describe pod`. */
export function checkNode(node: NodeMigState, demand: PodDemand): NodeVerdict {
  return check(compiled(node), demandIds(demand));
}

/** checkNode for one pod against many nodes, with the demand worked out once. */
export function nodeChecker(demand: PodDemand): (node: NodeMigState) => NodeVerdict {
  const ids = demandIds(demand);
  return (node) => check(compiled(node), ids);
}

/** Busy compute, total compute and average slice size of a node, as heuristics.ts sees one GPU. */
export function nodeFacts(node: NodeMigState, model: GpuModel): GpuFacts {
  let busy = 0;
  let allocCompute = 0;
  let slices = 0;
  for (const p of model.profiles) {
    const a = node.allocatable.get(p.name) ?? 0;
    busy += (node.used.get(p.name) ?? 0) * p.computeSlices;
    allocCompute += a * p.computeSlices;
    slices += a;
  }
  // A stale or missing GPU count label must not make the node look fuller than its slices can be.
  const gpus = Math.max(1, node.gpus, Math.ceil(allocCompute / model.computeSlices));
  return { busy, total: gpus * model.computeSlices, avgSliceSize: slices === 0 ? 0 : allocCompute / slices };
}

/** Minutes on a slice of k compute slices, or undefined when the work is unknown. */
export function durationOn(demand: PodDemand, k: number): number | undefined {
  if (demand.work === undefined) return undefined;
  const s = demand.speedup ? speedupOn(demand.speedup, k) : k;
  return demand.work / Math.max(s, Number.EPSILON);
}

/** What the pod costs on a model, the same on every node of that model. */
interface OnModel {
  readonly compute: number;
  readonly duration?: number;
  readonly finish?: number;
  readonly tardiness: number;
}

/** One request's fixed inputs, worked out once rather than per node. */
interface Prepared {
  readonly demand: PodDemand;
  readonly ids: DemandIds;
  readonly opts: ScoreOptions;
  readonly rank: (g: GpuFacts) => number;
  readonly perModel: Map<GpuModel, OnModel>;
  /** The last model asked for and its OnModel: nodes of one model usually come together. */
  last?: { readonly model: GpuModel; readonly on: OnModel };
}

function prepare(demand: PodDemand, opts: ScoreOptions, ids = demandIds(demand)): Prepared {
  const rank = placementHeuristic(opts.heuristic, opts.profiles).rank;
  return { demand, ids, opts, rank, perModel: new Map() };
}

function onModel(p: Prepared, model: GpuModel): OnModel {
  if (p.last?.model === model) return p.last.on;
  let m = p.perModel.get(model);
  if (m) {
    p.last = { model, on: m };
    return m;
  }
  let k = 0;
  let compute = 0;
  const byId = profilesById(model);
  for (let j = 0; j < p.ids.ids.length; j++) {
    const c = byId[p.ids.ids[j] as number]?.computeSlices ?? 0;
    k = Math.max(k, c);
    compute += c * (p.ids.counts[j] as number);
  }
  const duration = durationOn(p.demand, k);
  const finish = duration === undefined ? undefined : p.opts.now + duration;
  const deadline = p.demand.deadline;
  const tardiness = finish === undefined || deadline === undefined ? 0 : Math.max(0, finish - deadline);
  p.perModel.set(model, (m = { compute, duration, finish, tardiness }));
  return m;
}

interface Option {
  readonly node: NodeMigState;
  readonly verdict: NodeVerdict;
  readonly finish?: number;
  readonly tardiness: number;
  readonly marginalEnergy: number;
  readonly rank: number;
  /** Marginal-ET's (a·energy + tardiness)/(a + 1). */
  readonly cost: number;
  /** The heuristic's preference keys, each smaller-is-better, most important first. */
  readonly key: readonly number[];
}

/** The numbers a heuristic's keys are made of, for one node. */
interface Measure {
  finish?: number;
  tardiness: number;
  marginalEnergy: number;
  rank: number;
  cost: number;
  misalignment: number;
}

/** Number of keys per node; heuristics with fewer pad with zeros. */
const KEY_WIDTH = 4;

/**
 * Preference keys of each heuristic, most important first, all smaller-is-better; node names only break
 * exact ties. CEDF and EDF most-packed: lateness, then the heuristic's GPU order (CEDF: largest average
 * slice, then most packed), then marginal energy, then how far the pod's finish is from the node's other
 * pods' finish (aligned finishes free whole GPUs for repartitioning). Marginal-ET: its cost first.
 * Random: none, so every fitting node ties and kube-scheduler picks among equal scores. First-fit: none.
 * Each writes its keys into `out` at `at` (a flat array of KEY_WIDTH numbers per node).
 */
const KEYS: Record<PlacementName, (m: Measure, out: Float64Array | number[], at: number) => void> = {
  cedf: (m, out, at) => {
    out[at] = m.tardiness;
    out[at + 1] = -m.rank;
    out[at + 2] = m.marginalEnergy;
    out[at + 3] = m.misalignment;
  },
  'edf-most-packed': (m, out, at) => KEYS.cedf(m, out, at),
  'marginal-et': (m, out, at) => {
    out[at] = m.cost;
    out[at + 1] = -m.rank;
    out[at + 2] = m.misalignment;
    out[at + 3] = 0;
  },
  random: (_m, out, at) => {
    for (let k = 0; k < KEY_WIDTH; k++) out[at + k] = 0;
  },
  // No keys either: Kubernetes' DRA allocator does not score, so every fitting node ties.
  'first-fit': (m, out, at) => KEYS.random(m, out, at),
};

const NO_KEY: readonly number[] = [];

/** The node's numbers for this pod, written into `m` (a fitting node of a known model). */
function measure(c: Compiled, node: NodeMigState, model: GpuModel, p: Prepared, m: Measure): void {
  const { compute, duration, finish, tardiness } = onModel(p, model);
  // Which GPU the device plugin picks is unknown; price the pod on a GPU as busy as the node's average.
  m.finish = finish;
  m.tardiness = tardiness;
  m.marginalEnergy = addedWatts(c, model, compute, p.opts.watts) * (duration ?? 1);
  m.misalignment = finish === undefined || node.busyUntil === undefined ? Infinity : Math.abs(node.busyUntil - finish);
  const a = c.etWeight ?? p.opts.etWeight;
  m.cost = (a * m.marginalEnergy + tardiness) / (a + 1);
  if (c.rankFor !== p.opts.heuristic) {
    c.rank = p.rank(c.facts);
    c.rankFor = p.opts.heuristic;
  }
  m.rank = c.rank;
}

/**
 * Watts that `compute` more busy slices add to an average GPU of the node (memoised per node: two
 * power-curve interpolations per node per request were a fifth of prioritize at 5,000 nodes).
 */
function addedWatts(c: Compiled, model: GpuModel, compute: number, watts: ScoreOptions['watts']): number {
  const perGpu = c.perGpu;
  // Past the GPU's size every compute count lifts it to full: one entry serves them all.
  const k = Math.min(compute, model.computeSlices);
  const memo = Number.isInteger(k) && k >= 0 ? c.addedWatts : undefined;
  if (memo && c.wattsOf !== watts) {
    memo.fill(NaN);
    c.wattsOf = watts;
  }
  let w = memo ? (memo[k] as number) : NaN;
  if (Number.isNaN(w)) {
    const lift = Math.min(model.computeSlices, perGpu + compute) - perGpu;
    w = watts(model, perGpu + lift) - watts(model, perGpu);
    if (memo) memo[k] = w;
  }
  return w;
}

const blankMeasure = (): Measure => ({ tardiness: 0, marginalEnergy: 0, rank: 0, cost: 0, misalignment: 0 });

function evaluate(node: NodeMigState, p: Prepared): Option {
  const c = compiled(node);
  const verdict = check(c, p.ids);
  const model = c.model;
  if (!verdict.fits || !model) {
    return { node, verdict, tardiness: 0, marginalEnergy: 0, rank: 0, cost: Infinity, key: NO_KEY };
  }
  const m = blankMeasure();
  measure(c, node, model, p, m);
  const key: number[] = [];
  KEYS[p.opts.heuristic](m, key, 0);
  return {
    node,
    verdict,
    finish: m.finish,
    tardiness: m.tardiness,
    marginalEnergy: m.marginalEnergy,
    rank: m.rank,
    cost: m.cost,
    key,
  };
}

function compareKeys(x: readonly number[], y: readonly number[]): number {
  for (let i = 0; i < x.length; i++) {
    const a = x[i] as number;
    const b = y[i] as number;
    if (a < b) return -1;
    if (a > b) return 1;
  }
  return 0;
}

/**
 * Ranks candidate nodes for one pod, best first, with extender scores: the best tier scores 10, the next
 * 9, and so on down to 0, so kube-scheduler's order matches the heuristic's for the top ten tiers.
 * Nodes that do not fit come last with score 0.
 */
export function rankNodes(demand: PodDemand, nodes: readonly NodeMigState[], opts: ScoreOptions): RankedNode[] {
  const p = prepare(demand, opts);
  const options = nodes.map((n) => evaluate(n, p));
  options.sort((x, y) => {
    if (x.verdict.fits !== y.verdict.fits) return x.verdict.fits ? -1 : 1;
    return compareKeys(x.key, y.key) || (x.node.name < y.node.name ? -1 : x.node.name > y.node.name ? 1 : 0);
  });
  const out: RankedNode[] = [];
  let tier = 0;
  for (let i = 0; i < options.length; i++) {
    const o = options[i] as Option;
    const prev = options[i - 1];
    if (prev && prev.verdict.fits && o.verdict.fits && compareKeys(prev.key, o.key) !== 0) tier++;
    const fits = o.verdict.fits;
    out.push({
      name: o.node.name,
      score: fits ? Math.max(0, MAX_SCORE - tier) : 0,
      tier: fits ? tier : -1,
      fits,
      finish: o.finish,
      tardiness: o.tardiness,
      marginalEnergy: o.marginalEnergy,
      rank: o.rank,
    });
  }
  return out;
}

/** Compares rows i and j of a flat key array. */
function compareRows(keys: Float64Array, i: number, j: number): number {
  const a0 = i * KEY_WIDTH;
  const b0 = j * KEY_WIDTH;
  for (let k = 0; k < KEY_WIDTH; k++) {
    const a = keys[a0 + k] as number;
    const b = keys[b0 + k] as number;
    if (a < b) return -1;
    if (a > b) return 1;
  }
  return 0;
}

/**
 * Working arrays of scoreNodes, kept between calls: at 5,000 nodes fresh ones were 180 KB a request, and
 * collecting them was a sixth of prioritize. scoreNodes runs to the end without yielding, so one set serves.
 */
const scratch = { keys: new Float64Array(0), fit: new Uint8Array(0) };

function scratchFor(n: number): { keys: Float64Array; fit: Uint8Array } {
  if (scratch.fit.length < n) {
    scratch.keys = new Float64Array(n * KEY_WIDTH);
    scratch.fit = new Uint8Array(n);
  }
  // A node that does not fit leaves its row unwritten; only `fit` must start clear.
  scratch.fit.fill(0, 0, n);
  return scratch;
}

/**
 * The scores of rankNodes, in input order, without sorting: one pass keeps the best MAX_SCORE + 1
 * distinct keys, which is all a score depends on. Keys live in one flat array, so scoring thousands of
 * nodes allocates nothing per node. A node given as undefined (unknown to the caller) scores 0. For the
 * extender's prioritize verb.
 */
export function scoreNodes(
  demand: PodDemand,
  nodes: readonly (NodeMigState | undefined)[],
  opts: ScoreOptions,
): number[] {
  const p = prepare(demand, opts);
  const n = nodes.length;
  const { keys, fit } = scratchFor(n);
  const m = blankMeasure();
  const write = KEYS[opts.heuristic];
  for (let i = 0; i < n; i++) {
    const node = nodes[i];
    if (!node) continue;
    const c = compiled(node);
    if (!c.model || !fits(c, p.ids)) continue;
    fit[i] = 1;
    measure(c, node, c.model, p, m);
    write(m, keys, i * KEY_WIDTH);
  }
  return scoresOf(keys, fit, n);
}

/** Scores 0..MAX_SCORE from the keys of the fitting rows (scoreNodes). */
function scoresOf(keys: Float64Array, fit: Uint8Array, n: number): number[] {
  /** Rows of the best distinct keys so far, best first. */
  const top: number[] = [];
  for (let i = 0; i < n; i++) {
    if (!fit[i]) continue;
    let t = top.length;
    while (t > 0 && compareRows(keys, i, top[t - 1] as number) < 0) t--;
    if (t > MAX_SCORE || (t > 0 && compareRows(keys, i, top[t - 1] as number) === 0)) continue;
    top.splice(t, 0, i);
    if (top.length > MAX_SCORE + 1) top.pop();
  }
  const scores = new Array<number>(n).fill(0);
  const worst = top.length > MAX_SCORE ? (top[MAX_SCORE] as number) : -1;
  for (let i = 0; i < n; i++) {
    if (!fit[i]) continue;
    // Most nodes rank below the eleventh key and score 0: one comparison settles them.
    if (worst >= 0 && compareRows(keys, i, worst) > 0) continue;
    for (let t = 0; t < top.length; t++) {
      const cmp = compareRows(keys, i, top[t] as number);
      if (cmp === 0) scores[i] = MAX_SCORE - t;
      if (cmp <= 0) break;
    }
  }
  return scores;
}

/**
 * What of scoreNodes' keys does not move with the clock, for one list of node states, one demand and one
 * set of options: whether each node fits, its GPU model, the heuristic's rank, the marginal energy, its
 * busyUntil and its objective weight. Only the pod's finish and tardiness (one per GPU model) and the
 * misalignment depend on `now`. The parts hold while every node state is the same object (states are
 * immutable; a changed node or pod gives a new one), for the same slices, work and speed-up of the demand
 * and the same heuristic, etWeight, profiles and watts of the options. Keeping them between requests is
 * the caller's business (the extender's: extender/kept-scores.ts).
 */
export interface ClockFreeParts {
  /** The demand's slices, which `fit` was worked out for. */
  readonly ids: DemandIds;
  readonly fit: Uint8Array;
  readonly models: GpuModel[];
  readonly model: Int32Array;
  readonly rank: Float64Array;
  readonly energy: Float64Array;
  /** busyUntil where hasBusy is 1. */
  readonly busyUntil: Float64Array;
  readonly hasBusy: Uint8Array;
  readonly weight: Float64Array;
}

/** The clock-free parts of scoreNodes' keys for these nodes, demand and options (see ClockFreeParts). */
export function clockFreeParts(
  demand: PodDemand,
  nodes: readonly (NodeMigState | undefined)[],
  opts: ScoreOptions,
): ClockFreeParts {
  const p = prepare(demand, opts);
  const n = nodes.length;
  const f: ClockFreeParts = {
    ids: p.ids,
    fit: new Uint8Array(n),
    models: [],
    model: new Int32Array(n),
    rank: new Float64Array(n),
    energy: new Float64Array(n),
    busyUntil: new Float64Array(n),
    hasBusy: new Uint8Array(n),
    weight: new Float64Array(n),
  };
  const m = blankMeasure();
  for (let i = 0; i < n; i++) {
    const node = nodes[i];
    if (!node) continue;
    const c = compiled(node);
    const model = c.model;
    if (!model || !fits(c, p.ids)) continue;
    measure(c, node, model, p, m);
    let j = f.models.indexOf(model);
    if (j < 0) j = f.models.push(model) - 1;
    f.fit[i] = 1;
    f.model[i] = j;
    f.rank[i] = m.rank;
    f.energy[i] = m.marginalEnergy;
    f.hasBusy[i] = node.busyUntil === undefined ? 0 : 1;
    f.busyUntil[i] = node.busyUntil ?? 0;
    f.weight[i] = c.etWeight ?? opts.etWeight;
  }
  return f;
}

/**
 * scoreNodes' scores at `opts.now` from clock-free parts: for parts that hold for this demand and these
 * options (ClockFreeParts), the same keys worked out from the same numbers by the same expressions, so
 * the same scores. A request then costs one pass over a few typed arrays instead of a visit to every
 * node's compiled state.
 */
export function scoresAt(parts: ClockFreeParts, demand: PodDemand, opts: ScoreOptions): number[] {
  const p = prepare(demand, opts, parts.ids);
  const n = parts.fit.length;
  const { keys, fit } = scratchFor(n);
  fit.set(parts.fit);
  writeKeys(parts, p, keys);
  return scoresOf(keys, fit, n);
}

/** The keys of the fitting rows from the clock-free parts and this request's finish and tardiness per model. */
function writeKeys(f: ClockFreeParts, p: Prepared, keys: Float64Array): void {
  const on = f.models.map((model) => onModel(p, model));
  const write = KEYS[p.opts.heuristic];
  const m = blankMeasure();
  for (let i = 0; i < f.fit.length; i++) {
    if (!f.fit[i]) continue;
    const { finish, tardiness } = on[f.model[i] as number] as OnModel;
    // As measure() works them out.
    m.finish = finish;
    m.tardiness = tardiness;
    m.marginalEnergy = f.energy[i] as number;
    m.misalignment = finish === undefined || !f.hasBusy[i] ? Infinity : Math.abs((f.busyUntil[i] as number) - finish);
    const a = f.weight[i] as number;
    m.cost = (a * m.marginalEnergy + tardiness) / (a + 1);
    m.rank = f.rank[i] as number;
    write(m, keys, i * KEY_WIDTH);
  }
}

/** Compute slices of a profile name on any catalogued GPU model (names are consistent across models). */
export function profileCompute(name: string): number | undefined {
  for (const m of GPU_MODELS) {
    const p = findProfile(findGpuModel(m) as GpuModel, name);
    if (p) return p.computeSlices;
  }
  return undefined;
}

export interface ProfileChoice {
  readonly profile: string;
  readonly onTime: boolean;
  /** Whether a schedulable node has a free slice of it now. */
  readonly free: boolean;
  readonly why: string;
}

interface Candidate {
  readonly profile: string;
  readonly compute: number;
  readonly duration?: number;
  readonly onTime: boolean;
  readonly free: boolean;
  /** Best (lowest) marginal-ET cost over the nodes with a free slice of it. */
  readonly cost: number;
}

function candidate(
  profile: string,
  compute: number,
  demand: Omit<PodDemand, 'slices'>,
  nodes: readonly NodeMigState[],
  opts: ScoreOptions,
): Candidate {
  const one: PodDemand = { ...demand, slices: { [profile]: 1 } };
  const duration = durationOn(one, compute);
  const onTime = duration === undefined || demand.deadline === undefined || opts.now + duration <= demand.deadline;
  const p = prepare(one, opts);
  let free = false;
  let cost = Infinity;
  for (const n of nodes) {
    if (!fits(compiled(n), p.ids)) continue;
    free = true;
    if (opts.heuristic !== 'marginal-et') break;
    cost = Math.min(cost, evaluate(n, p).cost);
  }
  return { profile, compute, duration, onTime, free, cost };
}

const slowest = (cs: Candidate[]): Candidate | undefined =>
  cs.reduce<Candidate | undefined>((b, c) => (!b || c.compute < b.compute ? c : b), undefined);
const fastest = (cs: Candidate[]): Candidate | undefined =>
  cs.reduce<Candidate | undefined>((b, c) => (!b || c.compute > b.compute ? c : b), undefined);
const cheapest = (cs: Candidate[]): Candidate | undefined =>
  cs.reduce<Candidate | undefined>((b, c) => (!b || c.cost < b.cost ? c : b), undefined);

/**
 * The slice profile for a moldable pod among `accepted` (names the catalog knows; others are ignored):
 * the slowest free profile that meets the deadline; else the fastest free one; else, when nothing is free,
 * the slowest that would meet the deadline, else the smallest with at least half the fastest one's speed
 * (late-choice.ts; the pod waits and its demand tells the repartitioner what to carve). Under marginal-ET the free option of least (a·energy + tardiness) wins.
 * Undefined when no accepted name is a known profile.
 */
export function pickProfile(
  accepted: readonly string[],
  demand: Omit<PodDemand, 'slices'>,
  nodes: readonly NodeMigState[],
  opts: ScoreOptions,
): ProfileChoice | undefined {
  const cands: Candidate[] = [];
  for (const name of new Set(accepted)) {
    const compute = profileCompute(name);
    if (compute !== undefined) cands.push(candidate(name, compute, demand, nodes, opts));
  }
  const free = cands.filter((c) => c.free);
  const freeOnTime = free.filter((c) => c.onTime);
  const waitOnTime = cands.filter((c) => c.onTime);
  const steps: [Candidate | undefined, string][] =
    opts.heuristic === 'marginal-et'
      ? [[cheapest(free), 'least marginal energy and tardiness among free slices']]
      : [
          [slowest(freeOnTime), 'slowest free slice that meets the deadline'],
          [fastest(free), 'no free slice meets the deadline; fastest free slice'],
        ];
  steps.push(
    [slowest(waitOnTime), 'no accepted slice is free; slowest that would meet the deadline'],
    [lateChoice(cands), 'no accepted slice is free or on time; smallest with half the fastest speed'],
  );
  for (const [c, why] of steps) {
    if (c) return { profile: c.profile, onTime: c.onTime, free: c.free, why };
  }
  return undefined;
}
