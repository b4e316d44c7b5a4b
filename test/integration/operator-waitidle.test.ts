// Drain mode WaitIdle against the real kube-apiserver: a layout change reaches a node whose GPU runs a pod.
// The operator marks the GPUs to change (smartmig.io/draining, which the extender reads as "no new
// placements"), adds no taint, waits as long as the pod runs, and reconfigures only after it ends.
// mig-manager's part is played by the test (operator-cluster.ts), which records any GPU it was asked to
// change while a pod held it.
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeInfo } from '../../extender/kube.js';
import type { Node } from '../../extender/schemas.js';
import { resolveConfig } from '../../operator/config.js';
import { DRAINING_ANNOTATION, MIG_CONFIG_LABEL, REPARTITION_TAINT } from '../../api/labels.js';
import { parseMigPartedConfig } from '../../operator/migparted.js';
import { setupControllers, type Operator } from '../../operator/setup.js';
import {
  createTestNamespace,
  deleteTestNamespace,
  ignoreNotFound,
  kubectl,
  loadKubeConfig,
  uniqueName,
  waitFor,
} from '../support/cluster.js';
import {
  TestMigManager,
  createStartConfigMap,
  bindOperatorRbac,
  createGpuNode,
  ensureCrd,
  getPartition,
  nodeOf,
  runningPod,
  setPodPhase,
  waitReady,
} from './operator-cluster.js';

const CM = 'mig-parted-config';
const run = uniqueName('waitidle');
const pool = `pool-${run}`;
const node = `${run}-n`;
const partition = `${run}-p`;

let admin: KubeConfig;
let ns: string;
let manager: TestMigManager;
let operator: Operator;

async function configOfNode(): Promise<string | undefined> {
  return (await nodeOf(admin, node)).metadata?.labels?.[MIG_CONFIG_LABEL];
}

async function gpuLayouts(): Promise<string[]> {
  const cm = await admin.makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: CM, namespace: ns });
  const parsed = parseMigPartedConfig(cm.data?.['config.yaml']);
  if (!parsed.ok) throw new Error(parsed.error);
  const entries = parsed.value['mig-configs'][(await configOfNode()) ?? ''] ?? [];
  return entries.map((e) => `${e.devices === 'all' ? 'all' : e.devices.join(',')}:${JSON.stringify(e['mig-devices'])}`);
}

beforeAll(async () => {
  admin = loadKubeConfig('admin');
  await ensureCrd();
  ns = await createTestNamespace(admin, 'waitidle');
  await bindOperatorRbac(admin, ns, CM);
  await createStartConfigMap(admin, ns, CM);
  await createGpuNode(admin, node, { 'smartmig.io/test-pool': pool }, 2, 'all-7g.40gb');
  manager = new TestMigManager(admin, `smartmig.io/test-pool=${pool}`, { namespace: ns, name: CM });
  await manager.start();
  const config = resolveConfig({
    migConfigMap: { namespace: ns, name: CM },
    leaseNamespace: ns,
    identity: 'test-operator-waitidle',
    resyncMs: 2000,
    debounceMs: 50,
  });
  operator = setupControllers({
    kc: loadKubeConfig('operator'),
    config,
    log: pino({ level: process.env.SMARTMIG_TEST_LOG ?? 'silent' }),
  });
  await operator.start();
}, 120_000);

afterAll(async () => {
  await operator?.stop();
  await manager?.stop();
  await ignoreNotFound(
    admin.makeApiClient(CustomObjectsApi).deleteClusterCustomObject({
      group: 'smartmig.io',
      version: 'v1alpha1',
      plural: 'migpartitions',
      name: partition,
    }),
  );
  await ignoreNotFound(admin.makeApiClient(CoreV1Api).deleteNode({ name: node }));
  if (ns) await deleteTestNamespace(admin, ns);
});

describe('drain mode WaitIdle', () => {
  it('marks the GPUs of a busy node no-new-placements, waits for the pod, and reconfigures only after it ends', async () => {
    await runningPod(admin, ns, 'busy', { node, profile: '7g.40gb', gpu: 0 });
    const before = await configOfNode();
    await kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'smartmig.io/v1alpha1',
        kind: 'MigPartition',
        metadata: { name: partition },
        spec: {
          nodeSelector: { matchLabels: { 'smartmig.io/test-pool': pool } },
          mode: 'Static',
          static: { layouts: [{ layout: 'all-3g.20gb' }] },
          limits: { drain: 'WaitIdle' },
        },
      }),
    });

    // Marked: both GPUs are to change; no taint in this mode; the extender reads the node as draining.
    const marked = await waitFor(
      async () => {
        const n = await nodeOf(admin, node);
        return n.metadata?.annotations?.[DRAINING_ANNOTATION] === '0,1' ? n : undefined;
      },
      { description: 'the busy node marked draining' },
    );
    expect(marked.spec?.taints?.some((t) => t.key === REPARTITION_TAINT.key) ?? false).toBe(false);
    expect(nodeInfo(marked as unknown as Node).draining).toBe(true);
    expect(marked.metadata?.labels?.[MIG_CONFIG_LABEL]).toBe(before);

    // Waits: several rounds (resync 2 s) pass without a change while the pod runs.
    await new Promise((r) => setTimeout(r, 5000));
    expect(await configOfNode()).toBe(before);
    expect(manager.applied.filter((a) => a.node === node)).toEqual([]);
    const waiting = (await getPartition(admin, partition)).status?.nodes?.find((n) => n.name === node);
    expect(waiting).toMatchObject({ state: 'Draining', message: 'waiting for pods to leave GPU(s) 0' });
    expect(waiting?.gpus?.[0]).toMatchObject({ busy: true, desired: '3g.20gb+3g.20gb' });
    expect(waiting?.gpus?.[1]).toMatchObject({ busy: false });
    const ready = (await getPartition(admin, partition)).status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'Reconfiguring' });

    // The pod ends: the node is reconfigured, once, and the marks go.
    await setPodPhase(admin, ns, 'busy', 'Succeeded');
    await waitReady(admin, partition, 'Converged');
    expect(await configOfNode()).not.toBe(before);
    expect(await gpuLayouts()).toEqual(['0,1:{"3g.20gb":2}']);
    const done = await nodeOf(admin, node);
    expect(done.metadata?.annotations?.[DRAINING_ANNOTATION]).toBeUndefined();
    expect(done.spec?.taints ?? []).toEqual([]);
    expect(manager.applied.filter((a) => a.node === node)).toEqual([
      { node, config: await configOfNode(), gpus: [0, 1] },
    ]);
    expect(manager.violations).toEqual([]);
    const events = await admin
      .makeApiClient(CoreV1Api)
      .listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.name=${partition}` });
    expect(events.items.map((e) => e.reason)).toEqual(
      expect.arrayContaining(['Draining', 'Reconfiguring', 'Reconfigured']),
    );
  });
});
