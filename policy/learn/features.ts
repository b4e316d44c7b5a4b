// What the mean-field actor sees: the population's state (the mean field) and one GPU's own state. Every
// input is a fraction or a per-GPU rate, so one trained actor reads a cluster of 8 GPUs and one of 8,192 alike,
// and building the inputs costs a constant amount per GPU. Only what the operator knows of a cluster is read
// (GPUs, pending pods' profiles and deadlines, the clock): not the work of pods, which pods do not declare.
import { findProfile, type GpuModel } from '../mig/catalog.js';
import { layoutKey, type Layout } from '../mig/layout.js';
import type { ClusterView, GpuState } from '../repartition/controller.js';

/** Compute sizes pending demand is counted by (a profile counts under the largest size not above it). */
const SIZE_BUCKETS = [1, 2, 3, 4, 7] as const;
/** Slack (deadline − now) edges of waiting work, minutes. */
const SLACK_EDGES = [-30, -5, 0, 5, 15, 30, 60, 120] as const;
const DAY_MIN = 1440;

/** Inputs that describe the population, the same for every GPU. */
export function globalInputCount(options: number): number {
  return 4 + 2 * options + SIZE_BUCKETS.length + (SLACK_EDGES.length + 1) + 1;
}

/** Inputs that describe one GPU. */
export function localInputCount(options: number): number {
  return 2 * options + 4 + SLOTS;
}

/** A GPU's slot on its node (nvidia-smi index mod 8), one-hot: node patterns repeat by slot. */
const SLOTS = 8;

export function inputCount(options: number): number {
  return globalInputCount(options) + localInputCount(options);
}

/** Index of a layout in the option table, −1 when it is not one of them. */
export type OptionIndex = (layout: Layout) => number;

export function optionIndex(options: readonly Layout[]): OptionIndex {
  const byKey = new Map(options.map((l, i) => [layoutKey(l), i]));
  return (layout) => byKey.get(layoutKey(layout)) ?? -1;
}

function sizeBucket(k: number): number {
  let b = 0;
  for (let i = 0; i < SIZE_BUCKETS.length; i++) if (k >= (SIZE_BUCKETS[i] as number)) b = i;
  return b;
}

function slackBin(slack: number): number {
  let b = 0;
  while (b < SLACK_EDGES.length && slack >= (SLACK_EDGES[b] as number)) b++;
  return b;
}

function busyShare(g: GpuState): number {
  if (g.busy.length === 0) return 0;
  let n = 0;
  for (const b of g.busy) if (b) n++;
  return n / g.busy.length;
}

/**
 * The inputs of every GPU of the view, row by row (GPU i at i × inputCount). `rank` in the local inputs is the
 * GPU's place among the GPUs of its layout, least busy first, as a fraction: it lets one shared actor move
 * part of a group rather than all of it or none.
 */
export function buildInputs(
  view: ClusterView,
  model: GpuModel,
  options: readonly Layout[],
  indexOf: OptionIndex,
): Float32Array {
  const { global, local } = splitInputs(view, model, options, indexOf);
  return joinRows(global, local, view.gpus.length);
}

/** The inputs of `buildInputs` as they are built: the global block once, and every GPU's local inputs. */
function splitInputs(
  view: ClusterView,
  model: GpuModel,
  options: readonly Layout[],
  indexOf: OptionIndex,
): { global: Float32Array; local: Float32Array } {
  const k = options.length;
  const n = view.gpus.length;
  const global = new Float32Array(globalInputCount(k));
  const inv = 1 / Math.max(1, n);
  const phase = (2 * Math.PI * (((view.now % DAY_MIN) + DAY_MIN) % DAY_MIN)) / DAY_MIN;
  global[0] = Math.sin(phase);
  global[1] = Math.cos(phase);
  global[2] = Math.sin(2 * phase);
  global[3] = Math.cos(2 * phase);
  const layoutOf = new Int32Array(n);
  const targetOf = new Int32Array(n);
  const busy = new Float32Array(n);
  let busyAll = 0;
  for (let i = 0; i < n; i++) {
    const g = view.gpus[i] as GpuState;
    const l = indexOf(g.layout);
    const t = g.target ? indexOf(g.target) : -1;
    layoutOf[i] = l;
    targetOf[i] = t;
    if (l >= 0) global[4 + l] = (global[4 + l] as number) + inv;
    if (t >= 0) global[4 + k + t] = (global[4 + k + t] as number) + inv;
    busy[i] = busyShare(g);
    busyAll += busy[i] as number;
  }
  const sizeAt = 4 + 2 * k;
  const slackAt = sizeAt + SIZE_BUCKETS.length;
  for (const p of view.pending) {
    const size = findProfile(model, p.profile)?.computeSlices ?? 1;
    const s = sizeAt + sizeBucket(size);
    global[s] = (global[s] as number) + inv;
    const b = slackAt + slackBin(p.deadline - view.now);
    global[b] = (global[b] as number) + inv;
  }
  global[slackAt + SLACK_EDGES.length + 1] = busyAll * inv;

  const rank = groupRanks(layoutOf, busy, k);
  const per = localInputCount(k);
  const local = new Float32Array(n * per);
  for (let i = 0; i < n; i++) {
    const row = i * per;
    const g = view.gpus[i] as GpuState;
    const l = layoutOf[i] as number;
    const t = targetOf[i] as number;
    if (l >= 0) local[row + l] = 1;
    if (t >= 0) local[row + k + t] = 1;
    const base = row + 2 * k;
    local[base] = busy[i] as number;
    local[base + 1] = g.reconfiguring ? 1 : 0;
    local[base + 2] = Math.min(4, (view.now - g.lastChange) / 60);
    local[base + 3] = rank[i] as number;
    local[base + 4 + ((g.index ?? g.id) % SLOTS)] = 1;
  }
  return { global, local };
}

/** `rows` whole input rows: row i is `shared`, then row i of `rest`. */
export function joinRows(shared: Float32Array, rest: Float32Array, rows: number): Float32Array {
  const per = rest.length / Math.max(1, rows);
  const width = shared.length + per;
  const out = new Float32Array(rows * width);
  for (let i = 0; i < rows; i++) {
    out.set(shared, i * width);
    out.set(rest.subarray(i * per, (i + 1) * per), i * width + shared.length);
  }
  return out;
}

/**
 * What one decision sees: the GPUs of the actor's model and their inputs. Built as the global block and every
 * GPU's local inputs, which is what the controller scores (the global block's share of the first layer is then
 * worked out once, not once per GPU); `inputs` joins them into whole rows for what reads rows (training, tests).
 */
export class Observation {
  private rows: Float32Array | undefined;

  constructor(
    readonly gpus: readonly GpuState[],
    /** The inputs every GPU shares. */
    readonly global: Float32Array,
    /** Every GPU's own inputs, row by row (GPU i at i × localInputCount). */
    readonly local: Float32Array,
  ) {}

  /** Every GPU's whole input row, row by row (GPU i at i × inputCount); joined at the first read. */
  get inputs(): Float32Array {
    this.rows ??= joinRows(this.global, this.local, this.gpus.length);
    return this.rows;
  }
}

/**
 * Turns views into observations at the actor's pace: answers only every `everyMin` minutes (0: at every call).
 * GPUs of other models are left out of the mean field.
 */
export class Observer {
  readonly width: number;
  private readonly indexOf: OptionIndex;
  private nextAt = -Infinity;

  constructor(
    private readonly model: GpuModel,
    private readonly options: readonly Layout[],
    private readonly everyMin: number,
  ) {
    this.indexOf = optionIndex(options);
    this.width = inputCount(options.length);
  }

  optionOf(layout: Layout): number {
    return this.indexOf(layout);
  }

  observe(view: ClusterView): Observation | undefined {
    // Not due: nothing to build (the simulator and the operator ask far more often than the actor decides).
    if (view.now < this.nextAt) return undefined;
    const own = view.gpus.filter((g) => g.model.name === this.model.name);
    if (own.length === 0) return undefined;
    this.nextAt = view.now + this.everyMin;
    const mine: ClusterView = own.length === view.gpus.length ? view : withGpus(view, own);
    const { global, local } = splitInputs(mine, this.model, this.options, this.indexOf);
    return new Observation(own, global, local);
  }
}

function withGpus(view: ClusterView, gpus: readonly GpuState[]): ClusterView {
  return {
    now: view.now,
    gpus,
    get pending() {
      return view.pending;
    },
  };
}

/** Each GPU's place in its layout group, least busy first (ties by position), as a fraction in [0, 1). */
function groupRanks(layoutOf: Int32Array, busy: Float32Array, k: number): Float32Array {
  const groups: number[][] = Array.from({ length: k + 1 }, () => []);
  for (let i = 0; i < layoutOf.length; i++) (groups[(layoutOf[i] as number) + 1] as number[]).push(i);
  const rank = new Float32Array(layoutOf.length);
  for (const members of groups) {
    members.sort((a, b) => (busy[a] as number) - (busy[b] as number) || a - b);
    members.forEach((g, r) => (rank[g] = r / members.length));
  }
  return rank;
}
