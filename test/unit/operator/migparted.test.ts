import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  configName,
  countsToLayout,
  labelledLayouts,
  layoutsOfConfig,
  mergeConfigs,
  nodeConfigEntries,
  parseMigPartedConfig,
  renderMigPartedConfig,
  targetText,
  type MigConfigEntry,
} from '../../../operator/migparted.js';
import { findGpuModel, type GpuModel } from '../../../policy/mig/catalog.js';
import { resolveNamedLayout } from '../../../policy/mig/named.js';

const A100 = findGpuModel('A100-40GB') as GpuModel;
const A100_80 = findGpuModel('A100-80GB') as GpuModel;
const named = (name: string) => ({ layout: resolveNamedLayout(A100, name)!.layout, migEnabled: true });

describe('mig-parted config', () => {
  it('groups GPUs with equal layouts into one entry, in the mig-parted v1 format', () => {
    const entries = nodeConfigEntries([named('all-1g.5gb'), named('all-3g.20gb'), named('all-1g.5gb'), undefined]);
    expect(entries).toEqual([
      { devices: [0, 2], 'mig-enabled': true, 'mig-devices': { '1g.5gb': 7 } },
      { devices: [1], 'mig-enabled': true, 'mig-devices': { '3g.20gb': 2 } },
    ]);
    const text = renderMigPartedConfig({ version: 'v1', 'mig-configs': { [configName(entries)]: entries } });
    const doc = parse(text) as { version: string; 'mig-configs': Record<string, unknown[]> };
    expect(doc.version).toBe('v1');
    expect(Object.values(doc['mig-configs'])[0]).toEqual(entries);
  });

  it('writes MIG-disabled GPUs without mig-devices (mig-parted rejects devices when MIG is off)', () => {
    expect(nodeConfigEntries([{ layout: { slices: [] }, migEnabled: false }])).toEqual([
      { devices: [0], 'mig-enabled': false },
    ]);
  });

  it('names configs after their content: equal content, equal name; new content, new name; retries differ', () => {
    const a = nodeConfigEntries([named('all-1g.5gb')]);
    const b = nodeConfigEntries([named('all-2g.10gb')]);
    expect(configName(a)).toBe(configName(nodeConfigEntries([named('all-1g.5gb')])));
    expect(configName(a)).not.toBe(configName(b));
    expect(configName(a)).toMatch(/^smartmig-[0-9a-f]{12}$/);
    expect(configName(a, 2)).toBe(`${configName(a)}-r2`);
  });

  const cases: { name: string; text: string; error?: RegExp }[] = [
    { name: 'empty text is an empty config', text: '' },
    {
      name: 'the GPU operator default style',
      text: 'version: v1\nmig-configs:\n  all-disabled:\n    - devices: all\n      mig-enabled: false\n',
    },
    { name: 'not YAML', text: 'version: [v1', error: /not YAML/ },
    { name: 'wrong version', text: 'version: v2\nmig-configs: {}\n', error: /version must be v1/ },
    {
      name: 'devices neither all nor indices',
      text: 'version: v1\nmig-configs:\n  x:\n    - devices: some\n      mig-enabled: true\n      mig-devices: {}\n',
      error: /devices/,
    },
    {
      name: 'mig-enabled without mig-devices',
      text: 'version: v1\nmig-configs:\n  x:\n    - devices: all\n      mig-enabled: true\n',
      error: /mig-devices: required/,
    },
    { name: 'an empty config', text: 'version: v1\nmig-configs:\n  x: []\n', error: /expected a list/ },
  ];
  it.each(cases)('parses: $name', ({ text, error }) => {
    const r = parseMigPartedConfig(text);
    if (error) expect(r).toEqual({ ok: false, error: expect.stringMatching(error) });
    else expect(r.ok).toBe(true);
  });

  it('reads a config back per GPU, placing instances canonically', () => {
    const entries: MigConfigEntry[] = [
      { devices: 'all', 'mig-enabled': false },
      { devices: [1], 'mig-enabled': true, 'mig-devices': { '3g.20gb': 1, '2g.10gb': 2 } },
    ];
    const layouts = layoutsOfConfig(entries, A100, 3);
    expect(layouts.map(targetText)).toEqual(['disabled', '2g.10gb+2g.10gb+3g.20gb', 'disabled']);
    expect(layouts[1]?.layout.slices.map((s) => s.start)).toEqual([0, 2, 4]);
  });

  it('picks, among device-filtered entries, the one whose profiles the model has', () => {
    const entries: MigConfigEntry[] = [
      { 'device-filter': '0x20B010DE', devices: 'all', 'mig-enabled': true, 'mig-devices': { '1g.5gb': 7 } },
      { 'device-filter': '0x20B210DE', devices: 'all', 'mig-enabled': true, 'mig-devices': { '1g.10gb': 7 } },
    ];
    expect(layoutsOfConfig(entries, A100, 1).map(targetText)).toEqual([Array(7).fill('1g.5gb').join('+')]);
    expect(layoutsOfConfig(entries, A100_80, 1).map(targetText)).toEqual([Array(7).fill('1g.10gb').join('+')]);
  });

  it('lets a later entry win for a GPU that several select, as mig-parted applies them in order', () => {
    const entries: MigConfigEntry[] = [
      { devices: 'all', 'mig-enabled': true, 'mig-devices': { '7g.40gb': 1 } },
      { devices: [1], 'mig-enabled': true, 'mig-devices': { '3g.20gb': 2 } },
    ];
    expect(layoutsOfConfig(entries, A100, 2).map(targetText)).toEqual(['7g.40gb', '3g.20gb+3g.20gb']);
  });

  it('reads the GPU operator standard names the ConfigMap lacks by their standard meaning', () => {
    const empty = { version: 'v1' as const, 'mig-configs': {} };
    expect(labelledLayouts(empty, 'all-balanced', A100, 2)?.map(targetText)).toEqual([
      '2g.10gb+1g.5gb+1g.5gb+3g.20gb',
      '2g.10gb+1g.5gb+1g.5gb+3g.20gb',
    ]);
    expect(labelledLayouts(empty, 'all-disabled', A100, 1)?.map(targetText)).toEqual(['disabled']);
    expect(labelledLayouts(empty, 'smartmig-000000000000', A100, 1)).toBeUndefined();
    expect(labelledLayouts(empty, 'my-own-name', A100, 1)).toBeUndefined();
    expect(labelledLayouts(empty, undefined, A100, 1)).toBeUndefined();
  });

  it('gives undefined for GPUs a config does not mention, and for counts that do not fit', () => {
    expect(
      layoutsOfConfig([{ devices: [0], 'mig-enabled': true, 'mig-devices': {} }], A100, 2).map(targetText),
    ).toEqual(['empty', '']);
    expect(countsToLayout(A100, { '4g.20gb': 2 })).toBeUndefined();
    expect(countsToLayout(A100, { '9g.90gb': 1 })).toBeUndefined();
  });

  it('merges new configs, keeps other owners, and removes its own unused ones', () => {
    const theirs: MigConfigEntry[] = [{ devices: 'all', 'mig-enabled': false }];
    const ours = nodeConfigEntries([named('all-1g.5gb')]);
    const old = nodeConfigEntries([named('all-7g.40gb')]);
    const config = { version: 'v1' as const, 'mig-configs': { 'all-disabled': theirs, [configName(old)]: old } };
    const r = mergeConfigs(config, new Map([[configName(ours), ours]]), new Set());
    expect(r.changed).toBe(true);
    expect(Object.keys(r.config['mig-configs']).sort()).toEqual(['all-disabled', configName(ours)].sort());
    const again = mergeConfigs(r.config, new Map([[configName(ours), ours]]), new Set([configName(ours)]));
    expect(again.changed).toBe(false);
    const inUse = mergeConfigs(config, new Map(), new Set([configName(old)]));
    expect(inUse.changed).toBe(false);
  });
});
