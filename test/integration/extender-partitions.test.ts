// MigPartitions steer the extender through the real API server: the test applies a policy with kubectl and
// the running extender (its own process state, the chart's RBAC, the real list/watch) follows it. A policy's
// workload profile changes the webhook's slice choice and the expected finish that bind records; its
// energyWeight changes the marginal-ET scores of the node it manages (the node carries smartmig.io/partition,
// as the operator writes it); editing the policy changes them again and deleting it restores the built-ins.
import { createServer } from 'node:net';
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlacementRecord } from '../../extender/kube.js';
import { startExtender, type RunningExtender } from '../../extender/main.js';
import { grantExtenderRbac } from './extender-cluster.js';
import { ensureCrd } from '../support/crd.js';
import {
  createTestNamespace,
  deleteTestNamespace,
  fakeNode,
  ignoreNotFound,
  kubeconfigPath,
  kubectl,
  loadKubeConfig,
  uniqueName,
  waitFor,
} from '../support/cluster.js';

const admin: KubeConfig = loadKubeConfig('admin');
const core = admin.makeApiClient(CoreV1Api);
const run = uniqueName('extp');
const policyName = `${run}-pool`;
const workload = `${run}-llm`;
const MIG = {
  'nvidia.com/mig-1g.5gb': '7',
  'nvidia.com/mig-2g.10gb': '3',
  'nvidia.com/mig-3g.20gb': '2',
  'nvidia.com/mig-7g.40gb': '1',
};
const A100 = { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-40GB', 'nvidia.com/gpu.count': '4' };
const managed = `${run}-managed`;
const free = `${run}-free`;
const sink = `${run}-sink`;
let namespace = '';
let extender: RunningExtender | undefined;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function post<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(`${extender?.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** The MigPartition as a user writes it; it selects no node, so an operator would leave every node alone. */
function manifest(energyWeight: number, speedup: Record<number, number>): string {
  return JSON.stringify({
    apiVersion: 'smartmig.io/v1alpha1',
    kind: 'MigPartition',
    metadata: { name: policyName },
    spec: {
      nodeSelector: { matchLabels: { 'smartmig.io/test-run': `${run}-nothing` } },
      mode: 'Dynamic',
      objective: { energyWeight },
      workloads: [
        {
          name: workload,
          speedup: Object.entries(speedup).map(([k, factor]) => ({ computeSlices: Number(k), factor })),
        },
      ],
    },
  });
}

const jobPod = (name: string, annotations: Record<string, string>, resource = 'nvidia.com/mig-2g.10gb'): V1Pod => ({
  metadata: { name, namespace, annotations },
  spec: {
    // No scheduler of that name runs: only the test's bind call places it.
    schedulerName: `${run}-nobody`,
    containers: [{ name: 'job', image: 'registry.invalid/job:1', resources: { limits: { [resource]: '1' } } }],
  },
});

/** The webhook's answer for a moldable pod of 60 minutes' work due in 40: the chosen resource, or why not. */
async function webhookChoice(): Promise<string> {
  const pod = jobPod(
    'moldable',
    {
      'smartmig.io/workload': workload,
      'smartmig.io/work': '60',
      'smartmig.io/deadline': '40m',
      'smartmig.io/profiles': '1g.5gb,2g.10gb,3g.20gb',
    },
    'nvidia.com/mig-7g.40gb',
  );
  const review = await post<{ response: { allowed: boolean; patch?: string; status?: { message?: string } } }>(
    '/mutate',
    {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: '00000000-0000-4000-8000-00000000000a',
        kind: { group: '', version: 'v1', kind: 'Pod' },
        resource: { group: '', version: 'v1', resource: 'pods' },
        operation: 'CREATE',
        namespace,
        object: { ...pod, metadata: { ...pod.metadata, creationTimestamp: new Date().toISOString() } },
      },
    },
  );
  const r = review.response;
  if (!r.allowed) return `denied: ${r.status?.message ?? ''}`;
  const ops = JSON.parse(Buffer.from(r.patch ?? 'W10=', 'base64').toString()) as { op: string; path: string }[];
  return (
    ops
      .find((o) => o.op === 'add')
      ?.path.split('/')
      .pop()
      ?.replace('~1', '/') ?? 'unchanged'
  );
}

/** Prioritize scores of the two identical nodes for a 1g pod without a deadline (energy decides). */
async function scores(): Promise<Record<string, number>> {
  const pod = jobPod('probe', { 'smartmig.io/work': '30' }, 'nvidia.com/mig-1g.5gb');
  const list = await post<{ Host: string; Score: number }[]>('/scheduler/prioritize', {
    Pod: pod,
    Nodes: null,
    NodeNames: [managed, free],
  });
  return Object.fromEntries(list.map((h) => [h.Host === managed ? 'managed' : 'free', h.Score]));
}

/** Minutes from bind to the expected finish recorded in smartmig.io/placement, for a new 2g pod. */
let bound = 0;
async function boundRunMinutes(): Promise<number> {
  const name = `job-${bound++}`;
  const created = await core.createNamespacedPod({
    namespace,
    body: jobPod(name, { 'smartmig.io/workload': workload, 'smartmig.io/work': '60' }),
  });
  const result = await post<{ Error: string }>('/scheduler/bind', {
    PodName: name,
    PodNamespace: namespace,
    PodUID: created.metadata?.uid,
    Node: sink,
  });
  expect(result.Error).toBe('');
  const pod = await core.readNamespacedPod({ name, namespace });
  const record = JSON.parse(pod.metadata?.annotations?.['smartmig.io/placement'] ?? '{}') as PlacementRecord;
  return (Date.parse(record.expectedFinish ?? '') - Date.parse(record.at)) / 60_000;
}

beforeAll(async () => {
  await ensureCrd();
  await grantExtenderRbac();
  namespace = await createTestNamespace(admin, 'partitions');
  for (const name of [managed, free, sink]) {
    const body = fakeNode({ name, capacity: MIG, labels: A100 });
    if (name === managed) body.metadata = { ...body.metadata, annotations: { 'smartmig.io/partition': policyName } };
    await core.createNode({ body });
  }
  extender = await startExtender({
    host: '127.0.0.1',
    port: await freePort(),
    kubeconfig: kubeconfigPath('extender'),
    heuristic: 'marginal-et',
    logLevel: 'warn',
  });
  await waitFor(async () => (await fetch(`${extender?.url}/readyz`)).status === 200, { description: 'ready' });
  await waitFor(async () => (await scores()).managed === 10, { description: 'the extender to know the nodes' });
}, 180_000);

afterAll(async () => {
  await extender?.close();
  await kubectl(['delete', 'migpartition', policyName, '--ignore-not-found']);
  if (namespace) await deleteTestNamespace(admin, namespace);
  for (const n of [managed, free, sink]) await ignoreNotFound(core.deleteNode({ name: n }));
}, 120_000);

describe('the extender follows MigPartitions', () => {
  it('uses a policy while it exists, follows an edit, and forgets it when deleted', async () => {
    // Before: the workload is unknown (the webhook refuses it, bind assumes linear speed-up: 60 min / 2) and
    // both nodes are scored with the extender's own weight.
    expect(await webhookChoice()).toMatch(/^denied: .*is not a known speed-up profile/);
    expect(await scores()).toEqual({ managed: 10, free: 10 });
    expect(await boundRunMinutes()).toBeCloseTo(30, 3);

    // 2g runs 1.2× and 3g 2× as fast as 1g: only 3g meets the deadline. Energy costs nothing on `managed`.
    await kubectl(['apply', '-f', '-'], { input: manifest(0, { 2: 1.2, 3: 2 }) });
    await waitFor(async () => (await webhookChoice()) === 'nvidia.com/mig-3g.20gb', {
      description: 'the webhook to use the policy workload',
    });
    expect(await scores()).toEqual({ managed: 10, free: 9 });
    expect(await boundRunMinutes()).toBeCloseTo(50, 3);

    // Edited: 2g is now on time and the slowest that is; energy weighs heavily on `managed`.
    await kubectl(['patch', 'migpartition', policyName, '--type=merge', '-p', manifest(1000, { 2: 2, 3: 2.5 })]);
    await waitFor(async () => (await webhookChoice()) === 'nvidia.com/mig-2g.10gb', {
      description: 'the webhook to follow the edit',
    });
    expect(await scores()).toEqual({ managed: 9, free: 10 });
    expect(await boundRunMinutes()).toBeCloseTo(30, 3);

    await kubectl(['delete', 'migpartition', policyName]);
    await waitFor(async () => (await webhookChoice()).startsWith('denied'), {
      description: 'the webhook to forget the deleted policy',
    });
    expect(await scores()).toEqual({ managed: 10, free: 10 });
  }, 90_000);
});
