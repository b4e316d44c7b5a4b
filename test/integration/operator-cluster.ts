// Cluster fixtures for the operator's integration tests: the CRD, the operator's RBAC rendered from the Helm
// chart and bound to the smartmig-operator test identity, GPU nodes without kubelets, pods, and mig-manager's
// part played by the test itself (it answers nvidia.com/mig.config changes through the real apiserver and
// records any GPU it was asked to reconfigure while a pod still ran on it).
import {
  CoreV1Api,
  CustomObjectsApi,
  ListWatch,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type KubeConfig,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import { findGpuModel, type GpuModel } from '../../policy/mig/catalog.js';
import {
  layoutsOfConfig,
  parseMigPartedConfig,
  renderMigPartedConfig,
  type GpuTarget,
} from '../../operator/migparted.js';
import type { Condition, MigPartition } from '../../api/types.js';
import { MIG_CONFIG_LABEL, MIG_STATE_LABEL } from '../../api/labels.js';
import { bindChartRbac } from '../support/chart-rbac.js';
import { fakeNode, waitFor } from '../support/cluster.js';

export const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
export const A100 = findGpuModel('A100-40GB') as GpuModel;
export const OPERATOR_USER = 'smartmig-operator';

export { ensureCrd } from '../support/crd.js';

/**
 * Renders the chart's rbac-operator.yaml, creates its ClusterRoles, and binds them to the test identity the
 * way the chart binds them to the operator's ServiceAccount: the main role cluster-wide, the lease and
 * ConfigMap roles in one namespace each (test/support/chart-rbac.ts).
 */
export async function bindOperatorRbac(_admin: KubeConfig, namespace: string, configMap: string): Promise<void> {
  const rbac = await bindChartRbac({
    template: 'rbac-operator.yaml',
    user: OPERATOR_USER,
    namespace,
    set: [`operator.migConfigMap=${namespace}/${configMap}`],
  });
  if (rbac.roles.length < 3) throw new Error(`expected 3 ClusterRoles in rbac-operator.yaml, got ${rbac.roles.length}`);
}

/** A GPU node as GPU feature discovery labels it, starting in a mig-parted config. */
/** The mig-parted ConfigMap as a test starts it: one config, every GPU whole (`all-7g.40gb`). */
export async function createStartConfigMap(admin: KubeConfig, namespace: string, name: string): Promise<void> {
  const start = {
    version: 'v1' as const,
    'mig-configs': {
      'all-7g.40gb': [{ devices: 'all' as const, 'mig-enabled': true, 'mig-devices': { '7g.40gb': 1 } }],
    },
  };
  await admin.makeApiClient(CoreV1Api).createNamespacedConfigMap({
    namespace,
    body: { metadata: { name }, data: { 'config.yaml': renderMigPartedConfig(start) } },
  });
}

export async function createGpuNode(
  admin: KubeConfig,
  name: string,
  labels: Record<string, string>,
  gpus: number,
  config: string,
): Promise<void> {
  const node = fakeNode({
    name,
    labels: {
      'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-40GB',
      'nvidia.com/gpu.count': String(gpus),
      'nvidia.com/mig.strategy': 'mixed',
      [MIG_CONFIG_LABEL]: config,
      [MIG_STATE_LABEL]: 'success',
      ...labels,
    },
  });
  await admin.makeApiClient(CoreV1Api).createNode({ body: node });
}

/** A pod bound to a node (no scheduler, no kubelet), on GPU `gpu`, that the test marks Running. */
export interface BoundPod {
  readonly node: string;
  readonly profile: string;
  readonly gpu: number;
  readonly annotations?: Record<string, string>;
}

export async function runningPod(admin: KubeConfig, namespace: string, name: string, pod: BoundPod): Promise<void> {
  const { node, profile, gpu, annotations = {} } = pod;
  const core = admin.makeApiClient(CoreV1Api);
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name, annotations: { 'smartmig.io/gpu': String(gpu), ...annotations } },
      spec: {
        nodeName: node,
        containers: [{ name: 'job', image: 'none', resources: { limits: { [`nvidia.com/mig-${profile}`]: '1' } } }],
      },
    },
  });
  await setPodPhase(admin, namespace, name, 'Running');
}

export async function setPodPhase(
  admin: KubeConfig,
  namespace: string,
  name: string,
  phase: 'Running' | 'Succeeded',
): Promise<void> {
  const now = new Date().toISOString();
  const containerStatuses =
    phase === 'Succeeded'
      ? [
          {
            name: 'job',
            ready: false,
            restartCount: 0,
            image: 'none',
            imageID: '',
            state: { terminated: { exitCode: 0, finishedAt: now, startedAt: now } },
          },
        ]
      : [
          {
            name: 'job',
            ready: true,
            restartCount: 0,
            image: 'none',
            imageID: '',
            state: { running: { startedAt: now } },
          },
        ];
  await admin
    .makeApiClient(CoreV1Api)
    .patchNamespacedPodStatus({ name, namespace, body: { status: { phase, containerStatuses } } }, MERGE);
}

/** A pod that waits for a slice: no node, and a scheduler name nobody serves, so it stays Pending. */
export async function pendingPod(admin: KubeConfig, namespace: string, name: string, profile: string): Promise<void> {
  await admin.makeApiClient(CoreV1Api).createNamespacedPod({
    namespace,
    body: {
      metadata: { name },
      spec: {
        schedulerName: 'nobody',
        containers: [{ name: 'job', image: 'none', resources: { limits: { [`nvidia.com/mig-${profile}`]: '1' } } }],
      },
    },
  });
}

export interface Violation {
  readonly node: string;
  readonly gpu: number;
  readonly pods: readonly string[];
}

/**
 * mig-manager's part: on a new nvidia.com/mig.config value, reads the ConfigMap, works out which GPUs change,
 * checks through the apiserver that none of them runs a pod, and after `delayMs` sets the state label to
 * success (or failed for configs in `failing`).
 */
export class TestMigManager {
  readonly violations: Violation[] = [];
  readonly applied: { node: string; config: string; gpus: number[] }[] = [];
  readonly failing = new Set<string>();
  private readonly current = new Map<string, string>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly lw: ListWatch<V1Node>;
  private readonly core: CoreV1Api;

  constructor(
    private readonly admin: KubeConfig,
    private readonly selector: string,
    private readonly configMap: { namespace: string; name: string },
    private readonly delayMs = 300,
  ) {
    this.core = admin.makeApiClient(CoreV1Api);
    this.lw = new ListWatch<V1Node>(
      '/api/v1/nodes',
      new Watch(admin),
      () => this.core.listNode({ labelSelector: selector }),
      false,
      selector,
    );
    this.lw.on('add', (n) => this.seen(n));
    this.lw.on('update', (n) => this.seen(n));
  }

  async start(): Promise<void> {
    await this.lw.start();
  }

  async stop(): Promise<void> {
    await this.lw.stop();
    // A change under way finishes first: its last patch must not land after the test deleted the node.
    await Promise.all(this.inFlight);
  }

  private seen(n: V1Node): void {
    const name = n.metadata?.name ?? '';
    const config = n.metadata?.labels?.[MIG_CONFIG_LABEL];
    const before = this.current.get(name);
    if (config === undefined) return;
    if (before === undefined) {
      this.current.set(name, config);
      return;
    }
    if (config === before) return;
    this.current.set(name, config);
    const change = this.reconfigure(name, before, config, Number(n.metadata?.labels?.['nvidia.com/gpu.count'])).finally(
      () => this.inFlight.delete(change),
    );
    this.inFlight.add(change);
  }

  private async layouts(config: string, gpus: number): Promise<readonly (GpuTarget | undefined)[]> {
    const cm = await this.core.readNamespacedConfigMap(this.configMap);
    const parsed = parseMigPartedConfig(cm.data?.['config.yaml']);
    if (!parsed.ok) throw new Error(parsed.error);
    return layoutsOfConfig(parsed.value['mig-configs'][config] ?? [], A100, gpus);
  }

  private async reconfigure(node: string, before: string, config: string, gpus: number): Promise<void> {
    const [prev, next] = [await this.layouts(before, gpus), await this.layouts(config, gpus)];
    const changed = next
      .map((t, g) => (t && JSON.stringify(t) !== JSON.stringify(prev[g]) ? g : -1))
      .filter((g) => g >= 0);
    const pods = await this.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` });
    for (const g of changed) {
      const holders = pods.items
        .filter((p: V1Pod) => p.status?.phase === 'Running' || p.status?.phase === 'Pending')
        .filter((p: V1Pod) => p.metadata?.annotations?.['smartmig.io/gpu'] === String(g))
        .map((p: V1Pod) => `${p.metadata?.namespace}/${p.metadata?.name}`);
      if (holders.length > 0) this.violations.push({ node, gpu: g, pods: holders });
    }
    this.applied.push({ node, config, gpus: changed });
    await new Promise((r) => setTimeout(r, this.delayMs));
    const state = this.failing.has(config) ? 'failed' : 'success';
    await this.core.patchNode({ name: node, body: { metadata: { labels: { [MIG_STATE_LABEL]: state } } } }, MERGE);
  }
}

export async function getPartition(admin: KubeConfig, name: string): Promise<MigPartition> {
  const custom = admin.makeApiClient(CustomObjectsApi);
  return (await custom.getClusterCustomObject({
    group: 'smartmig.io',
    version: 'v1alpha1',
    plural: 'migpartitions',
    name,
  })) as MigPartition;
}

export async function readyCondition(admin: KubeConfig, name: string): Promise<Condition | undefined> {
  return (await getPartition(admin, name)).status?.conditions?.find((c) => c.type === 'Ready');
}

export function waitReady(admin: KubeConfig, name: string, reason?: string, timeoutMs = 30_000) {
  return waitFor(
    async () => {
      const c = await readyCondition(admin, name);
      return c && (reason ? c.reason === reason : c.status === 'True') ? c : undefined;
    },
    { description: `MigPartition ${name} Ready${reason ? ` (${reason})` : ''}`, timeoutMs },
  );
}

export async function nodeOf(admin: KubeConfig, name: string): Promise<V1Node> {
  return admin.makeApiClient(CoreV1Api).readNode({ name });
}
