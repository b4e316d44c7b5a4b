// Pure: the MIG devices of one emulated node and which pod holds each: what the device plugin and kubelet's
// device manager track on a real node. Allocation prefers the GPU a scheduler asked for, then the busiest GPU
// that has room, so idle GPUs stay idle and can be repartitioned.
import type { GpuModel } from '../policy/mig/catalog.js';
import { sliceProfiles } from '../policy/mig/layout.js';
import { sameGpuConfig } from './mig-parted.js';
import type { GpuConfig } from './node-builder.js';
import { WHOLE_GPU_RESOURCE, deviceResources } from './node-builder.js';

/** One device of the node: a MIG instance, or a whole GPU without MIG. */
export interface Device {
  readonly gpu: number;
  /** Index among the GPU's instances in physical order (0 for a whole GPU). */
  readonly index: number;
  readonly resource: string;
  /** Profile name, or undefined for a whole GPU. */
  readonly profile: string | undefined;
  /** First memory slice (0 for a whole GPU). */
  readonly start: number;
  /** Compute slices it runs a pod on. */
  readonly compute: number;
}

/** `1g.5gb@3`, or `gpu` for a whole GPU: how pod annotations and logs name a device on its GPU. */
export const deviceName = (d: Pick<Device, 'profile' | 'start'>): string =>
  d.profile === undefined ? 'gpu' : `${d.profile}@${d.start}`;

export type Allocation =
  | { ok: true; devices: readonly Device[] }
  | { ok: false; resource: string; requested: number; used: number; capacity: number };

/** Where a scheduler wanted the pod: a GPU index and maybe a device name on it. */
export interface Preference {
  readonly gpu?: number;
  readonly device?: string;
}

/** The `smartmig.io/gpu-slices` annotation (docs/fake-gpu.md). */
export interface GpuSlicesView {
  readonly gpu: number;
  readonly migEnabled: boolean;
  /** Instances in physical order with the pod (`namespace/name`) holding each, or null. */
  readonly slices: readonly { readonly profile: string; readonly start: number; readonly pod: string | null }[];
  /** For a GPU without MIG: the pod holding the whole GPU, or null; absent with MIG. */
  readonly pod?: string | null;
}

interface GpuSlots {
  config: GpuConfig;
  devices: Device[];
  holders: (string | undefined)[];
}

export interface ReconfigureResult {
  /** GPUs whose layout changed. */
  readonly changed: readonly number[];
  /** Per changed GPU that still had pods: those pods, which lost their devices. */
  readonly busy: ReadonlyMap<number, readonly string[]>;
}

function devicesOf(model: GpuModel, gpu: number, config: GpuConfig): Device[] {
  if (!config.migEnabled) {
    return [
      { gpu, index: 0, resource: WHOLE_GPU_RESOURCE, profile: undefined, start: 0, compute: model.computeSlices },
    ];
  }
  const profiles = sliceProfiles(model, config.layout);
  return config.layout.slices.map((s, index) => {
    const p = profiles[index] as (typeof profiles)[number];
    return { gpu, index, resource: p.resource, profile: p.name, start: s.start, compute: p.computeSlices };
  });
}

export class GpuBoard {
  private readonly slots: GpuSlots[];

  constructor(
    readonly model: GpuModel,
    gpus: readonly GpuConfig[],
  ) {
    this.slots = gpus.map((config, gpu) => this.freshSlots(gpu, config));
  }

  private freshSlots(gpu: number, config: GpuConfig): GpuSlots {
    const devices = devicesOf(this.model, gpu, config);
    return { config, devices, holders: new Array<string | undefined>(devices.length).fill(undefined) };
  }

  get gpus(): GpuConfig[] {
    return this.slots.map((s) => s.config);
  }

  /** Resources the device plugin advertises. */
  resources(): Record<string, number> {
    return deviceResources(this.model, this.gpus);
  }

  /** Pods holding devices of GPU `gpu`. */
  podsOn(gpu: number): string[] {
    return [...new Set((this.slots[gpu]?.holders ?? []).filter((h): h is string => h !== undefined))];
  }

  /** Devices `pod` holds. */
  devicesOf(pod: string): Device[] {
    return this.slots.flatMap((s) => s.devices.filter((_, i) => s.holders[i] === pod));
  }

  /** Compute slices in use per GPU. */
  busyCompute(): number[] {
    return this.slots.map((s) => s.devices.reduce((sum, d, i) => sum + (s.holders[i] ? d.compute : 0), 0));
  }

  /** Busy and free devices per resource. */
  usage(): Map<string, { busy: number; free: number }> {
    const out = new Map<string, { busy: number; free: number }>();
    for (const s of this.slots) {
      s.devices.forEach((d, i) => {
        const u = out.get(d.resource) ?? { busy: 0, free: 0 };
        if (s.holders[i]) u.busy++;
        else u.free++;
        out.set(d.resource, u);
      });
    }
    return out;
  }

  /** GPUs in the order a pod should try them: the preferred one, then busiest first, then by index. */
  private gpuOrder(prefer: Preference | undefined): number[] {
    const busy = this.busyCompute();
    const order = this.slots.map((_, i) => i);
    order.sort((a, b) => (busy[b] ?? 0) - (busy[a] ?? 0) || a - b);
    const p = prefer?.gpu;
    return p !== undefined && p >= 0 && p < order.length ? [p, ...order.filter((g) => g !== p)] : order;
  }

  /**
   * Gives `pod` the devices it requests (resource → count), all or none. Requests for other resources are
   * ignored. A failure names the first resource that ran short, as kubelet's OutOf<resource> does.
   */
  allocate(pod: string, requests: ReadonlyMap<string, number>, prefer?: Preference): Allocation {
    const taken: { gpu: number; index: number }[] = [];
    const undo = (): void => {
      for (const t of taken) (this.slots[t.gpu] as GpuSlots).holders[t.index] = undefined;
    };
    for (const [resource, count] of [...requests].sort(([a], [b]) => (a < b ? -1 : 1))) {
      for (let n = 0; n < count; n++) {
        const got = this.takeOne(pod, resource, prefer);
        if (!got) {
          undo();
          const u = this.usage().get(resource) ?? { busy: 0, free: 0 };
          return { ok: false, resource, requested: count, used: u.busy, capacity: u.busy + u.free };
        }
        taken.push(got);
      }
    }
    return { ok: true, devices: taken.map((t) => (this.slots[t.gpu] as GpuSlots).devices[t.index] as Device) };
  }

  private takeOne(
    pod: string,
    resource: string,
    prefer: Preference | undefined,
  ): { gpu: number; index: number } | undefined {
    for (const gpu of this.gpuOrder(prefer)) {
      const s = this.slots[gpu] as GpuSlots;
      const free = s.devices.filter((d, i) => d.resource === resource && s.holders[i] === undefined);
      const wanted = gpu === prefer?.gpu ? free.find((d) => deviceName(d) === prefer.device) : undefined;
      const d = wanted ?? free[0];
      if (d) {
        s.holders[d.index] = pod;
        return { gpu, index: d.index };
      }
    }
    return undefined;
  }

  /** Frees every device of `pod`; returns what it held. */
  release(pod: string): Device[] {
    const held = this.devicesOf(pod);
    for (const s of this.slots) s.holders = s.holders.map((h) => (h === pod ? undefined : h));
    return held;
  }

  /** The GPUs that `targets` would change (undefined targets and equal configs change nothing). */
  changes(targets: readonly (GpuConfig | undefined)[]): number[] {
    const out: number[] = [];
    targets.forEach((t, gpu) => {
      const s = this.slots[gpu];
      if (t && s && !sameGpuConfig(s.config, t)) out.push(gpu);
    });
    return out;
  }

  /** The pods on each of `gpus` that holds any. */
  busyAmong(gpus: readonly number[]): Map<number, string[]> {
    const busy = new Map<number, string[]>();
    for (const gpu of gpus) {
      const pods = this.podsOn(gpu);
      if (pods.length > 0) busy.set(gpu, pods);
    }
    return busy;
  }

  /** Applies new configurations: a changed GPU gets fresh, free devices; pods it had lose theirs. */
  reconfigure(targets: readonly (GpuConfig | undefined)[]): ReconfigureResult {
    const changed = this.changes(targets);
    const busy = this.busyAmong(changed);
    for (const gpu of changed) this.slots[gpu] = this.freshSlots(gpu, targets[gpu] as GpuConfig);
    return { changed, busy };
  }

  view(): GpuSlicesView[] {
    return this.slots.map((s, gpu) => {
      if (!s.config.migEnabled) return { gpu, migEnabled: false, slices: [], pod: s.holders[0] ?? null };
      const slices = s.devices.map((d, i) => ({
        profile: d.profile as string,
        start: d.start,
        pod: s.holders[i] ?? null,
      }));
      return { gpu, migEnabled: true, slices };
    });
  }
}
