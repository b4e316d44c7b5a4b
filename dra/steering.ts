// Pure: how smartmig keeps a DRA node's GPUs on their target layouts (docs/adr/0003-mig-on-dra.md). With
// DynamicMIG every placement of every profile is a device, and Kubernetes' allocator takes the first one
// that fits; a NoSchedule DeviceTaintRule on each device outside the target leaves it only the layout's
// instances. A draining GPU gets every device tainted, so nothing new lands on it.
import type { GpuModel } from '../policy/mig/catalog.js';
import { layoutKey, type Layout } from '../policy/mig/layout.js';
import { deviceName, DRIVER, migDevices, type GpuDevice } from './devices.js';

/**
 * A resource.k8s.io/v1 DeviceTaintRule (Kubernetes 1.37), as far as smartmig writes it. @kubernetes/client-node
 * 1.x knows only the v1alpha3 kind, so the shape is declared here.
 */
export interface DeviceTaintRule {
  readonly apiVersion: 'resource.k8s.io/v1';
  readonly kind: 'DeviceTaintRule';
  readonly metadata: { readonly name: string; readonly labels?: Readonly<Record<string, string>> };
  readonly spec: {
    readonly deviceSelector: { readonly driver?: string; readonly pool?: string; readonly device?: string };
    readonly taint: {
      readonly key: string;
      readonly value?: string;
      readonly effect: 'None' | 'NoSchedule' | 'NoExecute';
    };
  };
}

/** The taint smartmig puts on devices outside a GPU's target; claims do not tolerate it. */
export const STEERING_TAINT = { key: 'smartmig.io/outside-layout', effect: 'NoSchedule' } as const;

/** Labels on every rule smartmig writes, so that it lists (and cleans up) only its own. */
export const RULE_NODE_LABEL = 'smartmig.io/node';
export const RULE_MANAGED_LABEL = 'app.kubernetes.io/managed-by';
export const RULE_MANAGER = 'smartmig';

/** What one GPU of a DRA node should offer the allocator. */
export type GpuTarget =
  | { readonly kind: 'layout'; readonly layout: Layout }
  /** MIG off: only the whole GPU. */
  | { readonly kind: 'whole' }
  /** Nothing new: the GPU waits for its pods to end before it changes. */
  | { readonly kind: 'drain' };

/** The devices of GPU `gpu` that the allocator must not use under `target`. */
export function blockedDevices(model: GpuModel, gpu: number, target: GpuTarget): GpuDevice[] {
  const whole: GpuDevice = { kind: 'gpu', gpu };
  const mig = migDevices(model, gpu);
  if (target.kind === 'drain') return [whole, ...mig];
  if (target.kind === 'whole') return mig;
  const allowed = new Set(layoutKey(target.layout).split(','));
  return [whole, ...mig.filter((d) => d.kind === 'mig' && !allowed.has(`${d.profile.name}@${d.start}`))];
}

/**
 * The rule's name: node and device, which together name a device cluster-wide (the pool is the node). A
 * DNS subdomain of at most 253 characters; a node name is at most 253 itself, so long ones are shortened
 * with a hash to stay unique.
 */
export function taintRuleName(node: string, device: string): string {
  const name = `smartmig.${node}.${device}`;
  return name.length <= 253 ? name : `smartmig.${node.slice(0, 200)}-${fnv1a(node)}.${device}`;
}

/** Every rule that keeps `node`'s GPUs on their targets, sorted by name (GPUs without a target are free). */
export function steeringRules(
  node: string,
  model: GpuModel,
  targets: ReadonlyMap<number, GpuTarget>,
): DeviceTaintRule[] {
  const rules: DeviceTaintRule[] = [];
  for (const [gpu, target] of targets) {
    for (const d of blockedDevices(model, gpu, target)) {
      const device = deviceName(model, d);
      rules.push({
        apiVersion: 'resource.k8s.io/v1',
        kind: 'DeviceTaintRule',
        metadata: {
          name: taintRuleName(node, device),
          labels: { [RULE_NODE_LABEL]: node, [RULE_MANAGED_LABEL]: RULE_MANAGER },
        },
        spec: {
          deviceSelector: { driver: DRIVER, pool: node, device },
          // One taint whatever the reason (outside the layout, or draining): a GPU that starts or ends a drain
          // keeps the rules it already has.
          taint: { ...STEERING_TAINT },
        },
      });
    }
  }
  return rules.sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
}

/**
 * What to create and delete to go from the rules that exist to the wanted ones. A rule whose spec differs
 * (edited by someone) is deleted and created again under its name: delete first.
 */
export function ruleChanges(
  existing: readonly DeviceTaintRule[],
  wanted: readonly DeviceTaintRule[],
): { create: DeviceTaintRule[]; remove: string[] } {
  const key = (r: DeviceTaintRule) => {
    const { deviceSelector: d, taint: t } = r.spec;
    return [r.metadata.name, d.driver, d.pool, d.device, t.key, t.value ?? '', t.effect].join('|');
  };
  const have = new Set(existing.map(key));
  const want = new Set(wanted.map(key));
  return {
    create: wanted.filter((r) => !have.has(key(r))),
    remove: existing.filter((r) => !want.has(key(r))).map((r) => r.metadata.name),
  };
}

function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}
