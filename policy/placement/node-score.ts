// Node-level placement for the scheduler extender. A Kubernetes node advertises how many slices of each
// MIG profile it has and how many are in use, not which GPU holds them, so the heuristics of
// heuristics.ts are applied to node aggregates: the node plays the part of one GPU, and its busy share and
// average slice size are those of its GPUs together. Everything here is a pure function of its inputs.
import { GPU_MODELS, findGpuModel, findProfile, type GpuModel, type MigProfile } from '../mig/catalog.js';
import { speedupOn, type ProfileBook, type SpeedupProfile } from '../workload/job.js';
import { placementHeuristic, type GpuFacts, type PlacementName } from './heuristics.js';

/** What the extender knows about one node's MIG state. */
export interface NodeMigState {
  readonly name: string;
  /** Undefined when neither its labels nor its resources identify it; such a node never fits. */
  readonly model: GpuModel | undefined;
  readonly gpus: number;
  /** Slices the device plugin advertises, by profile name (`2g.10gb`). */
  readonly allocatable: Readonly<Record<string, number>>;
  /** Slices held by pods bound to the node and not finished, by profile name. */
  readonly used: Readonly<Record<string, number>>;
  /** mig-manager is applying a new layout (`nvidia.com/mig.config.state=pending`). */
  readonly reconfiguring: boolean;
  /** The operator is emptying the node before a repartition. */
  readonly draining: boolean;
  /** `spec.unschedulable` (kubectl cordon). */
  readonly cordoned: boolean;
  /** Latest expected finish, minutes, of the pods running on it; undefined when idle or unknown. */
  readonly busyUntil?: number;
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
  /** Objective weight a of ET = (a·e + t)/(a + 1), per W·min. */
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

const count = (rec: Readonly<Record<string, number>>, key: string): number =>
  Object.hasOwn(rec, key) ? (rec[key] as number) : 0;

function reject(code: RejectCode, reason: string, resolvable = false): NodeVerdict {
  return { fits: false, code, reason, resolvable };
}

/** Whether the node can take the pod now; if not, why, in words for `kubectl describe pod`. */
export function checkNode(node: NodeMigState, demand: PodDemand): NodeVerdict {
  if (node.reconfiguring) return reject('reconfiguring', 'MIG layout is being reconfigured');
  if (node.draining) return reject('draining', 'node is being drained for a MIG repartition');
  if (node.cordoned) return reject('cordoned', 'node is cordoned');
  const model = node.model;
  if (!model) return reject('unknown-gpu', 'GPU model unknown (no nvidia.com/gpu.product label or MIG resources)');
  for (const [profile, need] of Object.entries(demand.slices)) {
    if (!findProfile(model, profile)) {
      return reject('no-such-profile', `${model.name} has no MIG profile ${profile}`);
    }
    const alloc = count(node.allocatable, profile);
    if (alloc === 0) return reject('not-in-layout', `no ${profile} slices in its current MIG layout`);
    const free = alloc - count(node.used, profile);
    if (free < need) {
      return reject('no-free-slice', `${free} of ${alloc} ${profile} slices free, ${need} needed`, alloc >= need);
    }
  }
  return { fits: true };
}

/** Busy compute, total compute and average slice size of a node, as heuristics.ts sees one GPU. */
export function nodeFacts(node: NodeMigState, model: GpuModel): GpuFacts {
  let busy = 0;
  let allocCompute = 0;
  let slices = 0;
  for (const p of model.profiles) {
    const a = count(node.allocatable, p.name);
    busy += count(node.used, p.name) * p.computeSlices;
    allocCompute += a * p.computeSlices;
    slices += a;
  }
  const gpus = gpuCount(node, model, allocCompute);
  return { busy, total: gpus * model.computeSlices, avgSliceSize: slices === 0 ? 0 : allocCompute / slices };
}

function gpuCount(node: NodeMigState, model: GpuModel, allocCompute: number): number {
  if (node.gpus > 0) return node.gpus;
  return Math.max(1, Math.ceil(allocCompute / model.computeSlices));
}

/** Minutes on a slice of k compute slices, or undefined when the work is unknown. */
export function durationOn(demand: PodDemand, k: number): number | undefined {
  if (demand.work === undefined) return undefined;
  const s = demand.speedup ? speedupOn(demand.speedup, k) : k;
  return demand.work / Math.max(s, Number.EPSILON);
}

interface Option {
  readonly node: NodeMigState;
  readonly verdict: NodeVerdict;
  readonly finish?: number;
  readonly tardiness: number;
  readonly marginalEnergy: number;
  readonly rank: number;
  /** How far the pod's finish is from the node's other pods' finish (aligned finishes free whole GPUs). */
  readonly misalignment: number;
  readonly cost: number;
}

function evaluate(node: NodeMigState, demand: PodDemand, opts: ScoreOptions, rankOf: (g: GpuFacts) => number): Option {
  const verdict = checkNode(node, demand);
  const model = node.model;
  if (!verdict.fits || !model) {
    return { node, verdict, tardiness: 0, marginalEnergy: 0, rank: 0, misalignment: Infinity, cost: Infinity };
  }
  let k = 0;
  let compute = 0;
  for (const [name, n] of Object.entries(demand.slices)) {
    const c = (findProfile(model, name) as MigProfile).computeSlices;
    k = Math.max(k, c);
    compute += c * n;
  }
  const d = durationOn(demand, k);
  const finish = d === undefined ? undefined : opts.now + d;
  const tardiness = finish === undefined || demand.deadline === undefined ? 0 : Math.max(0, finish - demand.deadline);
  const facts = nodeFacts(node, model);
  // Which GPU the device plugin picks is unknown; price the pod on a GPU as busy as the node's average.
  const gpus = facts.total / model.computeSlices;
  const perGpu = facts.busy / gpus;
  const lift = Math.min(model.computeSlices, perGpu + compute) - perGpu;
  const marginalEnergy = (opts.watts(model, perGpu + lift) - opts.watts(model, perGpu)) * (d ?? 1);
  const misalignment =
    finish === undefined || node.busyUntil === undefined ? Infinity : Math.abs(node.busyUntil - finish);
  const a = opts.etWeight;
  const cost = (a * marginalEnergy + tardiness) / (a + 1);
  return { node, verdict, finish, tardiness, marginalEnergy, rank: rankOf(facts), misalignment, cost };
}

type Compare = (x: Option, y: Option) => number;

const byTardiness: Compare = (x, y) => x.tardiness - y.tardiness;
const byRank: Compare = (x, y) => y.rank - x.rank;
const byEnergy: Compare = (x, y) => x.marginalEnergy - y.marginalEnergy;
const byCost: Compare = (x, y) => x.cost - y.cost;
const byAlignment: Compare = (x, y) =>
  x.misalignment === y.misalignment
    ? 0
    : x.misalignment === Infinity
      ? 1
      : y.misalignment === Infinity
        ? -1
        : x.misalignment - y.misalignment;

/** Preference keys of each heuristic, most important first; node names only break exact ties. */
const KEYS: Record<PlacementName, readonly Compare[]> = {
  // The GPU order of the heuristic (CEDF: largest average slice, then most packed), then the
  // cheapest in energy, then the node whose other pods finish closest to this one.
  cedf: [byTardiness, byRank, byEnergy, byAlignment],
  'edf-most-packed': [byTardiness, byRank, byEnergy, byAlignment],
  'marginal-et': [byCost, byRank, byAlignment],
  // Every fitting node ties; kube-scheduler picks at random among equal scores.
  random: [],
};

function compareKeys(keys: readonly Compare[], x: Option, y: Option): number {
  for (const key of keys) {
    const c = key(x, y);
    if (c !== 0) return c;
  }
  return 0;
}

/**
 * Ranks candidate nodes for one pod, best first, with extender scores: the best tier scores 10, the next
 * 9, and so on down to 0, so kube-scheduler's order matches the heuristic's for the top ten tiers.
 * Nodes that do not fit come last with score 0.
 */
export function rankNodes(demand: PodDemand, nodes: readonly NodeMigState[], opts: ScoreOptions): RankedNode[] {
  const heuristic = placementHeuristic(opts.heuristic, opts.profiles);
  const options = nodes.map((n) => evaluate(n, demand, opts, heuristic.rank));
  const keys = KEYS[opts.heuristic];
  options.sort((x, y) => {
    if (x.verdict.fits !== y.verdict.fits) return x.verdict.fits ? -1 : 1;
    return compareKeys(keys, x, y) || (x.node.name < y.node.name ? -1 : x.node.name > y.node.name ? 1 : 0);
  });
  const out: RankedNode[] = [];
  let tier = 0;
  for (let i = 0; i < options.length; i++) {
    const o = options[i] as Option;
    const prev = options[i - 1];
    if (prev && prev.verdict.fits && o.verdict.fits && compareKeys(keys, prev, o) !== 0) tier++;
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
  let free = false;
  let cost = Infinity;
  for (const n of nodes) {
    if (!checkNode(n, one).fits) continue;
    free = true;
    if (opts.heuristic !== 'marginal-et') break;
    cost = Math.min(cost, evaluate(n, one, opts, () => 0).cost);
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
 * the slowest that would meet the deadline, else the fastest (the pod waits and its demand tells the
 * repartitioner what to carve). Under marginal-ET the free option of least (a·energy + tardiness) wins.
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
    [fastest(cands), 'no accepted slice is free or on time; fastest'],
  );
  for (const [c, why] of steps) {
    if (c) return { profile: c.profile, onTime: c.onTime, free: c.free, why };
  }
  return undefined;
}
