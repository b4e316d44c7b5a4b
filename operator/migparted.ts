// The mig-parted config file that the GPU operator's mig-manager reads (`version: v1`, `mig-configs`, per-device
// entries with `devices`, `mig-enabled`, `mig-devices`), and the operator's per-node named configs inside it.
// mig-parted rejects unknown fields, so nothing of ours goes in there but config names and standard entries.
import { createHash } from 'node:crypto';
import { parse, stringify } from 'yaml';
import type { GpuModel } from '../policy/mig/catalog.js';
import { findProfile } from '../policy/mig/catalog.js';
import { placeInstances } from '../policy/mig/enumerate.js';
import { resolveNamedLayout } from '../policy/mig/named.js';
import type { Layout } from '../policy/mig/layout.js';
import { CONFIG_PREFIX } from '../api/labels.js';

export interface MigConfigEntry {
  readonly 'device-filter'?: string | readonly string[];
  readonly devices: 'all' | readonly number[];
  readonly 'mig-enabled': boolean;
  readonly 'mig-devices'?: Readonly<Record<string, number>>;
}

export interface MigPartedConfig {
  readonly version: 'v1';
  readonly 'mig-configs': Readonly<Record<string, readonly MigConfigEntry[]>>;
}

/** What a config says about one GPU: MIG on or off and, when on, its instances. */
export interface GpuTarget {
  readonly layout: Layout;
  readonly migEnabled: boolean;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

export const EMPTY_CONFIG: MigPartedConfig = { version: 'v1', 'mig-configs': {} };

function entryError(name: string, i: number, e: unknown): string | undefined {
  const where = `mig-configs.${name}[${i}]`;
  if (typeof e !== 'object' || e === null) return `${where}: not a mapping`;
  const r = e as Record<string, unknown>;
  const devices = r.devices;
  const okDevices =
    devices === 'all' || (Array.isArray(devices) && devices.every((d) => Number.isInteger(d) && (d as number) >= 0));
  if (!okDevices) return `${where}.devices: expected "all" or a list of GPU indices`;
  if (typeof r['mig-enabled'] !== 'boolean') return `${where}.mig-enabled: expected true or false`;
  const md = r['mig-devices'];
  if (r['mig-enabled'] && (typeof md !== 'object' || md === null || Array.isArray(md))) {
    return `${where}.mig-devices: required when mig-enabled is true`;
  }
  if (md && Object.values(md).some((n) => !Number.isInteger(n) || (n as number) < 0)) {
    return `${where}.mig-devices: counts must be whole numbers`;
  }
  return undefined;
}

/** Reads the `config.yaml` of the ConfigMap; an empty or missing text is an empty config. */
export function parseMigPartedConfig(text: string | undefined): ParseResult<MigPartedConfig> {
  if (text === undefined || text.trim() === '') return { ok: true, value: EMPTY_CONFIG };
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    return { ok: false, error: `config.yaml is not YAML: ${(err as Error).message.split('\n')[0] ?? ''}` };
  }
  if (typeof doc !== 'object' || doc === null) return { ok: false, error: 'config.yaml: expected a mapping' };
  const d = doc as Record<string, unknown>;
  if (d.version !== 'v1') return { ok: false, error: `config.yaml: version must be v1, got ${String(d.version)}` };
  const configs = (d['mig-configs'] ?? {}) as Record<string, unknown>;
  if (typeof configs !== 'object' || Array.isArray(configs))
    return { ok: false, error: 'mig-configs: expected a mapping' };
  for (const [name, entries] of Object.entries(configs)) {
    if (!Array.isArray(entries) || entries.length === 0)
      return { ok: false, error: `mig-configs.${name}: expected a list` };
    for (let i = 0; i < entries.length; i++) {
      const err = entryError(name, i, entries[i]);
      if (err) return { ok: false, error: err };
    }
  }
  return { ok: true, value: { version: 'v1', 'mig-configs': configs as MigPartedConfig['mig-configs'] } };
}

/** Writes the config with sorted names so that equal content gives equal text. */
export function renderMigPartedConfig(config: MigPartedConfig): string {
  const sorted: Record<string, readonly MigConfigEntry[]> = {};
  for (const name of Object.keys(config['mig-configs']).sort()) sorted[name] = config['mig-configs'][name] ?? [];
  return stringify({ version: 'v1', 'mig-configs': sorted }, { lineWidth: 0 });
}

const COUNTS_KEY = new WeakMap<Layout, string>();

/** `layoutCounts` as a string, for comparing layouts the way mig-parted sees them (kept per layout object). */
export function countsKey(layout: Layout): string {
  let key = COUNTS_KEY.get(layout);
  if (key === undefined) {
    key = JSON.stringify(layoutCounts(layout));
    COUNTS_KEY.set(layout, key);
  }
  return key;
}

/** Instances per profile, keys sorted (the `mig-devices` mapping of a layout). */
export function layoutCounts(layout: Layout): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of [...layout.slices].sort((a, b) => (a.profile < b.profile ? -1 : a.profile > b.profile ? 1 : 0))) {
    counts[s.profile] = (counts[s.profile] ?? 0) + 1;
  }
  return counts;
}

/** One entry per distinct target, listing the GPUs that get it, in GPU order; GPUs without a target are left out. */
export function nodeConfigEntries(targets: readonly (GpuTarget | undefined)[]): MigConfigEntry[] {
  const groups = new Map<string, { devices: number[]; counts: Record<string, number>; enabled: boolean }>();
  targets.forEach((t, gpu) => {
    if (!t) return;
    const counts = t.migEnabled ? layoutCounts(t.layout) : {};
    const key = `${String(t.migEnabled)}${JSON.stringify(counts)}`;
    const g = groups.get(key);
    if (g) g.devices.push(gpu);
    else groups.set(key, { devices: [gpu], counts, enabled: t.migEnabled });
  });
  return [...groups.values()].map((g) =>
    g.enabled
      ? { devices: g.devices, 'mig-enabled': true, 'mig-devices': g.counts }
      : { devices: g.devices, 'mig-enabled': false },
  );
}

/**
 * The config name for these entries: derived from the content, so a new layout always changes the label
 * value that mig-manager watches; `attempt` > 0 names a retry of the same content after a failure.
 */
export function configName(entries: readonly MigConfigEntry[], attempt = 0): string {
  const hash = createHash('sha256').update(JSON.stringify(entries)).digest('hex').slice(0, 12);
  return `${CONFIG_PREFIX}${hash}${attempt > 0 ? `-r${attempt}` : ''}`;
}

/** Whether every profile an entry names exists on the model (how we pick among device-filtered entries). */
function entryFits(model: GpuModel, e: MigConfigEntry): boolean {
  return Object.keys(e['mig-devices'] ?? {}).every((p) => findProfile(model, p) !== undefined);
}

/**
 * Per GPU index, the layout a named config gives a node with `gpuCount` GPUs of `model`, or undefined where
 * the config says nothing about a GPU or cannot be placed. Entries with a device-filter (PCI ids, which nodes
 * do not publish) apply when their profiles exist on the model. As in mig-parted, later entries win.
 */
export function layoutsOfConfig(
  entries: readonly MigConfigEntry[],
  model: GpuModel,
  gpuCount: number,
): readonly (GpuTarget | undefined)[] {
  // Every node with the same config asks the same question each round: answer it once per parsed config.
  let byShape = LAYOUTS.get(entries);
  if (!byShape) {
    byShape = new Map();
    LAYOUTS.set(entries, byShape);
  }
  const key = `${model.name}|${gpuCount}`;
  let out = byShape.get(key);
  if (!out) {
    out = Object.freeze(computeLayouts(entries, model, gpuCount));
    byShape.set(key, out);
  }
  return out;
}

const LAYOUTS = new WeakMap<readonly MigConfigEntry[], Map<string, readonly (GpuTarget | undefined)[]>>();

function computeLayouts(
  entries: readonly MigConfigEntry[],
  model: GpuModel,
  gpuCount: number,
): (GpuTarget | undefined)[] {
  const out = new Array<GpuTarget | undefined>(gpuCount).fill(undefined);
  for (const e of entries) {
    if (e['device-filter'] !== undefined && !entryFits(model, e)) continue;
    const enabled = e['mig-enabled'];
    const layout = enabled ? countsToLayout(model, e['mig-devices'] ?? {}) : { slices: [] };
    if (!layout) continue;
    const devices = e.devices === 'all' ? [...out.keys()] : e.devices;
    // mig-parted applies every entry that selects a GPU, in order: the last one wins.
    for (const d of devices) if (d < gpuCount) out[d] = { layout, migEnabled: enabled };
  }
  return out;
}

/**
 * The layouts of the config a node is labelled with: from the ConfigMap, or else — for the GPU operator's
 * standard names (all-disabled, all-1g.5gb, all-balanced, …) that the ConfigMap lacks — their standard meaning.
 */
export function labelledLayouts(
  config: MigPartedConfig | undefined,
  name: string | undefined,
  model: GpuModel,
  gpuCount: number,
): readonly (GpuTarget | undefined)[] | undefined {
  if (name === undefined) return undefined;
  const entries = config?.['mig-configs'][name];
  if (entries) return layoutsOfConfig(entries, model, gpuCount);
  if (name.startsWith(CONFIG_PREFIX)) return undefined;
  const named = resolveNamedLayout(model, name);
  return named && new Array<GpuTarget>(gpuCount).fill({ layout: named.layout, migEnabled: named.migEnabled });
}

/** A positional layout for instance counts (mig-parted does not say where instances go), or undefined. */
export function countsToLayout(model: GpuModel, counts: Readonly<Record<string, number>>): Layout | undefined {
  const profiles = [];
  for (const [name, n] of Object.entries(counts)) {
    const p = findProfile(model, name);
    if (!p) return undefined;
    for (let i = 0; i < n; i++) profiles.push(p);
  }
  return placeInstances(model, profiles);
}

/**
 * The config with `add` merged in and the operator's own configs that nothing uses any more removed; configs
 * of other names (the GPU operator's defaults, people's) are kept as they are.
 */
export function mergeConfigs(
  config: MigPartedConfig,
  add: ReadonlyMap<string, readonly MigConfigEntry[]>,
  inUse: ReadonlySet<string>,
): { config: MigPartedConfig; changed: boolean } {
  const next: Record<string, readonly MigConfigEntry[]> = {};
  let changed = false;
  for (const [name, entries] of Object.entries(config['mig-configs'])) {
    if (name.startsWith(CONFIG_PREFIX) && !inUse.has(name) && !add.has(name)) {
      changed = true;
      continue;
    }
    next[name] = entries;
  }
  for (const [name, entries] of add) {
    const cur = next[name];
    if (cur && JSON.stringify(cur) === JSON.stringify(entries)) continue;
    next[name] = entries;
    changed = true;
  }
  return { config: { version: 'v1', 'mig-configs': next }, changed };
}

/** Text form for people: `4g.20gb+2g.10gb+1g.5gb`, `empty`, `disabled`, or '' when unknown. */
export function targetText(t: GpuTarget | undefined): string {
  if (!t) return '';
  if (!t.migEnabled) return 'disabled';
  return t.layout.slices.length === 0 ? 'empty' : t.layout.slices.map((s) => s.profile).join('+');
}
