// Kubernetes objects → the plain facts the planner works on. No I/O. Objects may come from a typed list call
// (timestamps as Date) or from a watch (timestamps as strings); both read the same here.
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { claimMigDemand, podClaimNames, type ClaimSpecShape } from '../dra/claim-demand.js';
import { DRIVER } from '../dra/devices.js';
import { findGpuModel, type GpuModel } from '../policy/mig/catalog.js';
import {
  APPLIED_AT_ANNOTATION,
  DEADLINE_ANNOTATION,
  DESIRED_ANNOTATION,
  DESIRED_LAYOUTS_ANNOTATION,
  DRA_ALLOCATION_MODE,
  DRAIN_SINCE_ANNOTATION,
  DRAINING_ANNOTATION,
  FAILURES_ANNOTATION,
  GPU_ANNOTATION,
  GPU_COUNT_LABEL,
  GPU_PRODUCT_LABEL,
  LAST_CHANGE_ANNOTATION,
  LAYOUTS_ANNOTATION,
  MIG_CONFIG_LABEL,
  MIG_STATE_LABEL,
  OWNER_ANNOTATION,
  REPARTITION_TAINT,
  RESOURCE_ALLOCATION_MODE_LABEL,
  RETRY_AFTER_ANNOTATION,
} from '../api/labels.js';

export const MIG_RESOURCE_PREFIX = 'nvidia.com/mig-';
export const WHOLE_GPU_RESOURCE = 'nvidia.com/gpu';

export interface NodeFacts {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** From GPU feature discovery; the policy's gpuModel overrides it. */
  readonly detectedModel: GpuModel | undefined;
  readonly product: string | undefined;
  readonly gpuCount: number | undefined;
  readonly migConfig: string | undefined;
  readonly migState: string | undefined;
  readonly owner: string | undefined;
  readonly desired: string | undefined;
  readonly draining: readonly number[] | undefined;
  readonly drainingSince: number | undefined;
  readonly appliedAt: number | undefined;
  /** Per GPU index, ms of the last layout change (absent: never). */
  readonly lastChange: ReadonlyMap<number, number>;
  readonly failures: number;
  readonly retryAfter: number | undefined;
  readonly tainted: boolean;
  readonly resourceVersion: string | undefined;
  /** The GPU operator runs NVIDIA's DRA driver here: smartmig steers the allocator with DeviceTaintRules. */
  readonly dra: boolean;
  /** DRA nodes: per GPU index, the layout key text the operator gave it (`smartmig.io/layouts`). */
  readonly layouts: ReadonlyMap<number, string>;
  /** DRA nodes: the layouts a change under way moves to (`smartmig.io/desired-layouts`); undefined: none. */
  readonly desiredLayouts: ReadonlyMap<number, string> | undefined;
}

export interface PodFacts {
  readonly key: string;
  readonly node: string | undefined;
  readonly phase: string;
  /**
   * MIG slices requested, by profile name (`1g.5gb`, `1g.5gb+me`): `nvidia.com/mig-*` resources and, once
   * `withClaims` added them, what the pod's MIG ResourceClaims ask for.
   */
  readonly slices: ReadonlyMap<string, number>;
  /** Whole GPUs requested (nvidia.com/gpu). */
  readonly wholeGpus: number;
  /** GPU index on its node, when something recorded it. */
  readonly gpu: number | undefined;
  /** Deadline in ms, when the pod has one. */
  readonly deadline: number | undefined;
  readonly created: number | undefined;
  readonly deleting: boolean;
  /** Entries of spec.resourceClaims: DRA devices the pod may hold (which ones, the claims say). */
  readonly claims: number;
  /**
   * NVIDIA driver devices (`gpu-0-mig-1g5gb-19-3`) allocated on the pod's node to its claims, when every claim
   * of the pod is known and allocated; undefined otherwise (any GPU of the node may then be in use).
   */
  readonly claimDevices: readonly string[] | undefined;
  /**
   * Its MIG slices come from ResourceClaims (`withClaims`): only a DRA node's allocator can serve them, as only
   * a device-plugin node serves `nvidia.com/mig-*`.
   */
  readonly viaClaims: boolean;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const DURATION = /^(?:\d+(?:\.\d+)?(?:h|m|s|ms))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(h|ms|m|s)/g;
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** Milliseconds from an RFC 3339 string or a Date; undefined otherwise. */
export function timeMs(v: unknown): number | undefined {
  if (v instanceof Date) return Number.isFinite(v.getTime()) ? v.getTime() : undefined;
  if (typeof v !== 'string' || !RFC3339.test(v)) return undefined;
  const t = Date.parse(v);
  return Number.isFinite(t) ? t : undefined;
}

/** Go-style durations (`45m`, `1h30m`, `90s`) in ms; undefined when malformed. */
export function durationMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (t.length > 64 || !DURATION.test(t)) return undefined;
  let ms = 0;
  for (const m of t.matchAll(DURATION_PART)) ms += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  return Number.isFinite(ms) ? ms : undefined;
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** `0,3` → [0, 3]; anything else that is present means "the whole node" (undefined GPU list → all). */
function parseGpuList(text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(',').map((p) => Number(p.trim()));
  return parts.every((n) => Number.isInteger(n) && n >= 0) ? parts : [];
}

function parseLastChange(text: string | undefined): Map<number, number> {
  const out = new Map<number, number>();
  if (!text) return out;
  try {
    const obj = JSON.parse(text) as Record<string, unknown>;
    for (const [k, v] of Object.entries(obj)) {
      const t = timeMs(v);
      if (t !== undefined && Number.isInteger(Number(k))) out.set(Number(k), t);
    }
  } catch {
    // A hand-edited, unreadable value means "never changed": the dwell then never blocks.
  }
  return out;
}

/** `{"0":"1g.5gb@0,…"}` → per GPU index the layout text; unreadable values and entries are left out. */
function parseLayouts(text: string | undefined): Map<number, string> | undefined {
  if (text === undefined) return undefined;
  const out = new Map<number, string>();
  try {
    const obj = JSON.parse(text) as unknown;
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return out;
    for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
      const g = Number(k);
      if (typeof v === 'string' && k.trim() !== '' && Number.isInteger(g) && g >= 0) out.set(g, v);
    }
  } catch {
    // Unreadable: every GPU's layout is unknown, so each one that has a target changes to it.
  }
  return out;
}

/** The `smartmig.io/layouts` text of per-GPU layout keys, sorted by GPU index. */
export function renderLayouts(m: ReadonlyMap<number, string>): string {
  const obj: Record<string, string> = {};
  for (const k of [...m.keys()].sort((a, b) => a - b)) obj[String(k)] = m.get(k) as string;
  return JSON.stringify(obj);
}

export function renderLastChange(m: ReadonlyMap<number, number>): string {
  const obj: Record<string, string> = {};
  for (const k of [...m.keys()].sort((a, b) => a - b)) obj[String(k)] = isoTime(m.get(k) as number);
  return JSON.stringify(obj);
}

export function nodeFacts(node: V1Node): NodeFacts {
  const labels = node.metadata?.labels ?? {};
  const ann = node.metadata?.annotations ?? {};
  const count = Number(labels[GPU_COUNT_LABEL]);
  const product = labels[GPU_PRODUCT_LABEL];
  const failures = Number(ann[FAILURES_ANNOTATION] ?? 0);
  return {
    name: node.metadata?.name ?? '',
    labels,
    product,
    detectedModel: product === undefined ? undefined : findGpuModel(product),
    gpuCount: Number.isSafeInteger(count) && count > 0 ? count : undefined,
    migConfig: labels[MIG_CONFIG_LABEL],
    migState: labels[MIG_STATE_LABEL],
    owner: ann[OWNER_ANNOTATION],
    desired: ann[DESIRED_ANNOTATION],
    draining: parseGpuList(ann[DRAINING_ANNOTATION]),
    drainingSince: timeMs(ann[DRAIN_SINCE_ANNOTATION]),
    appliedAt: timeMs(ann[APPLIED_AT_ANNOTATION]),
    lastChange: parseLastChange(ann[LAST_CHANGE_ANNOTATION]),
    failures: Number.isSafeInteger(failures) && failures > 0 ? failures : 0,
    retryAfter: timeMs(ann[RETRY_AFTER_ANNOTATION]),
    tainted: (node.spec?.taints ?? []).some((t) => t.key === REPARTITION_TAINT.key),
    resourceVersion: node.metadata?.resourceVersion,
    dra: labels[RESOURCE_ALLOCATION_MODE_LABEL] === DRA_ALLOCATION_MODE,
    layouts: parseLayouts(ann[LAYOUTS_ANNOTATION]) ?? new Map<number, string>(),
    desiredLayouts: parseLayouts(ann[DESIRED_LAYOUTS_ANNOTATION]),
  };
}

const QUANTITY = /^(\d+)$/;

function count(q: unknown): number {
  if (typeof q === 'number') return Number.isSafeInteger(q) && q > 0 ? q : 0;
  const m = typeof q === 'string' ? QUANTITY.exec(q.trim()) : null;
  return m ? Number(m[1]) : 0;
}

/** `nvidia.com/mig-1g.5gb.me` → `1g.5gb+me` (the device plugin's spelling of media-extension profiles). */
export function profileOfResource(resource: string): string | undefined {
  if (!resource.startsWith(MIG_RESOURCE_PREFIX)) return undefined;
  const name = resource.slice(MIG_RESOURCE_PREFIX.length);
  return name.endsWith('.me') ? `${name.slice(0, -3)}+me` : name;
}

type Resources = Record<string, unknown> | undefined;

function addRequests(into: Map<string, number>, res: Resources, combine: (a: number, b: number) => number): number {
  let whole = 0;
  for (const [r, q] of Object.entries(res ?? {})) {
    const n = count(q);
    if (r === WHOLE_GPU_RESOURCE) whole += n;
    const p = profileOfResource(r);
    if (p && n > 0) into.set(p, combine(into.get(p) ?? 0, n));
  }
  return whole;
}

/**
 * The GPU index from `smartmig.io/gpu`. The extender's `smartmig.io/placement` record names no GPU, so a pod
 * without this annotation may be on any GPU that fits it, and the planner assumes the worst.
 */
function podGpu(ann: Record<string, string>): number | undefined {
  const text = ann[GPU_ANNOTATION];
  const gpu = Number(text);
  return text !== undefined && text.trim() !== '' && Number.isInteger(gpu) && gpu >= 0 ? gpu : undefined;
}

/** `smartmig.io/deadline`: an RFC 3339 time, or a duration after the pod's creation. */
export function podDeadline(text: string | undefined, created: number | undefined): number | undefined {
  if (text === undefined) return undefined;
  const at = timeMs(text.trim());
  if (at !== undefined) return at;
  const after = durationMs(text);
  return after !== undefined && created !== undefined ? created + after : undefined;
}

export function podFacts(pod: V1Pod): PodFacts {
  const ann = pod.metadata?.annotations ?? {};
  const slices = new Map<string, number>();
  let wholeGpus = 0;
  for (const c of pod.spec?.containers ?? []) {
    // Extended resources may be given as limits only; requests then equal limits, so take the larger.
    const own = new Map<string, number>();
    const w = Math.max(
      addRequests(own, c.resources?.limits as Resources, Math.max),
      addRequests(own, c.resources?.requests as Resources, Math.max),
    );
    wholeGpus += w;
    for (const [p, n] of own) slices.set(p, (slices.get(p) ?? 0) + n);
  }
  const created = timeMs(pod.metadata?.creationTimestamp);
  return {
    key: `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`,
    node: pod.spec?.nodeName || undefined,
    phase: pod.status?.phase ?? 'Pending',
    slices,
    wholeGpus,
    gpu: podGpu(ann),
    deadline: podDeadline(ann[DEADLINE_ANNOTATION], created),
    created,
    deleting: pod.metadata?.deletionTimestamp !== undefined && pod.metadata?.deletionTimestamp !== null,
    claims: pod.spec?.resourceClaims?.length ?? 0,
    claimDevices: undefined,
    viaClaims: false,
  };
}

/** The fields of a ResourceClaim the operator reads (typed client objects or raw JSON). */
export interface ClaimShape {
  readonly spec?: ClaimSpecShape;
  readonly status?: {
    readonly allocation?: {
      readonly devices?: { readonly results?: readonly { driver?: string; pool?: string; device?: string }[] };
    };
  };
}

/**
 * A claim pod's facts with its claims read: their MIG demand joins `slices` (so a pending claim pod is demand
 * like a pod asking for `nvidia.com/mig-*`), and the driver's devices allocated on its node become
 * `claimDevices`. `claimOf` finds a claim by name in the pod's namespace. A claim not found yet, not
 * allocated, or allocated from another node's pool leaves `claimDevices` undefined: the planner then treats
 * every GPU of the node as possibly in use.
 */
export function withClaims(f: PodFacts, pod: V1Pod, claimOf: (name: string) => ClaimShape | undefined): PodFacts {
  if (f.claims === 0) return f;
  const names = podClaimNames(pod);
  const slices = new Map(f.slices);
  let viaClaims = f.viaClaims;
  let devices: string[] | undefined = names.length === f.claims ? [] : undefined;
  for (const name of names) {
    const claim = claimOf(name);
    for (const [p, n] of Object.entries(claimMigDemand(claim?.spec) ?? {})) {
      slices.set(p, (slices.get(p) ?? 0) + n);
      viaClaims = true;
    }
    const results = claim?.status?.allocation?.devices?.results;
    if (results === undefined) {
      devices = undefined;
      continue;
    }
    for (const r of results) {
      if (r.driver !== DRIVER) continue;
      if (r.pool !== f.node || !r.device) devices = undefined;
      else devices?.push(r.device);
    }
  }
  return { ...f, slices, claimDevices: devices, viaClaims };
}

// Informer caches replace an object on every change and never mutate it, so facts can be kept per object.
const NODE_FACTS = new WeakMap<V1Node, NodeFacts>();
const POD_FACTS = new WeakMap<V1Pod, PodFacts>();

/** `nodeFacts`, computed once per object. */
export function cachedNodeFacts(node: V1Node): NodeFacts {
  let f = NODE_FACTS.get(node);
  if (!f) {
    f = nodeFacts(node);
    NODE_FACTS.set(node, f);
  }
  return f;
}

/** `podFacts`, computed once per object. */
export function cachedPodFacts(pod: V1Pod): PodFacts {
  let f = POD_FACTS.get(pod);
  if (!f) {
    f = podFacts(pod);
    POD_FACTS.set(pod, f);
  }
  return f;
}

/** Whether the pod asks for GPUs at all. */
export const usesGpu = (p: PodFacts): boolean => p.slices.size > 0 || p.wholeGpus > 0;

/**
 * Holds devices on its node: bound and not finished (terminating pods still hold them), with GPU resources
 * or resource claims (on a device-plugin node a claim-only pod marks no GPU: it has no slices).
 */
export const holdsDevices = (p: PodFacts): boolean =>
  p.node !== undefined && p.phase !== 'Succeeded' && p.phase !== 'Failed' && (usesGpu(p) || p.claims > 0);

/** Waiting for a slice: not bound yet, not being deleted. */
export const isPendingDemand = (p: PodFacts): boolean =>
  p.node === undefined && p.phase === 'Pending' && !p.deleting && p.slices.size > 0;
