// The shared list/watch loop (kube/list-watch.ts) against the real API server: it lists in pages, resumes
// after the server ends a watch, re-lists when its resourceVersion is gone (410), retries a failing list,
// and backs off while the API server is unreachable (through the cuttable relay), then catches up.
import { CoreV1Api, type CoreV1Event, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListWatch, listPage, type ListPage, type ListWatchSpec } from '../../kube/list-watch.js';
import { createTestNamespace, deleteTestNamespace, loadKubeConfig, waitFor } from '../support/cluster.js';
import { Cuttable } from './relay.js';

const admin = loadKubeConfig('admin');
const core = admin.makeApiClient(CoreV1Api);
/** Only our ConfigMaps: the namespace also gets kube-root-ca.crt. */
const SELECTOR = 'smartmig.io/list-watch-test=true';
let ns = '';
let relay: Cuttable;
const loops: { stop(): void }[] = [];

/** A loop over the namespace's test ConfigMaps, and what it saw: lists, pages, restarts, names held. */
function follow(
  kc: KubeConfig,
  { pageSize, ...overrides }: Partial<ListWatchSpec<V1ConfigMap>> & { pageSize?: number } = {},
): {
  lw: ListWatch<V1ConfigMap>;
  tokens: (string | undefined)[];
  lists: number;
  retries: number[];
  names: Set<string>;
} {
  const api = kc.makeApiClient(CoreV1Api);
  const seen = { tokens: [] as (string | undefined)[], lists: 0, retries: [] as number[], names: new Set<string>() };
  const lw = new ListWatch<V1ConfigMap>(
    {
      resource: 'configmaps',
      path: `/api/v1/namespaces/${ns}/configmaps`,
      labelSelector: SELECTOR,
      list: async (token): Promise<ListPage<V1ConfigMap>> => {
        seen.tokens.push(token);
        const r = await api.listNamespacedConfigMap({
          namespace: ns,
          labelSelector: SELECTOR,
          limit: pageSize,
          _continue: token,
        });
        return listPage(r.items, r.metadata);
      },
      onList: (items) => {
        seen.lists++;
        seen.names = new Set(items.map((c) => c.metadata?.name ?? ''));
      },
      onEvent: (type, c) => {
        if (type === 'DELETED') seen.names.delete(c.metadata?.name ?? '');
        else seen.names.add(c.metadata?.name ?? '');
      },
      onRestart: (_err, retryInMs) => seen.retries.push(retryInMs),
      ...overrides,
    },
    kc,
  );
  loops.push(lw);
  return Object.assign(seen, { lw });
}

const create = (name: string): Promise<unknown> =>
  core.createNamespacedConfigMap({
    namespace: ns,
    body: { metadata: { name, labels: { 'smartmig.io/list-watch-test': 'true' } } },
  });
const remove = (name: string): Promise<unknown> => core.deleteNamespacedConfigMap({ name, namespace: ns });

beforeAll(async () => {
  ns = await createTestNamespace(admin, 'list-watch');
  relay = new Cuttable(new URL(admin.getCurrentCluster()?.server ?? ''));
  await relay.start();
  for (let i = 1; i <= 7; i++) await create(`cm-${i}`);
});

afterAll(async () => {
  for (const lw of loops) lw.stop();
  await relay?.cut();
  if (ns) await deleteTestNamespace(admin, ns);
});

describe('ListWatch', () => {
  it('lists page by page, and keeps watching after the server ends a watch', async () => {
    const seen = follow(admin, { pageSize: 3, watchTimeoutS: 1 });
    await seen.lw.start();
    expect(seen.lw.synced).toBe(true);
    expect(seen.tokens).toHaveLength(3);
    expect(seen.tokens[0]).toBeUndefined();
    expect(seen.lists).toBe(1);
    expect(seen.names.size).toBe(7);
    // Two watches time out meanwhile; the third picks up from their resourceVersion.
    await new Promise((r) => setTimeout(r, 2500));
    await create('cm-8');
    await remove('cm-1');
    await waitFor(() => seen.names.has('cm-8') && !seen.names.has('cm-1'), { description: 'events after timeouts' });
    expect(seen.lists).toBe(1);
    expect(seen.retries).toEqual([]);
  });

  it('re-lists when the resourceVersion it watches from is gone (410)', { timeout: 240_000 }, async () => {
    // Events, because kube-apiserver keeps no watch cache for them (DefaultWatchCacheSizes sets 0): a
    // watch is served by etcd itself, so a compacted revision really answers 410 Gone. A cached resource
    // would not: its watch cache answers from the oldest revision it holds, which on a fresh cluster can
    // be revision 1 for a long time, whatever etcd has compacted.
    const api = admin.makeApiClient(CoreV1Api);
    const event = (name: string): Promise<unknown> =>
      api.createNamespacedEvent({
        namespace: ns,
        body: {
          metadata: { name, labels: { 'smartmig.io/list-watch-test': 'true' } },
          involvedObject: { kind: 'ConfigMap', name: 'cm-3', namespace: ns, apiVersion: 'v1' },
          reason: 'ListWatchTest',
          message: name,
          type: 'Normal',
        },
      });
    // hack/local-up.sh compacts every minute; on a fresh cluster wait until revision 1 is gone.
    await waitFor(
      () =>
        api.listNamespacedEvent({ namespace: ns, resourceVersion: '1', resourceVersionMatch: 'Exact' }).then(
          () => false,
          (err: unknown) => (err as { code?: number }).code === 410,
        ),
      { description: 'etcd to compact revision 1', timeoutMs: 200_000, intervalMs: 5_000 },
    );
    await event('ev-1');
    let first = true;
    const lists: string[][] = [];
    const names = new Set<string>();
    const retries: number[] = [];
    const lw = new ListWatch<CoreV1Event>(
      {
        resource: 'events',
        path: `/api/v1/namespaces/${ns}/events`,
        labelSelector: SELECTOR,
        // The first list claims revision 1, long compacted away.
        list: async () => {
          const r = await api.listNamespacedEvent({ namespace: ns, labelSelector: SELECTOR });
          const page = listPage(r.items, r.metadata);
          if (!first) return page;
          first = false;
          return { ...page, resourceVersion: '1' };
        },
        onList: (items) => {
          lists.push(items.map((e) => e.metadata.name ?? ''));
          names.clear();
          for (const e of items) names.add(e.metadata.name ?? '');
        },
        onEvent: (type, e) => {
          if (type === 'DELETED') names.delete(e.metadata.name ?? '');
          else names.add(e.metadata.name ?? '');
        },
        onRestart: (_err, retryInMs) => retries.push(retryInMs),
      },
      admin,
    );
    loops.push(lw);
    await lw.start();
    await waitFor(() => lists.length === 2, { description: 'a re-list after 410' });
    expect(lists[1]).toEqual(['ev-1']);
    await event('ev-2');
    await waitFor(() => names.has('ev-2'), { description: 'events after the re-list' });
    // A 410 is not a failure: the loop re-lists at once, without back-off.
    expect(retries).toEqual([]);
  });

  it('retries a failing list with growing back-off, and start() resolves once one succeeds', async () => {
    let failures = 2;
    const seen = follow(admin, {
      backoff: { minMs: 50, maxMs: 1000 },
      list: async () => {
        if (failures-- > 0) throw new Error('refused');
        const r = await core.listNamespacedConfigMap({ namespace: ns, labelSelector: SELECTOR });
        return listPage(r.items, r.metadata);
      },
    });
    await seen.lw.start();
    expect(seen.lw.synced).toBe(true);
    expect(seen.retries).toHaveLength(2);
    expect(seen.retries[1]).toBeGreaterThan(seen.retries[0] ?? Infinity);
  });

  it('backs off while the API server is unreachable, then catches up', async () => {
    const seen = follow(relay.kubeConfig('admin'), { backoff: { minMs: 100, maxMs: 800 } });
    await seen.lw.start();
    await relay.cut();
    await create('cm-10');
    await remove('cm-2');
    await waitFor(() => seen.retries.length >= 5, { description: 'retries while cut', timeoutMs: 20_000 });
    // 100, 200, 400, 800 ms give or take a fifth, then capped.
    const [a = 0, b = 0, c = 0, d = 0, e = 0] = seen.retries;
    expect(a).toBeLessThanOrEqual(120);
    expect(b).toBeGreaterThan(a);
    expect(c).toBeGreaterThan(b);
    expect(d).toBeGreaterThan(c);
    expect(Math.max(d, e)).toBeLessThanOrEqual(800);
    expect(seen.names.has('cm-10')).toBe(false);
    await relay.start();
    await waitFor(() => seen.names.has('cm-10') && !seen.names.has('cm-2'), {
      description: 'the loop to catch up after the outage',
      timeoutMs: 15_000,
    });
    expect(seen.lw.synced).toBe(true);
  }, 40_000);
});
