// The counter arithmetic kube-scheduler's allocator does with partitionable devices, as a test oracle: a set
// of devices can be allocated together when their summed consumption stays within the counter set.
import type { GpuDevice } from '../../../dra/devices.js';
import { deviceConsumption, gpuCounters, migDevices } from '../../../dra/devices.js';
import type { GpuModel } from '../../../policy/mig/catalog.js';
import { GPU_MODELS, findGpuModel } from '../../../policy/mig/catalog.js';

export function fitsCounters(model: GpuModel, devices: readonly GpuDevice[]): boolean {
  const limit = gpuCounters(model);
  const used = new Map<string, number>();
  for (const d of devices) {
    for (const [k, v] of Object.entries(deviceConsumption(model, d))) used.set(k, (used.get(k) ?? 0) + v);
  }
  return [...used].every(([k, v]) => v <= (limit[k] ?? 0));
}

export const MODELS: readonly GpuModel[] = GPU_MODELS.map((n) => findGpuModel(n) as GpuModel);

/** Whether two devices of one GPU share a memory slice. */
export function overlaps(model: GpuModel, a: GpuDevice, b: GpuDevice): boolean {
  const range = (d: GpuDevice): [number, number] =>
    d.kind === 'gpu' ? [0, model.memorySlices] : [d.start, d.start + d.profile.memorySlices];
  const [a0, a1] = range(a);
  const [b0, b1] = range(b);
  return a0 < b1 && b0 < a1;
}

/** Every device of GPU `gpu`: the whole GPU first, then the MIG placements. */
export const allDevices = (model: GpuModel, gpu = 0): GpuDevice[] => [{ kind: 'gpu', gpu }, ...migDevices(model, gpu)];
