// Energy accounting: a GPU's energy is the integral over time of its power at the current number of busy
// compute slices (docs/model.md §3). Times are minutes, energy W·min (the paper's unit).
import type { PowerModel } from './power.js';

/** A change of a GPU's busy compute slices at a time. */
export interface BusyChange {
  readonly minute: number;
  readonly busyCompute: number;
}

/**
 * Energy of one GPU from `from` to `to` minutes, given the busy compute slices as a step function: 0 until
 * the first change, then each change's value until the next. Changes must be in time order.
 */
export function integrateEnergy(power: PowerModel, changes: readonly BusyChange[], from: number, to: number): number {
  if (to < from) throw new RangeError(`energy interval ends (${to}) before it starts (${from})`);
  let busy = 0;
  let t = from;
  let total = 0;
  let prev = -Infinity;
  for (const c of changes) {
    if (c.minute < prev) throw new RangeError(`busy changes out of order at minute ${c.minute}`);
    prev = c.minute;
    const at = Math.min(Math.max(c.minute, from), to);
    total += power.watts(busy) * (at - t);
    t = at;
    busy = c.busyCompute;
  }
  return total + power.watts(busy) * (to - t);
}

interface GpuMeter {
  readonly power: PowerModel;
  busy: number;
  since: number;
  wattMinutes: number;
  /** Set once the GPU leaves the cluster; it stops drawing power then. */
  removedAt: number | undefined;
}

/**
 * Integrates power per GPU as busy compute changes over time. Each GPU's time must not go backwards; a
 * reading at a time before a GPU's last change is an error, not a silent negative.
 */
export class EnergyMeter {
  private readonly gpus = new Map<string, GpuMeter>();

  /** Starts metering a GPU at `minute`, idle unless `busyCompute` says otherwise. */
  addGpu(id: string, power: PowerModel, minute: number, busyCompute = 0): void {
    if (this.gpus.has(id)) throw new Error(`GPU ${id} is already metered`);
    power.watts(busyCompute); // validates the range
    this.gpus.set(id, { power, busy: busyCompute, since: minute, wattMinutes: 0, removedAt: undefined });
  }

  /** Records that GPU `id` has `busyCompute` busy compute slices from `minute` on. */
  set(id: string, minute: number, busyCompute: number): void {
    const g = this.meter(id, minute);
    if (g.removedAt !== undefined) throw new Error(`GPU ${id} was removed at minute ${g.removedAt}`);
    g.power.watts(busyCompute); // validates the range before anything changes
    g.wattMinutes += g.power.watts(g.busy) * (minute - g.since);
    g.busy = busyCompute;
    g.since = minute;
  }

  /** Stops metering GPU `id` at `minute`; its energy so far is kept in totals. */
  removeGpu(id: string, minute: number): void {
    const g = this.meter(id, minute);
    if (g.removedAt !== undefined) return;
    g.wattMinutes += g.power.watts(g.busy) * (minute - g.since);
    g.since = minute;
    g.removedAt = minute;
  }

  /** Energy in W·min up to `minute`, of one GPU or of all. Does not change the meter. */
  wattMinutes(minute: number, id?: string): number {
    if (id !== undefined) return this.energyOf(id, this.meter(id, minute), minute);
    let total = 0;
    for (const [gid, g] of this.gpus) total += this.energyOf(gid, g, minute);
    return total;
  }

  /** Power now, in watts, of one GPU or all (removed GPUs draw nothing). */
  watts(id?: string): number {
    const one = (g: GpuMeter) => (g.removedAt === undefined ? g.power.watts(g.busy) : 0);
    if (id !== undefined) return one(this.meter(id));
    let total = 0;
    for (const g of this.gpus.values()) total += one(g);
    return total;
  }

  /** Busy compute slices of a GPU now. */
  busy(id: string): number {
    return this.meter(id).busy;
  }

  gpuIds(): string[] {
    return [...this.gpus.keys()];
  }

  private energyOf(id: string, g: GpuMeter, minute: number): number {
    if (minute < g.since) throw new RangeError(`GPU ${id}: reading at minute ${minute}, before its last change`);
    if (g.removedAt !== undefined) return g.wattMinutes;
    return g.wattMinutes + g.power.watts(g.busy) * (minute - g.since);
  }

  private meter(id: string, minute?: number): GpuMeter {
    const g = this.gpus.get(id);
    if (!g) throw new Error(`GPU ${id} is not metered`);
    if (minute !== undefined && minute < g.since) {
      throw new RangeError(`GPU ${id}: time went back from minute ${g.since} to ${minute}`);
    }
    return g;
  }
}

/** 1 W·min = 60 J. */
export function wattMinutesToJoules(wattMinutes: number): number {
  return wattMinutes * 60;
}

export function joulesToWattMinutes(joules: number): number {
  return joules / 60;
}

/** 1 kWh = 60,000 W·min. */
export function wattMinutesToKWh(wattMinutes: number): number {
  return wattMinutes / 60_000;
}

export function kWhToWattMinutes(kWh: number): number {
  return kWh * 60_000;
}
