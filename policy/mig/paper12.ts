// The twelve A100-40GB configurations the SMART-MIG paper works with (docs/model.md §1), and their analogues
// on other GPUs with the same 8-memory-slice geometry. A GPU's local state in the learned controller is
// its configuration number.
import type { GpuModel, MigProfile } from './catalog.js';
import { findGpuModel, findProfile } from './catalog.js';
import type { Layout, Slice } from './layout.js';
import { layoutKey } from './layout.js';
import { validateLayout } from './validate.js';

export interface PaperConfig {
  /** 1..12, as numbered in the paper. */
  readonly id: number;
  /** Compute sizes in physical order, e.g. `4+2+1`. */
  readonly compute: string;
  /** The layout on an A100-40GB. */
  readonly layout: Layout;
}

const SOURCE_MODEL = 'A100-40GB';

/** `['4g.20gb', 0], …` → slices; all configurations fill the 8 memory slices (a trailing 1g is 1g.10gb). */
function config(id: number, compute: string, ...slices: [string, number][]): PaperConfig {
  return { id, compute, layout: { slices: slices.map(([profile, start]): Slice => ({ profile, start })) } };
}

const ones = (from: number, to: number): [string, number][] =>
  Array.from({ length: to - from + 1 }, (_, i): [string, number] => ['1g.5gb', from + i]);

export const PAPER12: readonly PaperConfig[] = [
  config(1, '7', ['7g.40gb', 0]),
  config(2, '4+3', ['4g.20gb', 0], ['3g.20gb', 4]),
  config(3, '4+2+1', ['4g.20gb', 0], ['2g.10gb', 4], ['1g.10gb', 6]),
  config(4, '4+1+1+1', ['4g.20gb', 0], ...ones(4, 5), ['1g.10gb', 6]),
  config(5, '3+3', ['3g.20gb', 0], ['3g.20gb', 4]),
  config(6, '2+2+3', ['2g.10gb', 0], ['2g.10gb', 2], ['3g.20gb', 4]),
  config(7, '2+1+1+3', ['2g.10gb', 0], ...ones(2, 3), ['3g.20gb', 4]),
  config(8, '1+1+1+1+3', ...ones(0, 3), ['3g.20gb', 4]),
  config(9, '2+2+2+1', ['2g.10gb', 0], ['2g.10gb', 2], ['2g.10gb', 4], ['1g.10gb', 6]),
  config(10, '2+2+1+1+1', ['2g.10gb', 0], ['2g.10gb', 2], ...ones(4, 5), ['1g.10gb', 6]),
  config(11, '2+1+1+1+1+1', ['2g.10gb', 0], ...ones(2, 5), ['1g.10gb', 6]),
  config(12, '1+1+1+1+1+1+1', ...ones(0, 5), ['1g.10gb', 6]),
];

/** The profile of `model` with the same slices and starts as `p` of another model, if any. */
function analogue(model: GpuModel, p: MigProfile): MigProfile | undefined {
  return model.profiles.find(
    (q) =>
      q.computeSlices === p.computeSlices &&
      q.memorySlices === p.memorySlices &&
      q.mediaExtensions === p.mediaExtensions &&
      q.starts.join() === p.starts.join(),
  );
}

/**
 * Paper configuration `n` (1..12) on `model`, with the model's own profile names; undefined when `n` is out
 * of range or the model lacks the A100's geometry (e.g. an A30).
 */
export function paper12Layout(model: GpuModel, n: number): Layout | undefined {
  const source = findGpuModel(SOURCE_MODEL);
  const cfg = PAPER12.find((c) => c.id === n);
  if (!source || !cfg) return undefined;
  if (model.memorySlices !== source.memorySlices || model.computeSlices !== source.computeSlices) return undefined;
  const slices: Slice[] = [];
  for (const s of cfg.layout.slices) {
    const from = findProfile(source, s.profile);
    const to = from && analogue(model, from);
    if (!to) return undefined;
    slices.push({ profile: to.name, start: s.start });
  }
  const layout = { slices };
  return validateLayout(model, layout).ok ? layout : undefined;
}

// Controllers ask for a GPU's configuration number on every step; the table per model is built once.
const numbersByModel = new WeakMap<GpuModel, ReadonlyMap<string, number>>();

/** The paper configuration number of `layout` on `model`, or undefined when it is none of the twelve. */
export function paperConfigNumber(model: GpuModel, layout: Layout): number | undefined {
  let numbers = numbersByModel.get(model);
  if (!numbers) {
    const entries = PAPER12.flatMap((c): [string, number][] => {
      const l = paper12Layout(model, c.id);
      return l ? [[layoutKey(l), c.id]] : [];
    });
    numbers = new Map(entries);
    numbersByModel.set(model, numbers);
  }
  return numbers.get(layoutKey(layout));
}
