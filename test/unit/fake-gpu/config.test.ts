import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, checkConfig } from '../../../fake-gpu/config.js';
import { main } from '../../../cli/main.js';

describe('checkConfig', () => {
  it('resolves the defaults: 4 nodes of 8 A100-40GB in all-1g.5gb', () => {
    const r = checkConfig(DEFAULT_CONFIG);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(r.config.nodeNames).toEqual(['fake-gpu-0', 'fake-gpu-1', 'fake-gpu-2', 'fake-gpu-3']);
    expect(r.config.initial.layout.slices).toHaveLength(7);
    expect([r.config.configMapNamespace, r.config.configMapName]).toEqual([
      'gpu-operator',
      'default-mig-parted-config',
    ]);
  });

  const bad: [string, Partial<typeof DEFAULT_CONFIG>, string][] = [
    ['unknown model', { gpu: 'V100' }, 'gpu'],
    ['unknown layout', { layout: 'all-9g.90gb' }, 'layout'],
    ['layout that cannot be a label value', { layout: 'all-1g.5gb+me' }, 'layout'],
    ['no nodes', { nodes: 0 }, 'nodes'],
    ['time scale 0', { timeScale: 0 }, 'time-scale'],
    ['bad ConfigMap', { configMap: 'just-a-name' }, 'config-map'],
    ['bad node names', { nodePrefix: 'GPU_' }, 'node-prefix'],
    ['bad port', { metricsPort: 70_000 }, 'metrics-port'],
  ];
  for (const [name, change, flag] of bad) {
    it(`names --${flag} for ${name}`, () => {
      const r = checkConfig({ ...DEFAULT_CONFIG, ...change });
      expect(r.ok ? [] : r.issues.map((i) => i.flag)).toEqual([flag]);
    });
  }

  it('accepts a paper configuration number and the .me spelling', () => {
    expect(checkConfig({ ...DEFAULT_CONFIG, layout: '7' }).ok).toBe(true);
    expect(checkConfig({ ...DEFAULT_CONFIG, layout: 'all-1g.5gb.me' }).ok).toBe(true);
  });
});

describe('smartmig fake-gpu flags', () => {
  it('exits 2 with a message naming the flag before touching any cluster', async () => {
    const errors: string[] = [];
    const orig = console.error;
    console.error = (m: string) => void errors.push(m);
    try {
      expect(await main(['fake-gpu', '--gpu', 'V100', '--kubeconfig', '/nonexistent'])).toBe(2);
      expect(await main(['fake-gpu', '--time-scale', 'fast'])).toBe(2);
    } finally {
      console.error = orig;
    }
    expect(errors[0]).toMatch(/^smartmig fake-gpu: --gpu: unknown GPU model "V100"/);
    expect(errors[1]).toMatch(/--time-scale: expected a number/);
  });
});
