// Every label, annotation and taint smartmig reads or writes on Kubernetes objects, in one place. Those under smartmig.io/ are
// this project's contract with the extender and with people (docs/operator.md); the nvidia.com/ ones belong
// to the GPU operator (mig-manager, GPU feature discovery).

/** mig-manager applies the mig-parted config of this name; it reacts only to a changed value. */
export const MIG_CONFIG_LABEL = 'nvidia.com/mig.config';
/** Set by mig-manager: pending, rebooting, success or failed. */
export const MIG_STATE_LABEL = 'nvidia.com/mig.config.state';
/** GPU feature discovery: product name (e.g. NVIDIA-A100-SXM4-40GB) and number of physical GPUs. */
export const GPU_PRODUCT_LABEL = 'nvidia.com/gpu.product';
export const GPU_COUNT_LABEL = 'nvidia.com/gpu.count';

export const MIG_STATES = ['pending', 'rebooting', 'success', 'failed'] as const;
export type MigState = (typeof MIG_STATES)[number];

/** Which MigPartition manages the node (set by the operator; informational, ownership is recomputed). */
export const OWNER_ANNOTATION = 'smartmig.io/partition';
/** The mig-parted config the operator wants on the node; equal to the label once launched. */
export const DESIRED_ANNOTATION = 'smartmig.io/desired-config';
/**
 * GPU indices, comma-separated (e.g. `0,3`), that are waiting to be reconfigured: the extender places no new
 * pod on them. Present only while a change waits for or undergoes reconfiguration.
 */
export const DRAINING_ANNOTATION = 'smartmig.io/draining';
/** When the current change started waiting (RFC 3339), for the drain timeout and the duration metric. */
export const DRAIN_SINCE_ANNOTATION = 'smartmig.io/draining-since';
/** When the current config label was set (RFC 3339): the start of a repartition. */
export const APPLIED_AT_ANNOTATION = 'smartmig.io/applied-at';
/** Per GPU index, the last time its layout changed (JSON object of RFC 3339 times), for the minimum dwell. */
export const LAST_CHANGE_ANNOTATION = 'smartmig.io/last-change';
/** Failed attempts at the desired config in a row, and when the next may start (RFC 3339). */
export const FAILURES_ANNOTATION = 'smartmig.io/failures';
export const RETRY_AFTER_ANNOTATION = 'smartmig.io/retry-after';

/** Cordon mode: no new pods at all on the node while it drains and reconfigures. */
export const REPARTITION_TAINT = { key: 'smartmig.io/repartitioning', effect: 'NoSchedule' } as const;

/**
 * What the extender's bind records on a pod (extender/kube.ts `PlacementRecord`: JSON with `node`, `slices`,
 * `heuristic`, `at`, `expectedFinish`, `deadline`). It names the node, not the GPU, so the operator does not
 * read it; the GPU comes from `smartmig.io/gpu` (operator/facts.ts). Listed here as part of the contract.
 */
export const PLACEMENT_ANNOTATION = 'smartmig.io/placement';
export const DEADLINE_ANNOTATION = 'smartmig.io/deadline';

/** Prefix of the config names the operator writes; other names in the ConfigMap belong to people. */
export const CONFIG_PREFIX = 'smartmig-';

/**
 * The GPU operator's choice of device allocation per node: `dra` (NVIDIA's DRA driver publishes the GPUs
 * as ResourceSlices) or `device-plugin` (the default when absent). smartmig steers DRA nodes with
 * DeviceTaintRules instead of mig-manager (docs/adr/0003-mig-on-dra.md).
 */
export const RESOURCE_ALLOCATION_MODE_LABEL = 'nvidia.com/gpu-operator.resource-allocation.mode';
export const DRA_ALLOCATION_MODE = 'dra';
/**
 * DRA nodes only: per GPU index, the layout the operator's DeviceTaintRules give it now (JSON object of
 * layout keys as policy/mig/layout.ts `layoutKey` writes them, e.g. `{"0":"3g.20gb@0,3g.20gb@4"}`, or
 * `disabled` for a whole GPU). A GPU the operator never set is absent.
 */
export const LAYOUTS_ANNOTATION = 'smartmig.io/layouts';
/** DRA nodes only: the layouts a change under way moves to (same form as `smartmig.io/layouts`). */
export const DESIRED_LAYOUTS_ANNOTATION = 'smartmig.io/desired-layouts';

/**
 * The pod contract. What a pod may tell smartmig: its deadline, its work in minutes on 1g, its workload (the
 * speed-up profile) and the profiles it accepts (moldable pods). What smartmig writes: the placement (the
 * extender's bind) and the GPU and slice the pod got (the node side: fake-gpu here, a node agent on a real
 * cluster); the operator reads the GPU to know which GPUs are busy.
 */
export const WORK_ANNOTATION = 'smartmig.io/work';
export const WORKLOAD_ANNOTATION = 'smartmig.io/workload';
export const PROFILES_ANNOTATION = 'smartmig.io/profiles';
export const GPU_ANNOTATION = 'smartmig.io/gpu';
export const SLICE_ANNOTATION = 'smartmig.io/slice';
/**
 * How a moldable pod wants its slice: `device-plugin` (the default: the webhook sets an `nvidia.com/mig-*`
 * request) or `dra` (a ResourceClaim from a template of its accepted profiles; extender/dra-mold.ts).
 */
export const ALLOCATION_ANNOTATION = 'smartmig.io/allocation';
