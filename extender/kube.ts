// Adapters from Kubernetes objects to the decision core's values (policy/placement/node-score.ts).
// No I/O: the informers, the verbs and the webhook all go through these.
import {
  DEADLINE_ANNOTATION,
  DRA_ALLOCATION_MODE,
  DRAINING_ANNOTATION,
  GPU_COUNT_LABEL,
  GPU_PRODUCT_LABEL,
  MIG_STATE_LABEL,
  OWNER_ANNOTATION,
  PROFILES_ANNOTATION,
  REPARTITION_TAINT,
  RESOURCE_ALLOCATION_MODE_LABEL,
  WORK_ANNOTATION,
  WORKLOAD_ANNOTATION,
} from '../api/labels.js';
import { GPU_MODELS, findGpuModel, profileByResource, type GpuModel } from '../policy/mig/catalog.js';
import type { NodeMigState } from '../policy/placement/node-score.js';
import type { ProfileBook, SpeedupProfile } from '../policy/workload/job.js';
import { ExtenderError } from './errors.js';
import type { Node, Pod } from './schemas.js';

export const MIG_RESOURCE_PREFIX = 'nvidia.com/mig-';

/** Every MIG resource the catalog knows → its profile name; a resource names one profile on every model. */
const PROFILE_OF_RESOURCE = new Map<string, string>();
for (const name of GPU_MODELS) {
  for (const p of (findGpuModel(name) as GpuModel).profiles) PROFILE_OF_RESOURCE.set(p.resource, p.name);
}
const RESOURCE_OF_PROFILE = new Map([...PROFILE_OF_RESOURCE].map(([r, p]) => [p, r]));

/** `nvidia.com/mig-2g.10gb` → `2g.10gb`; a resource the catalog lacks keeps its suffix (it then fits no node). */
export function profileOfResource(resource: string): string {
  return PROFILE_OF_RESOURCE.get(resource) ?? resource.slice(MIG_RESOURCE_PREFIX.length);
}

export function resourceOfProfile(profile: string): string | undefined {
  return RESOURCE_OF_PROFILE.get(profile);
}

const QUANTITY = /^([+-]?\d+(?:\.\d+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const SUFFIX: Record<string, number> = {
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A count of devices from a Kubernetes quantity (`1`, `2`, `1k`); throws on anything else. */
export function deviceCount(q: string | number, where: string): number {
  const m = typeof q === 'number' ? null : QUANTITY.exec(q.trim());
  const n = typeof q === 'number' ? q : m ? Number(m[1]) * (m[2] ? (SUFFIX[m[2]] as number) : 1) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new ExtenderError(
      'SMARTMIG_BAD_QUANTITY',
      `${where}: "${String(q)}" is not a whole, non-negative device count`,
    );
  }
  return n;
}

type Container = Pod['spec']['containers'][number];

function containerSlices(c: Container, where: string): Map<string, number> {
  const out = new Map<string, number>();
  const requests = c.resources?.requests ?? {};
  const limits = c.resources?.limits ?? {};
  // Extended resources may be given as limits only; the request then defaults to the limit.
  for (const list of [limits, requests]) {
    for (const [r, q] of Object.entries(list)) {
      if (!r.startsWith(MIG_RESOURCE_PREFIX)) continue;
      out.set(profileOfResource(r), deviceCount(q, `${where}.resources[${r}]`));
    }
  }
  return out;
}

/** MIG slices the pod needs, by profile: the sum over containers, or the largest init container's. */
export function podSlices(pod: Pod): Record<string, number> {
  const sum = new Map<string, number>();
  pod.spec.containers.forEach((c, i) => {
    for (const [p, n] of containerSlices(c, `Pod.spec.containers[${i}]`)) sum.set(p, (sum.get(p) ?? 0) + n);
  });
  (pod.spec.initContainers ?? []).forEach((c, i) => {
    for (const [p, n] of containerSlices(c, `Pod.spec.initContainers[${i}]`)) sum.set(p, Math.max(sum.get(p) ?? 0, n));
  });
  const out: Record<string, number> = {};
  for (const [p, n] of sum) if (n > 0) out[p] = n;
  return out;
}

/** Milliseconds from an RFC 3339 string or a Date (typed client objects); undefined otherwise. */
export function timeMs(v: unknown): number | undefined {
  if (v instanceof Date) return Number.isFinite(v.getTime()) ? v.getTime() : undefined;
  if (typeof v !== 'string' || !RFC3339.test(v)) return undefined;
  const t = Date.parse(v);
  return Number.isFinite(t) ? t : undefined;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const DURATION = /^(?:\d+(?:\.\d+)?(?:h|m|s|ms))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(h|ms|m|s)/g;
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
const MAX_DURATION_MS = 366 * 24 * 3_600_000;

/** Go-style durations (`45m`, `1h30m`, `90s`) in milliseconds; undefined when malformed or over a year. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (t.length > 64 || !DURATION.test(t)) return undefined;
  let ms = 0;
  for (const m of t.matchAll(DURATION_PART)) ms += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  return Number.isFinite(ms) && ms <= MAX_DURATION_MS ? ms : undefined;
}

/** What a pod's smartmig.io annotations say, already checked. */
export interface PodIntent {
  /** Epoch milliseconds. */
  readonly deadlineMs?: number;
  /** Minutes on a 1g slice. */
  readonly workMin?: number;
  readonly speedup?: SpeedupProfile;
  /** The workload the pod names, known or not: the profiles may change (MigPartition workloads). */
  readonly workload?: string;
  /** Accepted profiles of a moldable pod. */
  readonly profiles?: readonly string[];
}

export interface AnnotationIssue {
  readonly annotation: string;
  readonly message: string;
}

function annotationsOf(pod: Pod): Record<string, string> {
  return pod.metadata.annotations ?? {};
}

const MAX_WORK_MIN = 366 * 24 * 60;

function parseWork(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(t)) {
    const n = Number(t);
    return n > 0 && n <= MAX_WORK_MIN ? n : undefined;
  }
  const ms = parseDuration(t);
  return ms !== undefined && ms > 0 ? ms / 60_000 : undefined;
}

function parseProfiles(text: string, issues: AnnotationIssue[]): string[] | undefined {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => (s.startsWith(MIG_RESOURCE_PREFIX) ? profileOfResource(s) : s.replace(/^mig-/, '')));
  const unknown = names.filter((n) => resourceOfProfile(n) === undefined);
  if (names.length === 0 || names.length > 32 || unknown.length > 0) {
    const why =
      names.length === 0
        ? 'lists no profile'
        : names.length > 32
          ? 'lists more than 32 profiles'
          : `has unknown MIG profiles ${unknown.slice(0, 5).join(', ')}`;
    issues.push({ annotation: PROFILES_ANNOTATION, message: `${why} (expected e.g. "1g.5gb,2g.10gb,3g.20gb")` });
    return undefined;
  }
  return [...new Set(names)];
}

/**
 * Reads the smartmig.io annotations. Each invalid one is reported and left out, so the scheduler can still
 * place a pod whose annotation the webhook never saw; the webhook rejects pods with any issue.
 */
export function podIntent(
  pod: Pod,
  book: ProfileBook,
  nowMs: number,
): { intent: PodIntent; issues: AnnotationIssue[] } {
  const a = annotationsOf(pod);
  const issues: AnnotationIssue[] = [];
  const intent: { -readonly [K in keyof PodIntent]: PodIntent[K] } = {};
  const deadline = a[DEADLINE_ANNOTATION];
  if (deadline !== undefined) {
    const rel = parseDuration(deadline);
    const created = timeMs(pod.metadata.creationTimestamp) ?? nowMs;
    intent.deadlineMs = rel !== undefined ? created + rel : timeMs(deadline.trim());
    if (intent.deadlineMs === undefined) {
      issues.push({
        annotation: DEADLINE_ANNOTATION,
        message: `"${clip(deadline)}" is neither an RFC 3339 time nor a duration like 45m or 1h30m`,
      });
    }
  }
  const work = a[WORK_ANNOTATION];
  if (work !== undefined) {
    intent.workMin = parseWork(work);
    if (intent.workMin === undefined) {
      issues.push({
        annotation: WORK_ANNOTATION,
        message: `"${clip(work)}" is neither minutes (e.g. 12.5) nor a duration like 45m, up to a year`,
      });
    }
  }
  const workload = a[WORKLOAD_ANNOTATION];
  if (workload !== undefined) {
    const name = workload.trim();
    intent.workload = name;
    if (book.has(name)) intent.speedup = book.get(name);
    else
      issues.push({
        annotation: WORKLOAD_ANNOTATION,
        message: `"${clip(workload)}" is not a known speed-up profile (built in, or in a MigPartition's spec.workloads)`,
      });
  }
  const profiles = a[PROFILES_ANNOTATION];
  if (profiles !== undefined) intent.profiles = parseProfiles(profiles, issues);
  return { intent, issues };
}

const clip = (s: string): string => (s.length > 80 ? `${s.slice(0, 77)}...` : s);

/** A node's own MIG facts; slices in use come from the pods, the weight from its MigPartition (cache.ts). */
export type NodeInfo = Omit<NodeMigState, 'used' | 'busyUntil' | 'etWeight'> & {
  /** The MigPartition that manages the node (`smartmig.io/partition`). */
  readonly partition: string | undefined;
  /** NVIDIA's DRA driver serves its GPUs: its MIG state comes from ResourceSlices and claims (dra-cache.ts). */
  readonly dra?: boolean;
};

/** GPU feature discovery's product name, without the suffixes its MIG "single" and sharing modes add. */
function productModel(product: string | undefined): GpuModel | undefined {
  if (!product) return undefined;
  return findGpuModel(product.replace(/-MIG-.*$/, '').replace(/-SHARED$/, ''));
}

/** The catalogued model whose profiles cover every MIG resource the node advertises. */
function modelFromResources(resources: readonly string[]): GpuModel | undefined {
  if (resources.length === 0) return undefined;
  for (const name of GPU_MODELS) {
    const m = findGpuModel(name) as GpuModel;
    if (resources.every((r) => profileByResource(m, r))) return m;
  }
  return undefined;
}

/**
 * The node's MIG quantities: `status.allocatable`, and `status.capacity` for a MIG resource allocatable
 * lacks (objects written by hand or by tools that fill in capacity only). A resource allocatable does
 * list keeps its value there, even 0: the device plugin lowers allocatable for unhealthy devices.
 */
function migQuantities(node: Node): [string, string | number][] {
  const allocatable = node.status?.allocatable ?? {};
  const out = Object.entries(allocatable).filter(([r]) => r.startsWith(MIG_RESOURCE_PREFIX));
  for (const [r, q] of Object.entries(node.status?.capacity ?? {})) {
    if (r.startsWith(MIG_RESOURCE_PREFIX) && !Object.prototype.hasOwnProperty.call(allocatable, r)) out.push([r, q]);
  }
  return out;
}

export function nodeInfo(node: Node): NodeInfo {
  const labels = node.metadata.labels ?? {};
  const allocatable = new Map<string, number>();
  const resources: string[] = [];
  for (const [r, q] of migQuantities(node)) {
    let n: number;
    try {
      n = deviceCount(q, r);
    } catch {
      continue; // a malformed count on a node is that node's problem, not the pod's
    }
    if (n > 0) {
      allocatable.set(profileOfResource(r), n);
      resources.push(r);
    }
  }
  const model = productModel(labels[GPU_PRODUCT_LABEL]) ?? modelFromResources(resources);
  const gpus = Number(labels[GPU_COUNT_LABEL]);
  const state = labels[MIG_STATE_LABEL];
  const annotations = node.metadata.annotations ?? {};
  const draining = annotations[DRAINING_ANNOTATION];
  const taints = node.spec?.taints ?? [];
  return {
    name: node.metadata.name,
    model,
    gpus: Number.isSafeInteger(gpus) && gpus > 0 ? gpus : 0,
    allocatable,
    reconfiguring: state === 'pending' || state === 'rebooting',
    draining:
      (draining !== undefined && draining !== 'false') ||
      taints.some((t) => t.key === REPARTITION_TAINT.key && t.effect !== 'PreferNoSchedule'),
    cordoned: node.spec?.unschedulable === true,
    partition: annotations[OWNER_ANNOTATION] || undefined,
    dra: labels[RESOURCE_ALLOCATION_MODE_LABEL] === DRA_ALLOCATION_MODE,
  };
}

/** What bind records in `smartmig.io/placement`: enough to explain and replay the decision. */
export interface PlacementRecord {
  readonly node: string;
  readonly slices: Readonly<Record<string, number>>;
  readonly heuristic: string;
  /** When the binding was made, RFC 3339. */
  readonly at: string;
  /** RFC 3339, or null when the pod's work is unknown. */
  readonly expectedFinish: string | null;
  readonly deadline: string | null;
}

export function parsePlacement(text: string | undefined): PlacementRecord | undefined {
  if (text === undefined || text.length > 4096) return undefined;
  try {
    const v = JSON.parse(text) as Partial<PlacementRecord> | null;
    return v && typeof v.node === 'string' && typeof v.at === 'string' ? (v as PlacementRecord) : undefined;
  } catch {
    return undefined;
  }
}
