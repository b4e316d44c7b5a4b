// A GPU's MIG layout: the GPU instances it is split into, each a profile at a memory-slice position.
import type { GpuModel, MigProfile } from './catalog.js';
import { findProfile } from './catalog.js';

export interface Slice {
  /** Profile name from the GPU model's catalog, e.g. `3g.20gb`. */
  readonly profile: string;
  /** First memory slice the instance occupies. */
  readonly start: number;
}

export interface Layout {
  /** Instances in physical order (ascending start). An empty list is a MIG-enabled GPU with nothing carved. */
  readonly slices: readonly Slice[];
}

/** Resolves each slice's profile; throws on a profile the model lacks (validate first for a reason). */
export function sliceProfiles(model: GpuModel, layout: Layout): MigProfile[] {
  return layout.slices.map((s) => {
    const p = findProfile(model, s.profile);
    if (!p) throw new Error(`${model.name} has no MIG profile ${s.profile}`);
    return p;
  });
}

/** Compute slices of each instance, in physical order: `4g+3g` → [4, 3]. */
export function computeSizes(model: GpuModel, layout: Layout): number[] {
  return sliceProfiles(model, layout).map((p) => p.computeSlices);
}
