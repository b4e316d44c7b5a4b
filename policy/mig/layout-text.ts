// Layouts as text, for flags, logs and status fields: `4g.20gb@0,3g.20gb@4`, a paper configuration
// number or a named layout in; the canonical form (ordered by start) out.
import type { GpuModel } from './catalog.js';
import { findProfile } from './catalog.js';
import type { Layout, Slice } from './layout.js';
import { canonicalLayout, computeSizes, layoutKey } from './layout.js';
import { namedLayoutNames, resolveNamedLayout } from './named.js';
import { validateLayout } from './validate.js';

/** `4g.20gb@0,3g.20gb@4`, ordered by start; the empty string for a layout without instances. */
export function formatLayout(layout: Layout): string {
  return layoutKey(layout);
}

/** Compute sizes in physical order: `4+3`; the empty string for a layout without instances. */
export function describeCompute(model: GpuModel, layout: Layout): string {
  return computeSizes(model, canonicalLayout(layout)).join('+');
}

export type ParsedLayout = { ok: true; layout: Layout; migEnabled: boolean } | { ok: false; message: string };

const SLICE = /^([^@\s]+)@(\d+)$/;

function expected(model: GpuModel): string {
  const named = namedLayoutNames(model);
  return `expected PROFILE@START[,PROFILE@START...] or one of: ${named.join(', ')}`;
}

function parseSlices(model: GpuModel, text: string): ParsedLayout {
  const slices: Slice[] = [];
  for (const part of text.split(',')) {
    const m = SLICE.exec(part.trim());
    if (!m) return { ok: false, message: `"${part.trim()}" is not PROFILE@START (${expected(model)})` };
    const [, profile = '', start = ''] = m;
    if (!findProfile(model, profile)) {
      const valid = model.profiles.map((p) => p.name).join(', ');
      return { ok: false, message: `${model.name} has no MIG profile ${profile} (valid: ${valid})` };
    }
    slices.push({ profile, start: Number(start) });
  }
  const layout = canonicalLayout({ slices });
  const check = validateLayout(model, layout);
  if (!check.ok) return { ok: false, message: check.issues.map((i) => i.message).join('; ') };
  return { ok: true, layout, migEnabled: true };
}

/**
 * Reads a layout for `model`: instances as `PROFILE@START` separated by commas (any order; the result is
 * ordered by start and validated), a paper configuration `1`..`12`, or a named layout such as `all-balanced`.
 */
export function parseLayout(model: GpuModel, text: string): ParsedLayout {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, message: `empty layout (${expected(model)})` };
  const named = resolveNamedLayout(model, trimmed);
  if (named) return { ok: true, layout: named.layout, migEnabled: named.migEnabled };
  if (/^\d+$/.test(trimmed))
    return { ok: false, message: `${model.name} has no layout "${trimmed}" (${expected(model)})` };
  return parseSlices(model, trimmed);
}
