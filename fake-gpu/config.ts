// One typed configuration for fake-gpu, defaults beside the type, validated before anything starts. Every
// problem names the command-line flag it comes from.
import type { GpuModel } from '../policy/mig/catalog.js';
import { GPU_MODELS, findGpuModel } from '../policy/mig/catalog.js';
import { namedLayoutNames, resolveNamedLayout } from '../policy/mig/named.js';
import type { AllocationMode } from './labels.js';
import { ALLOCATION_MODES } from './labels.js';
import type { BaseResources, GpuConfig } from './node-builder.js';
import { DEFAULT_BASE_RESOURCES } from './node-builder.js';

export interface FakeGpuConfig {
  readonly nodes: number;
  readonly gpusPerNode: number;
  /** GPU model name or GFD product name. */
  readonly gpu: string;
  /** Initial layout of every GPU: a mig-parted standard config name or a paper configuration number. */
  readonly layout: string;
  /** How long mig-manager takes to apply a config, real seconds. */
  readonly reconfigureSeconds: number;
  /** Simulated minutes per real minute for pod run times. */
  readonly timeScale: number;
  /** Work of pods without `smartmig.io/work`, minutes on a 1g slice. */
  readonly defaultWorkMinutes: number;
  /** The mig-parted ConfigMap as `namespace/name`, and the key of its config file. */
  readonly configMap: string;
  readonly configMapKey: string;
  /** Node names are `<prefix><index>`. */
  readonly nodePrefix: string;
  /** Port of /metrics and /healthz; 0 picks a free one; undefined serves none. */
  readonly metricsPort: number | undefined;
  /** How often each node's Lease in kube-node-lease is renewed, seconds. */
  readonly heartbeatSeconds: number;
  /** Delete the nodes on shutdown. */
  readonly cleanup: boolean;
  /** `device-plugin` (labels, capacity, mig-manager) or `dra` (NVIDIA's DRA driver with DynamicMIG). */
  readonly allocationMode: string;
  readonly base: BaseResources;
}

export const DEFAULT_CONFIG: FakeGpuConfig = {
  nodes: 4,
  gpusPerNode: 8,
  gpu: 'A100-40GB',
  layout: 'all-1g.5gb',
  reconfigureSeconds: 5,
  timeScale: 60,
  defaultWorkMinutes: 5,
  configMap: 'gpu-operator/default-mig-parted-config',
  configMapKey: 'config.yaml',
  nodePrefix: 'fake-gpu-',
  metricsPort: undefined,
  heartbeatSeconds: 10,
  cleanup: false,
  allocationMode: 'device-plugin',
  base: DEFAULT_BASE_RESOURCES,
};

/** A config with everything resolved that the rest of fake-gpu needs. */
export interface ResolvedConfig extends FakeGpuConfig {
  readonly allocationMode: AllocationMode;
  readonly model: GpuModel;
  /** Every GPU at start: the `--layout`, or in DRA mode MIG on with no instance (claims create them). */
  readonly initial: GpuConfig;
  readonly configMapNamespace: string;
  readonly configMapName: string;
  readonly nodeNames: readonly string[];
}

export interface ConfigIssue {
  /** The command-line flag, without dashes. */
  readonly flag: string;
  readonly message: string;
}

export type ConfigResult = { ok: true; config: ResolvedConfig } | { ok: false; issues: ConfigIssue[] };

/** A DynamicMIG GPU before any claim is prepared: MIG mode on, nothing carved. */
const DYNAMIC_MIG_GPU: GpuConfig = { migEnabled: true, layout: { slices: [] } };

const isAllocationMode = (v: string): v is AllocationMode => (ALLOCATION_MODES as readonly string[]).includes(v);

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Label values: what the layout name must be, since it becomes `nvidia.com/mig.config`. */
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

function integerIn(flag: string, v: number, min: number, max: number): ConfigIssue | undefined {
  return Number.isInteger(v) && v >= min && v <= max
    ? undefined
    : { flag, message: `expected a whole number from ${min} to ${max}, got ${v}` };
}

function numberAtLeast(flag: string, v: number, min: number, strict: boolean): ConfigIssue | undefined {
  const ok = Number.isFinite(v) && (strict ? v > min : v >= min);
  return ok ? undefined : { flag, message: `expected a number ${strict ? '>' : '≥'} ${min}, got ${v}` };
}

function nodeNames(c: FakeGpuConfig): { names: string[]; issue?: ConfigIssue } {
  const names = Array.from({ length: Math.max(0, Math.floor(c.nodes)) }, (_, i) => `${c.nodePrefix}${i}`);
  const bad = names.find((n) => n.length > 63 || !DNS_SUBDOMAIN.test(n));
  if (bad === undefined) return { names };
  return { names, issue: { flag: 'node-prefix', message: `"${bad}" is not a valid node name (lower-case DNS, ≤ 63)` } };
}

function configMapRef(text: string): { namespace: string; name: string } | undefined {
  const [ns, name, ...rest] = text.split('/');
  if (rest.length > 0 || !ns || !name || !DNS_LABEL.test(ns) || !DNS_SUBDOMAIN.test(name)) return undefined;
  return { namespace: ns, name };
}

function layoutIssue(model: GpuModel | undefined, layout: string): ConfigIssue | undefined {
  if (!model) return undefined;
  if (!LABEL_VALUE.test(layout) || layout.length > 63) {
    return { flag: 'layout', message: `"${layout}" cannot be a label value (mig-parted spells +me as .me)` };
  }
  if (resolveNamedLayout(model, layout)) return undefined;
  return {
    flag: 'layout',
    message: `unknown layout "${layout}" (valid: ${namedLayoutNames(model)
      .map((n) => n.replace(/\+me$/, '.me'))
      .join(', ')})`,
  };
}

/** Checks every field; all problems at once. */
export function checkConfig(c: FakeGpuConfig): ConfigResult {
  const issues: (ConfigIssue | undefined)[] = [];
  const model = findGpuModel(c.gpu);
  if (!model) issues.push({ flag: 'gpu', message: `unknown GPU model "${c.gpu}" (valid: ${GPU_MODELS.join(', ')})` });
  issues.push(
    integerIn('nodes', c.nodes, 1, 10_000),
    integerIn('gpus-per-node', c.gpusPerNode, 1, 64),
    layoutIssue(model, c.layout),
    numberAtLeast('reconfigure-seconds', c.reconfigureSeconds, 0, false),
    numberAtLeast('time-scale', c.timeScale, 0, true),
    numberAtLeast('default-work', c.defaultWorkMinutes, 0, false),
    numberAtLeast('heartbeat-seconds', c.heartbeatSeconds, 0, true),
  );
  if (c.metricsPort !== undefined) issues.push(integerIn('metrics-port', c.metricsPort, 0, 65_535));
  const mode = c.allocationMode;
  if (!isAllocationMode(mode)) {
    issues.push({ flag: 'allocation-mode', message: `expected ${ALLOCATION_MODES.join(' or ')}, got "${mode}"` });
  }
  const ref = configMapRef(c.configMap);
  if (!ref) issues.push({ flag: 'config-map', message: `expected NAMESPACE/NAME, got "${c.configMap}"` });
  const names = nodeNames(c);
  issues.push(names.issue);
  const found = issues.filter((i): i is ConfigIssue => i !== undefined);
  if (found.length > 0 || !model || !ref || !isAllocationMode(mode)) return { ok: false, issues: found };
  const initial = mode === 'dra' ? DYNAMIC_MIG_GPU : (resolveNamedLayout(model, c.layout) as GpuConfig);
  return {
    ok: true,
    config: {
      ...c,
      allocationMode: mode,
      model,
      initial,
      configMapNamespace: ref.namespace,
      configMapName: ref.name,
      nodeNames: names.names,
    },
  };
}
