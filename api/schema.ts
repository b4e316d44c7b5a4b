// The MigPartition API: the one source of the CRD (crds/migpartitions.smartmig.io.yaml) and of its TypeScript
// types (api/types.ts). Edit here, then run hack/update-crd.sh; hack/verify-crd.sh fails on drift.
import { GPU_MODELS } from '../policy/mig/catalog.js';

/** The subset of apiextensions.k8s.io/v1 JSONSchemaProps this API uses. */
export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: Schema;
  enum?: string[];
  default?: unknown;
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-validations'?: { rule: string; message: string; reason?: string; fieldPath?: string }[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

/** Names the TypeScript interface generated for an object schema (kept out of the CRD YAML). */
export const tsNames = new WeakMap<Schema, string>();
function named(name: string, schema: Schema): Schema {
  tsNames.set(schema, name);
  return schema;
}

export const GROUP = 'smartmig.io';
export const VERSION = 'v1alpha1';
export const KIND = 'MigPartition';
export const PLURAL = 'migpartitions';

/** Go-style durations as kube-apiserver's CEL `duration()` reads them: `30s`, `5m`, `1h30m`. */
const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';
const duration = (description: string, dflt?: string): Schema => ({
  type: 'string',
  description,
  pattern: DURATION_PATTERN,
  maxLength: 32,
  ...(dflt === undefined ? {} : { default: dflt }),
});

const labelSelector = named('LabelSelector', {
  type: 'object',
  description:
    'Selects the nodes this policy partitions (a standard label selector). An empty selector selects every node ' +
    'that has GPUs (the nvidia.com/gpu.count label).',
  properties: {
    matchLabels: {
      type: 'object',
      description: 'Labels a node must carry, each with exactly this value; ANDed with matchExpressions.',
      additionalProperties: { type: 'string', maxLength: 63 },
      maxProperties: 32,
    },
    matchExpressions: {
      type: 'array',
      description: 'Requirements on node labels; a node must meet every one.',
      maxItems: 32,
      'x-kubernetes-list-type': 'atomic',
      items: named('LabelSelectorRequirement', {
        type: 'object',
        description: 'A label key, an operator and, for In and NotIn, the values.',
        required: ['key', 'operator'],
        properties: {
          key: { type: 'string', description: 'The node label the requirement tests.', minLength: 1, maxLength: 317 },
          operator: {
            type: 'string',
            description:
              "In or NotIn: the label's value is (is not) one of values. Exists or DoesNotExist: the node has " +
              '(lacks) the label.',
            enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'],
          },
          values: {
            type: 'array',
            description: 'The values In and NotIn compare with; Exists and DoesNotExist take none.',
            maxItems: 64,
            'x-kubernetes-list-type': 'atomic',
            items: { type: 'string', maxLength: 63 },
          },
        },
        'x-kubernetes-validations': [
          {
            rule: "self.operator in ['In', 'NotIn'] ? has(self.values) && size(self.values) > 0 : !has(self.values) || size(self.values) == 0",
            message: 'In and NotIn need values; Exists and DoesNotExist take none',
          },
        ],
      }),
    },
  },
});

const layoutEntry = named('GpuLayoutEntry', {
  type: 'object',
  description:
    'The layout of some GPUs of each selected node. Give the layout by name or in text (`layout`), or as ' +
    'mig-parted device counts (`migDevices`).',
  properties: {
    gpus: {
      type: 'array',
      description: 'GPU indices (as nvidia-smi numbers them) this entry applies to; omit for every other GPU.',
      minItems: 1,
      maxItems: 16,
      'x-kubernetes-list-type': 'set',
      items: { type: 'integer', minimum: 0, maximum: 15 },
    },
    layout: {
      type: 'string',
      description:
        'A named layout (mig-parted standard names such as all-1g.5gb, all-balanced or all-disabled, or a paper ' +
        'configuration number 1..12) or instances as PROFILE@START, e.g. `4g.20gb@0,2g.10gb@4,1g.5gb@6`.',
      minLength: 1,
      maxLength: 256,
    },
    migDevices: {
      type: 'object',
      description: 'Instances per MIG profile, as in a mig-parted config, e.g. {"3g.20gb": 1, "2g.10gb": 2}.',
      additionalProperties: { type: 'integer', minimum: 0, maximum: 8 },
      maxProperties: 8,
      'x-kubernetes-validations': [
        {
          rule: "self.all(k, k.matches('^[0-9]+g\\\\.[0-9]+gb(\\\\+me)?$'))",
          message: 'keys are MIG profile names such as 1g.5gb or 1g.5gb+me',
        },
      ],
    },
  },
  'x-kubernetes-validations': [
    { rule: 'has(self.layout) != has(self.migDevices)', message: 'set exactly one of layout and migDevices' },
  ],
});

const staticSpec = named('StaticSpec', {
  type: 'object',
  description: 'Fixed layouts, applied once per node and kept.',
  required: ['layouts'],
  properties: {
    layouts: {
      type: 'array',
      description:
        'Layouts by GPU: an entry with gpus covers those GPU indices, the one entry without gpus every other GPU ' +
        'of the node.',
      minItems: 1,
      maxItems: 17,
      'x-kubernetes-list-type': 'atomic',
      items: layoutEntry,
      'x-kubernetes-validations': [
        {
          rule: 'self.filter(e, !has(e.gpus)).size() <= 1',
          message: 'at most one entry may omit gpus (the default for every other GPU)',
        },
      ],
    },
  },
});

// No `default: {}` here, unlike objective and limits: the apiserver would then add `dynamic` (with its
// controller default) to every spec, Static ones included, and the rule "dynamic is only for mode Dynamic"
// below would refuse every Static policy. A Dynamic policy without `dynamic` gets the controller default from
// operator/policy.ts (DEFAULTS.controller) instead.
const dynamicSpec = named('DynamicSpec', {
  type: 'object',
  description: 'Layouts chosen online by a repartitioning controller from pending demand.',
  properties: {
    controller: {
      type: 'string',
      description:
        'The controller that decides layouts: greedy (carves what pending pods ask for), twice-daily and ' +
        'timetable (follow schedule: two phases a day, or one per block of the day), meanfield (a trained ' +
        'mean-field actor, named in model), static (keeps layouts as they are).',
      default: 'greedy',
      pattern: '^[a-z][a-z0-9-]*$',
      maxLength: 63,
    },
    model: {
      type: 'string',
      description:
        'The trained model of controller meanfield (required there; other controllers take none and refuse ' +
        'it, condition reason ModelNotSupported): a directory name ' +
        "under the operator's models directory, e.g. meanfield-a100-40gb-cluster (shipped in the image). A " +
        'missing, unreadable or mismatched model sets Ready=False (reason ModelUnavailable) and leaves ' +
        'layouts as they are.',
      pattern: '^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$',
      maxLength: 128,
    },
    schedule: {
      type: 'array',
      description:
        'The timetable of controllers twice-daily and timetable (required there, refused elsewhere): from each time of day ' +
        "(UTC) on, every selected GPU aims at its entry's layout; busy GPUs drain first. `smartmig compare` " +
        'searches a good one for a workload.',
      minItems: 1,
      maxItems: 24,
      'x-kubernetes-list-type': 'atomic',
      items: named('SchedulePhase', {
        type: 'object',
        description: 'Layouts in force from a time of day until the next phase.',
        required: ['from', 'layouts'],
        properties: {
          from: {
            type: 'string',
            description: 'Time of day, UTC, as HH:MM.',
            pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$',
          },
          layouts: {
            type: 'array',
            description: 'Layouts by GPU, as in static.layouts.',
            minItems: 1,
            maxItems: 17,
            'x-kubernetes-list-type': 'atomic',
            items: layoutEntry,
          },
        },
      }),
    },
  },
  'x-kubernetes-validations': [
    {
      rule: "(has(self.controller) && self.controller in ['twice-daily', 'timetable']) == has(self.schedule)",
      message: 'schedule is required by controllers twice-daily and timetable and taken by no other',
    },
    {
      rule: "!has(self.controller) || self.controller != 'meanfield' || has(self.model)",
      message: 'model is required by controller meanfield',
    },
  ],
});

const limits = named('Limits', {
  type: 'object',
  description: 'How often and how much the operator may change layouts.',
  default: {},
  properties: {
    decisionInterval: duration('Time between two decisions of a Dynamic controller.', '30s'),
    minDwell: duration('Time a GPU keeps a layout before it may change again.', '5m'),
    maxNodesReconfiguring: {
      type: 'integer',
      description: 'Nodes draining or reconfiguring at the same time, at most.',
      default: 1,
      minimum: 1,
      maximum: 10000,
    },
    drain: {
      type: 'string',
      description:
        'WaitIdle: stop new placements on the GPUs to change and wait until their pods finish. Cordon: taint ' +
        'the node smartmig.io/repartitioning:NoSchedule until the change is done.',
      enum: ['WaitIdle', 'Cordon'],
      default: 'WaitIdle',
    },
    drainTimeout: duration('Give up a change whose GPUs are still busy after this long (default: wait).'),
    applyTimeout: duration(
      'Stop waiting for mig-manager when nvidia.com/mig.config.state stays pending or rebooting this long: the ' +
        'node is reported Failed and frees its reconfiguration slot.',
      '10m',
    ),
  },
  'x-kubernetes-validations': [
    {
      rule: "!has(self.decisionInterval) || duration(self.decisionInterval) >= duration('1s')",
      message: 'decisionInterval must be at least 1s',
    },
    {
      rule: "!has(self.applyTimeout) || duration(self.applyTimeout) >= duration('10s')",
      message: 'applyTimeout must be at least 10s',
    },
  ],
});

const workload = named('WorkloadProfile', {
  type: 'object',
  description:
    'How much faster a workload runs on larger slices (pods name it in smartmig.io/workload). It replaces a ' +
    'built-in profile of the same name; of two policies that define a name differently, the older one wins.',
  required: ['name', 'speedup'],
  properties: {
    name: {
      type: 'string',
      description: 'The name pods give in smartmig.io/workload.',
      minLength: 1,
      maxLength: 63,
      pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
    },
    speedup: {
      type: 'array',
      description:
        'Throughput by instance size, one entry per number of compute slices. A size between two listed ones ' +
        'is interpolated linearly; a size below or above all of them takes the nearest listed factor.',
      minItems: 1,
      maxItems: 8,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['computeSlices'],
      items: named('Speedup', {
        type: 'object',
        description: 'The throughput on instances of one size.',
        required: ['computeSlices', 'factor'],
        properties: {
          computeSlices: {
            type: 'integer',
            description: 'Compute slices of the MIG instance: 1 for 1g.*, 2 for 2g.*, …, 7 for 7g.*.',
            minimum: 1,
            maximum: 8,
          },
          factor: { type: 'number', description: 'Throughput relative to one compute slice.', minimum: 0 },
        },
      }),
    },
  },
});

const spec = named('MigPartitionSpec', {
  type: 'object',
  description: 'Which nodes the policy covers and how their GPUs are partitioned.',
  required: ['nodeSelector', 'mode'],
  properties: {
    nodeSelector: labelSelector,
    gpuModel: {
      type: 'string',
      description: 'GPU model of the selected nodes; when unset, read from the nvidia.com/gpu.product label.',
      enum: [...GPU_MODELS],
    },
    mode: {
      type: 'string',
      description:
        'Static: apply the layouts of static once and keep them. Dynamic: let the controller named in dynamic ' +
        'change layouts as demand changes.',
      enum: ['Static', 'Dynamic'],
    },
    static: staticSpec,
    dynamic: dynamicSpec,
    objective: named('Objective', {
      type: 'object',
      description: 'How energy is weighed against tardiness on the nodes of this policy.',
      default: {},
      properties: {
        energyWeight: {
          type: 'number',
          description:
            'Weight a of energy (per 10^6 W·min) against mean tardiness (minutes) in (a·e + t)/(a + 1). The ' +
            'extender scores the nodes this policy manages with it (heuristic marginal-et).',
          minimum: 0,
          default: 0.19,
        },
      },
    }),
    limits,
    workloads: {
      type: 'array',
      description:
        'Speed-up profiles of workloads by name, for pods that name one in smartmig.io/workload (the ' +
        'extender reads them).',
      maxItems: 64,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      items: workload,
    },
  },
  'x-kubernetes-validations': [
    { rule: "self.mode != 'Static' || has(self.static)", message: 'mode Static needs static.layouts' },
    { rule: "self.mode != 'Dynamic' || !has(self.static)", message: 'static is only for mode Static' },
    { rule: "self.mode != 'Static' || !has(self.dynamic)", message: 'dynamic is only for mode Dynamic' },
  ],
});

const condition = named('Condition', {
  type: 'object',
  description: "One aspect of the policy's state, in the standard Kubernetes condition form.",
  required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
  properties: {
    type: { type: 'string', description: 'Ready, Progressing or Degraded.', maxLength: 316 },
    status: { type: 'string', description: 'Whether the condition holds.', enum: ['True', 'False', 'Unknown'] },
    observedGeneration: {
      type: 'integer',
      description: 'The metadata.generation of the spec this condition was computed from.',
      minimum: 0,
    },
    lastTransitionTime: {
      type: 'string',
      description: 'When status last changed.',
      format: 'date-time',
    },
    reason: {
      type: 'string',
      description: 'Why, as one CamelCase word (Converged, Reconfiguring, InvalidLayout, …; docs/operator.md).',
      maxLength: 1024,
      minLength: 1,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
    },
    message: {
      type: 'string',
      description: 'Details for people, e.g. the field a spec problem is in.',
      maxLength: 32768,
    },
  },
});

/** Node states the operator reports; the lifecycle is documented in docs/operator.md. */
export const NODE_STATES = ['Converged', 'Draining', 'Applying', 'Failed', 'Waiting', 'Unknown'] as const;

const gpuStatus = named('GpuStatus', {
  type: 'object',
  description: 'One GPU of the node.',
  required: ['index'],
  properties: {
    index: { type: 'integer', description: 'The GPU index, as nvidia-smi numbers them.', minimum: 0 },
    current: { type: 'string', description: 'Layout now, e.g. 4g.20gb+3g.20gb; empty when unknown.' },
    desired: { type: 'string', description: 'Layout the operator is moving the GPU to, when it differs.' },
    busy: { type: 'boolean', description: 'Whether a pod runs on the GPU.' },
  },
});

const nodeStatus = named('NodeStatus', {
  type: 'object',
  description: 'Where one selected node stands.',
  required: ['name', 'state'],
  properties: {
    name: { type: 'string', description: 'The Node name.' },
    state: {
      type: 'string',
      description:
        'Converged (has its layout), Draining (waiting for pods on the GPUs to change to finish), Applying ' +
        '(mig-manager is changing it), Failed (mig-manager reported failed; retried later), Waiting (for a ' +
        'slot: at most maxNodesReconfiguring nodes change at once), Unknown (its layout or GPU model cannot ' +
        'be read).',
      enum: [...NODE_STATES],
    },
    gpuModel: { type: 'string', description: 'The GPU model of the node.' },
    migConfig: { type: 'string', description: 'The nvidia.com/mig.config label.' },
    migConfigState: { type: 'string', description: 'The nvidia.com/mig.config.state label set by mig-manager.' },
    desiredConfig: { type: 'string', description: 'The mig-parted config the operator wants on the node.' },
    message: { type: 'string', description: 'Why the node is in its state, when that needs saying.' },
    gpus: {
      type: 'array',
      description: 'The GPUs of the node by index.',
      'x-kubernetes-list-type': 'atomic',
      items: gpuStatus,
    },
  },
});

const status = named('MigPartitionStatus', {
  type: 'object',
  description: 'What the operator observed and did, written by the operator only.',
  properties: {
    observedGeneration: {
      type: 'integer',
      description: 'The metadata.generation of the spec this status describes.',
      minimum: 0,
    },
    conditions: {
      type: 'array',
      description: 'Ready, Progressing and Degraded, with their reasons.',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
      items: condition,
    },
    gpuModel: { type: 'string', description: 'GPU model(s) of the selected nodes.' },
    lastDecisionTime: {
      type: 'string',
      description: 'When the Dynamic controller last decided (decisionInterval counts from here).',
      format: 'date-time',
    },
    nodesSelected: { type: 'integer', description: 'Nodes with GPUs that the selector matches.', minimum: 0 },
    nodesConverged: { type: 'integer', description: 'Selected nodes that have their layout.', minimum: 0 },
    nodesReconfiguring: {
      type: 'integer',
      description: 'Selected nodes draining or being reconfigured.',
      minimum: 0,
    },
    nodesFailed: { type: 'integer', description: 'Selected nodes whose last change failed.', minimum: 0 },
    nodes: {
      type: 'array',
      description: 'Per node, in order of attention (failed, then changing, then converged); capped in size.',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      items: nodeStatus,
    },
    nodesOmitted: { type: 'integer', minimum: 0, description: 'Nodes left out of `nodes` to bound the size.' },
  },
});

export const migPartitionSchema = named('MigPartition', {
  type: 'object',
  description: 'A MIG partition policy: which nodes, and how their GPUs are split (statically or online).',
  required: ['spec'],
  properties: {
    apiVersion: { type: 'string', description: 'The versioned schema of this object: smartmig.io/v1alpha1.' },
    kind: { type: 'string', description: 'The kind of this object: MigPartition.' },
    // The apiserver refuses anything but type here (it describes ObjectMeta itself).
    metadata: { type: 'object' },
    spec,
    status,
  },
});

export const migPartitionCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${PLURAL}.${GROUP}` },
  spec: {
    group: GROUP,
    scope: 'Cluster',
    names: {
      kind: KIND,
      listKind: `${KIND}List`,
      plural: PLURAL,
      singular: 'migpartition',
      shortNames: ['migp'],
      categories: ['smartmig'],
    },
    versions: [
      {
        name: VERSION,
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: [
          { name: 'Mode', type: 'string', jsonPath: '.spec.mode' },
          { name: 'Model', type: 'string', jsonPath: '.status.gpuModel' },
          { name: 'Nodes', type: 'integer', jsonPath: '.status.nodesSelected' },
          { name: 'Reconfiguring', type: 'integer', jsonPath: '.status.nodesReconfiguring' },
          { name: 'Failed', type: 'integer', jsonPath: '.status.nodesFailed', priority: 1 },
          { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
          { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason', priority: 1 },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        ],
        schema: { openAPIV3Schema: migPartitionSchema },
      },
    ],
  },
};
