import { describe, expect, it } from 'vitest';
import type { GpuModel } from '../../../policy/mig/catalog.js';
import {
  addableSlices,
  extendToMaximal,
  isMaximal,
  maximalLayouts,
  placeInstances,
  profileSet,
} from '../../../policy/mig/enumerate.js';
import type { Layout, Slice } from '../../../policy/mig/layout.js';
import { canonicalLayout, computeSizes, layoutKey } from '../../../policy/mig/layout.js';
import { validateLayout } from '../../../policy/mig/validate.js';
import { ALL_MODELS, EIGHT_SLICE_MODELS, FIVE_PROFILES, gpu, L } from './build.js';

const seq = (model: GpuModel, l: Layout): string => computeSizes(model, l).join(',');

/** docs/model.md §1: A100-40GB's 19 maximal layouts by compute sizes, in the order maximalLayouts gives. */
const NINETEEN = [
  '7',
  '4,3',
  '4,2,1',
  '4,1,1,1',
  '3,3',
  '3,2,1',
  '3,1,1,1',
  '2,2,3',
  '2,2,2,1',
  '2,2,1,1,1',
  '2,1,1,3',
  '2,1,1,2,1',
  '2,1,1,1,1,1',
  '1,1,2,3',
  '1,1,2,2,1',
  '1,1,2,1,1,1',
  '1,1,1,1,3',
  '1,1,1,1,2,1',
  '1,1,1,1,1,1,1',
];

/**
 * Oracle: every subset of legal (profile, start) placements that validates and to which no further
 * placement can be added, checked through validateLayout alone.
 */
function bruteForceMaximal(model: GpuModel, names: readonly string[]): string[] {
  const candidates: Slice[] = names.flatMap((n) => {
    const p = model.profiles.find((q) => q.name === n);
    return (p?.starts ?? []).map((start) => ({ profile: n, start }));
  });
  const valid = (slices: Slice[]): boolean => validateLayout(model, canonicalLayout({ slices })).ok;
  const out: string[] = [];
  for (let mask = 0; mask < 1 << candidates.length; mask++) {
    const chosen = candidates.filter((_, i) => mask & (1 << i));
    if (!valid(chosen)) continue;
    const rest = candidates.filter((_, i) => !(mask & (1 << i)));
    if (rest.every((c) => !valid([...chosen, c]))) out.push(layoutKey({ slices: chosen }));
  }
  return out.sort();
}

describe('maximalLayouts (docs/model.md §1 counts)', () => {
  it('A100-40GB over the five-profile set gives the 19 compute sequences of docs/model.md §1', () => {
    const a100 = gpu('A100-40GB');
    expect(maximalLayouts(a100, FIVE_PROFILES).map((l) => seq(a100, l))).toEqual(NINETEEN);
  });

  const counts = [
    { name: 'A100-40GB, all non-+me profiles', model: 'A100-40GB', layouts: 78, multisets: 22 },
    { name: 'A100-80GB, all non-+me profiles', model: 'A100-80GB', layouts: 78, multisets: 22 },
    { name: 'H100-80GB, all non-+me profiles', model: 'H100-80GB', layouts: 78, multisets: 22 },
    { name: 'H100-94GB, all non-+me profiles', model: 'H100-94GB', layouts: 78, multisets: 22 },
    { name: 'H200-141GB, all non-+me profiles', model: 'H200-141GB', layouts: 78, multisets: 22 },
    { name: 'B200-180GB, all non-+me profiles', model: 'B200-180GB', layouts: 78, multisets: 22 },
    { name: 'GB200-186GB, all non-+me profiles', model: 'GB200-186GB', layouts: 78, multisets: 22 },
    { name: 'A30-24GB, all non-+me profiles', model: 'A30-24GB', layouts: 5, multisets: 4 },
    { name: 'RTX-PRO-6000-96GB, all non-+me profiles', model: 'RTX-PRO-6000-96GB', layouts: 5, multisets: 4 },
  ];
  it.each(counts)('$name: $layouts layouts, $multisets compute multisets', ({ model, layouts, multisets }) => {
    const m = gpu(model);
    const all = maximalLayouts(m);
    expect(all).toHaveLength(layouts);
    const distinct = new Set(all.map((l) => [...computeSizes(m, l)].sort().join(',')));
    expect(distinct.size).toBe(multisets);
  });

  it.each(['A30-24GB', 'RTX-PRO-6000-96GB'])('%s gives [4], [2,2], [2,1,1], [1,1,2], [1,1,1,1]', (name) => {
    const m = gpu(name);
    expect(maximalLayouts(m).map((l) => seq(m, l))).toEqual(['4', '2,2', '2,1,1', '1,1,2', '1,1,1,1']);
  });

  it('RTX PRO 6000 maximal layouts by position', () => {
    expect(maximalLayouts(gpu('RTX-PRO-6000-96GB')).map(layoutKey)).toEqual([
      '4g.96gb@0',
      '2g.48gb@0,2g.48gb@2',
      '2g.48gb@0,1g.24gb@2,1g.24gb@3',
      '1g.24gb@0,1g.24gb@1,2g.48gb@2',
      '1g.24gb@0,1g.24gb@1,1g.24gb@2,1g.24gb@3',
    ]);
  });

  it.each(EIGHT_SLICE_MODELS)('%s has the same 19 over its analogues of the five profiles', (name) => {
    const m = gpu(name);
    // The five-profile set by geometry: every non-+me profile except the two-memory-slice 1g.
    const five = profileSet(m)
      .filter((p) => !(p.computeSlices === 1 && p.memorySlices === 2))
      .map((p) => p.name);
    expect(maximalLayouts(m, five).map((l) => seq(m, l))).toEqual(NINETEEN);
  });
});

describe('maximalLayouts agrees with a brute-force oracle', () => {
  const cases = [
    { name: 'A100-40GB, five profiles', model: 'A100-40GB', profiles: [...FIVE_PROFILES] },
    { name: 'A30 with its +me variants', model: 'A30-24GB', profiles: gpu('A30-24GB').profiles.map((p) => p.name) },
    {
      name: 'RTX PRO 6000 with its +me variant',
      model: 'RTX-PRO-6000-96GB',
      profiles: gpu('RTX-PRO-6000-96GB').profiles.map((p) => p.name),
    },
    {
      name: 'B200, five profiles by geometry',
      model: 'B200-180GB',
      profiles: ['1g.23gb', '2g.45gb', '3g.90gb', '4g.90gb', '7g.180gb'],
    },
    {
      name: 'GB200 with a +me and no 4g or 7g',
      model: 'GB200-186GB',
      profiles: ['1g.23gb+me', '1g.47gb', '2g.47gb', '3g.93gb'],
    },
    {
      name: 'H100 NVL with a +me and the two-slice 1g',
      model: 'H100-94GB',
      profiles: ['1g.12gb+me', '1g.24gb', '2g.24gb', '3g.47gb'],
    },
    {
      name: 'H100 with a +me and no 4g or 7g',
      model: 'H100-80GB',
      profiles: ['1g.10gb+me', '1g.20gb', '2g.20gb', '3g.40gb'],
    },
  ];
  it.each(cases)('$name', ({ model, profiles }) => {
    const m = gpu(model);
    const keys = maximalLayouts(m, profiles).map(layoutKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect([...keys].sort()).toEqual(bruteForceMaximal(m, profiles));
  });
});

describe('maximalLayouts results', () => {
  it.each(ALL_MODELS)('on %s are valid, ordered, maximal and stable', (name) => {
    const m = gpu(name);
    const all = maximalLayouts(m);
    for (const l of all) {
      expect(validateLayout(m, l)).toEqual({ ok: true });
      expect(isMaximal(m, l)).toBe(true);
    }
    expect(maximalLayouts(m).map(layoutKey)).toEqual(all.map(layoutKey));
  });
});

describe('extendToMaximal', () => {
  const cases = [
    { name: 'empty grows to the whole GPU', model: 'A100-40GB', from: '', to: '7g.40gb@0' },
    { name: 'a 4g gets a 3g', model: 'A100-40GB', from: '4g.20gb@0', to: '4g.20gb@0,3g.20gb@4' },
    {
      name: 'a lone 1g fills around it, larger instances first',
      model: 'A100-40GB',
      from: '1g.5gb@3',
      to: '2g.10gb@0,1g.5gb@2,1g.5gb@3,3g.20gb@4',
    },
    {
      name: 'the last pair takes a 1g.10gb when allowed',
      model: 'A100-40GB',
      from: '3g.20gb@0,2g.10gb@4',
      to: '3g.20gb@0,2g.10gb@4,1g.10gb@6',
    },
    {
      name: 'an already maximal layout is unchanged',
      model: 'A30-24GB',
      from: '2g.12gb@0,2g.12gb@2',
      to: '2g.12gb@0,2g.12gb@2',
    },
  ];
  it.each(cases)('$name', ({ model, from, to }) => {
    expect(layoutKey(extendToMaximal(gpu(model), L(from)))).toBe(to);
  });

  it('respects a restricted profile set', () => {
    expect(layoutKey(extendToMaximal(gpu('A100-40GB'), L('3g.20gb@0,2g.10gb@4'), FIVE_PROFILES))).toBe(
      '3g.20gb@0,2g.10gb@4,1g.5gb@6',
    );
  });

  it('refuses an invalid layout, naming the problem', () => {
    expect(() => extendToMaximal(gpu('A100-40GB'), L('3g.20gb@2'))).toThrow(/3g\.20gb@2/);
  });
});

describe('addableSlices and placeInstances', () => {
  it('lists each instance that fits beside a 4g', () => {
    const keys = addableSlices(gpu('A100-40GB'), L('4g.20gb@0'), FIVE_PROFILES).map((s) => `${s.profile}@${s.start}`);
    expect(keys).toEqual(['3g.20gb@4', '2g.10gb@4', '1g.5gb@4', '1g.5gb@5', '1g.5gb@6']);
  });

  const a100 = gpu('A100-40GB');
  const p = (name: string) => {
    const found = a100.profiles.find((q) => q.name === name);
    if (!found) throw new Error(`test setup: no ${name}`);
    return found;
  };
  const cases = [
    { name: 'a 3g and a 4g pack as 4+3', profiles: ['3g.20gb', '4g.20gb'], to: '4g.20gb@0,3g.20gb@4' },
    {
      name: 'a 3g, a 2g and two 1g backtrack to 2+1+1+3',
      profiles: ['1g.5gb', '3g.20gb', '1g.5gb', '2g.10gb'],
      to: '2g.10gb@0,1g.5gb@2,1g.5gb@3,3g.20gb@4',
    },
    { name: 'two 4g do not fit', profiles: ['4g.20gb', '4g.20gb'], to: undefined },
    { name: 'eight 1g.5gb do not fit', profiles: new Array<string>(8).fill('1g.5gb'), to: undefined },
  ];
  it.each(cases)('$name', ({ profiles, to }) => {
    const placed = placeInstances(a100, profiles.map(p));
    expect(placed && layoutKey(placed)).toBe(to);
  });

  it('profileSet names an unknown profile', () => {
    expect(() => profileSet(a100, ['1g.6gb'])).toThrow(/1g\.6gb/);
  });
});
