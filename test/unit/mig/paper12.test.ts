import { describe, expect, it } from 'vitest';
import { findProfile } from '../../../policy/mig/catalog.js';
import { computeSizes, layoutKey } from '../../../policy/mig/layout.js';
import { PAPER12, paper12Layout, paperConfigNumber } from '../../../policy/mig/paper12.js';
import { validateLayout } from '../../../policy/mig/validate.js';
import { coveredSlices, EIGHT_SLICE_MODELS, gpu, L } from './build.js';

/** docs/model.md §1: the paper's twelve A100-40GB configurations; a trailing 1g is a 1g.10gb. */
const EXPECTED: [id: number, compute: string, layout: string][] = [
  [1, '7', '7g.40gb@0'],
  [2, '4+3', '4g.20gb@0,3g.20gb@4'],
  [3, '4+2+1', '4g.20gb@0,2g.10gb@4,1g.10gb@6'],
  [4, '4+1+1+1', '4g.20gb@0,1g.5gb@4,1g.5gb@5,1g.10gb@6'],
  [5, '3+3', '3g.20gb@0,3g.20gb@4'],
  [6, '2+2+3', '2g.10gb@0,2g.10gb@2,3g.20gb@4'],
  [7, '2+1+1+3', '2g.10gb@0,1g.5gb@2,1g.5gb@3,3g.20gb@4'],
  [8, '1+1+1+1+3', '1g.5gb@0,1g.5gb@1,1g.5gb@2,1g.5gb@3,3g.20gb@4'],
  [9, '2+2+2+1', '2g.10gb@0,2g.10gb@2,2g.10gb@4,1g.10gb@6'],
  [10, '2+2+1+1+1', '2g.10gb@0,2g.10gb@2,1g.5gb@4,1g.5gb@5,1g.10gb@6'],
  [11, '2+1+1+1+1+1', '2g.10gb@0,1g.5gb@2,1g.5gb@3,1g.5gb@4,1g.5gb@5,1g.10gb@6'],
  [12, '1+1+1+1+1+1+1', '1g.5gb@0,1g.5gb@1,1g.5gb@2,1g.5gb@3,1g.5gb@4,1g.5gb@5,1g.10gb@6'],
];

describe('PAPER12', () => {
  const a100 = gpu('A100-40GB');
  it('numbers the configurations 1..12 in order', () => {
    expect(PAPER12.map((c) => c.id)).toEqual(EXPECTED.map(([id]) => id));
  });

  it.each(EXPECTED)('configuration %i is %s as %s', (id, compute, layout) => {
    const cfg = PAPER12.find((c) => c.id === id);
    expect(cfg && layoutKey(cfg.layout)).toBe(layout);
    expect(cfg?.compute).toBe(compute);
    expect(cfg && computeSizes(a100, cfg.layout).join('+')).toBe(compute);
  });

  it.each(EXPECTED)('configuration %i validates and uses all 8 memory slices exactly once', (id) => {
    const layout = PAPER12.find((c) => c.id === id)?.layout ?? L('');
    expect(validateLayout(a100, layout)).toEqual({ ok: true });
    expect(coveredSlices(a100, layout)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});

describe('paper12Layout on other GPUs', () => {
  const cases = EIGHT_SLICE_MODELS.flatMap((model) => EXPECTED.map(([id, compute]) => ({ model, id, compute })));
  it.each(cases)('$model configuration $id: valid, full, $compute, and numbered back', ({ model, id, compute }) => {
    const m = gpu(model);
    const layout = paper12Layout(m, id);
    expect(layout).toBeDefined();
    if (!layout) return;
    expect(layout.slices.every((s) => findProfile(m, s.profile) !== undefined)).toBe(true);
    expect(validateLayout(m, layout)).toEqual({ ok: true });
    expect(coveredSlices(m, layout)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(computeSizes(m, layout).join('+')).toBe(compute);
    expect(paperConfigNumber(m, layout)).toBe(id);
  });

  it('names H100 profiles for configuration 3', () => {
    expect(layoutKey(paper12Layout(gpu('H100-80GB'), 3) ?? L(''))).toBe('4g.40gb@0,2g.20gb@4,1g.20gb@6');
  });

  const none = [
    { name: 'an A30 has no such geometry', model: 'A30-24GB', id: 1 },
    { name: 'there is no configuration 0', model: 'A100-40GB', id: 0 },
    { name: 'there is no configuration 13', model: 'A100-40GB', id: 13 },
  ];
  it.each(none)('$name', ({ model, id }) => {
    expect(paper12Layout(gpu(model), id)).toBeUndefined();
  });
});

describe('paperConfigNumber', () => {
  const cases = [
    { name: 'listing order does not matter', model: 'A100-40GB', layout: '3g.20gb@4,4g.20gb@0', id: 2 },
    {
      name: 'a trailing 1g.5gb is not configuration 3',
      model: 'A100-40GB',
      layout: '4g.20gb@0,2g.10gb@4,1g.5gb@6',
      id: undefined,
    },
    { name: 'an empty layout is none', model: 'A100-40GB', layout: '', id: undefined },
    { name: 'an A30 layout is none', model: 'A30-24GB', layout: '4g.24gb@0', id: undefined },
  ];
  it.each(cases)('$name', ({ model, layout, id }) => {
    expect(paperConfigNumber(gpu(model), L(layout))).toBe(id);
  });
});
