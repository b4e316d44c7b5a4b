// Whether a layout can exist on a GPU, with a reason for every rejection. Enumeration and extension add
// instances through the same rules (`Occupancy`), so "valid" means one thing everywhere.
import type { GpuModel, MigProfile } from './catalog.js';
import { findProfile } from './catalog.js';
import type { Layout } from './layout.js';

/**
 * Why a layout is rejected:
 * - `unknown-profile`: the model has no such profile.
 * - `out-of-range`: the start is not a whole memory slice, or the instance runs past the GPU's memory.
 * - `bad-start`: the profile may not start at that memory slice.
 * - `unordered`: instances are not listed by ascending start (the Layout contract).
 * - `overlap`: two instances share a memory slice.
 * - `too-many`: more instances of a profile than the GPU allows (a `+me` variant counts towards its base
 *   profile too, and a GPU holds one media-extension instance at most).
 * - `compute-exceeded`: the instances need more compute slices than the GPU has.
 */
export type LayoutIssueCode =
  'unknown-profile' | 'out-of-range' | 'bad-start' | 'unordered' | 'overlap' | 'too-many' | 'compute-exceeded';

export interface LayoutIssue {
  readonly code: LayoutIssueCode;
  /** Where in the layout, e.g. `slices[2]`. */
  readonly path: string;
  /** For people: names the profile and start. */
  readonly message: string;
}

export type LayoutCheck = { ok: true } | { ok: false; issues: LayoutIssue[] };

interface CountLimit {
  readonly key: string;
  readonly max: number;
  readonly what: string;
}

const MEDIA_KEY = '+media';

/** The non-`+me` profile a media-extension profile is a variant of (same slices and memory). */
export function baseProfile(model: GpuModel, p: MigProfile): MigProfile {
  if (!p.mediaExtensions) return p;
  const base = model.profiles.find(
    (q) =>
      !q.mediaExtensions &&
      q.computeSlices === p.computeSlices &&
      q.memorySlices === p.memorySlices &&
      q.memoryGB === p.memoryGB,
  );
  return base ?? p;
}

function countLimits(model: GpuModel, p: MigProfile): CountLimit[] {
  const own = { key: p.name, max: p.maxCount, what: p.name };
  if (!p.mediaExtensions) return [own];
  const base = baseProfile(model, p);
  // The GPU has one JPEG decoder and one optical-flow unit, and every +me instance takes them.
  const media = { key: MEDIA_KEY, max: 1, what: 'media-extension (+me) instance' };
  return base === p ? [own, media] : [own, { key: base.name, max: base.maxCount, what: base.name }, media];
}

/** What a partly built layout already holds. Adding only ever removes options, never creates them. */
export interface Occupancy {
  /** Per memory slice, the instance that holds it, as `PROFILE@START (slices[i])`. */
  readonly owner: readonly (string | undefined)[];
  readonly counts: ReadonlyMap<string, number>;
  readonly compute: number;
  /** Index the next instance gets in `slices[...]` labels. */
  readonly size: number;
}

export function emptyOccupancy(model: GpuModel): Occupancy {
  return { owner: new Array<undefined>(model.memorySlices).fill(undefined), counts: new Map(), compute: 0, size: 0 };
}

const at = (p: MigProfile, start: number): string => `${p.name}@${start}`;

function positionIssue(model: GpuModel, p: MigProfile, start: number, path: string): LayoutIssue | undefined {
  if (!Number.isInteger(start) || start < 0 || start + p.memorySlices > model.memorySlices) {
    const message =
      `${p.name}@${String(start)}: an instance of ${p.memorySlices} memory slice(s) must start at a whole ` +
      `memory slice from 0 to ${model.memorySlices - p.memorySlices} on ${model.name}`;
    return { code: 'out-of-range', path, message };
  }
  if (!p.starts.includes(start)) {
    const message = `${at(p, start)}: ${p.name} may start only at memory slice ${p.starts.join(', ')}`;
    return { code: 'bad-start', path, message };
  }
  return undefined;
}

function overlapIssue(occ: Occupancy, p: MigProfile, start: number, path: string): LayoutIssue | undefined {
  for (let m = start; m < start + p.memorySlices; m++) {
    const other = occ.owner[m];
    if (other !== undefined) {
      const message = `${at(p, start)} overlaps ${other} on memory slice ${m}`;
      return { code: 'overlap', path, message };
    }
  }
  return undefined;
}

/**
 * Everything wrong with adding `p@start` to `occ`; empty when it may be added. A bad position is reported
 * alone, since overlap and counts mean little for an instance that cannot be placed there at all.
 */
export function additionIssues(
  model: GpuModel,
  occ: Occupancy,
  p: MigProfile,
  start: number,
  path = `slices[${occ.size}]`,
): LayoutIssue[] {
  const position = positionIssue(model, p, start, path);
  if (position) return [position];
  const issues: LayoutIssue[] = [];
  const overlap = overlapIssue(occ, p, start, path);
  if (overlap) issues.push(overlap);
  for (const limit of countLimits(model, p)) {
    if ((occ.counts.get(limit.key) ?? 0) >= limit.max) {
      const message = `${at(p, start)}: ${model.name} holds at most ${limit.max} ${limit.what}`;
      issues.push({ code: 'too-many', path, message });
    }
  }
  const compute = occ.compute + p.computeSlices;
  if (compute > model.computeSlices) {
    const message =
      `${at(p, start)} brings the compute slices in use to ${compute}; ` + `${model.name} has ${model.computeSlices}`;
    issues.push({ code: 'compute-exceeded', path, message });
  }
  return issues;
}

export function canAdd(model: GpuModel, occ: Occupancy, p: MigProfile, start: number): boolean {
  return additionIssues(model, occ, p, start).length === 0;
}

/** `occ` with `p@start` added; memory slices already held keep their first owner. */
export function occupy(model: GpuModel, occ: Occupancy, p: MigProfile, start: number): Occupancy {
  const owner = [...occ.owner];
  const label = `${at(p, start)} (slices[${occ.size}])`;
  for (let m = start; m < start + p.memorySlices && m < owner.length; m++) owner[m] ??= label;
  const counts = new Map(occ.counts);
  for (const limit of countLimits(model, p)) counts.set(limit.key, (counts.get(limit.key) ?? 0) + 1);
  return { owner, counts, compute: occ.compute + p.computeSlices, size: occ.size + 1 };
}

function unorderedIssue(layout: Layout, i: number): LayoutIssue | undefined {
  const s = layout.slices[i];
  const prev = layout.slices[i - 1];
  if (!s || !prev || !(s.start < prev.start)) return undefined;
  const message =
    `${s.profile}@${s.start} is listed after ${prev.profile}@${prev.start}; ` + 'list instances by ascending start';
  return { code: 'unordered', path: `slices[${i}]`, message };
}

/** Checks a layout against the model's placement rules; every rejection names the instance and the rule. */
export function validateLayout(model: GpuModel, layout: Layout): LayoutCheck {
  let occ = emptyOccupancy(model);
  const issues: LayoutIssue[] = [];
  layout.slices.forEach((s, i) => {
    const path = `slices[${i}]`;
    const unordered = unorderedIssue(layout, i);
    if (unordered) issues.push(unordered);
    const p = findProfile(model, s.profile);
    if (!p) {
      const valid = model.profiles.map((q) => q.name).join(', ');
      const message = `${s.profile}@${s.start}: ${model.name} has no MIG profile ${s.profile} (valid: ${valid})`;
      issues.push({ code: 'unknown-profile', path, message });
      return;
    }
    // Labels carry the layout's own index, also after slices that were skipped as unplaceable.
    const here = { ...occ, size: i };
    const found = additionIssues(model, here, p, s.start, path);
    issues.push(...found);
    // An instance at a legal position still counts towards limits even when it overlaps, so that every
    // limit it breaks is reported.
    if (!found.some((f) => f.code === 'out-of-range' || f.code === 'bad-start')) occ = occupy(model, here, p, s.start);
  });
  return issues.length === 0 ? { ok: true } : { ok: false, issues };
}

/** The occupancy of a valid layout; throws with every reason when the layout is invalid. */
export function occupancyOf(model: GpuModel, layout: Layout): Occupancy {
  const check = validateLayout(model, layout);
  if (!check.ok) {
    throw new Error(`invalid ${model.name} layout: ${check.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  }
  let occ = emptyOccupancy(model);
  for (const s of layout.slices) {
    const p = findProfile(model, s.profile);
    if (p) occ = occupy(model, occ, p, s.start);
  }
  return occ;
}
