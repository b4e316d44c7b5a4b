// DRA nodes through the real kube-scheduler 1.37: two fake-gpu DRA nodes (A100, 1 GPU each), the extender in
// process, and a kube-scheduler whose only extender entry is the chart's claims entry (/scheduler/claims, no
// managedResources). A claim pod reaches the extender, is scored from the nodes' DRA free placements, and lands
// on the node the extender preferred; the webhook's pickProfile sees those placements too.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, ResourceV1Api, type V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migClaimTemplate } from '../../dra/claim-templates.js';
import { startExtender } from '../../extender/main.js';
import { DEFAULT_CONFIG, checkConfig } from '../../fake-gpu/config.js';
import { startFakeGpu, type FakeGpu } from '../../fake-gpu/main.js';
import { grantExtenderRbac } from './extender-cluster.js';
import {
  createTestNamespace,
  deleteTestNamespace,
  kubeconfigPath,
  loadKubeConfig,
  localDir,
  readLocalCluster,
  uniqueName,
  waitFor,
} from '../support/cluster.js';

const admin = loadKubeConfig('admin');
const core = admin.makeApiClient(CoreV1Api);
const resource = admin.makeApiClient(ResourceV1Api);
const run = uniqueName('dranodes');
const schedulerName = `${run}-sched`;

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

async function post<T>(url: string, body: unknown): Promise<T> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await r.json()) as T;
}

describe('claim pods on DRA nodes, with the real kube-scheduler', () => {
  let namespace = '';
  let fake: FakeGpu | undefined;
  let nodes: string[] = [];
  let url = '';
  let template = '';
  let scheduler: ChildProcess | undefined;
  let log = '';
  const cleanups: (() => Promise<unknown>)[] = [];

  const claimPod = (name: string, only: string[], annotations: Record<string, string> = {}): V1Pod => ({
    metadata: { name, annotations },
    spec: {
      schedulerName,
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: only }] },
            ],
          },
        },
      },
      resourceClaims: [{ name: 'mig', resourceClaimTemplateName: template }],
      containers: [{ name: 'job', image: 'registry.invalid/job:1', resources: { claims: [{ name: 'mig' }] } }],
    },
  });

  const running = (name: string) =>
    waitFor(
      async () => {
        const p = await core.readNamespacedPod({ name, namespace });
        return p.status?.phase === 'Running' && p.spec?.nodeName ? p : false;
      },
      { description: `pod ${name} running`, timeoutMs: 60_000 },
    );

  const decisions = async (verb: string): Promise<number> => {
    const text = await (await fetch(`${url}/metrics`)).text();
    return [
      ...text.matchAll(new RegExp(`^smartmig_extender_decisions_total\\{[^}]*verb="${verb}"[^}]*\\} (\\d+)`, 'gm')),
    ]
      .map((m) => Number(m[1]))
      .reduce((a, b) => a + b, 0);
  };

  beforeAll(async () => {
    await grantExtenderRbac();
    namespace = await createTestNamespace(admin, 'dra-nodes');
    const checked = checkConfig({
      ...DEFAULT_CONFIG,
      allocationMode: 'dra',
      nodes: 2,
      gpusPerNode: 1,
      timeScale: 600,
      heartbeatSeconds: 1,
      cleanup: true,
      nodePrefix: `${run}-`,
    });
    if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
    fake = await startFakeGpu({ config: checked.config, kc: admin, log: pino({ level: 'silent' }) });
    nodes = [...fake.nodeNames];
    const t = migClaimTemplate(namespace, ['1g.5gb']);
    await resource.createNamespacedResourceClaimTemplate({ namespace, body: t });
    template = t.metadata?.name ?? '';
    const ext = await startExtender({
      host: '127.0.0.1',
      port: 0,
      kubeconfig: kubeconfigPath('extender'),
      logLevel: 'warn',
    });
    cleanups.push(() => ext.close());
    url = ext.url;
    await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, { description: 'extender ready' });
    const dir = mkdtempSync(join(tmpdir(), 'smartmig-dra-nodes-'));
    const kubeconfig = join(localDir(), 'scheduler.kubeconfig');
    writeFileSync(
      join(dir, 'config.yaml'),
      [
        'apiVersion: kubescheduler.config.k8s.io/v1',
        'kind: KubeSchedulerConfiguration',
        `clientConnection: { kubeconfig: ${kubeconfig} }`,
        'leaderElection: { leaderElect: false }',
        `profiles: [{ schedulerName: ${schedulerName} }]`,
        'extenders:',
        `  - { urlPrefix: ${url}/scheduler/claims, filterVerb: filter, prioritizeVerb: prioritize, weight: 5, nodeCacheCapable: true, httpTimeout: 10s, ignorable: true }`,
      ].join('\n'),
    );
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
    scheduler.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
    cleanups.push(async () => {
      scheduler?.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    });
  }, 120_000);

  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await fake?.stop();
    if (namespace) await deleteTestNamespace(admin, namespace);
  }, 120_000);

  it('places a claim pod where the extender scores best, from the DRA free placements', async () => {
    const [a = '', b = ''] = nodes;
    await core.createNamespacedPod({ namespace, body: claimPod('first', [a]) });
    expect((await running('first')).spec?.nodeName, log).toBe(a);
    // The extender's picture: node a has one 1g.5gb in use, b none.
    const used = await waitFor(
      async () => {
        const f = await post<{ NodeNames: string[] | null }>(`${url}/scheduler/filter`, {
          Pod: {
            metadata: { name: 'probe', namespace },
            spec: { containers: [{ resources: { limits: { 'nvidia.com/mig-7g.40gb': '1' } } }] },
          },
          NodeNames: [a, b],
        });
        return f.NodeNames?.length === 1 ? f.NodeNames : false;
      },
      { description: 'the extender to see the allocated claim on a', timeoutMs: 30_000 },
    );
    expect(used).toEqual([b]);
    // What the extender prefers for the same demand, before the pod exists (its claim counts once placed).
    const annotations = { 'smartmig.io/deadline': '1h', 'smartmig.io/work': '10' };
    const scores = await post<{ Host: string; Score: number }[]>(`${url}/scheduler/prioritize`, {
      Pod: {
        metadata: { name: 'probe', namespace, annotations },
        spec: { containers: [{ resources: { limits: { 'nvidia.com/mig-1g.5gb': '1' } } }] },
      },
      NodeNames: [a, b],
    });
    const best = [...scores].sort((x, y) => y.Score - x.Score);
    expect(best[0]?.Score).toBeGreaterThan(best[1]?.Score ?? 0);
    const before = await decisions('prioritize');
    await core.createNamespacedPod({ namespace, body: claimPod('second', [a, b], annotations) });
    const placed = await running('second');
    expect(await decisions('prioritize'), 'kube-scheduler called the claims entry').toBeGreaterThan(before + 0);
    expect(placed.spec?.nodeName, log).toBe(best[0]?.Host);
  }, 120_000);
});
