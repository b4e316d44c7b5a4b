// Pure: the MIG slices a ResourceClaim asks of NVIDIA's DRA driver, in the extender's terms (`{ '1g.5gb': 1 }`,
// what `nvidia.com/mig-1g.5gb: 1` asks on a device-plugin node). Only the shapes smartmig writes
// (dra/claim-templates.ts) and their plain variants are understood: every request selects devices of the MIG
// DeviceClass by one CEL selector `device.attributes['gpu.nvidia.com'].profile == '<profile>'`, directly or in
// `firstAvailable` (the first alternative is the demand: smartmig lists its choice first). Anything else
// (another class, other selectors, `All` devices, a request that is not MIG) is not a MIG claim: undefined,
// and the extender leaves the pod to kube-scheduler alone.
import { MIG_CLASS } from './device-classes.js';
import { DRIVER } from './devices.js';
import { ATTRIBUTES } from './resource-slices.js';

/** A device request or subrequest, as far as the demand is read from it (typed client objects or raw JSON). */
export interface ClaimRequestShape {
  readonly deviceClassName?: string;
  readonly selectors?: readonly { readonly cel?: { readonly expression?: string } }[];
  readonly allocationMode?: string;
  readonly count?: number;
}

export interface ClaimSpecShape {
  readonly devices?: {
    readonly requests?: readonly {
      readonly name?: string;
      readonly exactly?: ClaimRequestShape;
      readonly firstAvailable?: readonly ClaimRequestShape[];
    }[];
  };
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** `device.attributes['gpu.nvidia.com'].profile == '1g.5gb'`, either quote, spaces around `==` optional. */
const PROFILE_SELECTOR = new RegExp(
  `^\\s*device\\.attributes\\[(['"])${esc(DRIVER)}\\1\\]\\.${esc(ATTRIBUTES.profile)}\\s*==\\s*(['"])([A-Za-z0-9.+-]+)\\2\\s*$`,
);

/** The profile a CEL expression selects, or undefined when it is not exactly a profile selector. */
export function selectedProfile(expression: string): string | undefined {
  return PROFILE_SELECTOR.exec(expression)?.[3];
}

/** `{ profile, count }` of one MIG (sub)request, or undefined for any other shape. */
export function migRequest(r: ClaimRequestShape | undefined): { profile: string; count: number } | undefined {
  if (!r || r.deviceClassName !== MIG_CLASS) return undefined;
  const selectors = r.selectors ?? [];
  if (selectors.length !== 1) return undefined;
  const profile = selectedProfile(selectors[0]?.cel?.expression ?? '');
  if (profile === undefined) return undefined;
  const mode = r.allocationMode ?? 'ExactCount';
  if (mode !== 'ExactCount') return undefined;
  const count = r.count ?? 1;
  if (!Number.isSafeInteger(count) || count < 1) return undefined;
  return { profile, count };
}

/** MIG slices by profile that the claim asks for, or undefined when it is not (only) a MIG claim. */
export function claimMigDemand(spec: ClaimSpecShape | undefined): Record<string, number> | undefined {
  const requests = spec?.devices?.requests ?? [];
  if (requests.length === 0) return undefined;
  const out: Record<string, number> = {};
  for (const req of requests) {
    const r = req.exactly !== undefined ? migRequest(req.exactly) : migRequest(req.firstAvailable?.[0]);
    if (!r) return undefined;
    out[r.profile] = (out[r.profile] ?? 0) + r.count;
  }
  return out;
}

/** The pod fields that name its claims (typed or raw objects). */
export interface PodClaimsShape {
  readonly metadata?: { readonly namespace?: string };
  readonly spec?: {
    readonly resourceClaims?: readonly {
      readonly name?: string;
      readonly resourceClaimName?: string;
      readonly resourceClaimTemplateName?: string;
    }[];
  };
  readonly status?: { readonly resourceClaimStatuses?: readonly { name?: string; resourceClaimName?: string }[] };
}

/**
 * The ResourceClaims a pod uses, by name in its namespace: `resourceClaimName` entries directly, template
 * entries through `status.resourceClaimStatuses` (filled in once the claim controller created the claim).
 * A template entry without a claim yet is left out.
 */
export function podClaimNames(pod: PodClaimsShape): string[] {
  const statuses = pod.status?.resourceClaimStatuses ?? [];
  const out: string[] = [];
  for (const entry of pod.spec?.resourceClaims ?? []) {
    const name =
      entry.resourceClaimName ?? statuses.find((s) => s.name === entry.name && s.resourceClaimName)?.resourceClaimName;
    if (name) out.push(name);
  }
  return out;
}

/**
 * The MIG slices a pod asks for through its claims: the sum over its MIG claims, found with `demandOf` (a
 * claim's name in the pod's namespace → its demand, undefined when unknown or not MIG). Empty: no MIG claim.
 */
export function podClaimSlices(
  pod: PodClaimsShape,
  demandOf: (claim: string) => Readonly<Record<string, number>> | undefined,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of podClaimNames(pod)) {
    for (const [p, n] of Object.entries(demandOf(name) ?? {})) out[p] = (out[p] ?? 0) + n;
  }
  return out;
}
