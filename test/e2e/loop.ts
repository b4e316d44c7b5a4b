// What the whole-loop tests share: the GPU operator's mig-parted ConfigMap, Dynamic MigPartitions applied with
// kubectl, pods created at their (compressed) times, and the wait until every pod succeeded.
import type { CoreV1Api, CustomObjectsApi, V1Pod } from '@kubernetes/client-node';
import type { MigPartition } from '../../api/types.js';
import { renderMigPartedConfig } from '../../operator/migparted.js';
import { kubectl, waitFor } from '../support/cluster.js';

const MIG_PARTED_CONFIG = 'mig-parted-config';

/**
 * The mig-parted ConfigMap as the GPU operator would ship it (holding all-1g.5gb), in the test's namespace:
 * fake-gpu (as mig-manager) and the operator default to different names, so both are given this one.
 * Returns `namespace/name`.
 */
export async function createMigPartedConfig(core: CoreV1Api, namespace: string): Promise<string> {
  const start = {
    version: 'v1' as const,
    'mig-configs': { 'all-1g.5gb': [{ devices: 'all' as const, 'mig-enabled': true, 'mig-devices': { '1g.5gb': 7 } }] },
  };
  await core.createNamespacedConfigMap({
    namespace,
    body: { metadata: { name: MIG_PARTED_CONFIG }, data: { 'config.yaml': renderMigPartedConfig(start) } },
  });
  return `${namespace}/${MIG_PARTED_CONFIG}`;
}

/** Applies a Dynamic MigPartition over `nodes` with kubectl, as a cluster operator would. */
export async function applyDynamicPartition(
  name: string,
  spec: {
    nodes: readonly string[];
    gpuModel: string;
    dynamic: Record<string, string>;
    limits: Record<string, unknown>;
  },
): Promise<void> {
  const doc = {
    apiVersion: 'smartmig.io/v1alpha1',
    kind: 'MigPartition',
    metadata: { name },
    spec: {
      nodeSelector: {
        matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [...spec.nodes] }],
      },
      gpuModel: spec.gpuModel,
      mode: 'Dynamic',
      dynamic: spec.dynamic,
      limits: spec.limits,
    },
  };
  await kubectl(['apply', '-f', '-'], { input: JSON.stringify(doc) });
}

export async function readPartition(custom: CustomObjectsApi, name: string): Promise<MigPartition> {
  return (await custom.getClusterCustomObject({
    group: 'smartmig.io',
    version: 'v1alpha1',
    plural: 'migpartitions',
    name,
  })) as MigPartition;
}

export function describePod(p: V1Pod): string {
  const s = p.status;
  return `${p.metadata?.name} ${s?.phase} on ${p.spec?.nodeName ?? '(unbound)'}: ${s?.reason ?? ''} ${s?.message ?? ''}`;
}

/**
 * Creates each pod `atMs` after the call, in the order given; `before` runs at that time, ahead of the
 * creation (and may hold it back). Resolves when every pod exists.
 */
export async function submitAt(
  core: CoreV1Api,
  namespace: string,
  planned: readonly { readonly atMs: number; readonly pod: V1Pod }[],
  before: (pod: V1Pod) => Promise<void> = async () => undefined,
): Promise<void> {
  const start = Date.now();
  const creations: Promise<unknown>[] = [];
  for (const p of planned) {
    const wait = start + p.atMs - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await before(p.pod);
    creations.push(core.createNamespacedPod({ namespace, body: p.pod }));
  }
  await Promise.all(creations);
}

/**
 * Polls the namespace's pods until `count` of them succeeded; a Failed pod ends the wait at once, and so does
 * `check` throwing (say, an emulated process that exited). Returns the pods.
 */
export async function waitAllSucceeded(
  core: CoreV1Api,
  namespace: string,
  count: number,
  o: { timeoutMs: number; intervalMs: number; check: () => void },
): Promise<V1Pod[]> {
  const { pods, failed } = await waitFor(
    async () => {
      o.check();
      const pods = (await core.listNamespacedPod({ namespace })).items;
      const failed = pods.filter((p) => p.status?.phase === 'Failed');
      const done = pods.filter((p) => p.status?.phase === 'Succeeded').length;
      return (failed.length > 0 || done === count) && { pods, failed };
    },
    { description: `all ${count} pods to succeed`, timeoutMs: o.timeoutMs, intervalMs: o.intervalMs },
  ).catch(async (err: unknown) => {
    const pods = (await core.listNamespacedPod({ namespace })).items.filter((p) => p.status?.phase !== 'Succeeded');
    throw new Error(`${(err as Error).message}\nnot succeeded:\n${pods.slice(0, 15).map(describePod).join('\n')}`);
  });
  if (failed.length > 0) throw new Error(`pods failed:\n${failed.slice(0, 10).map(describePod).join('\n')}`);
  return pods;
}
