// The decision core keeps memos on each compiled node state (node-score.ts: rejections by demand, the
// watts a demand adds): a state is replaced when its node or one of its pods changes, and its memos go
// with it. This property test guards that: an extender that has answered many pods while nodes and pods
// changed under it answers every request byte for byte as one built afresh from the same objects.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildExtender } from '../../../extender/app.js';
import { ClusterCache } from '../../../extender/cache.js';
import type { Node, Pod } from '../../../extender/schemas.js';
import { ProfileBook } from '../../../policy/workload/job.js';
import { minutes, noBinder, node, pod } from './builders.js';

const NAMES = ['n0', 'n1'];
// Few profiles and small counts, so that pods fill nodes and requests meet full ones; 9g is unknown.
const RESOURCES = ['1g.5gb', '2g.10gb', '3g.20gb', '9g.90gb'].map((p) => `nvidia.com/mig-${p}`);

const arbNode = (name: string) =>
  fc
    .record({
      mig: fc.dictionary(fc.constantFrom(...RESOURCES.slice(0, 3)), fc.integer({ min: 0, max: 2 }), { maxKeys: 3 }),
      gpus: fc.integer({ min: 1, max: 4 }),
      cordoned: fc.boolean(),
    })
    .map((r): Node => node(name, { mig: r.mig, gpus: r.gpus, unschedulable: r.cordoned }));

const arbPodOn = fc.record({
  uid: fc.constantFrom('a', 'b', 'c', 'd'),
  node: fc.constantFrom(...NAMES),
  resource: fc.constantFrom(...RESOURCES.slice(0, 3), RESOURCES[0] as string),
  finishIn: fc.integer({ min: 1, max: 120 }),
});

type Op =
  | { readonly kind: 'node'; readonly node: Node }
  | { readonly kind: 'pod'; readonly pod: Pod }
  | { readonly kind: 'delete-pod'; readonly uid: string };

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  fc.constantFrom(...NAMES).chain((n) => arbNode(n).map((node): Op => ({ kind: 'node', node }))),
  arbPodOn.map((p): Op => ({
    kind: 'pod',
    pod: pod(`job-${p.uid}`, {
      uid: p.uid,
      nodeName: p.node,
      mig: { [p.resource]: 1 },
      annotations: { 'smartmig.io/work': String(p.finishIn) },
      startTime: '2026-01-01T00:00:00Z',
    }),
  })),
  fc.constantFrom('a', 'b', 'c').map((uid): Op => ({ kind: 'delete-pod', uid })),
);

const arbAsk = fc.record({
  resource: fc.constantFrom(...RESOURCES),
  count: fc.integer({ min: 1, max: 2 }),
  work: fc.option(fc.integer({ min: 1, max: 90 }), { nil: undefined }),
});

function extender(cache: ClusterCache) {
  return buildExtender({ cache, binder: noBinder, clock: () => minutes(5) });
}

async function answers(app: ReturnType<typeof extender>, p: Pod): Promise<string[]> {
  const payload = JSON.stringify({ Pod: p, Nodes: null, NodeNames: [...NAMES, 'ghost', 'n0'] });
  const out: string[] = [];
  for (const verb of ['filter', 'prioritize']) {
    const res = await app.inject({
      method: 'POST',
      url: `/scheduler/${verb}`,
      payload,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(200);
    out.push(res.body);
  }
  return out;
}

describe('a warm extender answers as a fresh one', () => {
  it('gives each demand its own reason on a node that takes neither (the memo keys on counts too)', async () => {
    const cache = new ClusterCache(new ProfileBook());
    cache.upsertNode(node('n0', { mig: { 'nvidia.com/mig-1g.5gb': 1 } }));
    cache.upsertPod(pod('held', { nodeName: 'n0' }), minutes(0));
    const app = extender(cache);
    const [one] = await answers(app, pod('p', { mig: { 'nvidia.com/mig-1g.5gb': 1 } }));
    const [two] = await answers(app, pod('p', { mig: { 'nvidia.com/mig-1g.5gb': 2 } }));
    expect(JSON.parse(one as string).FailedNodes.n0).toBe('0 of 1 1g.5gb slices free, 1 needed');
    expect(JSON.parse(two as string).FailedAndUnresolvableNodes.n0).toBe('0 of 1 1g.5gb slices free, 2 needed');
  });

  it('after any sequence of node and pod changes, for any pod', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(arbOp, fc.array(arbAsk, { minLength: 1, maxLength: 4 })), { minLength: 1, maxLength: 10 }),
        async (steps) => {
          const nodes = new Map<string, Node>(NAMES.map((n) => [n, node(n, { mig: { 'nvidia.com/mig-1g.5gb': 2 } })]));
          const pods = new Map<string, Pod>();
          const warmCache = new ClusterCache(new ProfileBook());
          for (const n of nodes.values()) warmCache.upsertNode(n);
          const warm = extender(warmCache);
          for (const [op, asks] of steps) {
            if (op.kind === 'node') {
              nodes.set(op.node.metadata.name, op.node);
              warmCache.upsertNode(op.node);
            } else if (op.kind === 'pod') {
              pods.set(op.pod.metadata.uid as string, op.pod);
              warmCache.upsertPod(op.pod, minutes(0));
            } else {
              pods.delete(op.uid);
              warmCache.deletePod(op.uid);
            }
            const freshCache = new ClusterCache(new ProfileBook());
            for (const n of nodes.values()) freshCache.upsertNode(n);
            for (const p of pods.values()) freshCache.upsertPod(p, minutes(0));
            const fresh = extender(freshCache);
            for (const ask of asks) {
              const annotations = ask.work === undefined ? undefined : { 'smartmig.io/work': String(ask.work) };
              const pending = pod('pending', { mig: { [ask.resource]: ask.count }, annotations });
              expect(await answers(warm, pending)).toEqual(await answers(fresh, pending));
            }
          }
        },
      ),
      { numRuns: 40, seed: 11 },
    );
  });
});
