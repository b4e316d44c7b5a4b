import { describe, expect, it } from 'vitest';
import {
  parseMigPartedConfig,
  resolveConfig,
  sameGpuConfig,
  type MigPartedConfigs,
} from '../../../fake-gpu/mig-parted.js';
import { deviceResources } from '../../../fake-gpu/node-builder.js';
import { gpu, named } from './build.js';

const A100 = gpu('A100-40GB');

function configs(text: string): MigPartedConfigs {
  const parsed = parseMigPartedConfig(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

const FILE = `
version: v1
mig-configs:
  custom:
    - devices: all
      mig-enabled: true
      mig-devices: { "1g.5gb": 7 }
    - devices: [1]
      mig-enabled: true
      mig-devices: { "3g.20gb": 1, "2g.10gb": 1, "1g.5gb": 2 }
    - devices: [2]
      mig-enabled: false
  filtered:
    - device-filter: ["0x20B210DE"]
      devices: all
      mig-enabled: true
      mig-devices: { "1g.10gb": 7 }
    - device-filter: "0x20b010de"
      devices: all
      mig-enabled: true
      mig-devices: { "3g.20gb": 2 }
  partial:
    - devices: [0]
      mig-enabled: true
      mig-devices: { "7g.40gb": 1 }
  too-many:
    - devices: all
      mig-enabled: true
      mig-devices: { "4g.20gb": 1, "3g.20gb": 2 }
  unknown-profile:
    - devices: all
      mig-enabled: true
      mig-devices: { "1g.20gb": 4 }
`;

describe('parseMigPartedConfig', () => {
  const bad: [string, string, RegExp][] = [
    ['not YAML', 'version: [', /not YAML/],
    ['wrong version', 'version: v2\nmig-configs: {}', /version must be v1/],
    ['unknown top-level field', 'version: v1\nmig-configs: {}\nextra: 1', /unknown field "extra"/],
    [
      'unknown entry field',
      'version: v1\nmig-configs:\n  a:\n    - devices: all\n      mig-enabled: true\n      color: red',
      /mig-configs\.a\[0\]: unknown field "color"/,
    ],
    [
      'bad devices',
      'version: v1\nmig-configs:\n  a:\n    - devices: some\n      mig-enabled: false',
      /mig-configs\.a\[0\]\.devices/,
    ],
    [
      'missing mig-enabled',
      'version: v1\nmig-configs:\n  a:\n    - devices: all',
      /mig-enabled: expected true or false/,
    ],
    [
      'negative count',
      'version: v1\nmig-configs:\n  a:\n    - devices: all\n      mig-enabled: true\n      mig-devices: {"1g.5gb": -1}',
      /whole number/,
    ],
    [
      'bad device filter',
      'version: v1\nmig-configs:\n  a:\n    - device-filter: A100\n      devices: all\n      mig-enabled: false',
      /device-filter/,
    ],
  ];
  for (const [name, text, error] of bad) {
    it(`rejects ${name}`, () => {
      const parsed = parseMigPartedConfig(text);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.error).toMatch(error);
    });
  }

  it('reads the GPU operator style file', () => {
    expect([...configs(FILE).keys()]).toEqual(['custom', 'filtered', 'partial', 'too-many', 'unknown-profile']);
  });
});

describe('resolveConfig', () => {
  const file = configs(FILE);

  it('applies entries in order: a later entry wins for the GPUs it selects', () => {
    const r = resolveConfig(file, 'custom', A100, 4);
    if (!r.ok) throw new Error(r.error);
    expect(r.targets.map((t) => (t ? deviceResources(A100, [t]) : undefined))).toEqual([
      { 'nvidia.com/mig-1g.5gb': 7 },
      { 'nvidia.com/mig-1g.5gb': 2, 'nvidia.com/mig-2g.10gb': 1, 'nvidia.com/mig-3g.20gb': 1 },
      { 'nvidia.com/gpu': 1 },
      { 'nvidia.com/mig-1g.5gb': 7 },
    ]);
  });

  it('matches device-filter against the emulated PCI id, case-insensitively', () => {
    const r = resolveConfig(file, 'filtered', A100, 2);
    if (!r.ok) throw new Error(r.error);
    expect(r.targets.map((t) => t && deviceResources(A100, [t]))).toEqual([
      { 'nvidia.com/mig-3g.20gb': 2 },
      { 'nvidia.com/mig-3g.20gb': 2 },
    ]);
  });

  it('leaves GPUs that no entry selects alone', () => {
    const r = resolveConfig(file, 'partial', A100, 3);
    expect(r.ok && r.targets.map((t) => t !== undefined)).toEqual([true, false, false]);
  });

  it('falls back to the standard configs when the ConfigMap lacks the name', () => {
    const r = resolveConfig(new Map(), 'all-balanced', A100, 2);
    expect(r.ok && r.targets.every((t) => t && sameGpuConfig(t, named(A100, 'all-balanced')[0] as never))).toBe(true);
  });

  const failures: [string, 'config' | 'apply', RegExp][] = [
    ['missing', 'config', /has no config "missing"/],
    ['too-many', 'apply', /GPU 0: 1×4g\.20gb \+ 2×3g\.20gb cannot be placed together/],
    ['unknown-profile', 'apply', /GPU 0: A100-40GB has no MIG profile 1g\.20gb/],
  ];
  for (const [name, stage, error] of failures) {
    it(`fails "${name}" at the ${stage} stage`, () => {
      const r = resolveConfig(file, name, A100, 2);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.stage).toBe(stage);
        expect(r.error).toMatch(error);
      }
    });
  }
});

describe('sameGpuConfig', () => {
  it('compares mode and counts, not positions, as mig-parted assert does', () => {
    const a = { migEnabled: true, layout: { slices: [{ profile: '1g.5gb', start: 0 }] } };
    const b = { migEnabled: true, layout: { slices: [{ profile: '1g.5gb', start: 6 }] } };
    expect(sameGpuConfig(a, b)).toBe(true);
    expect(sameGpuConfig(a, { migEnabled: true, layout: { slices: [] } })).toBe(false);
    expect(
      sameGpuConfig({ migEnabled: false, layout: { slices: [] } }, { migEnabled: true, layout: { slices: [] } }),
    ).toBe(false);
  });
});
