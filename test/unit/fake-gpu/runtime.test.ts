import { describe, expect, it } from 'vitest';
import { gpuRequests, parseWork, runPlan } from '../../../fake-gpu/runtime.js';
import { pod } from './build.js';

describe('parseWork', () => {
  const cases: [string, number | undefined][] = [
    ['45', 45],
    ['2.5', 2.5],
    ['30m', 30],
    ['1h30m', 90],
    ['90s', 1.5],
    ['1500ms', 0.025],
    ['soon', undefined],
    ['-3', undefined],
    ['', undefined],
  ];
  for (const [text, minutes] of cases) {
    it(`"${text}" → ${String(minutes)}`, () => {
      const r = parseWork(text);
      expect(r.ok ? r.minutes : undefined).toBe(minutes);
    });
  }
});

describe('runPlan', () => {
  const opts = { timeScale: 60, defaultWorkMinutes: 5 };
  const cases: { name: string; ann: Record<string, string>; compute: number; ms: number; workload: string }[] = [
    {
      name: 'linear by default: 60 min on 1g',
      ann: { 'smartmig.io/work': '60' },
      compute: 1,
      ms: 60_000,
      workload: 'linear',
    },
    { name: 'linear on 3g', ann: { 'smartmig.io/work': '60m' }, compute: 3, ms: 20_000, workload: 'linear' },
    {
      name: 'bert-training on 3g (speed-up 2.636)',
      ann: { 'smartmig.io/work': '1h', 'smartmig.io/workload': 'bert-training' },
      compute: 3,
      ms: 60_000 / 2.636,
      workload: 'bert-training',
    },
    {
      name: 'resnet-inference on a whole A100 (7 slices, 5.75)',
      ann: { 'smartmig.io/work': '23', 'smartmig.io/workload': 'resnet-inference' },
      compute: 7,
      ms: 4_000,
      workload: 'resnet-inference',
    },
    { name: 'default work', ann: {}, compute: 1, ms: 5_000, workload: 'linear' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const plan = runPlan(pod({}, c.ann), c.compute, opts);
      expect(plan.millis).toBeCloseTo(c.ms, 6);
      expect(plan.workload).toBe(c.workload);
      expect(plan.warnings).toEqual([]);
    });
  }

  it('falls back with a warning on unreadable annotations', () => {
    const plan = runPlan(pod({}, { 'smartmig.io/work': 'soon', 'smartmig.io/workload': 'gpt' }), 2, opts);
    expect(plan.millis).toBeCloseTo(2_500, 6);
    expect(plan.warnings).toHaveLength(2);
  });

  it('scales with --time-scale', () => {
    expect(runPlan(pod({}, { 'smartmig.io/work': '10' }), 1, { ...opts, timeScale: 600 }).millis).toBeCloseTo(1_000, 6);
  });
});

describe('gpuRequests', () => {
  it('reads requests, or limits alone, and ignores other resources', () => {
    expect(gpuRequests(pod({ 'nvidia.com/mig-1g.5gb': '2', cpu: '1' }))).toEqual(
      new Map([['nvidia.com/mig-1g.5gb', 2]]),
    );
    expect(gpuRequests(pod({ 'nvidia.com/gpu': '1' }, {}, { asLimits: true }))).toEqual(
      new Map([['nvidia.com/gpu', 1]]),
    );
  });

  it('sums containers and takes the larger init container', () => {
    const p = pod({ 'nvidia.com/mig-1g.5gb': '1' });
    p.spec?.containers.push({ name: 'side', resources: { limits: { 'nvidia.com/mig-1g.5gb': '1' } } });
    p.spec!.initContainers = [{ name: 'init', resources: { limits: { 'nvidia.com/mig-1g.5gb': '3' } } }];
    expect(gpuRequests(p)).toEqual(new Map([['nvidia.com/mig-1g.5gb', 3]]));
  });
});
