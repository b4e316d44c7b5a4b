// Small builders for extender tests: Kubernetes objects as the API server sends them, and node states,
// demands and score options as the decision core sees them.
import fc from 'fast-check';
import { powerModel } from '../../../policy/energy/power.js';
import { findGpuModel, type GpuModel } from '../../../policy/mig/catalog.js';
import type { PlacementName } from '../../../policy/placement/heuristics.js';
import type { NodeMigState, PodDemand, ScoreOptions } from '../../../policy/placement/node-score.js';
import { ProfileBook } from '../../../policy/workload/job.js';
import type { Binder } from '../../../extender/binder.js';
import type { Node, Pod } from '../../../extender/schemas.js';

/** A Binder for tests whose requests never reach bind: any call fails the test. */
export const noBinder: Binder = {
  bind: () => Promise.reject(new Error('bind must not be called by these tests')),
  readPod: () => Promise.reject(new Error('readPod must not be called by these tests')),
};

export const A100 = findGpuModel('A100-40GB') as GpuModel;
export const H100 = findGpuModel('H100-80GB') as GpuModel;

type StateOpts = Partial<Omit<NodeMigState, 'allocatable' | 'used'>> & {
  allocatable?: Record<string, number>;
  used?: Record<string, number>;
};

/** A node state; slice counts by profile name, default 7 × 1g.5gb, none used. */
export function state(name: string, opts: StateOpts = {}): NodeMigState {
  const { allocatable, used, ...rest } = opts;
  return {
    name,
    model: A100,
    gpus: 1,
    reconfiguring: false,
    draining: false,
    cordoned: false,
    ...rest,
    allocatable: new Map(Object.entries(allocatable ?? { '1g.5gb': 7 })),
    used: new Map(Object.entries(used ?? {})),
  };
}

export const book = new ProfileBook();

/** Score options; each call makes a new `watts` function (kept parts hold only for the one they were made with). */
export const scoreOpts = (heuristic: PlacementName = 'cedf', now = 0): ScoreOptions => ({
  heuristic,
  now,
  etWeight: 0.19e-6,
  profiles: book,
  watts: (model: GpuModel, busy: number) => powerModel(model).watts(busy),
});

export const oneSlice = (profile = '1g.5gb', extra: Partial<PodDemand> = {}): PodDemand => ({
  slices: { [profile]: 1 },
  ...extra,
});

/** The A100-40GB profiles the score properties draw from. */
export const SCORE_PROFILES = ['1g.5gb', '2g.10gb', '3g.20gb', '4g.20gb', '7g.40gb'];

/** Options of state() for a random A100 node: 1 to 8 GPUs, any slices of SCORE_PROFILES, some in use. */
export const arbNodeSpec = fc
  .record({
    gpus: fc.integer({ min: 1, max: 8 }),
    alloc: fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 5, maxLength: 5 }),
    used: fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 5, maxLength: 5 }),
    busyUntil: fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined }),
    reconfiguring: fc.boolean(),
  })
  .map((r) => ({
    gpus: r.gpus,
    busyUntil: r.busyUntil,
    reconfiguring: r.reconfiguring && r.gpus === 1,
    allocatable: Object.fromEntries(SCORE_PROFILES.map((p, i) => [p, r.alloc[i] as number])),
    used: Object.fromEntries(SCORE_PROFILES.map((p, i) => [p, Math.min(r.alloc[i] as number, r.used[i] as number)])),
  }));
export type NodeSpec = typeof arbNodeSpec extends fc.Arbitrary<infer T> ? T : never;

/**
 * Options of state() for 1 to 30 nodes made from one to three layouts, each node with its own busyUntil:
 * ties on rank and energy leave the order to the misalignment, the key that moves with the clock.
 */
export const arbTiedNodeSpecs: fc.Arbitrary<NodeSpec[]> = fc
  .tuple(
    fc.array(arbNodeSpec, { minLength: 1, maxLength: 3 }),
    fc.array(fc.tuple(fc.nat(), fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined })), {
      minLength: 1,
      maxLength: 30,
    }),
  )
  .map(([bases, picks]) => picks.map(([b, busyUntil]) => ({ ...(bases[b % bases.length] as NodeSpec), busyUntil })));

/** A Map of slice counts as a plain object, for readable expectations. */
export const counts = (m: ReadonlyMap<string, number> | undefined): Record<string, number> | undefined =>
  m && Object.fromEntries(m);

export interface NodeOpts {
  product?: string;
  gpus?: number;
  /** MIG resources and counts, e.g. { 'nvidia.com/mig-1g.5gb': 7 }. */
  mig?: Record<string, number>;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  taints?: { key: string; value?: string; effect: string }[];
  unschedulable?: boolean;
}

export function node(name: string, opts: NodeOpts = {}): Node {
  const mig = Object.fromEntries(
    Object.entries(opts.mig ?? { 'nvidia.com/mig-1g.5gb': 7 }).map(([r, n]) => [r, String(n)]),
  );
  const resources = { cpu: '64', memory: '512Gi', pods: '110', ...mig };
  return {
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'nvidia.com/gpu.product': opts.product ?? 'NVIDIA-A100-SXM4-40GB',
        'nvidia.com/gpu.count': String(opts.gpus ?? 1),
        ...opts.labels,
      },
      annotations: opts.annotations,
      creationTimestamp: '2026-01-01T00:00:00Z',
    },
    spec: { taints: opts.taints, unschedulable: opts.unschedulable },
    status: { capacity: resources, allocatable: resources },
  };
}

export interface PodOpts {
  uid?: string;
  namespace?: string;
  /** MIG resources and counts, as limits of the first container. */
  mig?: Record<string, number | string>;
  annotations?: Record<string, string>;
  nodeName?: string;
  phase?: string;
  createdAt?: string;
  startTime?: string;
}

export function pod(name: string, opts: PodOpts = {}): Pod {
  const limits = Object.fromEntries(
    Object.entries(opts.mig ?? { 'nvidia.com/mig-1g.5gb': 1 }).map(([r, n]) => [r, String(n)]),
  );
  return {
    metadata: {
      name,
      namespace: opts.namespace ?? 'jobs',
      uid: opts.uid ?? `uid-${name}`,
      annotations: opts.annotations,
      creationTimestamp: opts.createdAt ?? '2026-01-01T00:00:00Z',
    },
    spec: {
      schedulerName: 'smartmig-scheduler',
      nodeName: opts.nodeName,
      containers: [{ name: 'job', resources: { limits, requests: limits } }],
    },
    status: { phase: opts.phase ?? (opts.nodeName ? 'Running' : 'Pending'), startTime: opts.startTime },
  };
}

/** 2026-01-01T00:00:00Z, the creation time of every built object. */
export const EPOCH_MS = Date.parse('2026-01-01T00:00:00Z');
export const minutes = (m: number): number => EPOCH_MS + m * 60_000;
