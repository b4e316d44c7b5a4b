// The extender against a real control plane: kube-scheduler calls it (nodeCacheCapable through the shared
// smartmig-scheduler of hack/local-up.sh, full Node lists through a kube-scheduler this test starts) and
// pods land where the heuristic says; bind is idempotent and conflict-safe against the real API server;
// the API server calls the webhook over HTTPS and moldable pods get their slice.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExtender, type RunningExtender } from '../../extender/main.js';
import { grantExtenderRbac } from './extender-cluster.js';
import type { PlacementRecord } from '../../extender/kube.js';
import {
  SMARTMIG_SCHEDULER,
  createTestNamespace,
  deleteTestNamespace,
  fakeNode,
  ignoreNotFound,
  kubeconfigPath,
  loadKubeConfig,
  localDir,
  readLocalCluster,
  statusCode,
  uniqueName,
  waitFor,
} from '../support/cluster.js';
import { makeServingCerts, registerPodWebhook } from '../support/webhook.js';

const MIG_1G = 'nvidia.com/mig-1g.5gb';
const MIG_4G = 'nvidia.com/mig-4g.20gb';
const A100 = { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-40GB', 'nvidia.com/gpu.count': '1' };

const admin: KubeConfig = loadKubeConfig('admin');
const core = admin.makeApiClient(CoreV1Api);
const run = uniqueName('ext');
let namespace = '';
const nodes: string[] = [];
const cleanups: (() => Promise<unknown>)[] = [];

async function createNode(
  suffix: string,
  mig: Record<string, number>,
  extra: { labels?: Record<string, string>; annotations?: Record<string, string> } = {},
) {
  const name = `${run}-${suffix}`;
  const capacity = Object.fromEntries(Object.entries(mig).map(([r, n]) => [r, String(n)]));
  const body = fakeNode({ name, capacity, labels: { ...A100, 'smartmig.io/test-run': run, ...extra.labels } });
  if (extra.annotations) body.metadata = { ...body.metadata, annotations: extra.annotations };
  await core.createNode({ body });
  nodes.push(name);
  return name;
}

function gpuPod(
  name: string,
  resource: string,
  opts: { schedulerName?: string; nodeName?: string; annotations?: Record<string, string> } = {},
): V1Pod {
  return {
    metadata: { name, annotations: opts.annotations },
    spec: {
      schedulerName: opts.schedulerName ?? SMARTMIG_SCHEDULER,
      nodeName: opts.nodeName,
      nodeSelector: { 'smartmig.io/test-run': run },
      containers: [{ name: 'job', image: 'registry.invalid/job:1', resources: { limits: { [resource]: '1' } } }],
    },
  };
}

async function boundNode(name: string, timeoutMs = 30_000): Promise<string> {
  return waitFor(async () => (await core.readNamespacedPod({ name, namespace })).spec?.nodeName, {
    description: `pod ${name} to be bound`,
    timeoutMs,
  });
}

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

/** POST JSON to the extender over HTTP, or HTTPS trusting `ca` (the webhook's listener). */
function post<T>(url: string, body: unknown, ca?: Buffer): Promise<{ status: number; body: T }> {
  const payload = JSON.stringify(body);
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: 'POST', ca, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as T }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Waits until the extender's cache knows every test node (a filter no longer calls them unknown). */
async function cacheKnowsNodes(base: string, ca?: Buffer): Promise<void> {
  await waitFor(
    async () => {
      const { body } = await post<{ FailedNodes: Record<string, string> }>(
        `${base}/scheduler/filter`,
        {
          Pod: { metadata: { name: 'probe' }, spec: { containers: [{ resources: { limits: { [MIG_1G]: '1' } } }] } },
          NodeNames: nodes,
        },
        ca,
      );
      return Object.values(body.FailedNodes).every((r) => !r.includes('not in the smartmig extender cache'));
    },
    { description: 'the extender cache to list the test nodes' },
  );
}

/** Starts the extender on the shared smartmig-scheduler's URL, waiting out another test that holds the port. */
async function startSharedExtender(): Promise<RunningExtender> {
  const port = Number(new URL(readLocalCluster().extender.url).port);
  return waitFor(
    async () => {
      try {
        return await startExtender({
          host: '127.0.0.1',
          port,
          kubeconfig: kubeconfigPath('extender'),
          logLevel: 'warn',
        });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') return undefined;
        throw err;
      }
    },
    { description: `port ${port} for the extender`, timeoutMs: 120_000, intervalMs: 1000 },
  );
}

let shared: RunningExtender;

beforeAll(async () => {
  await grantExtenderRbac();
  namespace = await createTestNamespace(admin, 'extender');
  await createNode('packed', { [MIG_1G]: 7 });
  await createNode('idle', { [MIG_1G]: 7 });
  await createNode('pending', { [MIG_1G]: 7 }, { labels: { 'nvidia.com/mig.config.state': 'pending' } });
  await createNode('draining', { [MIG_1G]: 7 }, { annotations: { 'smartmig.io/draining': 'true' } });
  // Four slices of `packed` are busy: pods bound directly, as kubelet-less nodes allow.
  for (let i = 0; i < 4; i++) {
    await core.createNamespacedPod({ namespace, body: gpuPod(`filler-${i}`, MIG_1G, { nodeName: `${run}-packed` }) });
  }
  shared = await startSharedExtender();
  cleanups.push(() => shared.close());
  await waitFor(async () => (await fetch(`${shared.url}/readyz`)).status === 200, { description: 'extender ready' });
  await cacheKnowsNodes(shared.url);
}, 180_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  if (namespace) await deleteTestNamespace(admin, namespace);
  for (const n of nodes) await ignoreNotFound(core.deleteNode({ name: n }));
}, 120_000);

describe('with kube-scheduler (nodeCacheCapable, the shared smartmig-scheduler)', () => {
  it('packs 1g pods onto the busiest node, never onto reconfiguring or draining nodes', async () => {
    const landed: string[] = [];
    for (let i = 0; i < 4; i++) {
      const name = `job-${i}`;
      await core.createNamespacedPod({ namespace, body: gpuPod(name, MIG_1G) });
      landed.push(await boundNode(name));
    }
    // 4 of 7 busy on `packed`: three more fit there (most packed first), the fourth goes to `idle`.
    expect(landed).toEqual([`${run}-packed`, `${run}-packed`, `${run}-packed`, `${run}-idle`]);
  });

  it('records the decision in smartmig.io/placement', async () => {
    const body = gpuPod('with-deadline', MIG_1G, {
      annotations: { 'smartmig.io/deadline': '2h', 'smartmig.io/work': '30', 'smartmig.io/workload': 'bert-training' },
    });
    await core.createNamespacedPod({ namespace, body });
    const node = await boundNode('with-deadline');
    const pod = await core.readNamespacedPod({ name: 'with-deadline', namespace });
    const record = JSON.parse(pod.metadata?.annotations?.['smartmig.io/placement'] ?? '{}') as PlacementRecord;
    expect(record).toMatchObject({ node, slices: { '1g.5gb': 1 }, heuristic: 'cedf' });
    const at = Date.parse(record.at);
    expect(Date.parse(record.expectedFinish ?? '')).toBeCloseTo(at + 30 * 60_000, -4);
    expect(Date.parse(record.deadline ?? '')).toBe(Date.parse(String(pod.metadata?.creationTimestamp)) + 2 * 3_600_000);
  });

  it('leaves a pod pending, with the reasons in its events, when no node can take it', async () => {
    await core.createNamespacedPod({
      namespace,
      body: {
        ...gpuPod('no-room', MIG_1G),
        spec: {
          ...gpuPod('no-room', MIG_1G).spec!,
          nodeSelector: { 'smartmig.io/test-run': run, 'kubernetes.io/hostname': `${run}-pending` },
        },
      },
    });
    const event = await waitFor(
      async () => {
        const events = await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=no-room' });
        return events.items.find((e) => e.reason === 'FailedScheduling');
      },
      { description: 'a FailedScheduling event for no-room' },
    );
    expect(event.message).toContain('MIG layout is being reconfigured');
    expect((await core.readNamespacedPod({ name: 'no-room', namespace })).spec?.nodeName).toBeUndefined();
  });
});

describe('bind against the real API server', () => {
  const bind = (pod: V1Pod, node: string, uid = pod.metadata?.uid ?? '') =>
    post<{ Error: string }>(`${shared.url}/scheduler/bind`, {
      PodName: pod.metadata?.name,
      PodNamespace: namespace,
      PodUID: uid,
      Node: node,
    });

  it('is idempotent for the same node and refuses another node or a re-created pod', async () => {
    // No scheduler serves this name, so only the test binds it.
    const pod = await core.createNamespacedPod({
      namespace,
      body: gpuPod('manual', MIG_1G, { schedulerName: 'nobody' }),
    });
    const target = `${run}-idle`;
    expect((await bind(pod, target)).body).toEqual({ Error: '' });
    expect((await bind(pod, target)).body).toEqual({ Error: '' });
    expect((await bind(pod, `${run}-packed`)).body.Error).toMatch(/already bound to .*-idle, not .*-packed/);
    const reread = await core.readNamespacedPod({ name: 'manual', namespace });
    expect(reread.spec?.nodeName).toBe(target);
    expect(JSON.parse(reread.metadata?.annotations?.['smartmig.io/placement'] ?? '{}')).toMatchObject({ node: target });

    const fresh = await core.createNamespacedPod({
      namespace,
      body: gpuPod('recreated', MIG_1G, { schedulerName: 'nobody' }),
    });
    const stale = await bind(fresh, target, '00000000-0000-0000-0000-000000000000');
    expect(stale.body.Error).toMatch(/re-created/);
    expect((await core.readNamespacedPod({ name: 'recreated', namespace })).spec?.nodeName).toBeUndefined();
  });

  it('reports a pod that does not exist', async () => {
    const { status, body } = await post<{ Error: string }>(`${shared.url}/scheduler/bind`, {
      PodName: 'ghost',
      PodNamespace: namespace,
      PodUID: '00000000-0000-0000-0000-000000000001',
      Node: `${run}-idle`,
    });
    expect(status).toBe(200);
    expect(body.Error).toMatch(/not found/);
  });

  it('refuses a bind without the pod UID and leaves the pod unbound (issue 14)', async () => {
    const pod = await core.createNamespacedPod({
      namespace,
      body: gpuPod('no-uid', MIG_1G, { schedulerName: 'nobody' }),
    });
    const { status, body } = await bind(pod, `${run}-idle`, '');
    expect(status).toBe(200);
    expect(body.Error).toMatch(/PodUID is missing or empty/);
    expect((await core.readNamespacedPod({ name: 'no-uid', namespace })).spec?.nodeName).toBeUndefined();
  });

  it('refuses a node that is being reconfigured or drained, and binds nowhere', async () => {
    const pod = await core.createNamespacedPod({
      namespace,
      body: gpuPod('late', MIG_1G, { schedulerName: 'nobody' }),
    });
    expect((await bind(pod, `${run}-pending`)).body.Error).toMatch(
      /can no longer take it: MIG layout is being reconfigured/,
    );
    expect((await bind(pod, `${run}-draining`)).body.Error).toMatch(/can no longer take it: node is being drained/);
    expect((await core.readNamespacedPod({ name: 'late', namespace })).spec?.nodeName).toBeUndefined();
  });
});

describe('with a kube-scheduler that sends full Node lists (nodeCacheCapable: false)', () => {
  let scheduler: ChildProcess | undefined;
  let dir = '';
  const schedulerName = `${run}-nocache`;

  beforeAll(async () => {
    const ext = await startExtender({
      host: '127.0.0.1',
      port: 0,
      kubeconfig: kubeconfigPath('extender'),
      logLevel: 'warn',
    });
    cleanups.push(() => ext.close());
    await waitFor(async () => (await fetch(`${ext.url}/readyz`)).status === 200, {
      description: 'second extender ready',
    });
    await cacheKnowsNodes(ext.url);
    dir = mkdtempSync(join(tmpdir(), 'smartmig-nocache-'));
    const config = [
      'apiVersion: kubescheduler.config.k8s.io/v1',
      'kind: KubeSchedulerConfiguration',
      `clientConnection: { kubeconfig: ${join(localDir(), 'scheduler.kubeconfig')} }`,
      'leaderElection: { leaderElect: false }',
      `profiles: [{ schedulerName: ${schedulerName} }]`,
      'extenders:',
      `  - { urlPrefix: ${ext.url}/scheduler, filterVerb: filter, prioritizeVerb: prioritize, bindVerb: bind, weight: 1, nodeCacheCapable: false, httpTimeout: 10s, managedResources: [{ name: ${MIG_1G} }, { name: ${MIG_4G} }] }`,
    ].join('\n');
    writeFileSync(join(dir, 'config.yaml'), config);
    const kubeconfig = join(localDir(), 'scheduler.kubeconfig');
    scheduler = spawn(
      readLocalCluster().bin.kubeScheduler,
      [
        `--config=${join(dir, 'config.yaml')}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${await freePort()}`,
        `--cert-dir=${dir}`,
        '--v=1',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    scheduler.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
    cleanups.push(async () => {
      scheduler?.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    });
    await createNode('big', { [MIG_1G]: 3, [MIG_4G]: 1 });
    await cacheKnowsNodes(ext.url);
    expect(scheduler.exitCode, log).toBeNull();
  }, 120_000);

  it('places by CEDF: a 1g pod on the node with the largest slices, a 4g pod on the only 4g', async () => {
    await core.createNamespacedPod({ namespace, body: gpuPod('cedf-1g', MIG_1G, { schedulerName }) });
    await core.createNamespacedPod({ namespace, body: gpuPod('cedf-4g', MIG_4G, { schedulerName }) });
    expect(await boundNode('cedf-1g', 60_000)).toBe(`${run}-big`);
    expect(await boundNode('cedf-4g', 60_000)).toBe(`${run}-big`);
  });
});

describe('the admission webhook, called by the API server', () => {
  let webhookName = '';

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smartmig-webhook-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    makeServingCerts(dir);
    const ext = await startExtender({
      host: '127.0.0.1',
      port: 0,
      kubeconfig: kubeconfigPath('extender'),
      tlsCert: join(dir, 'tls.crt'),
      tlsKey: join(dir, 'tls.key'),
      logLevel: 'warn',
    });
    cleanups.push(() => ext.close());
    // A free 4g slice of its own, whatever the scheduling tests above left.
    await createNode('wide', { [MIG_4G]: 1 });
    await cacheKnowsNodes(ext.url, readFileSync(join(dir, 'ca.crt')));
    webhookName = `${run}.smartmig.io`;
    const hook = { name: webhookName, url: `${ext.url}/mutate`, certDir: dir, namespace };
    // A pod with an unreadable work annotation is refused: once it is, the API server calls the extender.
    const remove = await registerPodWebhook(admin, hook, () =>
      core.createNamespacedPod({
        namespace,
        dryRun: 'All',
        body: gpuPod('probe', MIG_1G, { schedulerName: 'nobody', annotations: { 'smartmig.io/work': 'never' } }),
      }),
    );
    cleanups.push(remove);
  }, 120_000);

  it('gives a moldable pod the slowest free slice that meets its deadline', async () => {
    const annotations = {
      'smartmig.io/profiles': '1g.5gb,4g.20gb',
      'smartmig.io/deadline': '2h',
      'smartmig.io/work': '60',
      'smartmig.io/workload': 'bert-inference',
    };
    const created = await core.createNamespacedPod({
      namespace,
      body: gpuPod('moldable-loose', MIG_4G, { schedulerName: 'nobody', annotations }),
    });
    expect(created.spec?.containers[0]?.resources?.limits).toEqual({ [MIG_1G]: '1' });
  });

  it('gives a tight deadline the faster slice', async () => {
    const annotations = {
      'smartmig.io/profiles': '1g.5gb,4g.20gb',
      'smartmig.io/deadline': '20m',
      'smartmig.io/work': '60',
      'smartmig.io/workload': 'bert-inference',
    };
    const created = await core.createNamespacedPod({
      namespace,
      body: gpuPod('moldable-tight', MIG_1G, { schedulerName: 'nobody', annotations }),
    });
    expect(created.spec?.containers[0]?.resources?.limits).toEqual({ [MIG_4G]: '1' });
  });

  it('rejects invalid smartmig.io annotations with the reason', async () => {
    const body = gpuPod('bad', MIG_1G, {
      schedulerName: 'nobody',
      annotations: { 'smartmig.io/deadline': 'yesterday' },
    });
    const err = await core.createNamespacedPod({ namespace, body }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(statusCode(err)).toBe(400);
    expect(String((err as { body?: unknown }).body)).toContain(
      'smartmig.io/deadline: \\"yesterday\\" is neither an RFC 3339 time',
    );
  });
});
