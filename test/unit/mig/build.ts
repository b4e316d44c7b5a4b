// Small builders for MIG tests; independent of parseLayout so its tests do not lean on it.
import type { GpuModel, GpuModelName } from '../../../policy/mig/catalog.js';
import { findGpuModel, GPU_MODELS } from '../../../policy/mig/catalog.js';
import type { Layout } from '../../../policy/mig/layout.js';

export function gpu(name: string): GpuModel {
  const model = findGpuModel(name);
  if (!model) throw new Error(`test setup: no GPU model ${name}`);
  return model;
}

/** `'4g.20gb@0,3g.20gb@4'` → a Layout in the order written; `''` → no instances. */
export function L(text: string): Layout {
  if (text === '') return { slices: [] };
  return {
    slices: text.split(',').map((part) => {
      const [profile = '', start = ''] = part.split('@');
      return { profile, start: Number(start) };
    }),
  };
}

/** The memory slices each instance covers, flattened: used to check full coverage. */
export function coveredSlices(model: GpuModel, layout: Layout): number[] {
  return layout.slices.flatMap((s) => {
    const p = model.profiles.find((q) => q.name === s.profile);
    if (!p) throw new Error(`test setup: ${model.name} has no ${s.profile}`);
    return Array.from({ length: p.memorySlices }, (_, i) => s.start + i);
  });
}

/** Every catalogued model: tests that iterate over models cover one as soon as the catalog has it. */
export const ALL_MODELS: readonly GpuModelName[] = GPU_MODELS;

/** The models with A100's geometry (8 memory slices, 7 compute slices); catalog.test.ts pins the list. */
export const EIGHT_SLICE_MODELS: readonly GpuModelName[] = GPU_MODELS.filter((name) => {
  const m = gpu(name);
  return m.memorySlices === 8 && m.computeSlices === 7;
});

/** A100-40GB's profiles as docs/model.md §1's 19-layout count names them. */
export const FIVE_PROFILES = ['1g.5gb', '2g.10gb', '3g.20gb', '4g.20gb', '7g.40gb'] as const;
