// The verbs on request bodies recorded from a real kube-scheduler v1.35 (fixtures/record.ts): what the
// scheduler really sends, in both nodeCacheCapable modes, is accepted and answered in its own format.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildExtender } from '../../../extender/app.js';
import type { Binder } from '../../../extender/binder.js';
import { ClusterCache } from '../../../extender/cache.js';
import type { ExtenderArgs, ExtenderFilterResult, HostPriority } from '../../../extender/schemas.js';
import { ProfileBook } from '../../../policy/workload/job.js';

const fixture = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8')) as T;

const filterNodes = fixture<ExtenderArgs>('filter-nodes.json');
const NODES = filterNodes.Nodes?.items ?? [];
const NAMES = NODES.map((n) => n.metadata.name);

/** Answers every bind with an error, so the test shows the body was read and the error reaches the reply. */
const refusingBinder: Binder = {
  bind: async (args) => ({ outcome: 'error', message: `refused ${args.PodNamespace}/${args.PodName} → ${args.Node}` }),
  readPod: async () => undefined,
};

function app() {
  const cache = new ClusterCache(new ProfileBook());
  for (const n of NODES) cache.upsertNode(n);
  const created = Date.parse(String(filterNodes.Pod.metadata.creationTimestamp));
  return buildExtender({ cache, binder: refusingBinder, clock: () => created + 5 * 60_000 });
}

describe('recorded kube-scheduler requests', () => {
  it('are what the protocol says: Go field names, null for the unused mode', () => {
    expect(NODES).toHaveLength(2);
    expect(filterNodes.NodeNames).toBeNull();
    expect(fixture<ExtenderArgs>('filter-cache.json').Nodes).toBeNull();
    expect(Object.keys(fixture('bind.json') as object).sort()).toEqual(['Node', 'PodName', 'PodNamespace', 'PodUID']);
  });

  it.each(['filter-cache.json', 'filter-nodes.json'])('filter %s', async (file) => {
    const res = await app().inject({ method: 'POST', url: '/scheduler/filter', payload: fixture(file) });
    expect(res.statusCode).toBe(200);
    const body = res.json<ExtenderFilterResult>();
    expect(body).toMatchObject({ FailedNodes: {}, FailedAndUnresolvableNodes: {}, Error: '' });
    if (file.includes('cache')) expect([...(body.NodeNames ?? [])].sort()).toEqual([...NAMES].sort());
    else expect(body.Nodes?.items).toEqual(NODES);
  });

  it.each(['prioritize-cache.json', 'prioritize-nodes.json'])('prioritize %s', async (file) => {
    const res = await app().inject({ method: 'POST', url: '/scheduler/prioritize', payload: fixture(file) });
    expect(res.statusCode).toBe(200);
    const list = res.json<HostPriority[]>();
    expect(list.map((h) => h.Host).sort()).toEqual([...NAMES].sort());
    // Two identical idle nodes: the heuristic has no preference, both get the top score.
    expect(list.map((h) => h.Score)).toEqual([10, 10]);
  });

  it('bind', async () => {
    const args = fixture<{ PodName: string; PodNamespace: string; Node: string }>('bind.json');
    const res = await app().inject({ method: 'POST', url: '/scheduler/bind', payload: args });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ Error: `refused ${args.PodNamespace}/${args.PodName} → ${args.Node}` });
  });
});
