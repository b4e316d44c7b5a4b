// The reconciler's shell around the planner, with in-memory caches and a recording stand-in for the
// apiserver: which GPU series the metrics export, how finished pods are counted, and how failed writes
// are reported.
import { ApiException, type V1ConfigMap, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { MigPartition } from '../../../api/types.js';
import { resolveConfig } from '../../../operator/config.js';
import type { Clients } from '../../../operator/kube.js';
import { MIG_CONFIG_LABEL, MIG_STATE_LABEL } from '../../../api/labels.js';
import { createMetrics, type OperatorMetrics } from '../../../operator/metrics.js';
import { Reconciler, type Caches } from '../../../operator/reconciler.js';
import { gpuNode, migPod, partition } from './harness.js';

const CM = { namespace: 'gpu-operator', name: 'mig-config' };
const ALL_7G =
  'version: v1\nmig-configs:\n  all-7g:\n    - devices: all\n      mig-enabled: true\n      mig-devices: {"7g.40gb": 1}\n';

/** An informer's read side over a plain list. */
function cache<T extends { metadata?: { name?: string; namespace?: string } }>(items: T[]) {
  return {
    list: () => items,
    get: (name: string, namespace?: string) =>
      items.find((o) => o.metadata?.name === name && (namespace === undefined || o.metadata?.namespace === namespace)),
  };
}

interface Recorded {
  events: { reason: string; type: string; message: string; partition: string }[];
  nodePatches: string[];
}

/** The apiserver as the reconciler writes to it; `patchNode` may be replaced to fail. */
function fakeClients(rec: Recorded, patchNode: () => Promise<unknown> = async () => ({ metadata: {} })) {
  const core = {
    patchNode: async ({ name }: { name: string }) => {
      rec.nodePatches.push(name);
      return patchNode();
    },
    readNamespacedConfigMap: async () => ({ metadata: { name: CM.name }, data: { 'config.yaml': ALL_7G } }),
    replaceNamespacedConfigMap: async () => ({ metadata: {} }),
    createNamespacedConfigMap: async () => ({ metadata: {} }),
    createNamespacedEvent: async ({ body }: { body: Record<string, unknown> }) => {
      const involved = body.involvedObject as { name: string };
      rec.events.push({
        reason: body.reason as string,
        type: body.type as string,
        message: body.message as string,
        partition: involved.name,
      });
      return body;
    },
  };
  const custom = { patchClusterCustomObjectStatus: async () => ({ metadata: {} }) };
  return { core, custom, coordination: {} } as unknown as Clients;
}

interface World {
  nodes: V1Node[];
  pods: V1Pod[];
  partitions: MigPartition[];
  configMaps: V1ConfigMap[];
  clock: { now: number };
  metrics: OperatorMetrics;
  recorded: Recorded;
  rec: Reconciler;
}

function world(
  opts: {
    patchNode?: () => Promise<unknown>;
    nodes?: V1Node[];
    partitions?: MigPartition[];
    mayWrite?: () => boolean;
  } = {},
) {
  const node = (name: string, pool: string) =>
    gpuNode(name, { pool, [MIG_CONFIG_LABEL]: 'all-7g', [MIG_STATE_LABEL]: 'success' });
  const w = {
    nodes: opts.nodes ?? [node('n1', 'a'), node('n2', 'a'), node('n3', 'b')],
    pods: [] as V1Pod[],
    partitions: opts.partitions ?? [
      partition('p', { nodeSelector: { matchLabels: { pool: 'a' } }, mode: 'Dynamic', dynamic: {} }),
    ],
    configMaps: [{ metadata: { name: CM.name, namespace: CM.namespace, uid: 'u', resourceVersion: '1' } }],
    clock: { now: Date.parse('2026-01-01T00:00:00Z') },
    metrics: createMetrics(),
    recorded: { events: [], nodePatches: [] } as Recorded,
  } as Omit<World, 'rec'>;
  (w.configMaps[0] as V1ConfigMap).data = { 'config.yaml': ALL_7G };
  const caches = {
    nodes: cache(w.nodes),
    pods: cache(w.pods),
    partitions: cache(w.partitions),
    configMap: cache(w.configMaps),
    claims: cache([]),
  } as unknown as Caches;
  const rec = new Reconciler({
    clients: fakeClients(w.recorded, opts.patchNode),
    caches,
    config: resolveConfig({ migConfigMap: CM, debounceMs: 0, resyncMs: 60_000 }),
    metrics: w.metrics,
    log: pino({ level: 'silent' }),
    now: () => w.clock.now,
    ...(opts.mayWrite ? { mayWrite: opts.mayWrite } : {}),
    random: () => 1,
  });
  return { ...w, rec } as World;
}

async function series(m: OperatorMetrics, which: 'gpuPower' | 'gpuEnergy'): Promise<string[]> {
  return (await m[which].get()).values.map((v) => `${v.labels.node}/${v.labels.gpu}/${v.labels.model}`).sort();
}

describe('reconciler: writes only while it holds the lease', () => {
  const staticPolicy = () => [
    partition('p', {
      nodeSelector: { matchLabels: { pool: 'a' } },
      mode: 'Static',
      static: { layouts: [{ layout: 'all-1g.5gb' }] },
    }),
  ];

  it('writes nothing in a round where the lease is not held, and stops mid-round when it is lost', async () => {
    let held = false;
    const w = world({ partitions: staticPolicy(), mayWrite: () => held });
    const none = await w.rec.round();
    expect(w.recorded.nodePatches).toEqual([]);
    expect(w.recorded.events).toEqual([]);
    expect(none).toMatchObject({ nodePatches: 0, statusUpdates: 0, events: 0, configWritten: false });
    expect(w.rec.writes).toBe(0);
    // Held for the ConfigMap and the first node patch only.
    let budget = 2;
    held = true;
    const w2 = world({ partitions: staticPolicy(), mayWrite: () => budget-- > 0 });
    const some = await w2.rec.round();
    expect(w2.recorded.nodePatches.length).toBe(1);
    expect(some.nodePatches).toBe(1);
    expect(w2.recorded.events).toEqual([]);
  });
});

describe('reconciler: per-GPU metrics', () => {
  it('exports power and energy for the nodes a policy manages, with the policy model, and drops stale series', async () => {
    const w = world();
    await w.rec.round();
    const a40 = ['n1/0/A100-40GB', 'n1/1/A100-40GB', 'n2/0/A100-40GB', 'n2/1/A100-40GB'];
    // n3 has GPUs but no policy selects it.
    expect(await series(w.metrics, 'gpuPower')).toEqual(a40);
    w.clock.now += 10_000;
    await w.rec.round();
    expect(await series(w.metrics, 'gpuEnergy')).toEqual(a40);

    // The spec names the model: the series follow it (as the planner does), the old label sets go.
    w.partitions[0]!.spec.gpuModel = 'A100-80GB';
    w.clock.now += 10_000;
    await w.rec.round();
    const a80 = a40.map((s) => s.replace('A100-40GB', 'A100-80GB'));
    expect(await series(w.metrics, 'gpuPower')).toEqual(a80);
    expect(await series(w.metrics, 'gpuEnergy')).toEqual([]);

    // A deleted node, then a node the selector no longer matches.
    w.nodes.splice(
      w.nodes.findIndex((n) => n.metadata?.name === 'n2'),
      1,
    );
    w.clock.now += 10_000;
    await w.rec.round();
    expect(await series(w.metrics, 'gpuPower')).toEqual(['n1/0/A100-80GB', 'n1/1/A100-80GB']);
    expect(await series(w.metrics, 'gpuEnergy')).toEqual(['n1/0/A100-80GB', 'n1/1/A100-80GB']);
    w.partitions[0]!.spec.nodeSelector = { matchLabels: { pool: 'none' } };
    await w.rec.round();
    expect(await series(w.metrics, 'gpuPower')).toEqual([]);
    expect(await series(w.metrics, 'gpuEnergy')).toEqual([]);
  });

  it('drops its cluster series when it stops acting', async () => {
    const w = world();
    w.rec.start();
    await w.rec.round();
    expect((await series(w.metrics, 'gpuPower')).length).toBe(4);
    await w.rec.stop();
    expect(await series(w.metrics, 'gpuPower')).toEqual([]);
    expect((await w.metrics.slices.get()).values).toEqual([]);
  });
});

describe('reconciler: finished pods with a deadline', () => {
  function finished(phase: 'Succeeded' | 'Failed', finishedAt: string | undefined): [V1Pod, V1Pod] {
    const running = migPod('1g.5gb', { node: 'n1', gpu: 0, deadline: '2026-01-01T00:00:00Z' });
    running.metadata!.uid = `${phase}-${finishedAt ?? 'none'}`;
    const done: V1Pod = {
      ...running,
      status: {
        phase,
        containerStatuses:
          finishedAt === undefined
            ? []
            : [
                {
                  name: 'c',
                  ready: false,
                  restartCount: 0,
                  image: 'x',
                  imageID: '',
                  state: { terminated: { exitCode: phase === 'Failed' ? 1 : 0, finishedAt: new Date(finishedAt) } },
                },
              ],
      },
    };
    return [done, running];
  }

  const cases = [
    { name: 'a Succeeded pod 10 min late', pod: finished('Succeeded', '2026-01-01T00:10:00Z'), late: 1, minutes: 10 },
    {
      name: 'a Failed pod counts at the time it failed',
      pod: finished('Failed', '2026-01-01T00:05:00Z'),
      late: 1,
      minutes: 5,
    },
    {
      name: 'a Failed pod that failed before its deadline is on time',
      pod: finished('Failed', '2025-12-31T23:00:00Z'),
      late: 0,
      minutes: 0,
    },
  ];
  it.each(cases)('$name', async ({ pod: [done, running], late, minutes }) => {
    const w = world();
    w.rec.start();
    w.rec.onPod(done, running);
    // Seen again (a resync, a later update): counted once.
    w.rec.onPod(done, running);
    w.rec.onPod(done, done);
    await w.rec.stop();
    const outcomes = Object.fromEntries(
      (await w.metrics.completions.get()).values.map((v) => [v.labels.outcome, v.value]),
    );
    expect(outcomes).toEqual(late ? { late: 1 } : { on_time: 1 });
    const tardiness = (await w.metrics.tardiness.get()).values;
    expect(tardiness.find((v) => v.metricName === 'smartmig_job_tardiness_minutes_count')?.value).toBe(1);
    expect(tardiness.find((v) => v.metricName === 'smartmig_job_tardiness_minutes_sum')?.value).toBeCloseTo(minutes);
  });

  it('a Failed pod without container statuses counts at the time it is seen failing', async () => {
    const w = world();
    const [done, running] = finished('Failed', undefined);
    w.clock.now = Date.parse('2026-01-01T00:30:00Z');
    w.rec.start();
    w.rec.onPod(done, running);
    await w.rec.stop();
    const sum = (await w.metrics.tardiness.get()).values.find(
      (v) => v.metricName === 'smartmig_job_tardiness_minutes_sum',
    );
    expect(sum?.value).toBeCloseTo(30);
  });
});

/** Longer than the longest write back-off (5 min). */
const PAST_BACKOFF = 301_000;

describe('reconciler: failed writes and the ConfigMap', () => {
  const changing = () => [
    partition('p', {
      nodeSelector: { matchLabels: { pool: 'a' } },
      mode: 'Static',
      static: { layouts: [{ layout: 'all-1g.5gb' }] },
    }),
  ];

  it('warns once per object and status with WriteFailed, one event per policy, again after a success, never for a conflict', async () => {
    let answer: () => Promise<unknown> = () =>
      Promise.reject(new ApiException(403, 'Forbidden', '{"message":"no"}', {}));
    const w = world({ partitions: changing(), patchNode: () => answer() });
    const writeFailed = () => w.recorded.events.filter((e) => e.reason === 'WriteFailed');
    await w.rec.round();
    // One event for the policy, naming both nodes whose patch failed.
    expect(writeFailed()).toEqual([expect.objectContaining({ type: 'Warning', partition: 'p' })]);
    expect(writeFailed()[0]?.message).toMatch(/^node write failed: node\/n1 \(HTTP 403: no\), node\/n2 \(HTTP 403/);
    w.clock.now += PAST_BACKOFF;
    await w.rec.round();
    expect(writeFailed()).toHaveLength(1);
    answer = async () => ({ metadata: {} });
    w.clock.now += PAST_BACKOFF;
    await w.rec.round();
    answer = () => Promise.reject(new ApiException(403, 'Forbidden', '{"message":"no"}', {}));
    w.clock.now += PAST_BACKOFF;
    await w.rec.round();
    expect(writeFailed()).toHaveLength(2);
    answer = () => Promise.reject(new ApiException(409, 'Conflict', '{"message":"changed"}', {}));
    const before = (await w.metrics.apiErrors.get()).values.reduce((a, v) => a + v.value, 0);
    w.clock.now += PAST_BACKOFF;
    await w.rec.round();
    expect(writeFailed()).toHaveLength(2);
    expect((await w.metrics.apiErrors.get()).values.reduce((a, v) => a + v.value, 0)).toBeGreaterThan(before);
  });

  it('backs off a failed write: not retried in the next round, retried once due, a 429 waits its Retry-After', async () => {
    let answer: () => Promise<unknown> = () => Promise.reject(new ApiException(500, 'Error', '{"message":"boom"}', {}));
    const w = world({ partitions: changing(), patchNode: () => answer() });
    const first = await w.rec.round();
    const tried = w.recorded.nodePatches.length;
    expect(tried).toBe(2);
    // The round wakes when the first deferred write is due: 1 s after the failure (jitter fixed at the whole wait).
    expect(first.wakeAt).toBe(w.clock.now + 1000);
    await w.rec.round();
    expect(w.recorded.nodePatches.length).toBe(tried);
    w.clock.now += 1000;
    await w.rec.round();
    expect(w.recorded.nodePatches.length).toBe(2 * tried);
    // The second failure in a row waits twice as long.
    w.clock.now += 1500;
    await w.rec.round();
    expect(w.recorded.nodePatches.length).toBe(2 * tried);
    w.clock.now += 500;
    answer = () =>
      Promise.reject(new ApiException(429, 'Too Many Requests', '{"message":"slow down"}', { 'Retry-After': '30' }));
    await w.rec.round();
    expect(w.recorded.nodePatches.length).toBe(3 * tried);
    w.clock.now += 29_000;
    await w.rec.round();
    expect(w.recorded.nodePatches.length).toBe(3 * tried);
    answer = async () => ({ metadata: {} });
    w.clock.now += 1000;
    await w.rec.round();
    expect(w.recorded.nodePatches.length).toBe(4 * tried);
    // Written: no back-off left, the next round may write at once.
    expect((await w.rec.round()).wakeAt).toBeGreaterThan(w.clock.now);
  });

  it('names the ConfigMap it cannot read, and changes nothing', async () => {
    const w = world({ partitions: changing() });
    w.configMaps[0] = { ...w.configMaps[0], data: { 'config.yaml': 'version: [v1' } } as V1ConfigMap;
    w.configMaps[0].metadata = { ...w.configMaps[0].metadata, resourceVersion: '2' };
    const snap = w.rec.snapshot();
    expect(snap.config).toMatchObject({ ok: false, error: expect.stringContaining('gpu-operator/mig-config') });
    await w.rec.round();
    expect(w.recorded.nodePatches).toEqual([]);
    expect(w.recorded.events.map((e) => e.reason)).toEqual(['ConfigMapUnavailable']);
  });
});
