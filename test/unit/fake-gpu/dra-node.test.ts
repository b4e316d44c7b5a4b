import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, checkConfig } from '../../../fake-gpu/config.js';
import { buildNode, modeLabelPatch, nodeLabels } from '../../../fake-gpu/node-builder.js';
import { main } from '../../../cli/main.js';
import { gpu } from './build.js';

const A100 = gpu('A100-40GB');

describe('a DRA node', () => {
  const r = checkConfig({ ...DEFAULT_CONFIG, allocationMode: 'dra', gpusPerNode: 2 });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  const gpus = new Array(2).fill(r.config.initial);
  const spec = { name: 'n0', model: A100, gpus, config: r.config.layout, allocationMode: r.config.allocationMode };

  it('starts its GPUs in MIG mode with no instance, whatever --layout says', () => {
    expect(r.config.initial).toEqual({ migEnabled: true, layout: { slices: [] } });
  });

  it('has GFD labels and the allocation mode, but no mig-manager, device plugin or MIG type labels', () => {
    const labels = nodeLabels(spec);
    expect(labels).toMatchObject({
      'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-40GB',
      'nvidia.com/gpu.count': '2',
      'nvidia.com/gpu-operator.resource-allocation.mode': 'dra',
      'nvidia.com/gpu.deploy.dra-driver': 'true',
    });
    const keys = Object.keys(labels);
    expect(keys.filter((k) => k.startsWith('nvidia.com/mig-') || k.startsWith('nvidia.com/mig.config'))).toEqual([]);
    expect(labels['nvidia.com/gpu.deploy.device-plugin']).toBeUndefined();
    expect(labels['nvidia.com/gpu.deploy.mig-manager']).toBeUndefined();
  });

  it('advertises no nvidia.com capacity', () => {
    const node = buildNode(spec, new Date(0));
    expect(Object.keys(node.status?.capacity ?? {}).sort()).toEqual(['cpu', 'memory', 'pods']);
  });

  it("removes the other mode's labels when it takes a node over", () => {
    const old = nodeLabels({ ...spec, allocationMode: 'device-plugin' });
    expect(modeLabelPatch(old, nodeLabels(spec))).toEqual({
      'nvidia.com/gpu.deploy.device-plugin': null,
      'nvidia.com/gpu.deploy.mig-manager': null,
      'nvidia.com/mig.config': null,
      'nvidia.com/mig.config.state': null,
    });
    expect(modeLabelPatch(nodeLabels(spec), old)).toEqual({
      'nvidia.com/gpu.deploy.dra-driver': null,
      'nvidia.com/gpu-operator.resource-allocation.mode': null,
    });
  });
});

describe('--allocation-mode', () => {
  it('is device-plugin or dra; anything else is a usage error naming the flag', async () => {
    const bad = checkConfig({ ...DEFAULT_CONFIG, allocationMode: 'plugin' });
    expect(bad.ok ? [] : bad.issues.map((i) => i.flag)).toEqual(['allocation-mode']);
    const errors: string[] = [];
    const orig = console.error;
    console.error = (m: string) => void errors.push(m);
    try {
      expect(await main(['fake-gpu', '--allocation-mode', 'cdi', '--kubeconfig', '/nonexistent'])).toBe(2);
    } finally {
      console.error = orig;
    }
    expect(errors[0]).toMatch(/^smartmig fake-gpu: --allocation-mode: expected device-plugin or dra, got "cdi"/);
  });
});
