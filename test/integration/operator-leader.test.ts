// Two operator replicas with leader election on a real coordination.k8s.io Lease: one acts, the other
// waits; a crashed leader is replaced after the lease expires, a stopping one hands over at once.
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../operator/config.js';
import { MIG_CONFIG_LABEL } from '../../api/labels.js';
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
import { Cuttable } from './relay.js';
import {
  TestMigManager,
  bindOperatorRbac,
  createGpuNode,
  createStartConfigMap,
  ensureCrd,
  nodeOf,
  waitReady,
} from './operator-cluster.js';

const CM = 'mig-parted-config';
const LEASE = 'smartmig-operator';
const run = uniqueName('leader');
const pool = `pool-${run}`;
const node = `${run}-n`;
const partition = `${run}-p`;

let admin: KubeConfig;
let ns: string;
let manager: TestMigManager;
const replicas: Operator[] = [];

function replica(identity: string, kc: KubeConfig = loadKubeConfig('operator')): Operator {
  const config = resolveConfig({
    leaderElect: true,
    leaseNamespace: ns,
    leaseName: LEASE,
    identity,
    migConfigMap: { namespace: ns, name: CM },
    leaseDurationMs: 3000,
    renewDeadlineMs: 2000,
    retryPeriodMs: 250,
    resyncMs: 2000,
    debounceMs: 50,
  });
  const op = setupControllers({
    kc,
    config,
    log: pino({ level: process.env.SMARTMIG_TEST_LOG ?? 'silent' }),
  });
  replicas.push(op);
  return op;
}

async function holder(): Promise<string | undefined> {
  const lease = await admin.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: LEASE, namespace: ns });
  return lease.spec?.holderIdentity || undefined;
}

async function applyLayout(layout: string): Promise<void> {
  const doc = {
    apiVersion: 'smartmig.io/v1alpha1',
    kind: 'MigPartition',
    metadata: { name: partition },
    spec: {
      nodeSelector: { matchLabels: { 'smartmig.io/test-pool': pool } },
      mode: 'Static',
      static: { layouts: [{ layout }] },
    },
  };
  await kubectl(['apply', '-f', '-'], { input: JSON.stringify(doc) });
}

/** Samples both replicas until `until` resolves; fails if both ever lead at once. */
async function neverTwoLeaders<T>(ops: Operator[], until: Promise<T>): Promise<T> {
  let done = false;
  let overlap = 0;
  const sampler = (async () => {
    while (!done) {
      if (ops.filter((o) => o.isLeader()).length > 1) overlap++;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    return await until;
  } finally {
    done = true;
    await sampler;
    expect(overlap).toBe(0);
  }
}

beforeAll(async () => {
  admin = loadKubeConfig('admin');
  await ensureCrd();
  ns = await createTestNamespace(admin, 'leader');
  await bindOperatorRbac(admin, ns, CM);
  await createStartConfigMap(admin, ns, CM);
  await createGpuNode(admin, node, { 'smartmig.io/test-pool': pool }, 1, 'all-7g.40gb');
  manager = new TestMigManager(admin, `smartmig.io/test-pool=${pool}`, { namespace: ns, name: CM }, 100);
  await manager.start();
}, 120_000);

afterAll(async () => {
  for (const r of replicas) await r.stop({ release: false });
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

describe('leader election with two replicas', () => {
  let a: Operator;
  let b: Operator;

  it('elects exactly one leader, and only the leader acts', async () => {
    a = replica('replica-a');
    b = replica('replica-b');
    await Promise.all([a.start(), b.start()]);
    const leader = await neverTwoLeaders(
      [a, b],
      waitFor(() => [a, b].find((o) => o.isLeader()), { description: 'a leader', timeoutMs: 10_000 }),
    );
    const standby = leader === a ? b : a;
    expect(await holder()).toBe(leader === a ? 'replica-a' : 'replica-b');
    await applyLayout('all-1g.5gb');
    await neverTwoLeaders([a, b], waitReady(admin, partition, 'Converged'));
    expect(leader.reconciler.rounds).toBeGreaterThan(0);
    expect(standby.reconciler.rounds).toBe(0);
    expect(standby.isLeader()).toBe(false);
    const text = await standby.metrics.registry.getSingleMetricAsString('smartmig_operator_leader');
    expect(text).toMatch(/smartmig_operator_leader 0/);
  });

  it('fails over when the leader dies without releasing the lease', async () => {
    const leader = a.isLeader() ? a : b;
    const standby = leader === a ? b : a;
    const t0 = Date.now();
    await leader.stop({ release: false });
    await waitFor(() => standby.isLeader(), {
      description: 'the standby to take over',
      timeoutMs: 15_000,
      intervalMs: 50,
    });
    const took = Date.now() - t0;
    // At least the lease duration (it must not steal a live lease), at most that plus a few retries.
    expect(took).toBeGreaterThanOrEqual(2500);
    expect(took).toBeLessThan(8000);
    expect(await holder()).toBe(standby === a ? 'replica-a' : 'replica-b');
    // The new leader acts on a change.
    const before = (await nodeOf(admin, node)).metadata?.labels?.[MIG_CONFIG_LABEL];
    await applyLayout('all-3g.20gb');
    await waitFor(async () => (await nodeOf(admin, node)).metadata?.labels?.[MIG_CONFIG_LABEL] !== before, {
      description: 'the new leader to apply the change',
    });
    await waitReady(admin, partition, 'Converged');
  });

  it('hands over at once when the leader stops gracefully', async () => {
    const leader = a.isLeader() ? a : b;
    const c = replica('replica-c');
    await c.start();
    await new Promise((r) => setTimeout(r, 500));
    expect(c.isLeader()).toBe(false);
    await leader.stop({ release: true });
    // Timed from the release, not from the stop: stopping waits for the leader's round, which a loaded machine
    // stretches (3.3 s once, from the stop).
    const released = Date.now();
    expect([undefined, 'replica-c']).toContain(await holder());
    await waitFor(() => c.isLeader(), { description: 'replica-c to lead', timeoutMs: 10_000, intervalMs: 50 });
    // A standby retries every 250 ms: it takes a released lease within a few tries, well before the 3 s lease
    // would have expired.
    expect(Date.now() - released).toBeLessThan(2000);
    expect(await holder()).toBe('replica-c');
    expect(manager.violations).toEqual([]);
  });

  it('steps down within its renew deadline when the API server hangs, and a standby takes over', async () => {
    const current = replicas.find((o) => o.isLeader());
    await current?.stop({ release: true });
    const relay = new Cuttable(new URL(admin.getCurrentCluster()?.server ?? ''));
    await relay.start();
    try {
      const d = replica('replica-d', relay.kubeConfig('operator'));
      await d.start();
      await waitFor(() => d.isLeader(), { description: 'replica-d to lead', timeoutMs: 10_000, intervalMs: 50 });
      const e = replica('replica-e');
      await e.start();
      const t0 = Date.now();
      relay.hang();
      const handover = (async () => {
        await waitFor(() => !d.isLeader(), {
          description: 'replica-d to step down',
          timeoutMs: 10_000,
          intervalMs: 20,
        });
        const stepped = Date.now() - t0;
        await waitFor(() => e.isLeader(), { description: 'replica-e to lead', timeoutMs: 15_000, intervalMs: 50 });
        return stepped;
      })();
      const stepped = await neverTwoLeaders([d, e], handover);
      // Renew deadline 2 s after the last renewal (at most one retry period, 250 ms, before the hang).
      expect(stepped).toBeLessThan(2000 + 250 + 500);
      expect(await holder()).toBe('replica-e');
      await applyLayout('all-2g.10gb');
      await waitReady(admin, partition, 'Converged');
      expect(manager.violations).toEqual([]);
    } finally {
      await relay.cut();
    }
  });
});
