// The simulated cluster's mutable state: GPUs, their slices, which job runs where, the free-slice index
// and the energy integral. The run loops (paper-loop, cluster-loop) drive it; nothing here decides.
import type { GpuModel } from '../mig/catalog.js';
import { computeSizes, type Layout } from '../mig/layout.js';
import { FreeSlices } from '../placement/free-slices.js';
import type { GpuFacts } from '../placement/heuristics.js';
import type { GpuState } from '../repartition/controller.js';

export interface GpuSpec {
  readonly model: GpuModel;
  readonly layout: Layout;
}

export class SimCluster {
  readonly free = new FreeSlices();
  readonly models: GpuModel[] = [];
  readonly layouts: Layout[] = [];
  readonly busy: number[] = [];
  /** Whether the GPU's free slices take work: not reconfiguring and not draining. */
  readonly available: boolean[] = [];
  /** Out of service while its node applies a change. */
  readonly reconfiguring: boolean[] = [];
  readonly lastChange: number[] = [];
  readonly gpuSlices: number[][] = [];
  readonly gpuEnergy: number[] = [];
  readonly sliceGpu: number[] = [];
  readonly sliceSize: number[] = [];
  /** Job id on the slice, −1 when free. */
  readonly sliceJob: number[] = [];
  readonly sliceRank: number[] = [];
  /** GPU-minutes spent in each layout, keyed by its compute sizes (e.g. "4+3"). */
  readonly layoutMinutes = new Map<string, number>();
  energyWmin = 0;
  power = 0;
  /** Watts by busy compute slices per GPU, copied into typed arrays: read at every occupy and release. */
  private readonly watts: Float64Array[] = [];
  private readonly avgSize: number[] = [];
  /** The heuristic's rank of each GPU by its busy compute slices, worked out when its layout is installed. */
  private readonly rankByBusy: number[][] = [];
  private readonly layoutKey: string[] = [];
  private readonly gpuClock: number[] = [];
  private clock = 0;

  constructor(
    specs: readonly GpuSpec[],
    private readonly rankOf: (g: GpuFacts) => number,
    powerTable: (model: GpuModel) => readonly number[],
    private readonly onEnergy: (from: number, to: number, watts: number) => void = () => {},
  ) {
    specs.forEach((spec, g) => {
      this.models.push(spec.model);
      this.watts.push(Float64Array.from(powerTable(spec.model)));
      this.busy.push(0);
      this.available.push(true);
      this.reconfiguring.push(false);
      this.lastChange.push(-Infinity);
      this.gpuSlices.push([]);
      this.gpuEnergy.push(0);
      this.avgSize.push(0);
      this.rankByBusy.push([]);
      this.layoutKey.push('');
      this.gpuClock.push(0);
      this.layouts.push(spec.layout);
      this.installSlices(g, spec.layout);
      this.power += this.wattsOf(g, 0);
    });
  }

  get gpuCount(): number {
    return this.models.length;
  }

  wattsOf(g: number, busy: number): number {
    const t = this.watts[g] as Float64Array;
    return t[Math.min(busy, t.length - 1)] as number;
  }

  /** Integrates power up to `now`. */
  advance(now: number): void {
    if (now > this.clock) {
      this.energyWmin += this.power * (now - this.clock);
      this.onEnergy(this.clock, now, this.power);
      this.clock = now;
    }
  }

  facts(g: number): GpuFacts {
    return {
      busy: this.busy[g] as number,
      total: this.models[g]?.computeSlices ?? 7,
      avgSliceSize: this.avgSize[g] ?? 0,
      powerClass: this.powerClass(g),
    };
  }

  /** The GPU's model's place among the cluster's models: GPUs of one model draw the same power. */
  private powerClass(g: number): number {
    return this.models.indexOf(this.models[g] as GpuModel);
  }

  occupy(slice: number, job: number, now: number): void {
    const g = this.sliceGpu[slice] as number;
    this.free.remove(slice, this.sliceSize[slice] as number, this.sliceRank[slice] as number);
    this.sliceJob[slice] = job;
    this.setBusy(g, (this.busy[g] as number) + (this.sliceSize[slice] as number), now);
  }

  release(slice: number, now: number): void {
    const g = this.sliceGpu[slice] as number;
    // Re-rank the GPU's other free slices first; this one joins the index after, at the new rank.
    this.setBusy(g, (this.busy[g] as number) - (this.sliceSize[slice] as number), now);
    this.sliceJob[slice] = -1;
    if (this.available[g]) this.indexFree(slice);
  }

  /** Frees every slice at once (the paper mode re-places all jobs at each event). */
  releaseAll(now: number): void {
    this.free.clear();
    for (let g = 0; g < this.gpuCount; g++) {
      for (const s of this.gpuSlices[g] as number[]) this.sliceJob[s] = -1;
      this.setBusy(g, 0, now, false);
      if (this.available[g]) for (const s of this.gpuSlices[g] as number[]) this.indexFree(s);
    }
  }

  isIdle(g: number): boolean {
    return this.busy[g] === 0 && (this.gpuSlices[g] as number[]).every((s) => this.sliceJob[s] === -1);
  }

  /** Takes an idle GPU out of service and gives it a new layout; `finishReconfigure` brings it back. */
  beginReconfigure(g: number, layout: Layout, now: number): void {
    if (!this.isIdle(g)) throw new Error(`GPU ${g} runs jobs and cannot be reconfigured`);
    this.reconfiguring[g] = true;
    this.setAvailable(g, false);
    this.accountLayout(g, now);
    for (const s of this.gpuSlices[g] as number[]) this.sliceJob[s] = -2; // retired slice ids
    this.layouts[g] = layout;
    this.lastChange[g] = now;
    this.installSlices(g, layout);
  }

  finishReconfigure(g: number): void {
    this.reconfiguring[g] = false;
    this.setAvailable(g, true);
  }

  setAvailable(g: number, on: boolean): void {
    if (this.available[g] === on) return;
    this.available[g] = on;
    for (const s of this.gpuSlices[g] as number[]) {
      if (this.sliceJob[s] !== -1) continue;
      if (on) this.indexFree(s);
      else this.free.remove(s, this.sliceSize[s] as number, this.sliceRank[s] as number);
    }
  }

  gpuState(g: number, node: number, index: number, target: Layout | undefined): GpuState {
    const slices = this.gpuSlices[g] as number[];
    return {
      id: g,
      node,
      index,
      model: this.models[g] as GpuModel,
      layout: this.layouts[g] as Layout,
      busy: slices.map((s) => (this.sliceJob[s] as number) >= 0),
      ...(target ? { target } : {}),
      reconfiguring: this.reconfiguring[g] as boolean,
      lastChange: this.lastChange[g] as number,
    };
  }

  /** Compute sizes of the GPU's layout, e.g. "4+3" ("none" when empty). */
  layoutName(g: number): string {
    return this.layoutKey[g] as string;
  }

  /** Closes the books at the end of a run. */
  finish(now: number): void {
    this.advance(now);
    for (let g = 0; g < this.gpuCount; g++) {
      this.accountLayout(g, now);
      this.accountGpuEnergy(g, now);
    }
  }

  private installSlices(g: number, layout: Layout): void {
    const model = this.models[g] as GpuModel;
    const sizes = computeSizes(model, layout);
    const ids: number[] = [];
    for (const k of sizes) {
      const s = this.sliceGpu.length;
      this.sliceGpu.push(g);
      this.sliceSize.push(k);
      this.sliceJob.push(-1);
      this.sliceRank.push(0);
      ids.push(s);
    }
    this.gpuSlices[g] = ids;
    this.avgSize[g] = sizes.length ? sizes.reduce((a, b) => a + b, 0) / sizes.length : 0;
    this.layoutKey[g] = sizes.length ? sizes.join('+') : 'none';
    this.rankByBusy[g] = this.ranksOf(g);
    if (this.available[g]) for (const s of ids) this.indexFree(s);
  }

  /**
   * The GPU's rank at every busy count its layout allows: ranks depend only on the GPU's facts, and a slice
   * is re-ranked whenever its GPU's packing changes, so looking them up saves most `rankOf` calls.
   */
  private ranksOf(g: number): number[] {
    const { total, powerClass } = this.facts(g);
    const avgSliceSize = this.avgSize[g] as number;
    return Array.from({ length: total + 1 }, (_, busy) => this.rankOf({ busy, total, avgSliceSize, powerClass }));
  }

  private indexFree(s: number): void {
    const g = this.sliceGpu[s] as number;
    const rank = this.rankByBusy[g]?.[this.busy[g] as number] ?? this.rankOf(this.facts(g));
    this.sliceRank[s] = rank;
    this.free.add(s, this.sliceSize[s] as number, rank);
  }

  private setBusy(g: number, busy: number, now: number, reindex = true): void {
    const before = this.busy[g] as number;
    if (before === busy) return;
    this.accountGpuEnergy(g, now);
    this.power += this.wattsOf(g, busy) - this.wattsOf(g, before);
    this.busy[g] = busy;
    if (!reindex || !this.available[g]) return;
    // The GPU's packing changed, so its other free slices move to their new rank.
    for (const s of this.gpuSlices[g] as number[]) {
      if (this.sliceJob[s] !== -1) continue;
      this.free.remove(s, this.sliceSize[s] as number, this.sliceRank[s] as number);
      this.indexFree(s);
    }
  }

  private accountGpuEnergy(g: number, now: number): void {
    const since = this.gpuClock[g] as number;
    if (now > since) {
      this.gpuEnergy[g] = (this.gpuEnergy[g] as number) + this.wattsOf(g, this.busy[g] as number) * (now - since);
      this.gpuClock[g] = now;
    }
  }

  private accountLayout(g: number, now: number): void {
    const key = this.layoutKey[g] as string;
    const since = Math.max(0, this.lastChange[g] as number);
    this.layoutMinutes.set(key, (this.layoutMinutes.get(key) ?? 0) + Math.max(0, now - since));
    this.lastChange[g] = now;
  }
}
