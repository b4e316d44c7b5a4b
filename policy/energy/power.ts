// GPU power as a function of how many compute slices are busy (docs/model.md §3).
//
// Only the A100-40GB curve is measured (the paper, at a 250 W cap). For the other models no per-slice
// measurement is published, so we assume the A100 curve's shape, indexed by the busy share of the GPU's
// compute, rescaled between that model's idle and fully-busy power:
//   P(k) = idle + (busy − idle) · s(k / C),  s(x) = (P40(7x) − P40(0)) / (P40(7) − P40(0)),
// where P40 is the A100-40GB table, linear between its points, and C the model's compute slices. Fully busy
// power is the board power limit from NVIDIA's datasheets; idle power is an assumption (typical nvidia-smi
// readings of an idle MIG-enabled board). Both can be overridden, e.g. to model a power cap.
import { findGpuModel, type GpuModel, type GpuModelName } from '../mig/catalog.js';

/** Watts of one A100-40GB at a 250 W cap by busy compute slices 0..7 (the paper's measurement). */
export const A100_40GB_WATTS: readonly number[] = [40, 119, 160, 205.3, 243.9, 247.7, 248.5, 248.5];

export interface PowerSpec {
  readonly idleWatts: number;
  /** Power with every compute slice busy. */
  readonly busyWatts: number;
  /** Where the figures come from. */
  readonly source: string;
}

export const POWER_SPECS: Readonly<Record<GpuModelName, PowerSpec>> = {
  'A100-40GB': { idleWatts: 40, busyWatts: 248.5, source: 'measured per slice (docs/model.md §3), 250 W cap' },
  'A100-80GB': {
    idleWatts: 50,
    busyWatts: 400,
    source: 'busy: A100 80GB SXM4 power limit (NVIDIA A100 datasheet); idle assumed; A100-40GB shape',
  },
  'H100-80GB': {
    idleWatts: 70,
    busyWatts: 700,
    source: 'busy: H100 SXM5 power limit (NVIDIA H100 datasheet); idle assumed; A100-40GB shape',
  },
  'H100-94GB': {
    idleWatts: 65,
    busyWatts: 400,
    source:
      'busy: H100 NVL top of its 350–400 W configurable TDP (NVIDIA H100 datasheet); idle assumed; A100-40GB shape',
  },
  'H200-141GB': {
    idleWatts: 75,
    busyWatts: 700,
    source: 'busy: H200 SXM power limit (NVIDIA H200 datasheet); idle assumed; A100-40GB shape',
  },
  'B200-180GB': {
    idleWatts: 140,
    busyWatts: 1000,
    source: 'busy: HGX B200 per-GPU power limit (NVIDIA HGX B200 datasheet); idle assumed; A100-40GB shape',
  },
  'GB200-186GB': {
    idleWatts: 150,
    busyWatts: 1200,
    source:
      'busy: per-GPU power of GB200 (NVIDIA Blackwell architecture technical brief; the GB200 NVL72 datasheet ' +
      'gives superchip power only); idle assumed; A100-40GB shape',
  },
  'A30-24GB': {
    idleWatts: 30,
    busyWatts: 165,
    source: 'busy: A30 board power (NVIDIA A30 datasheet); idle assumed; A100-40GB shape over 4 slices',
  },
  'RTX-PRO-6000-96GB': {
    idleWatts: 30,
    busyWatts: 600,
    source:
      'busy: RTX PRO 6000 Blackwell Server Edition maximum board power (NVIDIA RTX PRO 6000 Blackwell Server ' +
      'Edition datasheet; the Max-Q Workstation Edition is capped at 300 W: override busyWatts); idle assumed; ' +
      'A100-40GB shape over 4 slices',
  },
};

export interface PowerModel {
  readonly gpu: GpuModelName;
  /** Watts by busy compute slices, index 0..computeSlices. */
  readonly table: readonly number[];
  readonly idleWatts: number;
  readonly busyWatts: number;
  /** Power with `busyCompute` compute slices busy, 0..computeSlices; linear between whole slices. */
  watts(busyCompute: number): number;
}

export interface PowerOverrides {
  readonly idleWatts?: number;
  readonly busyWatts?: number;
}

/** The power curve of a GPU model (see the file comment for what is measured and what is assumed). */
export function powerModel(model: GpuModel, overrides: PowerOverrides = {}): PowerModel {
  const spec = POWER_SPECS[model.name];
  const idle = overrides.idleWatts ?? spec.idleWatts;
  const busy = overrides.busyWatts ?? spec.busyWatts;
  if (!(idle >= 0 && busy >= idle)) {
    throw new RangeError(`${model.name}: power needs 0 ≤ idle (${idle} W) ≤ busy (${busy} W)`);
  }
  const measured = model.name === 'A100-40GB' && idle === spec.idleWatts && busy === spec.busyWatts;
  const table = measured ? A100_40GB_WATTS : scaledShape(model.computeSlices, idle, busy);
  return powerFromTable(model.name, table);
}

/** A power model from a measured table (watts by busy compute slices 0..C); must not decrease. */
export function powerFromTable(gpu: GpuModelName, table: readonly number[]): PowerModel {
  const model = findGpuModel(gpu);
  if (!model || table.length !== model.computeSlices + 1) {
    throw new RangeError(`${gpu}: a power table needs ${model ? model.computeSlices + 1 : '?'} entries`);
  }
  if (table.some((w, i) => !(w >= 0) || (i > 0 && w < (table[i - 1] ?? 0)))) {
    throw new RangeError(`${gpu}: a power table must be non-negative and non-decreasing`);
  }
  const frozen = Object.freeze([...table]);
  return {
    gpu,
    table: frozen,
    idleWatts: frozen[0] ?? 0,
    busyWatts: frozen[frozen.length - 1] ?? 0,
    watts: (busyCompute) => {
      if (!(busyCompute >= 0 && busyCompute <= model.computeSlices + 1e-9)) {
        throw new RangeError(`${gpu}: busy compute ${busyCompute} is outside 0..${model.computeSlices}`);
      }
      return interpolate(frozen, busyCompute);
    },
  };
}

/** Piecewise-linear lookup of `table` at a fractional index, clamped to its ends. */
function interpolate(table: readonly number[], at: number): number {
  const last = table.length - 1;
  const x = Math.min(Math.max(at, 0), last);
  const i = Math.min(Math.floor(x), last - 1);
  const a = table[i] ?? 0;
  const b = table[i + 1] ?? a;
  return last === 0 ? a : a + (b - a) * (x - i);
}

/** The A100-40GB curve's shape at busy share k/C, rescaled to [idle, busy]. */
function scaledShape(computeSlices: number, idle: number, busy: number): number[] {
  const lo = A100_40GB_WATTS[0] ?? 0;
  const hi = A100_40GB_WATTS[A100_40GB_WATTS.length - 1] ?? 1;
  const a100Slices = A100_40GB_WATTS.length - 1;
  return Array.from({ length: computeSlices + 1 }, (_, k) => {
    if (k === computeSlices) return busy; // exact at the ends, whatever the float rounding in between
    const share = (interpolate(A100_40GB_WATTS, (k / computeSlices) * a100Slices) - lo) / (hi - lo);
    return idle + (busy - idle) * share;
  });
}
