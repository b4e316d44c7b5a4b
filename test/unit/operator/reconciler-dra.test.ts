// The reconciler's rule phase for DRA nodes, with in-memory caches and a recording stand-in for the
// apiserver's DeviceTaintRules: what it lists, deletes and creates, only while it holds the lease, and how a
// failed write is reported.
import { ApiException, type V1Node } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../operator/config.js';
import type { Clients } from '../../../operator/kube.js';
import { createMetrics, type OperatorMetrics } from '../../../operator/metrics.js';
import { Reconciler, type Caches } from '../../../operator/reconciler.js';
import { steeringRules, type DeviceTaintRule, type GpuTarget } from '../../../dra/steering.js';
import { A100, draNode, gpuNode, partition } from './harness.js';

const CM = { namespace: 'gpu-operator', name: 'mig-config' };

function cache<T extends { metadata?: { name?: string; namespace?: string } }>(items: T[]) {
  return {
    list: () => items,
    get: (name: string, namespace?: string) =>
      items.find((o) => o.metadata?.name === name && (namespace === undefined || o.metadata?.namespace === namespace)),
  };
}

interface Api {
  rules: DeviceTaintRule[];
  calls: string[];
  events: string[];
  failCreate: boolean;
}

function clients(api: Api): Clients {
  const core = {
    patchNode: async () => ({ metadata: {} }),
    readNamespacedConfigMap: async () => {
      throw new ApiException(404, 'not found', {}, {});
    },
    createNamespacedConfigMap: async () => ({ metadata: {} }),
    createNamespacedEvent: async ({ body }: { body: { reason: string } }) => {
      api.events.push(body.reason);
      return body;
    },
  };
  const custom = {
    patchClusterCustomObjectStatus: async () => ({ metadata: {} }),
    listClusterCustomObject: async ({ labelSelector }: { labelSelector: string }) => {
      api.calls.push(`list ${labelSelector}`);
      return { items: api.rules };
    },
    createClusterCustomObject: async ({ body }: { body: DeviceTaintRule }) => {
      if (api.failCreate) throw new ApiException(403, 'forbidden', { message: 'forbidden' }, {});
      api.calls.push(`create ${body.metadata.name}`);
      api.rules = [...api.rules, body];
      return body;
    },
    deleteClusterCustomObject: async ({ name }: { name: string }) => {
      api.calls.push(`delete ${name}`);
      api.rules = api.rules.filter((r) => r.metadata.name !== name);
      return {};
    },
  };
  return { core, custom, coordination: {} } as unknown as Clients;
}

function world(nodes: V1Node[], opts: { mayWrite?: () => boolean } = {}) {
  const api: Api = { rules: [], calls: [], events: [], failCreate: false };
  const metrics: OperatorMetrics = createMetrics();
  const caches = {
    nodes: cache(nodes),
    pods: cache([]),
    partitions: cache([
      partition('p', {
        nodeSelector: { matchLabels: { pool: 'a' } },
        mode: 'Static',
        static: { layouts: [{ layout: 'all-3g.20gb' }] },
      }),
    ]),
    configMap: cache([]),
    claims: cache([]),
  } as unknown as Caches;
  const rec = new Reconciler({
    clients: clients(api),
    caches,
    config: resolveConfig({ migConfigMap: CM, debounceMs: 0, resyncMs: 60_000 }),
    metrics,
    log: pino({ level: 'silent' }),
    now: () => Date.parse('2026-01-01T00:00:00Z'),
    ...(opts.mayWrite ? { mayWrite: opts.mayWrite } : {}),
    random: () => 1,
  });
  return { api, rec, metrics };
}

const drainAll = (node: string) =>
  steeringRules(
    node,
    A100,
    new Map<number, GpuTarget>([
      [0, { kind: 'drain' }],
      [1, { kind: 'drain' }],
    ]),
  );

describe('reconciler: DeviceTaintRules of DRA nodes', () => {
  it("lists smartmig's rules once, creates the planned node's, and deletes those of unmanaged nodes", async () => {
    const w = world([draNode('d1', { pool: 'a' }), gpuNode('n1', { pool: 'b' })]);
    const stale = drainAll('gone')[0] as DeviceTaintRule;
    w.api.rules = [stale];
    const s = await w.rec.round();
    expect(w.api.calls.filter((c) => c.startsWith('list'))).toEqual(['list app.kubernetes.io/managed-by=smartmig']);
    // First round of a change: both GPUs drain (every device tainted), then the layout follows.
    expect(w.api.rules.map((r) => r.metadata.name).sort()).toEqual(drainAll('d1').map((r) => r.metadata.name));
    expect(w.api.calls).toContain(`delete ${stale.metadata.name}`);
    expect(s).toMatchObject({ ruleWrites: 53, errors: 0, configWritten: false });
    // The node's objects did not change (this stand-in keeps no patches): the next round writes no rule.
    const again = await w.rec.round();
    expect(again.ruleWrites).toBe(0);
    expect(w.api.rules).toHaveLength(52);
  });

  it('makes no rule call in a cluster without DRA nodes', async () => {
    const w = world([gpuNode('n1', { pool: 'a' })]);
    await w.rec.round();
    expect(w.api.calls).toEqual([]);
  });

  it('writes no rule without the lease', async () => {
    const w = world([draNode('d1', { pool: 'a' })], { mayWrite: () => false });
    const s = await w.rec.round();
    expect(w.api.calls).toEqual([]);
    expect(s.ruleWrites).toBe(0);
  });

  it('counts a failed rule write and reports it with a WriteFailed event', async () => {
    const w = world([draNode('d1', { pool: 'a' })]);
    w.api.failCreate = true;
    const s = await w.rec.round();
    expect(s.errors).toBe(1);
    expect((await w.metrics.apiErrors.get()).values).toEqual([
      expect.objectContaining({ labels: { op: 'devicetaintrules' }, value: 1 }),
    ]);
    expect(w.api.events).toContain('WriteFailed');
  });
});
