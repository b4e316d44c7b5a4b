// Pure: the devices NVIDIA's DRA driver (`gpu.nvidia.com`) publishes for one GPU with DynamicMIG on, their
// names, and the counters that keep overlapping MIG placements from being allocated together
// (docs/adr/0003-mig-on-dra.md). Everything follows from the catalog's profiles, memory slices and placement
// starts; nothing here branches on a model or profile name.
import type { GpuModel, MigProfile } from '../policy/mig/catalog.js';

/** The driver's name: ResourceSlice `spec.driver`, and the domain of its device attributes and capacities. */
export const DRIVER = 'gpu.nvidia.com';

/** A device of one GPU: the whole GPU, or a MIG profile at one placement (first memory slice). */
export type GpuDevice =
  | { readonly kind: 'gpu'; readonly gpu: number }
  | { readonly kind: 'mig'; readonly gpu: number; readonly profile: MigProfile; readonly start: number };

/**
 * NVML's GPU instance profile ids (nvidia-smi `mig -lgip`, column ID), by the GPU's memory slices and the
 * profile's shape: compute slices, memory slices, media extensions. The driver puts them in device names.
 * The 4-slice ids (A30 and RTX PRO 6000) are assumed from the A30's table, not read off either card.
 */
const GI_PROFILE_IDS: Readonly<Record<string, number>> = {
  '8:1g/1': 19,
  '8:1g/1+me': 20,
  '8:1g/2': 15,
  '8:2g/2': 14,
  '8:3g/4': 9,
  '8:4g/4': 5,
  '8:7g/8': 0,
  '4:1g/1': 14,
  '4:1g/1+me': 21,
  '4:2g/2': 5,
  '4:2g/2+me': 6,
  '4:4g/4': 0,
};

/** The GPU instance profile id of `p` on `model`; throws for a shape the table lacks. */
export function giProfileId(model: GpuModel, p: MigProfile): number {
  const key = `${model.memorySlices}:${p.computeSlices}g/${p.memorySlices}${p.mediaExtensions ? '+me' : ''}`;
  const id = GI_PROFILE_IDS[key];
  if (id === undefined) throw new Error(`no GPU instance profile id for ${p.name} on ${model.name}`);
  return id;
}

/** `1g.5gb+me` → `1g5gb-me`: the driver drops dots, lower-cases, and turns anything else into dashes. */
function profileToken(p: MigProfile): string {
  return p.name
    .toLowerCase()
    .replaceAll('.', '')
    .replace(/[^a-z0-9-]/g, '-');
}

/** Every MIG device of GPU `gpu`: each profile at each of its placements. */
export function migDevices(model: GpuModel, gpu: number): GpuDevice[] {
  return model.profiles.flatMap((profile) =>
    profile.starts.map((start) => ({ kind: 'mig', gpu, profile, start }) as const),
  );
}

/** `gpu-<i>` for the whole GPU, `gpu-<i>-mig-<profile>-<GI profile id>-<start>` for a MIG placement. */
export function deviceName(model: GpuModel, d: GpuDevice): string {
  if (d.kind === 'gpu') return `gpu-${d.gpu}`;
  return `gpu-${d.gpu}-mig-${profileToken(d.profile)}-${giProfileId(model, d.profile)}-${d.start}`;
}

const WHOLE_NAME = /^gpu-(\d+)$/;
const MIG_NAME = /^gpu-(\d+)-mig-([a-z0-9-]+)-\d+-(\d+)$/;

/**
 * The device a name stands for, or undefined when `model` has no such device. The GI profile id is not
 * checked: the profile token and the placement start identify the device.
 */
export function parseDeviceName(model: GpuModel, name: string): GpuDevice | undefined {
  const whole = WHOLE_NAME.exec(name);
  if (whole) return { kind: 'gpu', gpu: Number(whole[1]) };
  const mig = MIG_NAME.exec(name);
  if (!mig) return undefined;
  const profile = model.profiles.find((p) => profileToken(p) === mig[2]);
  const start = Number(mig[3]);
  if (!profile || !profile.starts.includes(start)) return undefined;
  return { kind: 'mig', gpu: Number(mig[1]), profile, start };
}

/** The memory slices a device takes: its placement, or all of them for the whole GPU. */
export function memorySlicesOf(model: GpuModel, d: GpuDevice): number[] {
  const [start, size] = d.kind === 'gpu' ? [0, model.memorySlices] : [d.start, d.profile.memorySlices];
  return Array.from({ length: size }, (_, i) => start + i);
}

/**
 * Streaming multiprocessors per compute slice. An approximation: it is exact for the A100 (98 SMs in 7g),
 * while NVML reports other counts for other models (an H100's 7g has 132).
 */
const MULTIPROCESSORS_PER_COMPUTE_SLICE = 14;

/** Counter values by counter name; `memory` in MiB, the others plain counts. */
export type Counters = Readonly<Record<string, number>>;

export const MEMORY_COUNTER = 'memory';
const MULTIPROCESSORS_COUNTER = 'multiprocessors';
const memorySliceCounter = (i: number): string => `memory-slice-${i}`;
export const counterSetName = (gpu: number): string => `gpu-${gpu}-counter-set`;

const multiprocessorsOf = (p: MigProfile): number => p.computeSlices * MULTIPROCESSORS_PER_COMPUTE_SLICE;
/** A profile's memory: the catalog's GB (the name's figure, not NVML's exact one) in MiB. */
const memoryMiBOf = (p: MigProfile): number => p.memoryGB * 1024;

/**
 * The most that MIG placements sharing no memory slice hold together. The driver's counters are the full
 * profile's values, which the real (unrounded) profile sizes never exceed; the catalog's rounded sizes can
 * (an H200's 4g.71gb + 3g.71gb is more than 7g.141gb), so a counter of the full profile's value would refuse
 * placements the memory slices allow. With this bound only the memory-slice counters decide.
 */
function disjointMaximum(model: GpuModel, value: (p: MigProfile) => number): number {
  const best = new Array<number>(model.memorySlices + 1).fill(0);
  for (let i = model.memorySlices - 1; i >= 0; i--) {
    let b = best[i + 1] as number;
    for (const p of model.profiles) {
      if (p.starts.includes(i)) b = Math.max(b, value(p) + (best[i + p.memorySlices] as number));
    }
    best[i] = b;
  }
  return best[0] as number;
}

/** The counters of one GPU's counter set. */
export function gpuCounters(model: GpuModel): Counters {
  const out: Record<string, number> = {
    [MULTIPROCESSORS_COUNTER]: disjointMaximum(model, multiprocessorsOf),
    [MEMORY_COUNTER]: disjointMaximum(model, memoryMiBOf),
  };
  for (let i = 0; i < model.memorySlices; i++) out[memorySliceCounter(i)] = 1;
  return out;
}

/** What a device takes from its GPU's counter set: a MIG device its own share, the whole GPU everything. */
export function deviceConsumption(model: GpuModel, d: GpuDevice): Counters {
  if (d.kind === 'gpu') return gpuCounters(model);
  const out: Record<string, number> = {
    [MULTIPROCESSORS_COUNTER]: multiprocessorsOf(d.profile),
    [MEMORY_COUNTER]: memoryMiBOf(d.profile),
  };
  for (const i of memorySlicesOf(model, d)) out[memorySliceCounter(i)] = 1;
  return out;
}

/**
 * A device's capacities: a MIG device its profile's, the whole GPU the largest profile's (the driver takes
 * the per-key maximum over the MIG profiles).
 */
export function deviceCapacity(model: GpuModel, d: GpuDevice): Counters {
  const profiles = d.kind === 'mig' ? [d.profile] : model.profiles;
  return {
    [MEMORY_COUNTER]: Math.max(...profiles.map(memoryMiBOf)),
    [MULTIPROCESSORS_COUNTER]: Math.max(...profiles.map(multiprocessorsOf)),
  };
}

/** Compute slices a pod runs on with this device. */
export const computeSlicesOf = (model: GpuModel, d: GpuDevice): number =>
  d.kind === 'gpu' ? model.computeSlices : d.profile.computeSlices;
