// What bind refuses before it asks the API server (issue 14): a request without the pod's UID (the
// Binding's only guard against binding another pod of that name), and a node that can no longer take the
// pod. Through inject with the real cache and a Binder that records calls; the refusals with a real API
// server are in test/integration/extender.test.ts.
import { describe, expect, it } from 'vitest';
import { buildExtender } from '../../../extender/app.js';
import type { Binder, BindOutcome } from '../../../extender/binder.js';
import { ClusterCache } from '../../../extender/cache.js';
import type { Node } from '../../../extender/schemas.js';
import { ProfileBook } from '../../../policy/workload/job.js';
import { counts, minutes, node, pod } from './builders.js';

function setup(gpu1: Node = node('gpu-1', { mig: { 'nvidia.com/mig-1g.5gb': 2 } })) {
  const calls: string[] = [];
  const binder: Binder = {
    bind: async (args): Promise<BindOutcome> => {
      calls.push(`${args.PodName}->${args.Node}`);
      return { outcome: 'bound', message: '' };
    },
    readPod: async () => undefined,
  };
  const cache = new ClusterCache(new ProfileBook());
  cache.upsertNode(gpu1);
  for (const name of ['a', 'b', 'c']) cache.upsertPod(pod(name), minutes(0));
  const app = buildExtender({ cache, binder, clock: () => minutes(1) });
  const bind = async (body: Record<string, unknown>) => {
    const res = await app.inject({ method: 'POST', url: '/scheduler/bind', payload: body });
    return { status: res.statusCode, error: res.json<{ Error: string }>().Error };
  };
  const args = (name: string, nodeName = 'gpu-1') => ({
    PodName: name,
    PodNamespace: 'jobs',
    PodUID: `uid-${name}`,
    Node: nodeName,
  });
  return { cache, calls, bind, args };
}

describe('bind refuses', () => {
  it.each([
    ['an empty PodUID', ''],
    ['a missing PodUID', undefined],
  ])('%s, with HTTP 200 and an Error naming PodUID, and binds nothing', async (_what, uid) => {
    const { calls, bind, args, cache } = setup();
    const res = await bind({ ...args('a'), PodUID: uid });
    expect(res.status).toBe(200);
    expect(res.error).toMatch(/PodUID is missing or empty/);
    expect(calls).toEqual([]);
    expect(counts(cache.nodeState('gpu-1')?.used)).toEqual({});
  });

  it('a node whose slices the binds before it took, and frees nothing it did not take', async () => {
    const { calls, bind, args, cache } = setup();
    expect((await bind(args('a'))).error).toBe('');
    expect((await bind(args('b'))).error).toBe('');
    const third = await bind(args('c'));
    expect(third.status).toBe(200);
    expect(third.error).toMatch(/node gpu-1 can no longer take it: 0 of 2 1g\.5gb slices free, 1 needed/);
    expect(calls).toEqual(['a->gpu-1', 'b->gpu-1']);
    expect(counts(cache.nodeState('gpu-1')?.used)).toEqual({ '1g.5gb': 2 });
    expect(cache.pod('uid-c')?.nodeName).toBeUndefined();
  });

  it('not a repeated bind of a pod the node holds already (its own slice counts as free)', async () => {
    const { calls, bind, args } = setup();
    await bind(args('a'));
    await bind(args('b'));
    expect((await bind(args('b'))).error).toBe('');
    expect(calls).toEqual(['a->gpu-1', 'b->gpu-1', 'b->gpu-1']);
  });

  it('nothing for a pod the cache has on another node: the API server answers where it is', async () => {
    const { calls, bind, args, cache } = setup();
    cache.upsertNode(node('gpu-2', { unschedulable: true }));
    await bind(args('a'));
    expect((await bind(args('a', 'gpu-2'))).error).toBe('');
    expect(calls).toEqual(['a->gpu-1', 'a->gpu-2']);
  });

  it.each<[string, Node, RegExp]>([
    [
      'being reconfigured',
      node('gpu-1', { labels: { 'nvidia.com/mig.config.state': 'pending' } }),
      /MIG layout is being reconfigured/,
    ],
    [
      'being drained',
      node('gpu-1', { annotations: { 'smartmig.io/draining': 'true' } }),
      /being drained for a MIG repartition/,
    ],
    ['cordoned', node('gpu-1', { unschedulable: true }), /node is cordoned/],
  ])('a node %s since filter passed it', async (_what, changed, reason) => {
    const { calls, bind, args, cache } = setup();
    cache.upsertNode(changed);
    const res = await bind(args('a'));
    expect(res.error).toMatch(reason);
    expect(calls).toEqual([]);
  });

  it('a node the extender has never seen', async () => {
    const { calls, bind, args } = setup();
    expect((await bind(args('a', 'gpu-9'))).error).toMatch(/node gpu-9 is not in the smartmig extender cache/);
    expect(calls).toEqual([]);
  });
});
