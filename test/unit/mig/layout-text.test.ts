import { describe, expect, it } from 'vitest';
import { maximalLayouts } from '../../../policy/mig/enumerate.js';
import { describeCompute, formatLayout, parseLayout } from '../../../policy/mig/layout-text.js';
import { namedLayoutNames, resolveNamedLayout } from '../../../policy/mig/named.js';
import { ALL_MODELS, gpu, L } from './build.js';

describe('formatLayout and describeCompute', () => {
  const cases = [
    {
      name: 'two instances',
      model: 'A100-40GB',
      layout: '4g.20gb@0,3g.20gb@4',
      text: '4g.20gb@0,3g.20gb@4',
      compute: '4+3',
    },
    {
      name: 'listed out of order comes out by start',
      model: 'A100-40GB',
      layout: '3g.20gb@4,4g.20gb@0',
      text: '4g.20gb@0,3g.20gb@4',
      compute: '4+3',
    },
    {
      name: 'a 1g.10gb counts one compute slice',
      model: 'A100-40GB',
      layout: '1g.10gb@6,2g.10gb@4,4g.20gb@0',
      text: '4g.20gb@0,2g.10gb@4,1g.10gb@6',
      compute: '4+2+1',
    },
    { name: 'an empty layout', model: 'A100-40GB', layout: '', text: '', compute: '' },
    {
      name: 'A30 with a +me',
      model: 'A30-24GB',
      layout: '1g.6gb+me@0,1g.6gb@1,2g.12gb@2',
      text: '1g.6gb+me@0,1g.6gb@1,2g.12gb@2',
      compute: '1+1+2',
    },
  ];
  it.each(cases)('$name', ({ model, layout, text, compute }) => {
    expect(formatLayout(L(layout))).toBe(text);
    expect(describeCompute(gpu(model), L(layout))).toBe(compute);
  });
});

describe('parseLayout accepts', () => {
  const cases = [
    {
      name: 'instances',
      model: 'A100-40GB',
      text: '4g.20gb@0,3g.20gb@4',
      layout: '4g.20gb@0,3g.20gb@4',
      migEnabled: true,
    },
    {
      name: 'instances in any order, with spaces',
      model: 'A100-40GB',
      text: ' 3g.20gb@4 , 4g.20gb@0 ',
      layout: '4g.20gb@0,3g.20gb@4',
      migEnabled: true,
    },
    {
      name: 'a paper configuration number',
      model: 'A100-40GB',
      text: '12',
      layout: '1g.5gb@0,1g.5gb@1,1g.5gb@2,1g.5gb@3,1g.5gb@4,1g.5gb@5,1g.10gb@6',
      migEnabled: true,
    },
    {
      name: 'a named layout',
      model: 'H100-80GB',
      text: 'all-3g.40gb',
      layout: '3g.40gb@0,3g.40gb@4',
      migEnabled: true,
    },
    {
      name: 'all-disabled, which turns MIG off',
      model: 'A30-24GB',
      text: 'all-disabled',
      layout: '',
      migEnabled: false,
    },
  ];
  it.each(cases)('$name', ({ model, text, layout, migEnabled }) => {
    const parsed = parseLayout(gpu(model), text);
    expect(parsed.ok && { layout: formatLayout(parsed.layout), migEnabled: parsed.migEnabled }).toEqual({
      layout,
      migEnabled,
    });
  });
});

describe('parseLayout rejects with a message', () => {
  const cases = [
    { name: 'empty text', model: 'A100-40GB', text: '  ', mentions: ['empty', 'all-enabled'] },
    { name: 'a missing start', model: 'A100-40GB', text: '4g.20gb', mentions: ['"4g.20gb"', 'PROFILE@START'] },
    { name: 'a profile of another model', model: 'A100-40GB', text: '4g.40gb@0', mentions: ['4g.40gb', '4g.20gb'] },
    { name: 'an overlap', model: 'A100-40GB', text: '4g.20gb@0,3g.20gb@0', mentions: ['3g.20gb@0', 'overlaps'] },
    { name: 'a bad start', model: 'A30-24GB', text: '2g.12gb@1', mentions: ['2g.12gb@1', '0, 2'] },
    { name: 'paper number 13', model: 'A100-40GB', text: '13', mentions: ['"13"', '12'] },
    { name: 'a paper number on an A30', model: 'A30-24GB', text: '2', mentions: ['A30-24GB', '"2"', 'all-balanced'] },
  ];
  it.each(cases)('$name', ({ model, text, mentions }) => {
    const parsed = parseLayout(gpu(model), text);
    expect(parsed.ok).toBe(false);
    for (const m of mentions) expect(parsed.ok ? '' : parsed.message).toContain(m);
  });
});

describe('text round trip', () => {
  it.each(ALL_MODELS)('every maximal and named layout of %s reads back as itself', (model) => {
    const m = gpu(model);
    const named = namedLayoutNames(m).flatMap((n) => {
      const r = resolveNamedLayout(m, n);
      return r && r.layout.slices.length > 0 ? [r.layout] : [];
    });
    for (const layout of [...maximalLayouts(m), ...named]) {
      const text = formatLayout(layout);
      const parsed = parseLayout(m, text);
      expect(parsed.ok && formatLayout(parsed.layout), text).toBe(text);
    }
  });
});
