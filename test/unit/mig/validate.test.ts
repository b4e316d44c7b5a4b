import { describe, expect, it } from 'vitest';
import type { GpuModel } from '../../../policy/mig/catalog.js';
import { baseProfile, validateLayout } from '../../../policy/mig/validate.js';
import { findProfile } from '../../../policy/mig/catalog.js';
import { gpu, L } from './build.js';

describe('validateLayout accepts', () => {
  const cases: { name: string; model: string; layout: string }[] = [
    { name: 'an empty layout (MIG on, nothing carved)', model: 'A100-40GB', layout: '' },
    { name: 'the whole GPU', model: 'A100-40GB', layout: '7g.40gb@0' },
    { name: '4g + 3g: 8 memory slices but 7 compute', model: 'A100-40GB', layout: '4g.20gb@0,3g.20gb@4' },
    { name: 'two 3g halves', model: 'A100-40GB', layout: '3g.20gb@0,3g.20gb@4' },
    { name: 'a 1g.10gb on the last memory pair', model: 'A100-40GB', layout: '4g.20gb@0,2g.10gb@4,1g.10gb@6' },
    {
      name: 'a +me instance beside six plain ones of its base',
      model: 'A100-40GB',
      layout: '1g.5gb@0,1g.5gb@1,1g.5gb+me@2,1g.5gb@3,1g.5gb@4,1g.5gb@5,1g.5gb@6',
    },
    { name: 'gaps between instances', model: 'A100-40GB', layout: '1g.5gb@1,3g.20gb@4' },
    { name: 'H100 4g + 3g', model: 'H100-80GB', layout: '4g.40gb@0,3g.40gb@4' },
    {
      name: 'H200 seven 1g',
      model: 'H200-141GB',
      layout: '1g.18gb@0,1g.18gb@1,1g.18gb@2,1g.18gb@3,1g.18gb@4,1g.18gb@5,1g.18gb@6',
    },
    { name: 'A30 2g+me with two 1g', model: 'A30-24GB', layout: '2g.12gb+me@0,1g.6gb@2,1g.6gb@3' },
    {
      name: 'A30 four 1g using the last memory slice',
      model: 'A30-24GB',
      layout: '1g.6gb@0,1g.6gb@1,1g.6gb@2,1g.6gb@3',
    },
  ];
  it.each(cases)('$name', ({ model, layout }) => {
    expect(validateLayout(gpu(model), L(layout))).toEqual({ ok: true });
  });
});

describe('validateLayout rejects with a reason', () => {
  const a30With3Compute: GpuModel = { ...gpu('A30-24GB'), computeSlices: 3 };
  const cases: {
    name: string;
    model: GpuModel;
    layout: string;
    issues: [code: string, path: string][];
    /** Text every message of the first issue must contain (names the profile and start). */
    mentions: string[];
  }[] = [
    {
      name: 'a profile of another model',
      model: gpu('A100-40GB'),
      layout: '2g.20gb@0',
      issues: [['unknown-profile', 'slices[0]']],
      mentions: ['2g.20gb', 'A100-40GB', '2g.10gb'],
    },
    {
      name: '3g at a quarter boundary',
      model: gpu('A100-40GB'),
      layout: '3g.20gb@2',
      issues: [['bad-start', 'slices[0]']],
      mentions: ['3g.20gb@2', '0, 4'],
    },
    {
      name: '1g.5gb on the eighth memory slice',
      model: gpu('A100-40GB'),
      layout: '4g.20gb@0,3g.20gb@4,1g.5gb@7',
      issues: [['bad-start', 'slices[2]']],
      mentions: ['1g.5gb@7', '0, 1, 2, 3, 4, 5, 6'],
    },
    {
      name: '2g at an odd slice',
      model: gpu('H100-80GB'),
      layout: '2g.20gb@1',
      issues: [['bad-start', 'slices[0]']],
      mentions: ['2g.20gb@1'],
    },
    {
      name: 'an instance running past memory',
      model: gpu('A100-40GB'),
      layout: '2g.10gb@7',
      issues: [['out-of-range', 'slices[0]']],
      mentions: ['2g.10gb@7', '0 to 6'],
    },
    {
      name: 'a negative start',
      model: gpu('A100-40GB'),
      layout: '1g.5gb@-1',
      issues: [['out-of-range', 'slices[0]']],
      mentions: ['1g.5gb@-1'],
    },
    {
      name: 'a fractional start',
      model: gpu('A30-24GB'),
      layout: '1g.6gb@1.5',
      issues: [['out-of-range', 'slices[0]']],
      mentions: ['1g.6gb@1.5'],
    },
    {
      name: '2g inside a 4g',
      model: gpu('A100-40GB'),
      layout: '4g.20gb@0,2g.10gb@2',
      issues: [['overlap', 'slices[1]']],
      mentions: ['2g.10gb@2', '4g.20gb@0', 'slices[0]'],
    },
    {
      name: 'a 1g on top of a 3g with the same start',
      model: gpu('A100-40GB'),
      layout: '3g.20gb@0,3g.20gb@4,1g.5gb@4',
      issues: [['overlap', 'slices[2]']],
      mentions: ['1g.5gb@4', '3g.20gb@4'],
    },
    {
      name: 'two +me instances of one profile',
      model: gpu('A100-40GB'),
      layout: '1g.5gb+me@0,1g.5gb+me@1',
      issues: [
        ['too-many', 'slices[1]'],
        ['too-many', 'slices[1]'],
      ],
      mentions: ['1g.5gb+me@1', 'at most 1'],
    },
    {
      name: 'two different +me instances on an A30 (one media unit set)',
      model: gpu('A30-24GB'),
      layout: '1g.6gb+me@0,2g.12gb+me@2',
      issues: [['too-many', 'slices[1]']],
      mentions: ['2g.12gb+me@2', 'media'],
    },
    {
      name: 'the whole GPU twice: every broken rule is named',
      model: gpu('A100-40GB'),
      layout: '7g.40gb@0,7g.40gb@0',
      issues: [
        ['overlap', 'slices[1]'],
        ['too-many', 'slices[1]'],
        ['compute-exceeded', 'slices[1]'],
      ],
      mentions: ['7g.40gb@0'],
    },
    {
      name: 'instances listed out of physical order',
      model: gpu('A100-40GB'),
      layout: '3g.20gb@4,4g.20gb@0',
      issues: [['unordered', 'slices[1]']],
      mentions: ['4g.20gb@0', '3g.20gb@4'],
    },
    {
      name: 'more compute than the GPU has (synthetic 3-compute A30)',
      model: a30With3Compute,
      layout: '2g.12gb@0,2g.12gb@2',
      issues: [['compute-exceeded', 'slices[1]']],
      mentions: ['2g.12gb@2', 'to 4', 'has 3'],
    },
  ];
  it.each(cases)('$name', ({ model, layout, issues, mentions }) => {
    const check = validateLayout(model, L(layout));
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.issues.map((i) => [i.code, i.path])).toEqual(issues);
    for (const m of mentions) expect(check.issues[0]?.message).toContain(m);
  });
});

describe('baseProfile', () => {
  const cases = [
    { name: 'a +me variant maps to its base', model: 'A100-40GB', profile: '1g.5gb+me', base: '1g.5gb' },
    { name: 'an A30 2g +me maps to 2g', model: 'A30-24GB', profile: '2g.12gb+me', base: '2g.12gb' },
    { name: 'a plain profile is its own base', model: 'H100-80GB', profile: '1g.20gb', base: '1g.20gb' },
  ];
  it.each(cases)('$name', ({ model, profile, base }) => {
    const m = gpu(model);
    const p = findProfile(m, profile);
    if (!p) throw new Error(`test setup: no ${profile}`);
    expect(baseProfile(m, p).name).toBe(base);
  });
});
