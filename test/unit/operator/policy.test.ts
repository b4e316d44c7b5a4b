import { describe, expect, it } from 'vitest';
import type { MigPartition } from '../../../api/types.js';
import { targetText } from '../../../operator/migparted.js';
import { resolvePolicy, selects, staticTargets } from '../../../operator/policy.js';
import { findGpuModel, type GpuModel } from '../../../policy/mig/catalog.js';

const A100 = findGpuModel('A100-40GB') as GpuModel;
const CONTROLLERS = new Map([
  ['greedy', { takesModel: false }],
  ['static', { takesModel: false }],
]);

function mp(spec: Partial<MigPartition['spec']>): MigPartition {
  return {
    metadata: { name: 'p', generation: 3, creationTimestamp: new Date('2026-01-01T00:00:00Z') },
    spec: { nodeSelector: {}, mode: 'Static', ...spec },
  };
}

describe('label selectors', () => {
  const labels = { pool: 'a', zone: 'x' };
  const cases: { name: string; sel: Parameters<typeof selects>[0]; want: boolean }[] = [
    { name: 'empty selects everything', sel: {}, want: true },
    { name: 'matchLabels equal', sel: { matchLabels: { pool: 'a' } }, want: true },
    { name: 'matchLabels differ', sel: { matchLabels: { pool: 'b' } }, want: false },
    { name: 'In', sel: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['x', 'y'] }] }, want: true },
    { name: 'NotIn', sel: { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['x'] }] }, want: false },
    {
      name: 'NotIn a missing label',
      sel: { matchExpressions: [{ key: 'gpu', operator: 'NotIn', values: ['x'] }] },
      want: true,
    },
    { name: 'Exists', sel: { matchExpressions: [{ key: 'pool', operator: 'Exists' }] }, want: true },
    { name: 'DoesNotExist', sel: { matchExpressions: [{ key: 'pool', operator: 'DoesNotExist' }] }, want: false },
  ];
  it.each(cases)('$name', ({ sel, want }) => expect(selects(sel, labels)).toBe(want));
});

describe('resolving a MigPartition', () => {
  it('applies defaults and reads limits', () => {
    const p = resolvePolicy(
      mp({ mode: 'Dynamic', limits: { minDwell: '90s', drain: 'Cordon', drainTimeout: '1h' } }),
      CONTROLLERS,
    );
    expect(p).toMatchObject({
      name: 'p',
      generation: 3,
      controller: 'greedy',
      decisionIntervalMs: 30_000,
      minDwellMs: 90_000,
      maxNodesReconfiguring: 1,
      drain: 'Cordon',
      drainTimeoutMs: 3_600_000,
      issues: [],
    });
    expect(p.created).toBe(Date.parse('2026-01-01T00:00:00Z'));
  });

  const bad: { name: string; spec: Partial<MigPartition['spec']>; code: string; path: string }[] = [
    {
      name: 'unknown controller',
      spec: { mode: 'Dynamic', dynamic: { controller: 'oracle' } },
      code: 'UnknownController',
      path: 'spec.dynamic.controller',
    },
    {
      name: 'a model for the greedy controller, which takes none',
      spec: { mode: 'Dynamic', dynamic: { controller: 'greedy', model: 'mean-field-v1' } },
      code: 'ModelNotSupported',
      path: 'spec.dynamic.model',
    },
    {
      name: 'a model for the default controller (greedy)',
      spec: { mode: 'Dynamic', dynamic: { model: 'mean-field-v1' } },
      code: 'ModelNotSupported',
      path: 'spec.dynamic.model',
    },
    {
      name: 'a model for the static controller',
      spec: { mode: 'Dynamic', dynamic: { controller: 'static', model: 'x' } },
      code: 'ModelNotSupported',
      path: 'spec.dynamic.model',
    },
    {
      name: 'layout that does not fit the declared model',
      spec: { gpuModel: 'A100-40GB', static: { layouts: [{ migDevices: { '4g.20gb': 2 } }] } },
      code: 'InvalidLayout',
      path: 'spec.static.layouts[0].migDevices',
    },
    {
      name: 'unknown named layout',
      spec: { gpuModel: 'A100-40GB', static: { layouts: [{ layout: 'all-13g.1tb' }] } },
      code: 'InvalidLayout',
      path: 'spec.static.layouts[0].layout',
    },
    {
      name: 'a GPU named twice',
      spec: {
        static: {
          layouts: [
            { gpus: [0, 1], layout: '1' },
            { gpus: [1], layout: '2' },
          ],
        },
      },
      code: 'DuplicateGpu',
      path: 'spec.static.layouts[1].gpus',
    },
    {
      name: 'a malformed duration (when the apiserver did not check it)',
      spec: { mode: 'Dynamic', limits: { decisionInterval: 'soon' } },
      code: 'InvalidDuration',
      path: 'spec.limits.decisionInterval',
    },
    {
      name: 'In without values',
      spec: { mode: 'Dynamic', nodeSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } },
      code: 'InvalidSelector',
      path: 'spec.nodeSelector.matchExpressions[0]',
    },
  ];
  it.each(bad)('reports $name', ({ spec, code, path }) => {
    const p = resolvePolicy(mp(spec), CONTROLLERS);
    expect(p.issues).toEqual([expect.objectContaining({ code, path, message: expect.any(String) })]);
  });
});

describe('models for controllers', () => {
  it('accepts a model for a controller that takes one, and names it in the message for one that does not', () => {
    const learned = new Map([...CONTROLLERS, ['mean-field', { takesModel: true }]]);
    const ok = resolvePolicy(mp({ mode: 'Dynamic', dynamic: { controller: 'mean-field', model: 'm1' } }), learned);
    expect(ok.issues).toEqual([]);
    expect(ok.modelRef).toBe('m1');
    const bad = resolvePolicy(mp({ mode: 'Dynamic', dynamic: { controller: 'greedy', model: 'm1' } }), learned);
    expect(bad.issues[0]?.message).toMatch(/greedy takes no model.*"m1".*mean-field/);
  });

  it('accepts a Dynamic greedy policy without a model', () => {
    expect(resolvePolicy(mp({ mode: 'Dynamic', dynamic: { controller: 'greedy' } }), CONTROLLERS).issues).toEqual([]);
  });
});

describe('static targets per GPU', () => {
  it('gives listed GPUs their entry and every other GPU the default entry', () => {
    const r = staticTargets([{ gpus: [1], layout: 'all-1g.5gb' }, { layout: '4g.20gb@0,3g.20gb@4' }], A100, 3, []);
    expect(r.ok && r.targets.map(targetText)).toEqual([
      '4g.20gb+3g.20gb',
      Array(7).fill('1g.5gb').join('+'),
      '4g.20gb+3g.20gb',
    ]);
  });

  it('leaves GPUs without an entry as they are (or alone when unknown)', () => {
    const current = [{ layout: { slices: [{ profile: '7g.40gb', start: 0 }] }, migEnabled: true }, undefined];
    const r = staticTargets([{ gpus: [2], layout: 'all-disabled' }], A100, 3, current);
    expect(r.ok && r.targets.map(targetText)).toEqual(['7g.40gb', '', 'disabled']);
  });

  it('names the model in the reason when a layout does not fit it', () => {
    const r = staticTargets([{ layout: '1g.6gb@0' }], A100, 1, []);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.issues[0]?.message).toMatch(/A100-40GB/);
  });
});
