// An in-memory cluster for the planner's unit tests: nodes, pods, the mig-parted config and MigPartitions as
// plain objects, a commit step with the apiserver's merge-patch meaning, and a stand-in for mig-manager that
// records every GPU it reconfigures while a pod still holds it.
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { MigPartition } from '../../../api/types.js';
import {
  holdsDevices,
  isPendingDemand,
  nodeFacts,
  podFacts,
  withClaims,
  type ClaimShape,
  type PodFacts,
} from '../../../operator/facts.js';
import {
  DRA_ALLOCATION_MODE,
  LAYOUTS_ANNOTATION,
  MIG_CONFIG_LABEL,
  MIG_STATE_LABEL,
  REPARTITION_TAINT,
  RESOURCE_ALLOCATION_MODE_LABEL,
} from '../../../api/labels.js';
import { deviceName, migDevices, parseDeviceName } from '../../../dra/devices.js';
import { ruleChanges, steeringRules, RULE_NODE_LABEL, type DeviceTaintRule } from '../../../dra/steering.js';
import { parseLayoutText } from '../../../operator/plan/dra.js';
import {
  layoutsOfConfig,
  mergeConfigs,
  parseMigPartedConfig,
  renderMigPartedConfig,
  type MigPartedConfig,
} from '../../../operator/migparted.js';
import { planRound, type Plan, type PlanOptions, type Snapshot } from '../../../operator/plan/round.js';
import { findGpuModel, type GpuModel } from '../../../policy/mig/catalog.js';
import type { Layout } from '../../../policy/mig/layout.js';
import { CONTROLLERS, controllerCache } from '../../../operator/controllers.js';

export const A100 = findGpuModel('A100-40GB') as GpuModel;

export function gpuNode(name: string, labels: Record<string, string> = {}, gpus = 2): V1Node {
  return {
    metadata: {
      name,
      resourceVersion: '1',
      labels: {
        'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-40GB',
        'nvidia.com/gpu.count': String(gpus),
        ...labels,
      },
      annotations: {},
    },
    spec: {},
  };
}

/** A node whose GPU operator runs NVIDIA's DRA driver: smartmig steers it with DeviceTaintRules. */
export function draNode(name: string, labels: Record<string, string> = {}, gpus = 2): V1Node {
  return gpuNode(name, { [RESOURCE_ALLOCATION_MODE_LABEL]: DRA_ALLOCATION_MODE, ...labels }, gpus);
}

/** A pod holding one DRA claim (no extended resources); `gpu` as fake-gpu's kubelet records it. */
export function claimPod(opts: { node?: string; phase?: string; gpu?: number } = {}): V1Pod {
  const pod = migPod('1g.5gb', opts);
  return {
    ...pod,
    spec: {
      ...pod.spec,
      resourceClaims: [{ name: 'gpu', resourceClaimTemplateName: 'mig-1g' }],
      containers: [{ name: 'c', resources: { claims: [{ name: 'gpu' }] } }],
    },
  };
}

let podSeq = 0;
export function migPod(
  profile: string,
  opts: { node?: string; phase?: string; gpu?: number; deadline?: string } = {},
): V1Pod {
  podSeq++;
  const annotations: Record<string, string> = {};
  if (opts.gpu !== undefined) annotations['smartmig.io/gpu'] = String(opts.gpu);
  if (opts.deadline !== undefined) annotations['smartmig.io/deadline'] = opts.deadline;
  return {
    metadata: { name: `pod-${podSeq}`, namespace: 'default', annotations, creationTimestamp: new Date(0) },
    spec: {
      ...(opts.node ? { nodeName: opts.node } : {}),
      containers: [{ name: 'c', resources: { limits: { [`nvidia.com/mig-${profile}`]: '1' } } }],
    },
    status: { phase: opts.phase ?? (opts.node ? 'Running' : 'Pending') },
  };
}

export function partition(name: string, spec: MigPartition['spec'], createdSec = 0, generation = 1): MigPartition {
  return {
    apiVersion: 'smartmig.io/v1alpha1',
    kind: 'MigPartition',
    metadata: { name, generation, creationTimestamp: new Date(createdSec * 1000).toISOString() as unknown as Date },
    spec,
  };
}

/** The snapshot the reconciler would build from these objects. */
export function snapshotOf(c: FakeCluster): Snapshot {
  const facts = [...c.nodes.values()].map(nodeFacts).sort((a, b) => (a.name < b.name ? -1 : 1));
  const all = c.podFacts();
  const podsByNode = new Map<string, PodFacts[]>();
  for (const p of all.filter(holdsDevices)) {
    podsByNode.set(p.node as string, [...(podsByNode.get(p.node as string) ?? []), p]);
  }
  return {
    now: c.now,
    nodes: facts,
    podsByNode,
    pending: all.filter(isPendingDemand),
    config: parseMigPartedConfig(c.configText),
    seenAt: c.seenAt,
    partitions: c.partitions,
  };
}

/** Whether a pod may run on GPU `g` of its node: its claims' devices say, else its GPU annotation. */
function mayHoldGpu(p: PodFacts, g: number): boolean {
  if (p.claimDevices !== undefined) return p.claimDevices.some((d) => parseDeviceName(A100, d)?.gpu === g);
  return p.gpu === undefined || p.gpu === g;
}

export interface Violation {
  node: string;
  gpu: number;
  pods: string[];
}

export class FakeCluster {
  now = 1_000_000;
  nodes = new Map<string, V1Node>();
  pods: V1Pod[] = [];
  /** ResourceClaims in namespace `default`, by name. */
  claims = new Map<string, ClaimShape>();
  configText = '';
  partitions: MigPartition[] = [];
  seenAt = new Map<string, number>();
  events: Plan['events'] = [];
  violations: Violation[] = [];
  applied: { node: string; config: string; gpus: number[] }[] = [];
  /** DRA nodes: the DeviceTaintRules that exist, by node, as the reconciler would leave them. */
  rules = new Map<string, DeviceTaintRule[]>();
  /** Per `node|gpu`, the last device set the rules left the allocator (not counting drains). */
  private offered = new Map<string, string>();
  /** Rule creations and deletions so far. */
  ruleWrites = 0;
  /** Config names mig-manager should fail. */
  failing = new Set<string>();
  /** Nodes whose mig-manager never finishes a config: they stay pending. */
  stuck = new Set<string>();
  opts: PlanOptions;

  constructor(opts: Partial<PlanOptions> = {}) {
    // The operator's own registry: the planner meets the controllers it meets in a cluster.
    this.opts = {
      controllerFor: controllerCache(CONTROLLERS),
      controllers: CONTROLLERS,
      settleMs: 0,
      backoff: (n) => 30_000 * 2 ** (n - 1),
      statusNodeLimit: 100,
      ...opts,
    };
  }

  addNode(n: V1Node): void {
    this.nodes.set(n.metadata?.name as string, n);
  }

  config(): MigPartedConfig {
    const r = parseMigPartedConfig(this.configText);
    if (!r.ok) throw new Error(r.error);
    return r.value;
  }

  plan(): Plan {
    return planRound(snapshotOf(this), this.opts);
  }

  /** Commits a plan as the reconciler would: ConfigMap, steering rules, node patches, statuses, events. */
  commit(plan: Plan): void {
    this.commitRules(plan);
    const merged = mergeConfigs(this.config(), plan.configAdds, plan.configInUse);
    if (merged.changed) this.configText = renderMigPartedConfig(merged.config);
    for (const name of Object.keys(this.config()['mig-configs']))
      if (!this.seenAt.has(name)) this.seenAt.set(name, this.now);
    for (const p of plan.nodePatches) {
      const n = this.nodes.get(p.node);
      if (!n) continue;
      const labels = { ...(n.metadata?.labels ?? {}) };
      const ann = { ...(n.metadata?.annotations ?? {}) };
      for (const [k, v] of Object.entries(p.labels))
        if (v === null) delete labels[k];
        else labels[k] = v;
      for (const [k, v] of Object.entries(p.annotations))
        if (v === null) delete ann[k];
        else ann[k] = v;
      let taints = n.spec?.taints ?? [];
      if (p.taint === 'add') taints = [...taints, { ...REPARTITION_TAINT }];
      if (p.taint === 'remove') taints = taints.filter((t) => t.key !== REPARTITION_TAINT.key);
      const rv = String(Number(n.metadata?.resourceVersion ?? '0') + 1);
      const before = n.metadata?.labels?.[MIG_CONFIG_LABEL];
      this.nodes.set(p.node, {
        ...n,
        metadata: { ...n.metadata, labels, annotations: ann, resourceVersion: rv },
        spec: { ...n.spec, taints },
      });
      if (labels[MIG_CONFIG_LABEL] !== before) this.onConfigLabel(p.node, before);
    }
    for (const s of plan.statuses) {
      const mp = this.partitions.find((x) => x.metadata?.name === s.name);
      if (mp) mp.status = s.status;
    }
    this.events.push(...plan.events);
  }

  /** The reconciler's rule phase: each planned DRA node gets its rules; unmanaged nodes lose theirs. */
  private commitRules(plan: Plan): void {
    const work = new Map<string, DeviceTaintRule[]>();
    for (const [node, t] of plan.draTargets) work.set(node, steeringRules(node, t.model, t.targets));
    for (const node of this.rules.keys()) if (!plan.managed.has(node)) work.set(node, []);
    for (const [node, wanted] of work) {
      const have = this.rules.get(node) ?? [];
      const { create, remove } = ruleChanges(have, wanted);
      if (create.length === 0 && remove.length === 0) continue;
      this.ruleWrites += create.length + remove.length;
      const next = [...have.filter((r) => !remove.includes(r.metadata.name)), ...create];
      for (const r of next) if (r.metadata.labels?.[RULE_NODE_LABEL] !== node) throw new Error('rule of another node');
      if (next.length === 0) this.rules.delete(node);
      else this.rules.set(node, next);
      this.checkOffers(node);
    }
  }

  /**
   * What the rules leave the allocator on one GPU: `drain` (nothing), or the untainted devices' names.
   * Undefined for a GPU with no rule at all (free).
   */
  offer(node: string, gpu: number): string | undefined {
    const tainted = new Set(
      (this.rules.get(node) ?? [])
        .map((r) => parseDeviceName(A100, r.spec.deviceSelector.device ?? ''))
        .filter((d) => d !== undefined && d.gpu === gpu)
        .map((d) => deviceName(A100, d!)),
    );
    if (tainted.size === 0) return undefined;
    const all = [deviceName(A100, { kind: 'gpu', gpu }), ...migDevices(A100, gpu).map((d) => deviceName(A100, d))];
    const open = all.filter((d) => !tainted.has(d));
    return open.length === 0 ? 'drain' : open.sort().join(',');
  }

  /** A violation when a GPU's offer moves to another device set while a pod may hold the GPU. */
  private checkOffers(node: string): void {
    const count = Number(this.node(node)?.metadata?.labels?.['nvidia.com/gpu.count'] ?? 0);
    for (let g = 0; g < count; g++) {
      const now = this.offer(node, g) ?? 'free';
      if (now === 'drain') continue;
      const key = `${node}|${g}`;
      const before = this.offered.get(key) ?? 'free';
      this.offered.set(key, now);
      if (before === now) continue;
      const holders = this.podFacts()
        .filter((p) => holdsDevices(p) && p.node === node && mayHoldGpu(p, g))
        .map((p) => p.key);
      if (holders.length > 0) this.violations.push({ node, gpu: g, pods: holders });
    }
  }

  /** Pod facts as the reconciler reads them, claims included. */
  podFacts(): PodFacts[] {
    return this.pods.map((pod) => withClaims(podFacts(pod), pod, (name) => this.claims.get(name)));
  }

  /** Sets a DRA node up as the operator left it with these layouts: the annotation and the rules. */
  setDraLayouts(name: string, layouts: Record<number, string>): void {
    const n = this.node(name);
    (n.metadata as { annotations: Record<string, string> }).annotations[LAYOUTS_ANNOTATION] = JSON.stringify(layouts);
    const targets = new Map<number, { kind: 'layout'; layout: Layout }>();
    for (const [g, text] of Object.entries(layouts)) {
      const t = parseLayoutText(A100, text);
      if (t) targets.set(Number(g), { kind: 'layout', layout: t.layout });
    }
    this.rules.set(name, steeringRules(name, A100, targets));
    for (const g of targets.keys()) this.offered.set(`${name}|${g}`, this.offer(name, g) ?? 'free');
  }

  /** A DRA node's layouts as `smartmig.io/layouts` records them, in the form of `layouts`. */
  draLayouts(name: string): string[] {
    const n = this.node(name);
    const obj = JSON.parse(n.metadata?.annotations?.[LAYOUTS_ANNOTATION] ?? '{}') as Record<string, string>;
    return Array.from({ length: Number(n.metadata?.labels?.['nvidia.com/gpu.count']) }, (_, g) => {
      const t = obj[String(g)] === undefined ? undefined : parseLayoutText(A100, obj[String(g)] as string);
      return t ? t.layout.slices.map((s) => s.profile).join('+') : '?';
    });
  }

  /** mig-manager's part, done at once: checks running pods, then reports success or failure. */
  private onConfigLabel(node: string, before: string | undefined): void {
    const n = this.nodes.get(node) as V1Node;
    const name = n.metadata?.labels?.[MIG_CONFIG_LABEL] as string;
    const count = Number(n.metadata?.labels?.['nvidia.com/gpu.count']);
    const cfg = this.config()['mig-configs'];
    const next = layoutsOfConfig(cfg[name] ?? [], A100, count);
    const prev = before === undefined ? [] : layoutsOfConfig(cfg[before] ?? [], A100, count);
    const changed: number[] = [];
    next.forEach((t, g) => {
      if (t && JSON.stringify(t) !== JSON.stringify(prev[g])) changed.push(g);
    });
    for (const g of changed) {
      // A pod that does not say which GPU it has may be on any GPU that had one of its profiles.
      const mayHold = (p: PodFacts): boolean =>
        p.gpu === undefined
          ? prev[g] === undefined ||
            [...p.slices.keys()].some((q) => prev[g]?.layout.slices.some((s) => s.profile === q))
          : p.gpu === g;
      const holders = this.pods
        .map(podFacts)
        .filter((p) => holdsDevices(p) && p.node === node && mayHold(p))
        .map((p) => p.key);
      if (holders.length > 0) this.violations.push({ node, gpu: g, pods: holders });
    }
    this.applied.push({ node, config: name, gpus: changed });
    (n.metadata as { labels: Record<string, string> }).labels[MIG_STATE_LABEL] = this.stuck.has(node)
      ? 'pending'
      : this.failing.has(name)
        ? 'failed'
        : 'success';
  }

  /** Runs rounds until nothing changes (or `max` rounds), advancing the clock by `stepMs` each time. */
  settle(max = 20, stepMs = 1000): Plan[] {
    const plans: Plan[] = [];
    for (let i = 0; i < max; i++) {
      const plan = this.plan();
      plans.push(plan);
      const writes = this.ruleWrites;
      this.commit(plan);
      const idle = plan.nodePatches.length === 0 && plan.configAdds.size === 0 && this.ruleWrites === writes;
      this.now += stepMs;
      if (idle && i > 0) break;
    }
    return plans;
  }

  node(name: string): V1Node {
    return this.nodes.get(name) as V1Node;
  }

  layouts(name: string): string[] {
    const n = this.node(name);
    const entries = this.config()['mig-configs'][n.metadata?.labels?.[MIG_CONFIG_LABEL] ?? ''] ?? [];
    return layoutsOfConfig(entries, A100, Number(n.metadata?.labels?.['nvidia.com/gpu.count'])).map((t) =>
      t ? t.layout.slices.map((s) => s.profile).join('+') : '?',
    );
  }

  status(name: string) {
    return this.partitions.find((p) => p.metadata?.name === name)?.status;
  }
}
