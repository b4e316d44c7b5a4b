// DRA nodes in the extender: claims → pod demand, a pool's devices, taints and allocations → NodeMigState.
import { describe, expect, it } from 'vitest';
import { migClaimTemplateSpec, profileSelector } from '../../../dra/claim-templates.js';
import { claimMigDemand, podClaimNames, podClaimSlices, selectedProfile } from '../../../dra/claim-demand.js';
import { DRIVER, deviceName, migDevices } from '../../../dra/devices.js';
import { draNodeMig } from '../../../dra/node-mig.js';
import { STEERING_TAINT, steeringRules } from '../../../dra/steering.js';
import { ClusterCache } from '../../../extender/cache.js';
import { findGpuModel, type GpuModel } from '../../../policy/mig/catalog.js';
import { checkNode } from '../../../policy/placement/node-score.js';
import type { Layout } from '../../../policy/mig/layout.js';
import { ProfileBook } from '../../../policy/workload/job.js';
import type { Node } from '../../../extender/schemas.js';

const A100 = findGpuModel('A100-40GB') as GpuModel;
const all = (gpu: number) => [`gpu-${gpu}`, ...migDevices(A100, gpu).map((d) => deviceName(A100, d))];
const mig = (profile: string, start: number, gpu = 0) =>
  deviceName(A100, { kind: 'mig', gpu, profile: A100.profiles.find((p) => p.name === profile)!, start });
/** `3g.20gb@4,1g.5gb@0` → a Layout. */
const layoutFromKey = (_m: GpuModel, key: string): Layout => ({
  slices: key.split(',').map((s) => {
    const [profile, start] = s.split('@');
    return { profile: profile as string, start: Number(start) };
  }),
});
const obj = (m: ReadonlyMap<string, number>) => Object.fromEntries([...m].sort());

describe('claimMigDemand', () => {
  it("reads smartmig's templates: the first firstAvailable alternative, with its count", () => {
    expect(claimMigDemand(migClaimTemplateSpec(['2g.10gb', '3g.20gb', '1g.5gb']).spec)).toEqual({ '2g.10gb': 1 });
    expect(claimMigDemand(migClaimTemplateSpec(['1g.5gb'], 3).spec)).toEqual({ '1g.5gb': 3 });
  });

  it('reads exactly requests and sums them', () => {
    const exactly = (p: string, count?: number) => ({
      name: 'r',
      exactly: { deviceClassName: 'mig.nvidia.com', selectors: [{ cel: { expression: profileSelector(p) } }], count },
    });
    expect(
      claimMigDemand({ devices: { requests: [exactly('1g.5gb'), exactly('1g.5gb', 2), exactly('3g.20gb')] } }),
    ).toEqual({
      '1g.5gb': 3,
      '3g.20gb': 1,
    });
  });

  it('leaves other shapes alone', () => {
    const req = (r: object) => ({ devices: { requests: [{ name: 'r', exactly: r }] } });
    const sel = [{ cel: { expression: profileSelector('1g.5gb') } }];
    expect(claimMigDemand(req({ deviceClassName: 'gpu.nvidia.com', selectors: sel }))).toBeUndefined();
    expect(claimMigDemand(req({ deviceClassName: 'mig.nvidia.com' }))).toBeUndefined();
    expect(
      claimMigDemand(req({ deviceClassName: 'mig.nvidia.com', selectors: sel, allocationMode: 'All' })),
    ).toBeUndefined();
    expect(claimMigDemand(req({ deviceClassName: 'mig.nvidia.com', selectors: [...sel, ...sel] }))).toBeUndefined();
    expect(claimMigDemand({ devices: { requests: [] } })).toBeUndefined();
    expect(selectedProfile(`device.attributes["${DRIVER}"].profile=="1g.5gb"`)).toBe('1g.5gb');
    expect(selectedProfile(`device.attributes['${DRIVER}'].profile != '1g.5gb'`)).toBeUndefined();
    expect(selectedProfile(`device.attributes['other.com'].profile == '1g.5gb'`)).toBeUndefined();
  });

  it("finds a pod's claims by name or through its status, and sums their demands", () => {
    const pod = {
      spec: {
        resourceClaims: [
          { name: 'a', resourceClaimName: 'shared' },
          { name: 'b', resourceClaimTemplateName: 't' },
          { name: 'c', resourceClaimTemplateName: 't' },
        ],
      },
      status: { resourceClaimStatuses: [{ name: 'b', resourceClaimName: 'pod-b-x' }] },
    };
    expect(podClaimNames(pod)).toEqual(['shared', 'pod-b-x']);
    const demands: Record<string, Record<string, number>> = { shared: { '1g.5gb': 1 }, 'pod-b-x': { '1g.5gb': 1 } };
    expect(podClaimSlices(pod, (n) => demands[n])).toEqual({ '1g.5gb': 2 });
  });
});

describe('draNodeMig', () => {
  it('a steered GPU offers its untainted placements; allocated ones are used', () => {
    const layout = layoutFromKey(A100, '3g.20gb@4,2g.10gb@2,1g.5gb@0,1g.5gb@1');
    const rules = steeringRules('n', A100, new Map([[0, { kind: 'layout', layout }]]));
    const tainted = new Set(rules.map((r) => r.spec.deviceSelector.device as string));
    const s = draNodeMig(A100, all(0), tainted, new Set([mig('1g.5gb', 1)]));
    expect(obj(s.allocatable)).toEqual({ '1g.5gb': 2, '2g.10gb': 1, '3g.20gb': 1 });
    expect(obj(s.used)).toEqual({ '1g.5gb': 1 });
    expect(s.gpus).toBe(1);
  });

  it('an unsteered GPU offers, per profile, the most placements that fit beside the allocated ones', () => {
    const empty = draNodeMig(A100, all(0), new Set(), new Set());
    expect(empty.allocatable.get('1g.5gb')).toBe(7);
    expect(empty.allocatable.get('3g.20gb')).toBe(2);
    expect(empty.allocatable.get('7g.40gb')).toBe(1);
    const one = draNodeMig(A100, all(0), new Set(), new Set([mig('1g.5gb', 0)]));
    expect(one.allocatable.get('1g.5gb')).toBe(7);
    expect(one.used.get('1g.5gb')).toBe(1);
    expect(one.allocatable.get('2g.10gb')).toBe(2);
    expect(one.allocatable.get('3g.20gb')).toBe(1);
    expect(one.allocatable.get('7g.40gb')).toBeUndefined();
  });

  it('a GPU held whole offers nothing; unknown names are ignored', () => {
    const s = draNodeMig(A100, [...all(0), ...all(1), 'gpu-x'], new Set(), new Set(['gpu-0']));
    expect(s.gpus).toBe(2);
    expect(s.allocatable.get('7g.40gb')).toBe(1);
  });
});

describe('ClusterCache on DRA nodes', () => {
  const draNode = (name: string): Node => ({
    metadata: {
      name,
      resourceVersion: '1',
      labels: {
        'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-40GB',
        'nvidia.com/gpu.count': '1',
        'nvidia.com/gpu-operator.resource-allocation.mode': 'dra',
      },
    },
    status: {},
  });

  it('builds the state from slices, taint rules and allocated claims, and drops it when they change', () => {
    const cache = new ClusterCache(new ProfileBook());
    cache.upsertNode(draNode('n'));
    const slice = {
      metadata: { name: 'n-gpu-0' },
      spec: { driver: DRIVER, pool: { name: 'n' }, devices: all(0).map((name) => ({ name })) },
    };
    cache.dra.upsertSlice(slice);
    const before = cache.nodeState('n');
    expect(before?.allocatable.get('1g.5gb')).toBe(7);
    const layout = layoutFromKey(A100, '1g.5gb@0,1g.5gb@1,1g.5gb@2,1g.5gb@3,1g.5gb@4,1g.5gb@5,1g.5gb@6');
    for (const r of steeringRules('n', A100, new Map([[0, { kind: 'layout', layout }]]))) cache.dra.upsertTaintRule(r);
    cache.dra.upsertTaintRule({
      metadata: { name: 'other' },
      spec: {
        deviceSelector: { driver: DRIVER, pool: 'n', device: mig('1g.5gb', 6) },
        taint: { key: 'x', effect: 'NoSchedule' },
      },
    });
    cache.dra.upsertClaim({
      metadata: { namespace: 'ns', name: 'c' },
      spec: migClaimTemplateSpec(['1g.5gb']).spec,
      status: { allocation: { devices: { results: [{ driver: DRIVER, pool: 'n', device: mig('1g.5gb', 0) }] } } },
    });
    const s = cache.nodeState('n');
    expect(s).not.toBe(before);
    expect(obj(s!.allocatable)).toEqual({ '1g.5gb': 7 });
    expect(obj(s!.used)).toEqual({ '1g.5gb': 1 });
    expect(checkNode(s!, { slices: { '1g.5gb': 1 } }).fits).toBe(true);
    expect(checkNode(s!, { slices: { '2g.10gb': 1 } })).toMatchObject({ fits: false, code: 'not-in-layout' });
    expect(cache.dra.claimDemand('ns', 'c')).toEqual({ '1g.5gb': 1 });
    cache.dra.deleteClaim({ metadata: { namespace: 'ns', name: 'c' } });
    expect(cache.nodeState('n')?.used.get('1g.5gb')).toBeUndefined();
    expect(STEERING_TAINT.key).toBe('smartmig.io/outside-layout');
  });
});
