// Pure: moldable pods that ask for DRA (`smartmig.io/allocation: dra`) instead of extended resources
// (docs/extender.md, "Moldable pods on DRA nodes"). The webhook's choice comes first in a ResourceClaimTemplate's
// firstAvailable, then the other accepted profiles; the pod's claim references that template, and the container
// that asked for MIG slices (or the first) uses the claim instead of `nvidia.com/mig-*` resources.
import { ALLOCATION_ANNOTATION, PROFILES_ANNOTATION } from '../api/labels.js';
import { GPU_MODELS, findGpuModel, findProfile, type GpuModel, type MigProfile } from '../policy/mig/catalog.js';
import { MIG_RESOURCE_PREFIX, deviceCount, type AnnotationIssue } from './kube.js';
import { pointer, type PatchOp } from './mold.js';
import type { Pod } from './schemas.js';

export type AllocationMode = 'device-plugin' | 'dra';
/** The pod's claim entry (`spec.resourceClaims[].name`, `resources.claims[].name`). */
export const POD_CLAIM_NAME = 'smartmig-mig';

/** `smartmig.io/allocation`: `device-plugin` (the default) or `dra`; anything else is an issue. */
export function allocationMode(pod: Pod): { mode: AllocationMode; issues: AnnotationIssue[] } {
  const raw = pod.metadata.annotations?.[ALLOCATION_ANNOTATION];
  if (raw === undefined) return { mode: 'device-plugin', issues: [] };
  const v = raw.trim();
  if (v === 'dra' || v === 'device-plugin') {
    const profiles = pod.metadata.annotations?.[PROFILES_ANNOTATION];
    if (v === 'dra' && profiles === undefined) {
      const message = `"dra" needs ${PROFILES_ANNOTATION}: the webhook builds the pod's claim from the accepted profiles`;
      return { mode: 'dra', issues: [{ annotation: ALLOCATION_ANNOTATION, message }] };
    }
    return { mode: v, issues: [] };
  }
  const shown = v.length > 40 ? `${v.slice(0, 37)}...` : v;
  const message = `"${shown}" is neither "dra" nor "device-plugin"`;
  return { mode: 'device-plugin', issues: [{ annotation: ALLOCATION_ANNOTATION, message }] };
}

/** The profile of that name on the first catalogued model that has it. */
function catalogProfile(name: string): MigProfile | undefined {
  for (const m of GPU_MODELS) {
    const p = findProfile(findGpuModel(m) as GpuModel, name);
    if (p) return p;
  }
  return undefined;
}

/** Compute slices, then memory, then without media extensions first, then the name. */
function compareSize(a: string, b: string): number {
  const pa = catalogProfile(a);
  const pb = catalogProfile(b);
  const key = (p: MigProfile | undefined) => [p?.computeSlices ?? 0, p?.memoryGB ?? 0, p?.mediaExtensions ? 1 : 0];
  const ka = key(pa);
  const kb = key(pb);
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return (ka[i] as number) - (kb[i] as number);
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * smartmig's order of preference: its choice first, then the larger accepted profiles (nearest first: still on
 * time, least waste), then the smaller ones (nearest first: least late).
 */
export function preferenceOrder(choice: string, accepted: readonly string[]): string[] {
  const others = [...new Set(accepted)].filter((p) => p !== choice).sort(compareSize);
  const larger = others.filter((p) => compareSize(p, choice) > 0);
  const smaller = others.filter((p) => compareSize(p, choice) < 0).reverse();
  return [choice, ...larger, ...smaller];
}

type Container = Pod['spec']['containers'][number];

function migKeys(c: Container, list: 'limits' | 'requests'): string[] {
  return Object.keys(c.resources?.[list] ?? {}).filter((k) => k.startsWith(MIG_RESOURCE_PREFIX));
}
const asksMig = (c: Container): boolean => migKeys(c, 'limits').length + migKeys(c, 'requests').length > 0;

/** Names of a list of `{ name }` objects the typed schema does not know (the pod object is open). */
function names(list: unknown): string[] | undefined {
  if (!Array.isArray(list)) return undefined;
  return list.map((e) => (e && typeof e === 'object' ? String((e as { name?: unknown }).name) : ''));
}

export interface DraMold {
  /** Devices the claim asks for: the MIG count of the container that asked, else 1. */
  readonly count: number;
  /** Index of the container that gets the claim. */
  readonly container: number;
}

/** Where the claim goes and how many devices it asks for, or why the pod cannot be molded for DRA. */
export function draMoldTarget(pod: Pod): DraMold | { issue: string } {
  const containers = pod.spec.containers;
  if (containers.length === 0) return { issue: 'the pod has no container to give the claim to' };
  if ((pod.spec.initContainers ?? []).some(asksMig)) {
    return { issue: 'init containers ask for nvidia.com/mig-* resources; with DRA, ask in one container only' };
  }
  const asking = containers.flatMap((c, i) => (asksMig(c) ? [i] : []));
  if (asking.length > 1) {
    return { issue: `containers ${asking.join(', ')} ask for nvidia.com/mig-* resources; with DRA, ask in one only` };
  }
  const existing = names((pod.spec as Record<string, unknown>)['resourceClaims']) ?? [];
  if (existing.includes(POD_CLAIM_NAME)) {
    return { issue: `spec.resourceClaims already has an entry named "${POD_CLAIM_NAME}"` };
  }
  const index = asking[0] ?? 0;
  const c = containers[index] as Container;
  let count = 1;
  for (const list of ['limits', 'requests'] as const) {
    for (const k of migKeys(c, list)) {
      const q = c.resources?.[list]?.[k] as string | number;
      count = Math.max(count, deviceCount(q, `Pod.spec.containers[${index}].resources.${list}[${k}]`));
    }
  }
  return { count, container: index };
}

/**
 * The JSON Patch for a DRA moldable pod: a `spec.resourceClaims` entry `smartmig-mig` from `template`, the
 * target container's `nvidia.com/mig-*` limits and requests removed and the claim added to its
 * `resources.claims`.
 */
export function draMoldPatch(pod: Pod, target: DraMold, template: string): PatchOp[] {
  const ops: PatchOp[] = [];
  const entry = { name: POD_CLAIM_NAME, resourceClaimTemplateName: template };
  const claims = (pod.spec as Record<string, unknown>)['resourceClaims'];
  if (Array.isArray(claims)) ops.push({ op: 'add', path: pointer('spec', 'resourceClaims', '-'), value: entry });
  else ops.push({ op: 'add', path: pointer('spec', 'resourceClaims'), value: [entry] });
  const i = target.container;
  const c = pod.spec.containers[i] as Container;
  for (const list of ['limits', 'requests'] as const) {
    for (const k of migKeys(c, list))
      ops.push({ op: 'remove', path: pointer('spec', 'containers', i, 'resources', list, k) });
  }
  const use = { name: POD_CLAIM_NAME };
  if (!c.resources) {
    ops.push({ op: 'add', path: pointer('spec', 'containers', i, 'resources'), value: { claims: [use] } });
  } else if (!Array.isArray((c.resources as Record<string, unknown>)['claims'])) {
    ops.push({ op: 'add', path: pointer('spec', 'containers', i, 'resources', 'claims'), value: [use] });
  } else {
    ops.push({ op: 'add', path: pointer('spec', 'containers', i, 'resources', 'claims', '-'), value: use });
  }
  return ops;
}
