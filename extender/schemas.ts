// Request bodies as TypeBox schemas: fastify validates with them and handlers get their static types.
// Kubernetes objects are open (unknown fields pass); only the fields the extender reads are typed, with
// bounds so a hostile body cannot make validation or decisions expensive. The extender types use Go's
// field names (k8s.io/kube-scheduler/extender/v1 has no json tags); the objects inside use the usual
// Kubernetes JSON names.
import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** Go marshals nil pointers, maps and slices as null; every optional field may arrive as null. */
const Opt = <T extends TSchema>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));

const Name = Type.String({ maxLength: 253 });
const StringMap = Type.Record(Type.String({ maxLength: 317 }), Type.String({ maxLength: 262_144 }));
/** Quantities are strings in Kubernetes JSON; Go's parser accepts bare numbers too. */
const Quantity = Type.Union([Type.String({ maxLength: 64 }), Type.Number()]);
const ResourceList = Type.Record(Type.String({ maxLength: 317 }), Quantity);
/** RFC 3339. (Objects from the client library's typed lists carry Date values here; kube.ts reads both.) */
const Time = Type.String({ maxLength: 64 });

export const ObjectMetaSchema = Type.Object({
  name: Opt(Name),
  generateName: Opt(Name),
  namespace: Opt(Name),
  uid: Opt(Type.String({ maxLength: 128 })),
  resourceVersion: Opt(Type.String({ maxLength: 64 })),
  labels: Opt(StringMap),
  annotations: Opt(StringMap),
  creationTimestamp: Opt(Time),
});

const ContainerSchema = Type.Object({
  name: Opt(Name),
  resources: Opt(Type.Object({ requests: Opt(ResourceList), limits: Opt(ResourceList) })),
});

export const PodSchema = Type.Object({
  metadata: ObjectMetaSchema,
  spec: Type.Object({
    containers: Type.Array(ContainerSchema, { maxItems: 1000 }),
    initContainers: Opt(Type.Array(ContainerSchema, { maxItems: 1000 })),
    nodeName: Opt(Type.String({ maxLength: 253 })),
    schedulerName: Opt(Type.String({ maxLength: 253 })),
  }),
  status: Opt(Type.Object({ phase: Opt(Type.String({ maxLength: 64 })), startTime: Opt(Time) })),
});
export type Pod = Static<typeof PodSchema>;

const TaintSchema = Type.Object({
  key: Type.String({ maxLength: 317 }),
  value: Opt(Type.String({ maxLength: 63 })),
  effect: Opt(Type.String({ maxLength: 32 })),
});

export const NodeSchema = Type.Object({
  metadata: Type.Object({ ...ObjectMetaSchema.properties, name: Name }),
  spec: Opt(
    Type.Object({ unschedulable: Opt(Type.Boolean()), taints: Opt(Type.Array(TaintSchema, { maxItems: 1000 })) }),
  ),
  status: Opt(Type.Object({ capacity: Opt(ResourceList), allocatable: Opt(ResourceList) })),
});
export type Node = Static<typeof NodeSchema>;

/** The most nodes one request may name: far above kube-scheduler's 5,000-node scalability target. */
export const MAX_NODES = 100_000;

export const ExtenderArgsSchema = Type.Object({
  Pod: PodSchema,
  Nodes: Opt(Type.Object({ items: Opt(Type.Array(NodeSchema, { maxItems: MAX_NODES })) })),
  NodeNames: Opt(Type.Array(Name, { maxItems: MAX_NODES })),
});
export type ExtenderArgs = Static<typeof ExtenderArgsSchema>;

export const ExtenderBindingArgsSchema = Type.Object({
  PodName: Type.String({ minLength: 1, maxLength: 253 }),
  PodNamespace: Type.String({ minLength: 1, maxLength: 253 }),
  // Optional here so that bind can say what is missing in Error, as the protocol reports failures.
  PodUID: Type.Optional(Type.String({ maxLength: 128 })),
  Node: Type.String({ minLength: 1, maxLength: 253 }),
});
export type ExtenderBindingArgs = Static<typeof ExtenderBindingArgsSchema>;

/** The results, for tests and clients; the handlers build them directly. */
export interface ExtenderFilterResult {
  Nodes?: { items: unknown[] } | null;
  NodeNames?: string[] | null;
  FailedNodes: Record<string, string>;
  FailedAndUnresolvableNodes: Record<string, string>;
  Error: string;
}
export interface HostPriority {
  Host: string;
  Score: number;
}
export interface ExtenderBindingResult {
  Error: string;
}

export const BindingResultSchema = Type.Object({ Error: Type.String() });

export const AdmissionReviewSchema = Type.Object({
  apiVersion: Type.Literal('admission.k8s.io/v1'),
  kind: Type.Literal('AdmissionReview'),
  request: Type.Object({
    uid: Type.String({ minLength: 1, maxLength: 128 }),
    kind: Opt(Type.Object({ group: Opt(Type.String()), version: Opt(Type.String()), kind: Opt(Type.String()) })),
    operation: Opt(Type.String({ maxLength: 32 })),
    namespace: Opt(Name),
    dryRun: Opt(Type.Boolean()),
    object: Opt(Type.Object({})),
  }),
});
export type AdmissionReview = Static<typeof AdmissionReviewSchema>;

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: 'JSONPatch';
  /** Base64 of a JSON Patch (RFC 6902). */
  patch?: string;
  status?: { code: number; reason?: string; message: string };
  warnings?: string[];
}
