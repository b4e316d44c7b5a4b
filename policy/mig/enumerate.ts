// Positional layouts of a GPU: all the maximal ones, extension of a partial one, and placement of a given
// multiset of instances. Orders are fixed (by position, larger instances first) so results are reproducible.
import type { GpuModel, MigProfile } from './catalog.js';
import { computeProfiles, findProfile } from './catalog.js';
import type { Layout, Slice } from './layout.js';
import { canonicalLayout } from './layout.js';
import type { Occupancy } from './validate.js';
import { canAdd, emptyOccupancy, occupancyOf, occupy } from './validate.js';

/** Larger instances first, then the plain profile before its `+me` variant, then by name. */
function byPreference(a: MigProfile, b: MigProfile): number {
  return (
    b.computeSlices - a.computeSlices ||
    b.memorySlices - a.memorySlices ||
    Number(a.mediaExtensions) - Number(b.mediaExtensions) ||
    (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  );
}

/** The named profiles of `model` in preference order (default: those without media extensions). */
export function profileSet(model: GpuModel, names?: readonly string[]): MigProfile[] {
  if (names === undefined) return computeProfiles(model).sort(byPreference);
  const set = names.map((n) => {
    const p = findProfile(model, n);
    if (!p) throw new Error(`${model.name} has no MIG profile ${n}`);
    return p;
  });
  return [...new Set(set)].sort(byPreference);
}

/** Instances of `profiles` that could be added to an occupancy, by start then preference. */
function addable(model: GpuModel, occ: Occupancy, profiles: readonly MigProfile[]): Slice[] {
  const out: Slice[] = [];
  for (let start = 0; start < model.memorySlices; start++) {
    for (const p of profiles) if (canAdd(model, occ, p, start)) out.push({ profile: p.name, start });
  }
  return out;
}

/** Instances of the given profiles (default: non-`+me`) that `layout` has room for, each on its own. */
export function addableSlices(model: GpuModel, layout: Layout, profiles?: readonly string[]): Slice[] {
  return addable(model, occupancyOf(model, layout), profileSet(model, profiles));
}

/** Whether no instance of the given profiles can be added to the (valid) layout. */
export function isMaximal(model: GpuModel, layout: Layout, profiles?: readonly string[]): boolean {
  return addableSlices(model, layout, profiles).length === 0;
}

/**
 * Every valid layout over `profiles` (default: the model's non-`+me` profiles) to which no further instance
 * can be added. Order: depth first over memory slices, at each the larger instance first, an empty slice last.
 */
export function maximalLayouts(model: GpuModel, profiles?: readonly string[]): Layout[] {
  const set = profileSet(model, profiles);
  const out: Layout[] = [];
  const visit = (pos: number, occ: Occupancy, chosen: Slice[]): void => {
    if (pos >= model.memorySlices) {
      if (addable(model, occ, set).length === 0) out.push({ slices: chosen });
      return;
    }
    if (occ.owner[pos] !== undefined) return visit(pos + 1, occ, chosen);
    for (const p of set) {
      if (canAdd(model, occ, p, pos))
        visit(pos + p.memorySlices, occupy(model, occ, p, pos), [...chosen, { profile: p.name, start: pos }]);
    }
    // Leaving a slice empty can still end maximal when later instances or count limits block it.
    visit(pos + 1, occ, chosen);
  };
  visit(0, emptyOccupancy(model), []);
  return out;
}

/**
 * A maximal layout containing `layout`: adds instances greedily, lowest start and larger instance first.
 * One pass suffices because adding an instance never makes another one possible. Throws on an invalid layout.
 */
export function extendToMaximal(model: GpuModel, layout: Layout, profiles?: readonly string[]): Layout {
  const set = profileSet(model, profiles);
  let occ = occupancyOf(model, layout);
  const added: Slice[] = [];
  for (let start = 0; start < model.memorySlices; start++) {
    for (const p of set) {
      if (!canAdd(model, occ, p, start)) continue;
      occ = occupy(model, occ, p, start);
      added.push({ profile: p.name, start });
    }
  }
  return canonicalLayout({ slices: [...layout.slices, ...added] });
}

/**
 * A positional layout holding exactly these instances, or undefined when they do not fit together. Tries
 * larger instances first, each at its lowest free start, backtracking; the first fit wins.
 */
export function placeInstances(model: GpuModel, profiles: readonly MigProfile[]): Layout | undefined {
  const todo = [...profiles].sort(byPreference);
  const place = (i: number, occ: Occupancy, chosen: Slice[]): Slice[] | undefined => {
    const p = todo[i];
    if (!p) return chosen;
    // Copies of one profile go left to right, so no arrangement is tried twice.
    const after = todo[i - 1] === p ? (chosen[i - 1]?.start ?? -1) : -1;
    for (const start of p.starts) {
      if (start <= after || !canAdd(model, occ, p, start)) continue;
      const found = place(i + 1, occupy(model, occ, p, start), [...chosen, { profile: p.name, start }]);
      if (found) return found;
    }
    return undefined;
  };
  const slices = place(0, emptyOccupancy(model), []);
  return slices && canonicalLayout({ slices });
}
