// Pure: the mig-parted config file (`config.yaml` of the GPU operator's mig-parted ConfigMap) read the way
// mig-parted reads it, and one named config resolved for a node's GPUs. Written apart from operator/migparted.ts
// on purpose: this side plays mig-manager, so a disagreement between the two shows up in the tests.
//
// mig-parted semantics kept here: unknown fields are errors; a config is a list of entries, each selecting
// GPUs by index (`devices`) and PCI id (`device-filter`); entries apply in order, so a later entry wins for a
// GPU that several select; GPUs that no entry selects are left as they are; `mig-devices` gives counts only,
// and where the instances go is the driver's business (here: the first valid placement policy/mig finds).
import { parse } from 'yaml';
import type { GpuModel, MigProfile } from '../policy/mig/catalog.js';
import { findProfile } from '../policy/mig/catalog.js';
import { placeInstances } from '../policy/mig/enumerate.js';
import { resolveNamedLayout } from '../policy/mig/named.js';
import { validateLayout } from '../policy/mig/validate.js';
import { gpuHardware } from './hardware.js';
import type { GpuConfig } from './node-builder.js';

export interface MigPartedEntry {
  /** Upper-case PCI ids such as `0X20B010DE`, compared case-insensitively; absent: every device. */
  readonly deviceFilter?: readonly string[];
  readonly devices: 'all' | readonly number[];
  readonly migEnabled: boolean;
  readonly migDevices: Readonly<Record<string, number>>;
}

export type MigPartedConfigs = ReadonlyMap<string, readonly MigPartedEntry[]>;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const TOP_FIELDS = new Set(['version', 'mig-configs']);
const ENTRY_FIELDS = new Set(['device-filter', 'devices', 'mig-enabled', 'mig-devices']);

const isMapping = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function unknownField(obj: Record<string, unknown>, allowed: ReadonlySet<string>, where: string): string | undefined {
  const extra = Object.keys(obj).find((k) => !allowed.has(k));
  return extra === undefined ? undefined : `${where}: unknown field "${extra}"`;
}

function parseDevices(v: unknown, where: string): Parsed<MigPartedEntry['devices']> {
  if (v === 'all') return { ok: true, value: 'all' };
  if (Array.isArray(v) && v.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
    return { ok: true, value: v as number[] };
  }
  return { ok: false, error: `${where}.devices: expected "all" or a list of GPU indices` };
}

function parseFilter(v: unknown, where: string): Parsed<string[] | undefined> {
  if (v === undefined) return { ok: true, value: undefined };
  const list = typeof v === 'string' ? [v] : v;
  if (Array.isArray(list) && list.every((d) => typeof d === 'string' && /^0x[0-9a-f]{8}$/i.test(d))) {
    return { ok: true, value: list.map((d) => (d as string).toUpperCase()) };
  }
  return { ok: false, error: `${where}.device-filter: expected a PCI id like 0x20B010DE or a list of them` };
}

function parseMigDevices(v: unknown, where: string): Parsed<Record<string, number>> {
  if (v === undefined || v === null) return { ok: true, value: {} };
  if (!isMapping(v)) return { ok: false, error: `${where}.mig-devices: expected a mapping of profile to count` };
  for (const [profile, n] of Object.entries(v)) {
    if (!Number.isInteger(n) || (n as number) < 0) {
      return { ok: false, error: `${where}.mig-devices.${profile}: expected a whole number, got ${String(n)}` };
    }
  }
  return { ok: true, value: v as Record<string, number> };
}

function parseEntry(v: unknown, where: string): Parsed<MigPartedEntry> {
  if (!isMapping(v)) return { ok: false, error: `${where}: expected a mapping` };
  const extra = unknownField(v, ENTRY_FIELDS, where);
  if (extra) return { ok: false, error: extra };
  if (typeof v['mig-enabled'] !== 'boolean')
    return { ok: false, error: `${where}.mig-enabled: expected true or false` };
  const devices = parseDevices(v.devices, where);
  if (!devices.ok) return devices;
  const filter = parseFilter(v['device-filter'], where);
  if (!filter.ok) return filter;
  const migDevices = parseMigDevices(v['mig-devices'], where);
  if (!migDevices.ok) return migDevices;
  const entry = { devices: devices.value, migEnabled: v['mig-enabled'], migDevices: migDevices.value };
  return { ok: true, value: filter.value ? { ...entry, deviceFilter: filter.value } : entry };
}

/** Reads `config.yaml`; every error names where in the file it is. */
export function parseMigPartedConfig(text: string): Parsed<MigPartedConfigs> {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    return { ok: false, error: `config.yaml is not YAML: ${(err as Error).message.split('\n')[0] ?? ''}` };
  }
  if (!isMapping(doc)) return { ok: false, error: 'config.yaml: expected a mapping with version and mig-configs' };
  const extra = unknownField(doc, TOP_FIELDS, 'config.yaml');
  if (extra) return { ok: false, error: extra };
  if (doc.version !== 'v1') return { ok: false, error: `config.yaml: version must be v1, got ${String(doc.version)}` };
  const configs = doc['mig-configs'];
  if (!isMapping(configs)) return { ok: false, error: 'config.yaml: mig-configs must be a mapping of names to lists' };
  const out = new Map<string, MigPartedEntry[]>();
  for (const [name, entries] of Object.entries(configs)) {
    if (!Array.isArray(entries)) return { ok: false, error: `mig-configs.${name}: expected a list of entries` };
    const parsed: MigPartedEntry[] = [];
    for (const [i, e] of entries.entries()) {
      const entry = parseEntry(e, `mig-configs.${name}[${i}]`);
      if (!entry.ok) return entry;
      parsed.push(entry.value);
    }
    out.set(name, parsed);
  }
  return { ok: true, value: out };
}

/**
 * Where resolving failed: `config` problems (no such config) are found before mig-manager touches anything;
 * `apply` problems (a profile the GPU lacks, counts that do not fit) only when mig-parted applies.
 */
export type Resolution =
  { ok: true; targets: readonly (GpuConfig | undefined)[] } | { ok: false; stage: 'config' | 'apply'; error: string };

function matches(e: MigPartedEntry, gpu: number, deviceId: string): boolean {
  const byFilter = e.deviceFilter === undefined || e.deviceFilter.includes(deviceId.toUpperCase());
  return byFilter && (e.devices === 'all' || e.devices.includes(gpu));
}

/** The instances `mig-devices` asks for, or the first profile the model lacks. */
function instancesOf(model: GpuModel, counts: Readonly<Record<string, number>>): MigProfile[] | string {
  const out: MigProfile[] = [];
  for (const [name, n] of Object.entries(counts)) {
    const p = findProfile(model, name);
    if (!p) return name;
    for (let i = 0; i < n; i++) out.push(p);
  }
  return out;
}

function describeCounts(counts: Readonly<Record<string, number>>): string {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([p, n]) => `${n}×${p}`)
    .join(' + ');
}

/** What one entry makes of one GPU, or why it cannot. */
export function gpuTarget(
  model: GpuModel,
  e: MigPartedEntry,
): { ok: true; gpu: GpuConfig } | { ok: false; error: string } {
  if (!e.migEnabled) return { ok: true, gpu: { migEnabled: false, layout: { slices: [] } } };
  const instances = instancesOf(model, e.migDevices);
  if (typeof instances === 'string') {
    const valid = model.profiles.map((p) => p.name).join(', ');
    return { ok: false, error: `${model.name} has no MIG profile ${instances} (valid: ${valid})` };
  }
  const layout = placeInstances(model, instances);
  const check = layout && validateLayout(model, layout);
  if (!layout || !check?.ok) {
    return { ok: false, error: `${describeCounts(e.migDevices)} cannot be placed together on one ${model.name}` };
  }
  return { ok: true, gpu: { migEnabled: true, layout } };
}

/**
 * Config `name` for a node of `gpuCount` GPUs of `model`: per GPU index, its new configuration, or undefined
 * where the config leaves it alone. A name the ConfigMap lacks falls back to the GPU operator's standard
 * configs (all-disabled, all-1g.5gb, all-balanced ...) and the paper's numbered layouts, as if the default
 * ConfigMap held them.
 */
export function resolveConfig(configs: MigPartedConfigs, name: string, model: GpuModel, gpuCount: number): Resolution {
  const entries = configs.get(name);
  if (!entries) {
    const named = resolveNamedLayout(model, name);
    if (named) return { ok: true, targets: new Array<GpuConfig>(gpuCount).fill(named) };
    return { ok: false, stage: 'config', error: `mig-configs has no config "${name}"` };
  }
  const deviceId = gpuHardware(model).deviceId;
  const chosen = new Array<MigPartedEntry | undefined>(gpuCount).fill(undefined);
  for (const e of entries) for (let i = 0; i < gpuCount; i++) if (matches(e, i, deviceId)) chosen[i] = e;
  const targets: (GpuConfig | undefined)[] = [];
  for (const [i, e] of chosen.entries()) {
    if (!e) {
      targets.push(undefined);
      continue;
    }
    const t = gpuTarget(model, e);
    if (!t.ok) return { ok: false, stage: 'apply', error: `GPU ${i}: ${t.error}` };
    targets.push(t.gpu);
  }
  return { ok: true, targets };
}

/** Instances per profile, the way mig-parted compares a GPU with a config (positions do not matter). */
export function profileCounts(gpu: GpuConfig): string {
  if (!gpu.migEnabled) return 'disabled';
  const counts = new Map<string, number>();
  for (const s of gpu.layout.slices) counts.set(s.profile, (counts.get(s.profile) ?? 0) + 1);
  return [...counts.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([p, n]) => `${p}=${n}`)
    .join(',');
}

/** Whether applying `next` would leave the GPU as it is (mig-parted's assert: same mode, same counts). */
export function sameGpuConfig(current: GpuConfig, next: GpuConfig): boolean {
  return profileCounts(current) === profileCounts(next);
}
