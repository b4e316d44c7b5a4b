// Small builders for fake-gpu unit tests.
import type { V1Pod } from '@kubernetes/client-node';
import type { GpuModel } from '../../../policy/mig/catalog.js';
import { findGpuModel } from '../../../policy/mig/catalog.js';
import { resolveNamedLayout } from '../../../policy/mig/named.js';
import type { GpuConfig } from '../../../fake-gpu/node-builder.js';

export function gpu(name: string): GpuModel {
  const model = findGpuModel(name);
  if (!model) throw new Error(`test setup: no GPU model ${name}`);
  return model;
}

/** GPUs in a named layout (`all-1g.5gb`, `all-balanced`, `3`, ...). */
export function named(model: GpuModel, name: string, count = 1): GpuConfig[] {
  const n = resolveNamedLayout(model, name);
  if (!n) throw new Error(`test setup: ${model.name} has no layout ${name}`);
  return new Array<GpuConfig>(count).fill(n);
}

/** A pod asking for MIG devices, with optional annotations and node. */
export function pod(
  requests: Record<string, string>,
  annotations: Record<string, string> = {},
  opts: { name?: string; asLimits?: boolean } = {},
): V1Pod {
  const resources = opts.asLimits ? { limits: requests } : { requests, limits: requests };
  return {
    metadata: { name: opts.name ?? 'job', namespace: 'ns', uid: `uid-${opts.name ?? 'job'}`, annotations },
    spec: { containers: [{ name: 'main', image: 'registry.invalid/job:1', resources }] },
  };
}
