import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  durationMs,
  holdsDevices,
  isPendingDemand,
  nodeFacts,
  podDeadline,
  podFacts,
  profileOfResource,
} from '../../../operator/facts.js';

function pod(spec: Partial<V1Pod['spec']>, meta: Partial<V1Pod['metadata']> = {}, phase = 'Pending'): V1Pod {
  return {
    metadata: { name: 'p', namespace: 'ns', creationTimestamp: new Date('2026-01-01T00:00:00Z'), ...meta },
    spec: { containers: [], ...spec },
    status: { phase },
  };
}

describe('pods as facts', () => {
  it('sums MIG requests over containers, from limits or requests, and maps .me to +me', () => {
    const f = podFacts(
      pod({
        containers: [
          { name: 'a', resources: { limits: { 'nvidia.com/mig-1g.5gb': '2' } } },
          { name: 'b', resources: { requests: { 'nvidia.com/mig-1g.5gb': '1', 'nvidia.com/mig-1g.5gb.me': '1' } } },
          { name: 'c', resources: { limits: { 'nvidia.com/gpu': '1', cpu: '2' } } },
        ],
      }),
    );
    expect([...f.slices]).toEqual([
      ['1g.5gb', 3],
      ['1g.5gb+me', 1],
    ]);
    expect(f.wholeGpus).toBe(1);
    expect(f.key).toBe('ns/p');
  });

  it('reads the GPU index from smartmig.io/gpu only', () => {
    expect(podFacts(pod({}, { annotations: { 'smartmig.io/gpu': '3' } })).gpu).toBe(3);
    expect(podFacts(pod({}, { annotations: { 'smartmig.io/gpu': 'x' } })).gpu).toBeUndefined();
    expect(podFacts(pod({}, { annotations: { 'smartmig.io/gpu': '' } })).gpu).toBeUndefined();
    // The extender's placement record names the node, never the GPU (extender/kube.ts PlacementRecord).
    const record = { node: 'n', slices: { '1g.5gb': 1 }, heuristic: 'marginal-et', at: '2026-01-01T00:00:00Z' };
    const placed = { 'smartmig.io/placement': JSON.stringify({ ...record, expectedFinish: null, deadline: null }) };
    expect(podFacts(pod({}, { annotations: placed })).gpu).toBeUndefined();
  });

  it('reads deadlines as RFC 3339 times or durations after creation', () => {
    const created = Date.parse('2026-01-01T00:00:00Z');
    expect(podDeadline('2026-01-01T01:00:00Z', created)).toBe(created + 3_600_000);
    expect(podDeadline('45m', created)).toBe(created + 45 * 60_000);
    expect(podDeadline('1h30m', created)).toBe(created + 90 * 60_000);
    expect(podDeadline('tomorrow', created)).toBeUndefined();
    expect(durationMs('250ms')).toBe(250);
  });

  it('tells devices held from demand waiting', () => {
    const limits = { limits: { 'nvidia.com/mig-3g.20gb': '1' } };
    const bound = podFacts(pod({ nodeName: 'n', containers: [{ name: 'c', resources: limits }] }, {}, 'Running'));
    const done = podFacts(pod({ nodeName: 'n', containers: [{ name: 'c', resources: limits }] }, {}, 'Succeeded'));
    const waiting = podFacts(pod({ containers: [{ name: 'c', resources: limits }] }));
    const deleting = podFacts(
      pod({ containers: [{ name: 'c', resources: limits }] }, { deletionTimestamp: new Date() }),
    );
    const cpuOnly = podFacts(pod({ nodeName: 'n', containers: [{ name: 'c' }] }, {}, 'Running'));
    expect([holdsDevices(bound), holdsDevices(done), holdsDevices(waiting), holdsDevices(cpuOnly)]).toEqual([
      true,
      false,
      false,
      false,
    ]);
    expect([isPendingDemand(waiting), isPendingDemand(deleting), isPendingDemand(bound)]).toEqual([true, false, false]);
  });

  it('maps device-plugin resources to profile names', () => {
    expect(profileOfResource('nvidia.com/mig-2g.10gb')).toBe('2g.10gb');
    expect(profileOfResource('nvidia.com/mig-1g.5gb.me')).toBe('1g.5gb+me');
    expect(profileOfResource('nvidia.com/gpu')).toBeUndefined();
  });
});

describe('nodes as facts', () => {
  it('reads GPU feature discovery labels, mig-manager state and the operator marks', () => {
    const node: V1Node = {
      metadata: {
        name: 'n1',
        resourceVersion: '42',
        labels: {
          'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-40GB',
          'nvidia.com/gpu.count': '8',
          'nvidia.com/mig.config': 'smartmig-abc',
          'nvidia.com/mig.config.state': 'pending',
        },
        annotations: {
          'smartmig.io/partition': 'p',
          'smartmig.io/desired-config': 'smartmig-abc',
          'smartmig.io/draining': '0,3',
          'smartmig.io/last-change': '{"0":"2026-01-01T00:00:00Z","bad":"x"}',
          'smartmig.io/failures': '2',
        },
      },
      spec: { taints: [{ key: 'smartmig.io/repartitioning', effect: 'NoSchedule' }] },
    };
    const f = nodeFacts(node);
    expect(f).toMatchObject({
      name: 'n1',
      gpuCount: 8,
      migConfig: 'smartmig-abc',
      migState: 'pending',
      owner: 'p',
      desired: 'smartmig-abc',
      draining: [0, 3],
      failures: 2,
      tainted: true,
      resourceVersion: '42',
    });
    expect(f.detectedModel?.name).toBe('A100-40GB');
    expect([...f.lastChange]).toEqual([[0, Date.parse('2026-01-01T00:00:00Z')]]);
  });

  it('treats missing or malformed values as absent', () => {
    const f = nodeFacts({
      metadata: {
        name: 'n',
        labels: { 'nvidia.com/gpu.count': 'many' },
        annotations: { 'smartmig.io/last-change': '{' },
      },
    });
    expect(f.gpuCount).toBeUndefined();
    expect(f.detectedModel).toBeUndefined();
    expect(f.draining).toBeUndefined();
    expect(f.lastChange.size).toBe(0);
  });
});
