// What the emulated DRA kubelet plugin prepares for a pod: the ResourceClaims behind the pod's claims, and the
// devices of this node's pool they were allocated. The scheduler allocates and reserves a claim before it binds
// the pod, so they are normally there at once; a pod bound by hand (or seen before the claim's status arrived)
// gets a few reads with backoff before it fails.
import type { ResourceV1ResourceClaim, V1Pod } from '@kubernetes/client-node';
import { DRIVER } from '../dra/devices.js';
import type { ClaimDevices } from './dynamic-board.js';
import type { Kube } from './kube.js';
import { errorText, statusCode } from './kube.js';

/** Waits between reads of a pod's claims that are not ready yet: about 3 s in all. */
const CLAIM_RETRY_MS: readonly number[] = [100, 200, 400, 800, 1600];

export const hasResourceClaims = (pod: V1Pod): boolean => (pod.spec?.resourceClaims?.length ?? 0) > 0;

/**
 * The ResourceClaim behind each of the pod's claims: its own `resourceClaimName`, or for a template the name
 * the resource claim controller recorded in the pod's status. null: the controller recorded that no claim is
 * needed; undefined: nothing recorded yet.
 */
export function claimNames(pod: V1Pod): { name: string; claim: string | null | undefined }[] {
  const statuses = pod.status?.resourceClaimStatuses ?? [];
  return (pod.spec?.resourceClaims ?? []).map((c) => {
    if (c.resourceClaimName) return { name: c.name, claim: c.resourceClaimName };
    const status = statuses.find((s) => s.name === c.name);
    return { name: c.name, claim: status ? (status.resourceClaimName ?? null) : undefined };
  });
}

/**
 * The devices of this driver in `pool` that `claim` was allocated, or a reason it cannot be prepared for the
 * pod yet: not allocated, or not reserved for it (kubelet checks both).
 */
export function allocatedDevices(claim: ResourceV1ResourceClaim, pool: string, podUid: string): string[] | string {
  const name = `${claim.metadata?.namespace ?? ''}/${claim.metadata?.name ?? ''}`;
  const allocation = claim.status?.allocation;
  if (!allocation) return `claim ${name} is not allocated`;
  if (!(claim.status?.reservedFor ?? []).some((r) => r.uid === podUid))
    return `claim ${name} is not reserved for the pod`;
  return (allocation.devices?.results ?? []).filter((r) => r.driver === DRIVER && r.pool === pool).map((r) => r.device);
}

export type ClaimsRead = { ok: true; claims: ClaimDevices[] } | { ok: false; message: string };

async function readOnce(kube: Kube, pod: V1Pod, pool: string): Promise<ClaimsRead> {
  const namespace = pod.metadata?.namespace ?? '';
  const claims: ClaimDevices[] = [];
  for (const { name, claim } of claimNames(pod)) {
    if (claim === null) continue;
    if (claim === undefined) return { ok: false, message: `pod claim ${name} has no ResourceClaim yet` };
    let object: ResourceV1ResourceClaim;
    try {
      object = await kube.resource.readNamespacedResourceClaim({ name: claim, namespace });
    } catch (err) {
      const why = statusCode(err) === 404 ? 'not found' : errorText(err);
      return { ok: false, message: `claim ${namespace}/${claim}: ${why}` };
    }
    const devices = allocatedDevices(object, pool, pod.metadata?.uid ?? '');
    if (typeof devices === 'string') return { ok: false, message: devices };
    claims.push({ claim: `${namespace}/${claim}`, devices });
  }
  return { ok: true, claims };
}

/**
 * Reads the devices of `pod`'s claims in `pool`, retrying with the pod read again while a claim is missing,
 * unallocated or unreserved; after the last retry the reason of the last attempt.
 */
export async function readClaimDevices(
  kube: Kube,
  pod: V1Pod,
  pool: string,
  sleep: (ms: number) => Promise<void>,
): Promise<ClaimsRead> {
  let current = pod;
  for (let attempt = 0; ; attempt++) {
    const read = await readOnce(kube, current, pool);
    const delay = CLAIM_RETRY_MS[attempt];
    if (read.ok || delay === undefined) return read;
    await sleep(delay);
    const [name, namespace] = [pod.metadata?.name ?? '', pod.metadata?.namespace ?? ''];
    // A template's claim name arrives in the pod's status; a failed read keeps the pod as it was.
    current = await kube.core.readNamespacedPod({ name, namespace }).catch(() => current);
  }
}
