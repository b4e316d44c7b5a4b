// Pure: the DeviceClasses NVIDIA's DRA driver chart installs for whole GPUs and MIG devices. A claim names one
// and narrows it with its own CEL selectors (e.g. on `profile`).
import type { V1DeviceClass } from '@kubernetes/client-node';
import { DRIVER } from './devices.js';
import { ATTRIBUTES } from './resource-slices.js';

export const GPU_CLASS = 'gpu.nvidia.com';
export const MIG_CLASS = 'mig.nvidia.com';

function deviceClass(name: string, type: 'gpu' | 'mig'): V1DeviceClass {
  const expression = `device.driver == '${DRIVER}' && device.attributes['${DRIVER}'].${ATTRIBUTES.type} == '${type}'`;
  return {
    apiVersion: 'resource.k8s.io/v1',
    kind: 'DeviceClass',
    metadata: { name },
    spec: { selectors: [{ cel: { expression } }] },
  };
}

/**
 * `gpu.nvidia.com` (whole GPUs) and `mig.nvidia.com` (MIG devices). The chart's GPU class also sets
 * `extendedResourceName: nvidia.com/gpu`; these leave it out, because the emulated kubelet does not prepare
 * the claims Kubernetes would create for pods that ask for `nvidia.com/gpu` as an extended resource.
 */
export function deviceClasses(): V1DeviceClass[] {
  return [deviceClass(GPU_CLASS, 'gpu'), deviceClass(MIG_CLASS, 'mig')];
}
