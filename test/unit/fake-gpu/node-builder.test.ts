import { describe, expect, it } from 'vitest';
import { GPU_MODELS, findGpuModel } from '../../../policy/mig/catalog.js';
import { gpuHardware } from '../../../fake-gpu/hardware.js';
import {
  buildNode,
  deviceResources,
  gfdLabelPatch,
  gfdLabels,
  nodeResources,
  resourcePatch,
  withoutDevices,
  type GpuConfig,
} from '../../../fake-gpu/node-builder.js';
import { gpu, named } from './build.js';

const A100 = gpu('A100-40GB');

describe('deviceResources (device plugin, mixed strategy)', () => {
  const cases: { name: string; gpus: GpuConfig[]; want: Record<string, number> }[] = [
    { name: '8 GPUs all-1g.5gb', gpus: named(A100, 'all-1g.5gb', 8), want: { 'nvidia.com/mig-1g.5gb': 56 } },
    {
      name: '2 GPUs all-balanced',
      gpus: named(A100, 'all-balanced', 2),
      want: { 'nvidia.com/mig-1g.5gb': 4, 'nvidia.com/mig-2g.10gb': 2, 'nvidia.com/mig-3g.20gb': 2 },
    },
    { name: 'MIG disabled: whole GPUs', gpus: named(A100, 'all-disabled', 3), want: { 'nvidia.com/gpu': 3 } },
    { name: 'MIG enabled, nothing carved', gpus: named(A100, 'all-enabled', 2), want: {} },
    {
      name: 'mixed node',
      gpus: [...named(A100, 'all-disabled'), ...named(A100, 'all-7g.40gb'), ...named(A100, 'all-1g.5gb.me')],
      want: { 'nvidia.com/gpu': 1, 'nvidia.com/mig-1g.5gb.me': 1, 'nvidia.com/mig-7g.40gb': 1 },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(deviceResources(A100, c.gpus)).toEqual(c.want);
    });
  }
});

describe('gfdLabels', () => {
  it('labels an all-balanced A100 node like GPU feature discovery with the mixed strategy', () => {
    const labels = gfdLabels(A100, named(A100, 'all-balanced', 8));
    expect(labels).toMatchObject({
      'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-40GB',
      'nvidia.com/gpu.count': '8',
      'nvidia.com/gpu.memory': '40960',
      'nvidia.com/mig.strategy': 'mixed',
      'nvidia.com/mig.capable': 'true',
      'nvidia.com/mig-1g.5gb.count': '16',
      'nvidia.com/mig-2g.10gb.count': '8',
      'nvidia.com/mig-3g.20gb.count': '8',
      'nvidia.com/mig-3g.20gb.memory': String(20 * 1024),
      'nvidia.com/mig-3g.20gb.slices.gi': '3',
    });
    expect(Object.keys(labels).filter((k) => k.includes('7g.40gb'))).toEqual([]);
  });

  it.each(GPU_MODELS)('%s: the product label resolves back to the model', (name) => {
    const model = gpu(name);
    expect(findGpuModel(gfdLabels(model, named(model, 'all-disabled'))['nvidia.com/gpu.product'] ?? '')).toBe(model);
    expect(gpuHardware(model).deviceId).toMatch(/^0x[0-9A-F]{4}10DE$/);
  });

  it('a new layout removes the MIG type labels it no longer has and keeps other labels', () => {
    const before = { ...gfdLabels(A100, named(A100, 'all-balanced')), team: 'a' };
    const after = gfdLabels(A100, named(A100, 'all-7g.40gb'));
    const patch = gfdLabelPatch(before, after);
    expect(patch['nvidia.com/mig-1g.5gb.count']).toBeNull();
    expect(patch['nvidia.com/mig-2g.10gb.slices.ci']).toBeNull();
    expect(patch['nvidia.com/mig-7g.40gb.count']).toBe('1');
    expect(patch).not.toHaveProperty('team');
  });
});

describe('node resources', () => {
  it('capacity holds cpu, memory, pods and the devices', () => {
    expect(nodeResources(A100, named(A100, 'all-3g.20gb', 4), { cpu: '8', memory: '64Gi', pods: '20' })).toEqual({
      cpu: '8',
      memory: '64Gi',
      pods: '20',
      'nvidia.com/mig-3g.20gb': '8',
    });
  });

  it('resourcePatch removes devices that are gone and never touches other resources', () => {
    const patch = resourcePatch(
      { cpu: '8', 'nvidia.com/mig-1g.5gb': '7', 'example.com/x': '1' },
      { cpu: '8', 'nvidia.com/gpu': '1' },
    );
    expect(patch).toEqual({ cpu: '8', 'nvidia.com/gpu': '1', 'nvidia.com/mig-1g.5gb': null });
  });

  it('withoutDevices zeroes GPU devices only', () => {
    expect(withoutDevices({ cpu: '8', 'nvidia.com/mig-1g.5gb': '7' })).toEqual({
      cpu: '8',
      'nvidia.com/mig-1g.5gb': '0',
    });
  });
});

describe('buildNode', () => {
  it('is Ready, labelled as mig-manager left it, with allocatable equal to capacity', () => {
    const node = buildNode(
      { name: 'fake-gpu-0', model: A100, gpus: named(A100, 'all-1g.5gb', 2), config: 'all-1g.5gb' },
      new Date('2025-01-01T00:00:00Z'),
    );
    expect(node.metadata?.labels).toMatchObject({
      'kubernetes.io/hostname': 'fake-gpu-0',
      'smartmig.io/fake-gpu': 'true',
      'nvidia.com/mig.config': 'all-1g.5gb',
      'nvidia.com/mig.config.state': 'success',
      'nvidia.com/gpu.deploy.device-plugin': 'true',
    });
    expect(node.status?.capacity?.['nvidia.com/mig-1g.5gb']).toBe('14');
    expect(node.status?.allocatable).toEqual(node.status?.capacity);
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });
});
