// Pure: the MIG instances NVIDIA's DRA driver has created on one node with DynamicMIG. An instance exists while
// a claim that was allocated its device is prepared; it goes away when the last pod using the claim ends.
// Preparing refuses a device whose memory slices another prepared device holds, which is what the published
// counters let the scheduler's allocator refuse too (test/unit/fake-gpu/dynamic-board.test.ts).
import type { GpuDevice } from '../dra/devices.js';
import { computeSlicesOf, memorySlicesOf, parseDeviceName } from '../dra/devices.js';
import type { GpuModel } from '../policy/mig/catalog.js';
import type { GpuSlicesView } from './devices.js';

/** A claim of a pod and the devices of this node it was allocated. */
export interface ClaimDevices {
  /** `namespace/name` of the ResourceClaim. */
  readonly claim: string;
  /** Device names from the claim's allocation results for this node's pool. */
  readonly devices: readonly string[];
}

export type PrepareResult = { ok: true; devices: readonly GpuDevice[] } | { ok: false; message: string };

interface Prepared {
  readonly devices: readonly GpuDevice[];
  readonly pods: Set<string>;
}

/** Who holds a memory slice: the claim and the device name. */
interface Holder {
  readonly claim: string;
  readonly device: string;
}

export class DynamicBoard {
  /** Per GPU, per memory slice: the prepared device holding it. */
  private readonly holders: (Holder | undefined)[][];
  private readonly claims = new Map<string, Prepared>();

  constructor(
    readonly model: GpuModel,
    readonly gpus: number,
  ) {
    this.holders = Array.from({ length: gpus }, () =>
      new Array<Holder | undefined>(model.memorySlices).fill(undefined),
    );
  }

  /**
   * Prepares `pod`'s claims, all or none: creates the instances of claims not yet prepared; a claim already
   * prepared (shared with another pod) only gains the pod. Returns the devices the pod runs on.
   */
  prepare(pod: string, claims: readonly ClaimDevices[]): PrepareResult {
    const fresh: { claim: string; devices: GpuDevice[] }[] = [];
    const taken = new Map<string, Holder>();
    for (const c of claims) {
      if (this.claims.has(c.claim)) continue;
      const devices: GpuDevice[] = [];
      for (const name of c.devices) {
        const d = parseDeviceName(this.model, name);
        if (!d || d.gpu >= this.gpus) return { ok: false, message: `claim ${c.claim}: unknown device ${name}` };
        const clash = this.clash(d, taken);
        if (clash) {
          return {
            ok: false,
            message: `claim ${c.claim}: device ${name} overlaps ${clash.device} of claim ${clash.claim}`,
          };
        }
        for (const m of memorySlicesOf(this.model, d)) taken.set(`${d.gpu}/${m}`, { claim: c.claim, device: name });
        devices.push(d);
      }
      fresh.push({ claim: c.claim, devices });
    }
    for (const [key, holder] of taken) {
      const [gpu, m] = key.split('/').map(Number) as [number, number];
      (this.holders[gpu] as (Holder | undefined)[])[m] = holder;
    }
    for (const f of fresh) this.claims.set(f.claim, { devices: f.devices, pods: new Set() });
    for (const c of claims) this.claims.get(c.claim)?.pods.add(pod);
    return { ok: true, devices: this.devicesOf(pod) };
  }

  private clash(d: GpuDevice, taken: ReadonlyMap<string, Holder>): Holder | undefined {
    for (const m of memorySlicesOf(this.model, d)) {
      const h = this.holders[d.gpu]?.[m] ?? taken.get(`${d.gpu}/${m}`);
      if (h) return h;
    }
    return undefined;
  }

  /** The devices of the claims `pod` uses. */
  devicesOf(pod: string): GpuDevice[] {
    return [...this.claims.values()].filter((c) => c.pods.has(pod)).flatMap((c) => c.devices);
  }

  /** `pod` stops using its claims; claims no pod uses any more are unprepared. Returns the devices destroyed. */
  release(pod: string): GpuDevice[] {
    const gone: GpuDevice[] = [];
    for (const [claim, c] of this.claims) {
      if (!c.pods.delete(pod) || c.pods.size > 0) continue;
      this.claims.delete(claim);
      gone.push(...c.devices);
      for (const row of this.holders) {
        for (let m = 0; m < row.length; m++) if (row[m]?.claim === claim) row[m] = undefined;
      }
    }
    return gone;
  }

  /** Compute slices of prepared devices per GPU. */
  busyCompute(): number[] {
    const busy = new Array<number>(this.gpus).fill(0);
    for (const c of this.claims.values()) {
      for (const d of c.devices) busy[d.gpu] = (busy[d.gpu] ?? 0) + computeSlicesOf(this.model, d);
    }
    return busy;
  }

  /**
   * The `smartmig.io/gpu-slices` view: per GPU its instances by start with the first pod using each; a
   * prepared whole GPU shows as MIG disabled, held by its pod.
   */
  view(): GpuSlicesView[] {
    const slices = Array.from(
      { length: this.gpus },
      () => [] as { profile: string; start: number; pod: string | null }[],
    );
    const whole = new Map<number, string | null>();
    for (const c of this.claims.values()) {
      const pod = [...c.pods][0] ?? null;
      for (const d of c.devices) {
        if (d.kind === 'gpu') whole.set(d.gpu, pod);
        else slices[d.gpu]?.push({ profile: d.profile.name, start: d.start, pod });
      }
    }
    return slices.map((s, gpu) =>
      whole.has(gpu)
        ? { gpu, migEnabled: false, slices: [], pod: whole.get(gpu) ?? null }
        : { gpu, migEnabled: true, slices: s.sort((a, b) => a.start - b.start) },
    );
  }
}
