// Every label, annotation and reason fake-gpu reads or writes. The nvidia.com/ names are the GPU operator's
// (GPU feature discovery, mig-manager, device plugin); the smartmig.io/ ones are documented in docs/fake-gpu.md.

/** Marks the nodes a fake-gpu process emulates, so its watches see only those. */
export const FAKE_NODE_LABEL = 'smartmig.io/fake-gpu';

import {
  GPU_COUNT_LABEL,
  GPU_PRODUCT_LABEL,
  MIG_CONFIG_LABEL,
  MIG_STATE_LABEL,
  RESOURCE_ALLOCATION_MODE_LABEL,
} from '../api/labels.js';

/** mig-manager's config label and its progress: pending while it works, then success or failed. */
export { MIG_CONFIG_LABEL, MIG_STATE_LABEL };
export type MigState = 'pending' | 'success' | 'failed';

/** GPU feature discovery (mixed strategy). */
export const GFD = {
  product: GPU_PRODUCT_LABEL,
  count: GPU_COUNT_LABEL,
  memory: 'nvidia.com/gpu.memory',
  family: 'nvidia.com/gpu.family',
  computeMajor: 'nvidia.com/gpu.compute.major',
  computeMinor: 'nvidia.com/gpu.compute.minor',
  present: 'nvidia.com/gpu.present',
  migCapable: 'nvidia.com/mig.capable',
  migStrategy: 'nvidia.com/mig.strategy',
} as const;

/** Per MIG device type, GFD writes `nvidia.com/mig-<profile>.<suffix>` labels. */
export const MIG_TYPE_LABEL_PREFIX = 'nvidia.com/mig-';
export const MIG_TYPE_LABEL_SUFFIXES = ['count', 'memory', 'slices.gi', 'slices.ci'] as const;

/**
 * The GPU operator's per-node operand switches that mig-manager turns to `paused-for-mig-change` while it
 * reconfigures (its reconfigure step pauses exactly these), and back to `true` afterwards. A value of
 * `false` belongs to someone else and is left alone.
 */
export const PAUSED_DEPLOY_LABELS = [
  'nvidia.com/gpu.deploy.device-plugin',
  'nvidia.com/gpu.deploy.gpu-feature-discovery',
  'nvidia.com/gpu.deploy.dcgm-exporter',
  'nvidia.com/gpu.deploy.dcgm',
  'nvidia.com/gpu.deploy.nvsm',
] as const;
/** Deploy labels the GPU operator sets to `true` on a GPU node; the paused ones minus nvsm, plus mig-manager. */
export const INITIAL_DEPLOY_LABELS = [
  'nvidia.com/gpu.deploy.device-plugin',
  'nvidia.com/gpu.deploy.gpu-feature-discovery',
  'nvidia.com/gpu.deploy.dcgm-exporter',
  'nvidia.com/gpu.deploy.dcgm',
  'nvidia.com/gpu.deploy.mig-manager',
] as const;
export const PAUSED_FOR_MIG_CHANGE = 'paused-for-mig-change';

/**
 * The GPU operator's per-node choice between the device plugin and the DRA driver (`device-plugin` when
 * absent); smartmig reads it to pick how to act on a node (docs/adr/0003-mig-on-dra.md).
 */
export const ALLOCATION_MODE_LABEL = RESOURCE_ALLOCATION_MODE_LABEL;
export const ALLOCATION_MODES = ['device-plugin', 'dra'] as const;
export type AllocationMode = (typeof ALLOCATION_MODES)[number];
/** Deploy labels of a DRA node: no device plugin and no mig-manager, the DRA driver instead. */
export const DRA_DEPLOY_LABELS = [
  'nvidia.com/gpu.deploy.gpu-feature-discovery',
  'nvidia.com/gpu.deploy.dcgm-exporter',
  'nvidia.com/gpu.deploy.dcgm',
  'nvidia.com/gpu.deploy.dra-driver',
] as const;
/** Labels only one of the two modes writes: taking a node over in the other mode removes them. */
export const MODE_LABELS = [
  ...new Set<string>([
    ...INITIAL_DEPLOY_LABELS,
    ...DRA_DEPLOY_LABELS,
    MIG_CONFIG_LABEL,
    MIG_STATE_LABEL,
    ALLOCATION_MODE_LABEL,
  ]),
];

/** mig-manager's maybeSetPaused: `false` stays, anything else (absent included) pauses. */
export const pausedValue = (current: string | undefined): string =>
  current === 'false' ? 'false' : PAUSED_FOR_MIG_CHANGE;
/** mig-manager's maybeSetTrue: `false` stays, anything else becomes `true`. */
export const restoredValue = (current: string | undefined): string => (current === 'false' ? 'false' : 'true');

/** Node annotation: per GPU, its layout and which pod holds each slice (docs/fake-gpu.md). */
export const GPU_SLICES_ANNOTATION = 'smartmig.io/gpu-slices';
/** Node annotation: why the last reconfiguration failed; removed on the next success. */
export const MIG_FAILURE_ANNOTATION = 'smartmig.io/mig-config-failure';

/**
 * Pod annotations (api/labels.ts): fake-gpu writes the GPU index (read by the operator) and the slice it
 * assigns, and reads where the extender wanted the pod (JSON with `gpu`), its work and its workload.
 */
export {
  GPU_ANNOTATION as POD_GPU_ANNOTATION,
  PLACEMENT_ANNOTATION,
  SLICE_ANNOTATION as POD_SLICE_ANNOTATION,
  WORK_ANNOTATION,
  WORKLOAD_ANNOTATION,
} from '../api/labels.js';

/** Pod failure reason when the claims of a pod on a DRA node cannot be prepared (kubelet's event reason). */
export const PREPARE_FAILED_REASON = 'FailedPrepareDynamicResources';
/** ResourceSlice annotation: a hash of what fake-gpu published, to tell whether a slice must be replaced. */
export const PUBLISHED_HASH_ANNOTATION = 'smartmig.io/published-hash';

/** Pod failure reason when a pod's GPU was reconfigured under it (the safety invariant was broken). */
export const RECONFIGURED_REASON = 'MigReconfigured';

/** Field manager and event source of everything fake-gpu writes. */
export const COMPONENT = 'smartmig-fake-gpu';
