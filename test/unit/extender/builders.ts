// Small builders for extender tests: Kubernetes objects as the API server sends them, and node states as
// the decision core sees them.
import { findGpuModel, type GpuModel } from '../../../policy/mig/catalog.js';
import type { NodeMigState } from '../../../policy/placement/node-score.js';
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
