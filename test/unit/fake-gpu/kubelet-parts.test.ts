import { describe, expect, it } from 'vitest';
import { microTime } from '../../../fake-gpu/heartbeat.js';
import { preferenceOf } from '../../../fake-gpu/kubelet.js';
import { rejectedPatch, runningPatch, succeededPatch } from '../../../fake-gpu/pod-status.js';
import { pod } from './build.js';

describe('preferenceOf', () => {
  const cases: [string, Record<string, string>, unknown][] = [
    ['no hint', {}, undefined],
    [
      'its own record wins (restart of fake-gpu)',
      { 'smartmig.io/gpu': '3', 'smartmig.io/slice': '1g.5gb@2', 'smartmig.io/placement': '{"gpu":1}' },
      { gpu: 3, device: '1g.5gb@2' },
    ],
    ["the extender's placement", { 'smartmig.io/placement': '{"node":"n","gpu":2}' }, { gpu: 2 }],
    ['placement without a GPU', { 'smartmig.io/placement': '{"node":"n"}' }, undefined],
    ['unreadable placement', { 'smartmig.io/placement': '{gpu' }, undefined],
    ['negative GPU', { 'smartmig.io/gpu': '-1' }, undefined],
  ];
  for (const [name, ann, want] of cases) {
    it(name, () => {
      expect(preferenceOf(pod({}, ann))).toEqual(want);
    });
  }
});

describe('microTime', () => {
  it('has exactly six fractional digits, as MicroTime needs', () => {
    expect(microTime(new Date('2025-03-04T05:06:07.089Z'))).toBe('2025-03-04T05:06:07.089000Z');
  });
});

describe('pod status patches', () => {
  const p = pod({ 'nvidia.com/mig-1g.5gb': '1' });
  const t0 = new Date('2025-01-01T00:00:00.400Z');
  const t1 = new Date('2025-01-01T00:01:00Z');

  it('running: started, ready, times to the second', () => {
    const s = runningPatch(p, t0).status;
    expect(s).toMatchObject({ phase: 'Running', startTime: '2025-01-01T00:00:00Z' });
    expect(s.conditions).toContainEqual({ type: 'Ready', status: 'True', lastTransitionTime: '2025-01-01T00:00:00Z' });
    expect(s.containerStatuses).toMatchObject([{ name: 'main', ready: true, state: { running: {} } }]);
  });

  it('succeeded: exit code 0 and readiness gone with reason PodCompleted', () => {
    const s = succeededPatch(p, t0, t1).status;
    expect(s.phase).toBe('Succeeded');
    expect(s.conditions).toContainEqual({
      type: 'Ready',
      status: 'False',
      reason: 'PodCompleted',
      lastTransitionTime: '2025-01-01T00:01:00Z',
    });
    expect(s.containerStatuses).toMatchObject([{ state: { terminated: { exitCode: 0, reason: 'Completed' } } }]);
  });

  it('rejected: phase, reason and message only', () => {
    expect(rejectedPatch('OutOfnvidia.com/mig-1g.5gb', 'no room')).toEqual({
      status: { phase: 'Failed', reason: 'OutOfnvidia.com/mig-1g.5gb', message: 'no room' },
    });
  });
});
