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

/** The same instances listed by ascending start, as the Layout contract wants (ties, only in invalid layouts, by name). */
export function canonicalLayout(layout: Layout): Layout {
  const order = (a: Slice, b: Slice): number =>
    a.start - b.start || (a.profile < b.profile ? -1 : a.profile > b.profile ? 1 : 0);
  return { slices: [...layout.slices].sort(order) };
}

// Layouts are immutable values, and controllers compare the same few table entries at every decision.
const KEYS = new WeakMap<Layout, string>();

/** `4g.20gb@0,3g.20gb@4`: the canonical text of a layout, equal for equal layouts in any listing order. */
export function layoutKey(layout: Layout): string {
  let key = KEYS.get(layout);
  if (key === undefined) {
    key = canonicalLayout(layout)
      .slices.map((s) => `${s.profile}@${s.start}`)
      .join(',');
    KEYS.set(layout, key);
  }
  return key;
}

/** Same instances at the same positions, in any listing order. */
export function layoutsEqual(a: Layout, b: Layout): boolean {
  return a === b || (a.slices.length === b.slices.length && layoutKey(a) === layoutKey(b));
}
