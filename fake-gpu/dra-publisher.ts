// What NVIDIA's DRA driver writes to the API server for a DRA node: its DeviceClasses (installed once per
// cluster by the driver's chart; created here when missing and left in place) and the node's ResourceSlices,
// published at start and left alone afterwards, as the driver does with DynamicMIG.
import { createHash } from 'node:crypto';
import type { V1ResourceSlice } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { deviceClasses } from '../dra/device-classes.js';
import { DRIVER } from '../dra/devices.js';
import type { NodeSlicesSpec } from '../dra/resource-slices.js';
import { nodeResourceSlices } from '../dra/resource-slices.js';
import type { Kube } from './kube.js';
import { ignoreNotFound, statusCode } from './kube.js';
import { PUBLISHED_HASH_ANNOTATION } from './labels.js';

/** Creates the driver's DeviceClasses that do not exist yet; existing ones (the chart's) are not touched. */
export async function ensureDeviceClasses(kube: Kube, log: Logger): Promise<void> {
  for (const body of deviceClasses()) {
    try {
      await kube.resource.createDeviceClass({ body });
      log.info({ deviceClass: body.metadata?.name }, 'DeviceClass created');
    } catch (err) {
      if (statusCode(err) !== 409) throw err;
    }
  }
}

const ownSlices = (node: string): string => `spec.nodeName=${node},spec.driver=${DRIVER}`;

async function listSlices(kube: Kube, node: string): Promise<V1ResourceSlice[]> {
  return (await kube.resource.listResourceSlice({ fieldSelector: ownSlices(node) })).items;
}

/**
 * The hash of a slice as published at generation 0. The API server rewrites quantities (`40960Mi` comes back
 * as `40Gi`), so slices are compared by this hash, not field by field.
 */
function sliceHash(slice: V1ResourceSlice): string {
  const { metadata, spec } = slice;
  const content = {
    name: metadata?.name,
    owners: metadata?.ownerReferences,
    spec: { ...spec, pool: { ...spec.pool, generation: 0 } },
  };
  return createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 32);
}

/**
 * Publishes the node's pool: nothing when the slices there are the wanted ones, otherwise every slice at a new
 * generation (the allocator uses only a pool's newest generation, so slices of one pool change together) and
 * slices the pool no longer has deleted.
 */
export async function publishResourceSlices(
  kube: Kube,
  spec: Omit<NodeSlicesSpec, 'generation'>,
  log: Logger,
): Promise<void> {
  const existing = new Map((await listSlices(kube, spec.node.name)).map((s) => [s.metadata?.name ?? '', s]));
  const wanted = nodeResourceSlices({ ...spec, generation: 0 }).map((s) => ({ slice: s, hash: sliceHash(s) }));
  const same =
    existing.size === wanted.length &&
    wanted.every(
      (w) => existing.get(w.slice.metadata?.name ?? '')?.metadata?.annotations?.[PUBLISHED_HASH_ANNOTATION] === w.hash,
    );
  if (same) return;
  const generation = Math.max(0, ...[...existing.values()].map((s) => s.spec.pool.generation)) + 1;
  for (const { slice, hash } of wanted) {
    const name = slice.metadata?.name ?? '';
    const body: V1ResourceSlice = {
      ...slice,
      metadata: { ...slice.metadata, annotations: { [PUBLISHED_HASH_ANNOTATION]: hash } },
      spec: { ...slice.spec, pool: { ...slice.spec.pool, generation } },
    };
    const old = existing.get(name);
    existing.delete(name);
    if (old) {
      body.metadata = { ...body.metadata, resourceVersion: old.metadata?.resourceVersion };
      await kube.resource.replaceResourceSlice({ name, body });
    } else {
      await kube.resource.createResourceSlice({ body });
    }
  }
  for (const name of existing.keys()) await ignoreNotFound(kube.resource.deleteResourceSlice({ name }));
  log.info({ node: spec.node.name, slices: wanted.length, generation }, 'ResourceSlices published');
}

/** Deletes the node's ResourceSlices (their owner reference would have the garbage collector do it later). */
export async function deleteResourceSlices(kube: Kube, node: string): Promise<void> {
  for (const s of await listSlices(kube, node)) {
    await ignoreNotFound(kube.resource.deleteResourceSlice({ name: s.metadata?.name ?? '' }));
  }
}
