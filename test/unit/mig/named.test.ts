import { describe, expect, it } from 'vitest';
import { layoutKey } from '../../../policy/mig/layout.js';
import { namedLayoutNames, resolveNamedLayout } from '../../../policy/mig/named.js';
import { validateLayout } from '../../../policy/mig/validate.js';
import { ALL_MODELS, gpu } from './build.js';

describe('resolveNamedLayout', () => {
  const cases: { name: string; model: string; layout: string; expected: string; migEnabled?: boolean }[] = [
    { name: 'all-disabled turns MIG off', model: 'A100-40GB', layout: 'all-disabled', expected: '', migEnabled: false },
    { name: 'all-enabled is MIG on with nothing carved', model: 'A100-40GB', layout: 'all-enabled', expected: '' },
    {
      name: 'all-1g.5gb is seven instances',
      model: 'A100-40GB',
      layout: 'all-1g.5gb',
      expected: '1g.5gb@0,1g.5gb@1,1g.5gb@2,1g.5gb@3,1g.5gb@4,1g.5gb@5,1g.5gb@6',
    },
    {
      name: 'all-1g.10gb is four',
      model: 'A100-40GB',
      layout: 'all-1g.10gb',
      expected: '1g.10gb@0,1g.10gb@2,1g.10gb@4,1g.10gb@6',
    },
    {
      name: 'all-2g.10gb is three',
      model: 'A100-40GB',
      layout: 'all-2g.10gb',
      expected: '2g.10gb@0,2g.10gb@2,2g.10gb@4',
    },
    { name: 'all-3g.20gb is two', model: 'A100-40GB', layout: 'all-3g.20gb', expected: '3g.20gb@0,3g.20gb@4' },
    { name: 'all-4g.20gb is one', model: 'A100-40GB', layout: 'all-4g.20gb', expected: '4g.20gb@0' },
    { name: 'all-7g.40gb is one', model: 'A100-40GB', layout: 'all-7g.40gb', expected: '7g.40gb@0' },
    { name: 'a +me profile fits once', model: 'A100-40GB', layout: 'all-1g.5gb+me', expected: '1g.5gb+me@0' },
    { name: "mig-parted's .me spelling", model: 'H100-80GB', layout: 'all-1g.10gb.me', expected: '1g.10gb+me@0' },
    {
      name: 'all-balanced on A100-40GB: 2×1g.5gb, 2g.10gb, 3g.20gb',
      model: 'A100-40GB',
      layout: 'all-balanced',
      expected: '2g.10gb@0,1g.5gb@2,1g.5gb@3,3g.20gb@4',
    },
    {
      name: 'all-balanced on H200',
      model: 'H200-141GB',
      layout: 'all-balanced',
      expected: '2g.35gb@0,1g.18gb@2,1g.18gb@3,3g.71gb@4',
    },
    {
      name: 'all-balanced on A30: 2×1g.6gb, 2g.12gb',
      model: 'A30-24GB',
      layout: 'all-balanced',
      expected: '2g.12gb@0,1g.6gb@2,1g.6gb@3',
    },
    { name: 'all-4g.24gb on A30', model: 'A30-24GB', layout: 'all-4g.24gb', expected: '4g.24gb@0' },
    // all-balanced on the newer GPUs: the instances of the GPU operator's all-balanced config for each.
    {
      name: 'all-balanced on H100 NVL: 2×1g.12gb, 2g.24gb, 3g.47gb',
      model: 'H100-94GB',
      layout: 'all-balanced',
      expected: '2g.24gb@0,1g.12gb@2,1g.12gb@3,3g.47gb@4',
    },
    {
      name: 'all-balanced on B200: 2×1g.23gb, 2g.45gb, 3g.90gb',
      model: 'B200-180GB',
      layout: 'all-balanced',
      expected: '2g.45gb@0,1g.23gb@2,1g.23gb@3,3g.90gb@4',
    },
    {
      name: 'all-balanced on GB200: 2×1g.23gb, 2g.47gb, 3g.93gb',
      model: 'GB200-186GB',
      layout: 'all-balanced',
      expected: '2g.47gb@0,1g.23gb@2,1g.23gb@3,3g.93gb@4',
    },
    {
      name: 'all-balanced on RTX PRO 6000: 2×1g.24gb, 2g.48gb',
      model: 'RTX-PRO-6000-96GB',
      layout: 'all-balanced',
      expected: '2g.48gb@0,1g.24gb@2,1g.24gb@3',
    },
    {
      name: 'all-1g.23gb on B200 is seven',
      model: 'B200-180GB',
      layout: 'all-1g.23gb',
      expected: '1g.23gb@0,1g.23gb@1,1g.23gb@2,1g.23gb@3,1g.23gb@4,1g.23gb@5,1g.23gb@6',
    },
    {
      name: 'all-1g.24gb.me on RTX PRO 6000',
      model: 'RTX-PRO-6000-96GB',
      layout: 'all-1g.24gb.me',
      expected: '1g.24gb+me@0',
    },
    {
      name: 'all-2g.48gb on RTX PRO 6000',
      model: 'RTX-PRO-6000-96GB',
      layout: 'all-2g.48gb',
      expected: '2g.48gb@0,2g.48gb@2',
    },
    { name: 'all-7g.186gb on GB200', model: 'GB200-186GB', layout: 'all-7g.186gb', expected: '7g.186gb@0' },
    {
      name: 'paper configuration 3 on H100 NVL',
      model: 'H100-94GB',
      layout: '3',
      expected: '4g.47gb@0,2g.24gb@4,1g.24gb@6',
    },
    { name: 'paper configuration 3', model: 'A100-40GB', layout: '3', expected: '4g.20gb@0,2g.10gb@4,1g.10gb@6' },
    { name: 'paper configuration 5 on A100-80GB', model: 'A100-80GB', layout: '5', expected: '3g.40gb@0,3g.40gb@4' },
    { name: 'surrounding spaces are ignored', model: 'A100-40GB', layout: ' all-7g.40gb ', expected: '7g.40gb@0' },
  ];
  it.each(cases)('$name', ({ model, layout, expected, migEnabled = true }) => {
    const named = resolveNamedLayout(gpu(model), layout);
    expect(named && { migEnabled: named.migEnabled, layout: layoutKey(named.layout) }).toEqual({
      migEnabled,
      layout: expected,
    });
  });

  const unknown = [
    { name: 'a profile of another model', model: 'A100-40GB', layout: 'all-2g.20gb' },
    { name: 'a paper number on an A30', model: 'A30-24GB', layout: '1' },
    { name: 'paper number 13', model: 'A100-40GB', layout: '13' },
    { name: 'paper number with a leading zero', model: 'A100-40GB', layout: '01' },
    { name: 'an unknown name', model: 'A100-40GB', layout: 'all-fast' },
  ];
  it.each(unknown)('is undefined for $name', ({ model, layout }) => {
    expect(resolveNamedLayout(gpu(model), layout)).toBeUndefined();
  });
});

describe('namedLayoutNames', () => {
  it('lists the A100-40GB names in a stable order', () => {
    expect(namedLayoutNames(gpu('A100-40GB'))).toEqual([
      'all-disabled',
      'all-enabled',
      'all-1g.5gb',
      'all-1g.5gb+me',
      'all-1g.10gb',
      'all-2g.10gb',
      'all-3g.20gb',
      'all-4g.20gb',
      'all-7g.40gb',
      'all-balanced',
      ...Array.from({ length: 12 }, (_, i) => String(i + 1)),
    ]);
  });

  it('leaves paper numbers out on an A30', () => {
    expect(namedLayoutNames(gpu('A30-24GB')).filter((n) => /^\d+$/.test(n))).toEqual([]);
  });

  it.each(ALL_MODELS)('every name on %s resolves to a valid layout', (model) => {
    const m = gpu(model);
    for (const name of namedLayoutNames(m)) {
      const named = resolveNamedLayout(m, name);
      expect(named, name).toBeDefined();
      if (named) expect(validateLayout(m, named.layout), name).toEqual({ ok: true });
    }
  });
});
