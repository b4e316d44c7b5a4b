// Pure: the Node object of an emulated GPU node, and the label and status changes a new layout brings. What
// GPU feature discovery labels and what the device plugin advertises (mixed strategy) both follow from the
// GPUs' layouts, so they are computed here and nowhere else.
import type { V1Node, V1NodeCondition } from '@kubernetes/client-node';
import type { GpuModel, MigProfile } from '../policy/mig/catalog.js';
import type { Layout } from '../policy/mig/layout.js';
import { sliceProfiles } from '../policy/mig/layout.js';
import { gpuHardware } from './hardware.js';
import type { AllocationMode } from './labels.js';
import {
  ALLOCATION_MODE_LABEL,
  DRA_DEPLOY_LABELS,
  FAKE_NODE_LABEL,
  GFD,
  INITIAL_DEPLOY_LABELS,
  MIG_CONFIG_LABEL,
  MIG_STATE_LABEL,
  MIG_TYPE_LABEL_PREFIX,
  MIG_TYPE_LABEL_SUFFIXES,
  MODE_LABELS,
} from './labels.js';

/** One GPU as mig-parted leaves it: MIG on or off and, when on, its instances. */
export interface GpuConfig {
  readonly migEnabled: boolean;
  readonly layout: Layout;
}

/** The device plugin's resource for a GPU without MIG. */
export const WHOLE_GPU_RESOURCE = 'nvidia.com/gpu';
const NVIDIA_PREFIX = 'nvidia.com/';

/** Non-GPU resources every emulated node advertises. */
export interface BaseResources {
  readonly cpu: string;
  readonly memory: string;
  readonly pods: string;
}

export const DEFAULT_BASE_RESOURCES: BaseResources = { cpu: '128', memory: '1Ti', pods: '250' };

function sortedRecord<V>(entries: Iterable<readonly [string, V]>): Record<string, V> {
  const out: Record<string, V> = {};
  for (const [k, v] of [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) out[k] = v;
  return out;
}

/** Devices the device plugin advertises (mixed strategy): one per MIG instance, one `nvidia.com/gpu` per non-MIG GPU. */
export function deviceResources(model: GpuModel, gpus: readonly GpuConfig[]): Record<string, number> {
  const counts = new Map<string, number>();
  const add = (resource: string): void => void counts.set(resource, (counts.get(resource) ?? 0) + 1);
  for (const gpu of gpus) {
    if (!gpu.migEnabled) add(WHOLE_GPU_RESOURCE);
    else for (const p of sliceProfiles(model, gpu.layout)) add(p.resource);
  }
  return sortedRecord(counts);
}

/** `nvidia.com/mig-1g.5gb.me` → `nvidia.com/mig-1g.5gb.me.count`: GFD names MIG types after the resource. */
function migTypeLabels(p: MigProfile, count: number): [string, string][] {
  const base = p.resource;
  return [
    [`${base}.count`, String(count)],
    [`${base}.memory`, String(p.memoryGB * 1024)],
    [`${base}.slices.gi`, String(p.computeSlices)],
    [`${base}.slices.ci`, String(p.computeSlices)],
  ];
}

/** The labels GPU feature discovery writes for these GPUs with the mixed MIG strategy. */
export function gfdLabels(model: GpuModel, gpus: readonly GpuConfig[]): Record<string, string> {
  const hw = gpuHardware(model);
  const labels = new Map<string, string>([
    [GFD.product, hw.product],
    [GFD.count, String(gpus.length)],
    [GFD.memory, String(hw.memoryMiB)],
    [GFD.family, hw.family],
    [GFD.computeMajor, String(hw.computeMajor)],
    [GFD.computeMinor, String(hw.computeMinor)],
    [GFD.present, 'true'],
    [GFD.migCapable, 'true'],
    [GFD.migStrategy, 'mixed'],
  ]);
  const devices = deviceResources(model, gpus);
  for (const p of model.profiles) {
    const n = devices[p.resource];
    if (n !== undefined) for (const [k, v] of migTypeLabels(p, n)) labels.set(k, v);
  }
  return sortedRecord(labels);
}

function isMigTypeLabel(key: string): boolean {
  return key.startsWith(MIG_TYPE_LABEL_PREFIX) && MIG_TYPE_LABEL_SUFFIXES.some((s) => key.endsWith(`.${s}`));
}

/** A merge-patch of labels from `current` to `next`: MIG type labels that are gone become null (removed). */
export function gfdLabelPatch(
  current: Readonly<Record<string, string>> | undefined,
  next: Readonly<Record<string, string>>,
): Record<string, string | null> {
  const patch: Record<string, string | null> = { ...next };
  for (const key of Object.keys(current ?? {})) if (isMigTypeLabel(key) && !(key in next)) patch[key] = null;
  return patch;
}

/** A merge-patch removing the labels of the other allocation mode that `next` does not have. */
export function modeLabelPatch(
  current: Readonly<Record<string, string>> | undefined,
  next: Readonly<Record<string, string>>,
): Record<string, null> {
  const patch: Record<string, null> = {};
  for (const key of MODE_LABELS) if (current?.[key] !== undefined && !(key in next)) patch[key] = null;
  return patch;
}

/** Capacity (= allocatable; nothing is reserved) of a node with these GPUs. */
export function nodeResources(
  model: GpuModel,
  gpus: readonly GpuConfig[],
  base: BaseResources = DEFAULT_BASE_RESOURCES,
): Record<string, string> {
  const devices = Object.entries(deviceResources(model, gpus)).map(([r, n]) => [r, String(n)] as const);
  return sortedRecord([['cpu', base.cpu], ['memory', base.memory], ['pods', base.pods], ...devices]);
}

/**
 * A merge-patch of capacity or allocatable from `current` to `next`: GPU resources that are gone become null,
 * so the node stops advertising them rather than keeping stale counts.
 */
export function resourcePatch(
  current: Readonly<Record<string, string>> | undefined,
  next: Readonly<Record<string, string>>,
): Record<string, string | null> {
  const patch: Record<string, string | null> = { ...next };
  for (const key of Object.keys(current ?? {})) if (key.startsWith(NVIDIA_PREFIX) && !(key in next)) patch[key] = null;
  return patch;
}

/** The same resources with every GPU device at zero: what a node advertises while its device plugin is paused. */
export function withoutDevices(resources: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(resources)) out[k] = k.startsWith(NVIDIA_PREFIX) ? '0' : v;
  return out;
}

export function readyConditions(now: Date): V1NodeCondition[] {
  const ok = (type: string, reason: string, message: string): V1NodeCondition => ({
    type,
    status: 'False',
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  });
  return [
    ok('MemoryPressure', 'KubeletHasSufficientMemory', 'emulated node has sufficient memory available'),
    ok('DiskPressure', 'KubeletHasNoDiskPressure', 'emulated node has no disk pressure'),
    ok('PIDPressure', 'KubeletHasSufficientPID', 'emulated node has sufficient PID available'),
    {
      type: 'Ready',
      status: 'True',
      reason: 'KubeletReady',
      message: 'smartmig fake-gpu is posting ready status',
      lastHeartbeatTime: now,
      lastTransitionTime: now,
    },
  ];
}

export interface NodeSpec {
  readonly name: string;
  readonly model: GpuModel;
  readonly gpus: readonly GpuConfig[];
  /** The mig-parted config name the GPUs are in (`nvidia.com/mig.config`). */
  readonly config: string;
  readonly base?: BaseResources;
  /** Added to the generated labels (and winning over them). */
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  /** `device-plugin` when absent. */
  readonly allocationMode?: AllocationMode;
}

/**
 * Labels of a freshly created node: identity, GFD and the GPU operator's deploy switches; then mig-manager's
 * config and state on a device-plugin node, or the allocation mode on a DRA node (no mig-manager there).
 */
export function nodeLabels(spec: NodeSpec): Record<string, string> {
  const dra = spec.allocationMode === 'dra';
  const deploy = (dra ? DRA_DEPLOY_LABELS : INITIAL_DEPLOY_LABELS).map((k) => [k, 'true'] as const);
  const mode: Record<string, string> = dra
    ? { [ALLOCATION_MODE_LABEL]: 'dra' }
    : { [MIG_CONFIG_LABEL]: spec.config, [MIG_STATE_LABEL]: 'success' };
  return {
    'kubernetes.io/hostname': spec.name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    [FAKE_NODE_LABEL]: 'true',
    ...gfdLabels(spec.model, spec.gpus),
    ...Object.fromEntries(deploy),
    ...mode,
    ...spec.labels,
  };
}

/** The Node to create: the API server keeps the status given at creation, so it is Ready with its devices at once. */
export function buildNode(spec: NodeSpec, now: Date): V1Node {
  const resources = nodeResources(spec.model, spec.gpus, spec.base);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: spec.name, labels: nodeLabels(spec), annotations: { ...spec.annotations } },
    spec: {},
    status: {
      capacity: resources,
      allocatable: { ...resources },
      conditions: readyConditions(now),
      addresses: [{ type: 'Hostname', address: spec.name }],
      nodeInfo: {
        architecture: 'amd64',
        bootID: '',
        containerRuntimeVersion: 'fake://0',
        kernelVersion: '',
        kubeProxyVersion: '',
        kubeletVersion: 'v1.37.2-fake-gpu',
        machineID: '',
        operatingSystem: 'linux',
        osImage: 'smartmig fake-gpu',
        systemUUID: '',
      },
    },
  };
}
