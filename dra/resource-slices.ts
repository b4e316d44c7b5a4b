// Pure: the ResourceSlices NVIDIA's DRA driver publishes for a node with DynamicMIG on Kubernetes ≥ 1.35 (the
// split form): one pool named after the node, whose first slice holds only the GPUs' counter sets and whose
// other slices hold one GPU's devices each. The set does not change when claims are prepared: the counters
// keep overlapping placements apart.
import { createHash } from 'node:crypto';
import type { V1CounterSet, V1Device, V1DeviceAttribute, V1ResourceSlice } from '@kubernetes/client-node';
import type { GpuModel } from '../policy/mig/catalog.js';
import type { Counters, GpuDevice } from './devices.js';
import {
  DRIVER,
  MEMORY_COUNTER,
  counterSetName,
  deviceCapacity,
  deviceConsumption,
  deviceName,
  gpuCounters,
  migDevices,
} from './devices.js';

/** The node a pool belongs to; its uid makes the Node the slices' owner, so they go when it goes. */
export interface SliceNode {
  readonly name: string;
  readonly uid: string;
}

export interface NodeSlicesSpec {
  readonly node: SliceNode;
  readonly model: GpuModel;
  readonly gpus: number;
  /** The pool's generation: bumped whenever the published set changes. */
  readonly generation: number;
}

/** Attribute names (under the driver's domain) that claims select on. */
export const ATTRIBUTES = {
  type: 'type',
  profile: 'profile',
  uuid: 'uuid',
  parentUuid: 'parentUUID',
  productName: 'productName',
} as const;

/**
 * The most counter sets one slice may carry (resource.k8s.io/v1 validation). A node with more GPUs than
 * this gets several counter slices.
 */
const COUNTER_SETS_PER_SLICE = 8;

/** A stable UUID per node and GPU in NVML's `GPU-…` form, so parentUUID constraints group a GPU's devices. */
export function gpuUuid(node: string, gpu: number): string {
  const h = createHash('sha256').update(`${node}/${gpu}`).digest('hex');
  return `GPU-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** `NVIDIA-A100-SXM4-40GB` → `NVIDIA A100 SXM4 40GB`: the catalog's first product alias, spaced as NVML has it. */
export const productName = (model: GpuModel): string => (model.aliases[0] ?? model.name).replaceAll('-', ' ');

/** `<node>-gpu.nvidia.com-<k>`: deterministic, so a restarted publisher finds its own slices. */
const resourceSliceName = (node: string, k: number): string => `${node}-${DRIVER}-${k}`;

/** Counters as resource.k8s.io quantities: memory in Mi, the others plain numbers. */
function quantities(c: Counters): Record<string, { value: string }> {
  const out: Record<string, { value: string }> = {};
  for (const [k, v] of Object.entries(c)) out[k] = { value: k === MEMORY_COUNTER ? `${v}Mi` : String(v) };
  return out;
}

function device(spec: NodeSlicesSpec, d: GpuDevice): V1Device {
  const { model, node } = spec;
  const uuid = gpuUuid(node.name, d.gpu);
  const attributes: Record<string, V1DeviceAttribute> =
    d.kind === 'gpu'
      ? { [ATTRIBUTES.type]: { string: 'gpu' }, [ATTRIBUTES.uuid]: { string: uuid } }
      : {
          [ATTRIBUTES.type]: { string: 'mig' },
          [ATTRIBUTES.profile]: { string: d.profile.name },
          [ATTRIBUTES.parentUuid]: { string: uuid },
        };
  return {
    name: deviceName(model, d),
    attributes: { ...attributes, [ATTRIBUTES.productName]: { string: productName(model) } },
    capacity: quantities(deviceCapacity(model, d)),
    consumesCounters: [{ counterSet: counterSetName(d.gpu), counters: quantities(deviceConsumption(model, d)) }],
  };
}

/** Go's string order (bytes), which the driver sorts devices in and the allocator tries them in. */
const byName = (a: V1Device, b: V1Device): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The whole GPU and every MIG placement of GPU `gpu`, in the driver's order. */
function gpuSliceDevices(spec: NodeSlicesSpec, gpu: number): V1Device[] {
  const all: GpuDevice[] = [{ kind: 'gpu', gpu }, ...migDevices(spec.model, gpu)];
  return all.map((d) => device(spec, d)).sort(byName);
}

/** Every ResourceSlice of the node's pool: counter slices first, then one slice per GPU. */
export function nodeResourceSlices(spec: NodeSlicesSpec): V1ResourceSlice[] {
  const { node, gpus } = spec;
  const counterSets: V1CounterSet[] = Array.from({ length: gpus }, (_, gpu) => ({
    name: counterSetName(gpu),
    counters: quantities(gpuCounters(spec.model)),
  }));
  const chunks: V1CounterSet[][] = [];
  for (let i = 0; i < counterSets.length; i += COUNTER_SETS_PER_SLICE) {
    chunks.push(counterSets.slice(i, i + COUNTER_SETS_PER_SLICE));
  }
  const parts = [
    ...chunks.map((sharedCounters) => ({ sharedCounters })),
    ...Array.from({ length: gpus }, (_, gpu) => ({ devices: gpuSliceDevices(spec, gpu) })),
  ];
  return parts.map((part, k) => ({
    apiVersion: 'resource.k8s.io/v1',
    kind: 'ResourceSlice',
    metadata: {
      name: resourceSliceName(node.name, k),
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.name, uid: node.uid, controller: true }],
    },
    spec: {
      driver: DRIVER,
      nodeName: node.name,
      pool: { name: node.name, generation: spec.generation, resourceSliceCount: parts.length },
      ...part,
    },
  }));
}
