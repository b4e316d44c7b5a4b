// Layouts by name: the GPU operator's standard mig-parted configs (all-disabled, all-enabled, all-<profile>,
// all-balanced) and the paper's configuration numbers "1".."12".
import type { GpuModel, MigProfile } from './catalog.js';
import { computeProfiles, findProfile } from './catalog.js';
import { placeInstances } from './enumerate.js';
import type { Layout } from './layout.js';
import { PAPER12, paper12Layout } from './paper12.js';

export interface NamedLayout {
  /** False only for `all-disabled`: the GPU runs without MIG. */
  readonly migEnabled: boolean;
  readonly layout: Layout;
}

const EMPTY: Layout = { slices: [] };

/** all-balanced, as instances per compute size; sizes a model lacks (3g on an A30) are left out. */
const BALANCED: readonly (readonly [compute: number, count: number])[] = [
  [1, 2],
  [2, 1],
  [3, 1],
];

/** As many instances of `p` as fit together. */
function allOf(model: GpuModel, p: MigProfile): Layout | undefined {
  for (let n = p.maxCount; n > 0; n--) {
    const layout = placeInstances(model, new Array<MigProfile>(n).fill(p));
    if (layout) return layout;
  }
  return undefined;
}

function balanced(model: GpuModel): Layout | undefined {
  const instances: MigProfile[] = [];
  for (const [compute, count] of BALANCED) {
    // The smallest-memory profile of that compute size: 1g.5gb rather than 1g.10gb.
    const p = computeProfiles(model)
      .filter((q) => q.computeSlices === compute)
      .sort((a, b) => a.memorySlices - b.memorySlices)[0];
    if (p) for (let i = 0; i < count; i++) instances.push(p);
  }
  return instances.length > 0 ? placeInstances(model, instances) : undefined;
}

/** mig-parted spells media-extension profiles `1g.5gb.me`; the catalog says `1g.5gb+me`. */
function profileNamed(model: GpuModel, name: string): MigProfile | undefined {
  return findProfile(model, name) ?? findProfile(model, name.replace(/\.me$/, '+me'));
}

export function resolveNamedLayout(model: GpuModel, name: string): NamedLayout | undefined {
  const key = name.trim();
  if (key === 'all-disabled') return { migEnabled: false, layout: EMPTY };
  if (key === 'all-enabled') return { migEnabled: true, layout: EMPTY };
  let layout: Layout | undefined;
  if (key === 'all-balanced') layout = balanced(model);
  else if (/^[1-9]\d*$/.test(key)) layout = paper12Layout(model, Number(key));
  else if (key.startsWith('all-')) {
    const p = profileNamed(model, key.slice('all-'.length));
    layout = p && allOf(model, p);
  }
  return layout && { migEnabled: true, layout };
}

/** Every name `resolveNamedLayout` accepts for `model`, in a stable order. */
export function namedLayoutNames(model: GpuModel): string[] {
  const names = [
    'all-disabled',
    'all-enabled',
    ...model.profiles.map((p) => `all-${p.name}`),
    'all-balanced',
    ...PAPER12.map((c) => String(c.id)),
  ];
  return names.filter((n) => resolveNamedLayout(model, n) !== undefined);
}
