// Reading Kubernetes objects: quantities, MIG requests, smartmig.io annotations, node MIG facts.
import { describe, expect, it } from 'vitest';
import { ExtenderError } from '../../../extender/errors.js';
import {
  deviceCount,
  nodeInfo,
  parseDuration,
  podIntent,
  podSlices,
  profileOfResource,
  resourceOfProfile,
} from '../../../extender/kube.js';
import type { Pod } from '../../../extender/schemas.js';
import { ProfileBook } from '../../../policy/workload/job.js';
import { EPOCH_MS, minutes, node, pod } from './builders.js';

const book = new ProfileBook();

describe('deviceCount', () => {
  it.each([
    ['1', 1],
    ['7', 7],
    [' 2 ', 2],
    ['1k', 1000],
    ['2000m', 2],
    [3, 3],
  ] as const)('%j → %d', (q, n) => expect(deviceCount(q, 'x')).toBe(n));

  it.each(['', 'one', '1.5', '500m', '-1', '1e3', 'NaN', '99999999999999999999', 1.5, -2])('rejects %j', (q) => {
    expect(() => deviceCount(q, 'Pod.spec.containers[0]')).toThrow(ExtenderError);
    expect(() => deviceCount(q, 'Pod.spec.containers[0]')).toThrow(/Pod\.spec\.containers\[0\]/);
  });
});

describe('profiles and resources', () => {
  it.each([
    ['nvidia.com/mig-1g.5gb', '1g.5gb'],
    ['nvidia.com/mig-1g.5gb.me', '1g.5gb+me'],
    ['nvidia.com/mig-3g.40gb', '3g.40gb'],
    ['nvidia.com/mig-9g.99gb', '9g.99gb'],
  ])('%s ↔ %s', (resource, profile) => {
    expect(profileOfResource(resource)).toBe(profile);
    if (!profile.startsWith('9g')) expect(resourceOfProfile(profile)).toBe(resource);
  });
});

describe('podSlices', () => {
  const base = pod('p');
  const withContainers = (containers: Pod['spec']['containers'], init?: Pod['spec']['containers']): Pod => ({
    ...base,
    spec: { ...base.spec, containers, initContainers: init },
  });
  const lim = (r: Record<string, string>) => ({ resources: { limits: r } });
  const cases: { name: string; pod: Pod; slices: Record<string, number> }[] = [
    {
      name: 'one slice as a limit',
      pod: withContainers([lim({ 'nvidia.com/mig-2g.10gb': '1' })]),
      slices: { '2g.10gb': 1 },
    },
    {
      name: 'requests only',
      pod: withContainers([{ resources: { requests: { 'nvidia.com/mig-1g.5gb': '2' } } }]),
      slices: { '1g.5gb': 2 },
    },
    {
      name: 'summed over containers',
      pod: withContainers([lim({ 'nvidia.com/mig-1g.5gb': '1' }), lim({ 'nvidia.com/mig-1g.5gb': '2', cpu: '1' })]),
      slices: { '1g.5gb': 3 },
    },
    {
      name: 'init containers count as their maximum',
      pod: withContainers([lim({ 'nvidia.com/mig-1g.5gb': '1' })], [lim({ 'nvidia.com/mig-1g.5gb': '4' })]),
      slices: { '1g.5gb': 4 },
    },
    { name: 'no MIG request', pod: withContainers([lim({ cpu: '2', 'nvidia.com/gpu': '1' })]), slices: {} },
    { name: 'a zero request is none', pod: withContainers([lim({ 'nvidia.com/mig-1g.5gb': '0' })]), slices: {} },
    { name: 'no resources at all', pod: withContainers([{ name: 'c' }]), slices: {} },
  ];
  it.each(cases)('$name', ({ pod: p, slices }) => expect(podSlices(p)).toEqual(slices));

  it('names the container and resource of a malformed quantity', () => {
    expect(() => podSlices(withContainers([{ name: 'a' }, lim({ 'nvidia.com/mig-1g.5gb': 'lots' })]))).toThrow(
      'Pod.spec.containers[1].resources[nvidia.com/mig-1g.5gb]: "lots" is not a whole, non-negative device count',
    );
  });
});

describe('parseDuration', () => {
  it.each([
    ['45m', 45 * 60_000],
    ['1h30m', 90 * 60_000],
    ['90s', 90_000],
    ['1.5h', 90 * 60_000],
    ['250ms', 250],
  ])('%s', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['', '45', 'm', '1d', '-5m', '5 m', '9000h', 'PT45M'])('rejects %j', (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );
});

describe('podIntent', () => {
  const withAnnotations = (annotations: Record<string, string>) => pod('p', { annotations });
  const now = minutes(10);
  const cases: { name: string; annotations: Record<string, string>; intent?: object; issues?: string[] }[] = [
    { name: 'none', annotations: {}, intent: {} },
    {
      name: 'deadline as a duration after creation',
      annotations: { 'smartmig.io/deadline': '45m' },
      intent: { deadlineMs: minutes(45) },
    },
    {
      name: 'deadline as RFC 3339',
      annotations: { 'smartmig.io/deadline': '2026-01-01T02:00:00+01:00' },
      intent: { deadlineMs: minutes(60) },
    },
    { name: 'work in minutes', annotations: { 'smartmig.io/work': '12.5' }, intent: { workMin: 12.5 } },
    { name: 'work as a duration', annotations: { 'smartmig.io/work': '2h' }, intent: { workMin: 120 } },
    {
      name: 'moldable profiles, in any spelling, de-duplicated',
      annotations: { 'smartmig.io/profiles': '1g.5gb, mig-2g.10gb,nvidia.com/mig-3g.20gb,1g.5gb' },
      intent: { profiles: ['1g.5gb', '2g.10gb', '3g.20gb'] },
    },
    { name: 'bad deadline', annotations: { 'smartmig.io/deadline': 'tomorrow' }, issues: ['smartmig.io/deadline'] },
    { name: 'bad work', annotations: { 'smartmig.io/work': '0' }, issues: ['smartmig.io/work'] },
    { name: 'unknown workload', annotations: { 'smartmig.io/workload': 'gpt-9' }, issues: ['smartmig.io/workload'] },
    {
      name: 'unknown profile',
      annotations: { 'smartmig.io/profiles': '1g.5gb,5g.25gb' },
      issues: ['smartmig.io/profiles'],
    },
    { name: 'empty profile list', annotations: { 'smartmig.io/profiles': ' , ' }, issues: ['smartmig.io/profiles'] },
    {
      name: 'several problems at once',
      annotations: { 'smartmig.io/deadline': 'x', 'smartmig.io/work': 'y', 'smartmig.io/workload': 'bert-training' },
      issues: ['smartmig.io/deadline', 'smartmig.io/work'],
    },
  ];
  it.each(cases)('$name', ({ annotations, intent, issues }) => {
    const r = podIntent(withAnnotations(annotations), book, now);
    expect(r.issues.map((i) => i.annotation)).toEqual(issues ?? []);
    if (intent) expect(r.intent).toEqual(intent);
  });

  it('knows the speed-up profile a workload names', () => {
    const r = podIntent(withAnnotations({ 'smartmig.io/workload': 'resnet-training' }), book, now);
    expect(r.intent.speedup?.name).toBe('resnet-training');
  });

  it('counts a relative deadline from now when the pod has no creation time yet (admission)', () => {
    const p = withAnnotations({ 'smartmig.io/deadline': '30m' });
    p.metadata.creationTimestamp = null;
    expect(podIntent(p, book, now).intent.deadlineMs).toBe(now + 30 * 60_000);
  });

  it('reads Date timestamps of typed client objects', () => {
    const p = withAnnotations({ 'smartmig.io/deadline': '30m' });
    (p.metadata as { creationTimestamp: unknown }).creationTimestamp = new Date(EPOCH_MS);
    expect(podIntent(p, book, now).intent.deadlineMs).toBe(minutes(30));
  });
});

describe('nodeInfo', () => {
  it('reads model, GPU count and MIG allocatable', () => {
    const info = nodeInfo(node('n', { gpus: 2, mig: { 'nvidia.com/mig-1g.5gb': 14, 'nvidia.com/mig-3g.20gb': 0 } }));
    expect(info).toMatchObject({
      name: 'n',
      gpus: 2,
      allocatable: new Map([['1g.5gb', 14]]),
      reconfiguring: false,
      draining: false,
      cordoned: false,
    });
    expect(info.model?.name).toBe('A100-40GB');
  });

  const cases: { name: string; info: ReturnType<typeof nodeInfo>; expected: object }[] = [
    {
      name: 'GFD product with the MIG single-strategy suffix',
      info: nodeInfo(node('n', { product: 'NVIDIA-H100-80GB-HBM3-MIG-1g.10gb', mig: { 'nvidia.com/mig-1g.10gb': 7 } })),
      expected: { model: expect.objectContaining({ name: 'H100-80GB' }) },
    },
    {
      name: 'model inferred from resources when the label is missing',
      info: nodeInfo(node('n', { product: '', mig: { 'nvidia.com/mig-1g.6gb': 4 } })),
      expected: { model: expect.objectContaining({ name: 'A30-24GB' }) },
    },
    {
      name: 'mig-manager applying a layout',
      info: nodeInfo(node('n', { labels: { 'nvidia.com/mig.config.state': 'pending' } })),
      expected: { reconfiguring: true },
    },
    {
      name: 'mig-manager done',
      info: nodeInfo(node('n', { labels: { 'nvidia.com/mig.config.state': 'success' } })),
      expected: { reconfiguring: false },
    },
    {
      name: 'draining annotation',
      info: nodeInfo(node('n', { annotations: { 'smartmig.io/draining': 'true' } })),
      expected: { draining: true },
    },
    {
      name: 'repartitioning taint',
      info: nodeInfo(node('n', { taints: [{ key: 'smartmig.io/repartitioning', effect: 'NoSchedule' }] })),
      expected: { draining: true },
    },
    { name: 'cordoned', info: nodeInfo(node('n', { unschedulable: true })), expected: { cordoned: true } },
    {
      name: 'a malformed count is skipped',
      info: nodeInfo(
        node('n', { mig: { 'nvidia.com/mig-1g.5gb': 'x' as unknown as number, 'nvidia.com/mig-4g.20gb': 1 } }),
      ),
      expected: { allocatable: new Map([['4g.20gb', 1]]) },
    },
  ];
  it.each(cases)('$name', ({ info, expected }) => expect(info).toMatchObject(expected));

  /** A node whose status lists MIG resources in capacity and allocatable as given (counts as strings). */
  const withStatus = (capacity: Record<string, string>, allocatable?: Record<string, string>) => {
    const n = node('n', { mig: {} });
    return {
      ...n,
      status: { capacity: { cpu: '64', ...capacity }, allocatable: allocatable && { cpu: '63', ...allocatable } },
    };
  };
  const capacityCases: { name: string; node: ReturnType<typeof withStatus>; slices: [string, number][] }[] = [
    {
      name: 'capacity when there is no allocatable at all',
      node: withStatus({ 'nvidia.com/mig-1g.5gb': '7' }),
      slices: [['1g.5gb', 7]],
    },
    {
      name: 'capacity for a MIG resource allocatable lacks',
      node: withStatus(
        { 'nvidia.com/mig-1g.5gb': '7', 'nvidia.com/mig-3g.20gb': '2' },
        { 'nvidia.com/mig-3g.20gb': '2' },
      ),
      slices: [
        ['3g.20gb', 2],
        ['1g.5gb', 7],
      ],
    },
    {
      name: 'allocatable over capacity where both list it',
      node: withStatus({ 'nvidia.com/mig-1g.5gb': '7' }, { 'nvidia.com/mig-1g.5gb': '5' }),
      slices: [['1g.5gb', 5]],
    },
    {
      name: 'an allocatable of 0 (unhealthy devices) is not replaced by capacity',
      node: withStatus({ 'nvidia.com/mig-1g.5gb': '7' }, { 'nvidia.com/mig-1g.5gb': '0' }),
      slices: [],
    },
    {
      name: 'a malformed allocatable is skipped, not replaced by capacity',
      node: withStatus({ 'nvidia.com/mig-1g.5gb': '7' }, { 'nvidia.com/mig-1g.5gb': 'many' }),
      slices: [],
    },
  ];
  it.each(capacityCases)('reads $name', ({ node: n, slices }) => {
    expect([...nodeInfo(n).allocatable]).toEqual(slices);
  });

  it('a node with capacity only gets its model and slices (regression: it had none)', () => {
    const info = nodeInfo(withStatus({ 'nvidia.com/mig-2g.10gb': '3' }));
    expect(info.model?.name).toBe('A100-40GB');
    expect(info.allocatable.get('2g.10gb')).toBe(3);
  });
});
