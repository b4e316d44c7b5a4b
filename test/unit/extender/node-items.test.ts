// The memo of Node items (node-items.ts): filter and prioritize skip parsing the items of a full `Nodes`
// list that they have parsed and validated before, byte for byte. These tests guard that skipping never
// changes an answer: every malformed or invalid body is still refused as before, a changed item is read
// afresh, and a property test compares a warm extender with a fresh one on thousands of edited bodies.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildExtender } from '../../../extender/app.js';
import { ClusterCache } from '../../../extender/cache.js';
import type { ExtenderConfig } from '../../../extender/config.js';
import { scanJson } from '../../../extender/json-body.js';
import { itemKey, NodeItemMemo, type NewItem } from '../../../extender/node-items.js';
import type { ExtenderFilterResult, Node } from '../../../extender/schemas.js';
import { ProfileBook } from '../../../policy/workload/job.js';
import { minutes, noBinder, node, pod } from './builders.js';

const withVersion = (n: Node, rv: string): Node => ({ ...n, metadata: { ...n.metadata, resourceVersion: rv } });

/** Nodes as the informers know them; `cached` is at the version the requests send. */
const CACHED = withVersion(node('cached', { mig: { 'nvidia.com/mig-1g.5gb': 7, 'nvidia.com/mig-3g.20gb': 1 } }), '41');
const NODES: Node[] = [
  CACHED,
  node('idle'),
  node('busy', { gpus: 2, mig: { 'nvidia.com/mig-1g.5gb': 2 } }),
  node('pending', { labels: { 'nvidia.com/mig.config.state': 'pending' } }),
  node('full', { mig: { 'nvidia.com/mig-1g.5gb': 1 } }),
];

const cache = new ClusterCache(new ProfileBook());
cache.upsertNode(CACHED);
cache.upsertPod(pod('held', { nodeName: 'full' }), minutes(0));
cache.upsertPod(pod('held-too', { nodeName: 'busy' }), minutes(0));

const app = (config: Partial<ExtenderConfig> = {}) =>
  buildExtender({ cache, binder: noBinder, config, clock: () => minutes(5) });
type App = ReturnType<typeof app>;

const listBody = (nodes: readonly Node[], p = pod('p')): string =>
  JSON.stringify({ Pod: p, Nodes: { metadata: {}, items: nodes }, NodeNames: null });
const BODY = listBody(NODES);

async function post(a: App, verb: 'filter' | 'prioritize', payload: string) {
  const res = await a.inject({
    method: 'POST',
    url: `/scheduler/${verb}`,
    payload,
    headers: { 'content-type': 'application/json' },
  });
  return { status: res.statusCode, body: res.body };
}

/** An extender that has answered BODY once, so it knows every item of it. */
async function warm(config: Partial<ExtenderConfig> = {}): Promise<App> {
  const a = app(config);
  expect((await post(a, 'filter', BODY)).status).toBe(200);
  return a;
}

describe('itemKey', () => {
  const key = (text: string) => itemKey(Buffer.from(text), 0, text.length);
  it.each([
    ['Go, compact', '{"metadata":{"name":"gpu-1","uid":"u"}}', 'gpu-1'],
    ['TypeMeta first', '{"kind":"Node","apiVersion":"v1","metadata":{"name":"gpu-2"}}', 'gpu-2'],
    ['pretty-printed', '{\n  "metadata": {\n    "name" : "gpu-3"\n  }\n}', 'gpu-3'],
    ['no name', '{"metadata":{"uid":"u"}}', undefined],
    ['a name with escapes', '{"metadata":{"name":"a\\"b"}}', undefined],
    [
      'a name beyond the first 512 bytes',
      `{"metadata":{"labels":{"x":"${'y'.repeat(600)}"},"name":"late"}}`,
      undefined,
    ],
  ])('%s', (_name, text, expected) => expect(key(text)).toBe(expected));
});

describe('NodeItemMemo', () => {
  /** A body whose items are `nodes`, and the items as the memo learns them. */
  const sent = (nodes: Node[]) => {
    const body = Buffer.from(listBody(nodes));
    const scan = scanJson(body);
    const news: NewItem[] = nodes.map((n, i) => ({
      span: scan.items?.spans[i] as [number, number],
      node: n,
      depth: scan.items?.depths[i] as number,
    }));
    return { body, spans: scan.items?.spans ?? [], news };
  };

  it('matches an item byte for byte, and nothing else', () => {
    const memo = new NodeItemMemo();
    const first = sent([node('a'), node('b')]);
    const learnt = memo.remember(first.body, first.news);
    expect(learnt.map((k) => k?.name)).toEqual(['a', 'b']);
    const again = sent([node('b'), node('a')]);
    expect(again.spans.map(([start]) => memo.match(again.body, start)?.name)).toEqual(['b', 'a']);
    const changed = sent([node('a', { gpus: 2 })]);
    expect(memo.match(changed.body, changed.spans[0]?.[0] as number)).toBeUndefined();
  });

  it('keeps one entry per node, the latest', () => {
    const memo = new NodeItemMemo();
    const old = sent([node('a')]);
    memo.remember(old.body, old.news);
    const newer = sent([node('a', { gpus: 2 })]);
    memo.remember(newer.body, newer.news);
    expect(memo.size).toBe(1);
    expect(memo.match(old.body, old.spans[0]?.[0] as number)).toBeUndefined();
    expect(memo.match(newer.body, newer.spans[0]?.[0] as number)?.info.gpus).toBe(2);
  });

  it('counts the bytes it holds, a name sent twice in one list included', () => {
    const memo = new NodeItemMemo();
    const twice = sent([node('a'), node('a')]);
    memo.remember(twice.body, twice.news);
    const size = (twice.spans[0]?.[1] as number) - (twice.spans[0]?.[0] as number);
    expect(memo.size).toBe(1);
    expect(memo.heldBytes).toBe(2 * size);
    const newer = sent([node('a', { gpus: 2 })]);
    memo.remember(newer.body, newer.news);
    expect(memo.heldBytes).toBe((newer.spans[0]?.[1] as number) - (newer.spans[0]?.[0] as number));
  });

  it('forgets the oldest items beyond its byte budget', () => {
    const one = sent([node('a')]);
    const size = (one.spans[0]?.[1] as number) - (one.spans[0]?.[0] as number);
    const memo = new NodeItemMemo(size * 2 + 10);
    for (const name of ['a', 'b', 'c']) {
      const s = sent([node(name)]);
      memo.remember(s.body, s.news);
    }
    expect(memo.size).toBe(2);
    const a = sent([node('a')]);
    expect(memo.match(a.body, a.spans[0]?.[0] as number)).toBeUndefined();
  });
});

describe('recorded kube-scheduler bodies', () => {
  it('are recognised item by item the second time', () => {
    const body = readFileSync(new URL('fixtures/filter-nodes.json', import.meta.url));
    const nodes = (JSON.parse(body.toString()) as { Nodes: { items: Node[] } }).Nodes.items;
    const memo = new NodeItemMemo();
    const first = scanJson(body, Infinity, memo);
    const learnt = memo.remember(
      body,
      nodes.map((n, i) => ({
        span: first.items?.spans[i] as [number, number],
        node: n,
        depth: first.items?.depths[i] as number,
      })),
    );
    expect(learnt.map((k) => k?.name)).toEqual(nodes.map((n) => n.metadata.name));
    expect(scanJson(body, Infinity, memo).items?.known.map((k) => k?.name)).toEqual(nodes.map((n) => n.metadata.name));
  });
});

describe('scanJson with a memo', () => {
  it('records a known item whole, with its depth, without reading inside it', () => {
    const memo = new NodeItemMemo();
    const body = Buffer.from(BODY);
    const first = scanJson(body, Infinity, memo);
    memo.remember(
      body,
      NODES.map((n, i) => ({
        span: first.items?.spans[i] as [number, number],
        node: n,
        depth: first.items?.depths[i] as number,
      })),
    );
    const second = scanJson(body, Infinity, memo);
    expect(second.items?.known.every((k) => k !== undefined)).toBe(true);
    expect(second.items?.spans).toEqual(first.items?.spans);
    expect(second.depth).toBe(first.depth);
    expect(scanJson(body, first.depth - 1, memo).depth).toBeGreaterThan(first.depth - 1);
  });
});

describe('a warm extender refuses what a fresh one refuses', () => {
  const items = (text: string) => text.slice(text.indexOf('"items":[') + 9, text.lastIndexOf(']}'));
  const cases: { name: string; payload: () => string; code: string; message: RegExp }[] = [
    {
      name: 'a known item changed in place is validated again',
      // The same length, so only the bytes tell the items apart.
      payload: () => BODY.replace('"nvidia.com/gpu.count":"2"', '"nvidia.com/gpu.count":222'),
      code: 'SMARTMIG_INVALID_BODY',
      message: /body\/Nodes\/items\/2\/metadata\/labels\/nvidia.com~1gpu.count must be string/,
    },
    {
      name: 'a known item given a bad field',
      payload: () =>
        listBody([NODES[0] as Node, { ...(NODES[1] as Node), spec: { unschedulable: 'yes' } } as unknown as Node]),
      code: 'SMARTMIG_INVALID_BODY',
      message: /body\/Nodes\/items\/1\/spec\/unschedulable must be boolean/,
    },
    {
      name: 'known items without the comma between them',
      payload: () =>
        BODY.replace(items(BODY), items(BODY).replace('},{"metadata":{"name":"idle"', '} {"metadata":{"name":"idle"')),
      code: 'FST_ERR_CTP_INVALID_JSON_BODY',
      message: /JSON/,
    },
    {
      name: 'known items followed by garbage',
      payload: () => `${BODY}]`,
      code: 'FST_ERR_CTP_INVALID_JSON_BODY',
      message: /JSON/,
    },
    {
      name: 'known items beside a poisoned key',
      payload: () => BODY.replace('"Pod":{', '"Pod":{"__proto__":{"x":1},'),
      code: 'SMARTMIG_FORBIDDEN_KEY',
      message: /forbidden key __proto__ \(at Pod\.__proto__\)/,
    },
    {
      name: 'known items beside a Pod nested too deep',
      payload: () => BODY.replace('"Pod":{', `"Pod":{"x":${'['.repeat(70)}${']'.repeat(70)},`),
      code: 'SMARTMIG_TOO_DEEP',
      message: /deeper than 64 levels/,
    },
    {
      name: 'a known item that is not an object where the list is',
      payload: () => BODY.replace('"items":[', '"items":[7,'),
      code: 'SMARTMIG_INVALID_BODY',
      message: /body\/Nodes\/items\/0 must be object/,
    },
  ];
  it.each(cases)('$name', async ({ payload, code, message }) => {
    const text = payload();
    expect(text).not.toBe(BODY);
    const fresh = await post(app(), 'filter', text);
    const a = await warm();
    for (const verb of ['filter', 'prioritize'] as const) {
      const res = await post(a, verb, text);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ code, message: expect.stringMatching(message) });
      if (verb === 'filter') expect(res.body).toBe(fresh.body);
    }
  });
});

describe('a warm extender answers from what the request says', () => {
  it('reads a known node afresh when its object changes', async () => {
    const a = await warm();
    const before = JSON.parse((await post(a, 'filter', BODY)).body) as ExtenderFilterResult;
    expect(before.FailedAndUnresolvableNodes).not.toHaveProperty('idle');
    // Its layout loses the 1g slices: the same length, so only the bytes tell the objects apart.
    const idle = JSON.stringify(node('idle'));
    const emptied = idle.replaceAll('"nvidia.com/mig-1g.5gb":"7"', '"nvidia.com/mig-1g.5gb":"0"');
    const after = JSON.parse((await post(a, 'filter', BODY.replace(idle, emptied))).body) as ExtenderFilterResult;
    expect(after.FailedAndUnresolvableNodes).toMatchObject({ idle: 'no 1g.5gb slices in its current MIG layout' });
  });

  it('answers a full list with the very bytes of the passing items', async () => {
    const a = await warm();
    const res = await post(a, 'filter', BODY);
    const sentItems = (JSON.parse(BODY) as { Nodes: { items: Node[] } }).Nodes.items;
    const passing = new Set(
      (JSON.parse(res.body) as ExtenderFilterResult).Nodes?.items.map((n) => (n as Node).metadata.name),
    );
    const expected = sentItems.filter((n) => passing.has(n.metadata.name)).map((n) => JSON.stringify(n));
    expect(res.body).toContain(`"Nodes":{"items":[${expected.join(',')}]}`);
    expect(passing).toEqual(new Set(['cached', 'idle', 'busy']));
  });
});

/** Edits that break or bend a body where the scan and the memo could go wrong: near brackets and quotes. */
const edit = fc.oneof(
  fc.record({
    at: fc.nat(),
    insert: fc.oneof(
      fc.constantFrom(
        ',',
        ']',
        '}',
        '{',
        '[',
        '"',
        '\\',
        ' ',
        ':',
        'x',
        '"__proto__":1,',
        '{}',
        ',{}',
        '"Nodes":{"items":[]},',
      ),
      fc.string({ maxLength: 8 }),
    ),
    remove: fc.constant(0),
  }),
  fc.record({ at: fc.nat(), insert: fc.constant(''), remove: fc.integer({ min: 1, max: 6 }) }),
  // Repeat one item of the list.
  fc.record({ at: fc.nat(), insert: fc.constant('DUPLICATE'), remove: fc.constant(0) }),
  // Change the comma between two items.
  fc.record({
    at: fc.nat(),
    insert: fc.constantFrom('SEAM', 'SEAM ', 'SEAM,', 'SEAM;', 'SEAM\n,'),
    remove: fc.constant(0),
  }),
);

function apply(text: string, edits: { at: number; insert: string; remove: number }[]): string {
  let out = text;
  for (const { at, insert, remove } of edits) {
    const i = at % (out.length + 1);
    const seams = [...out.matchAll(/\},\{"metadata"/g)].map((m) => m.index + 1);
    if (insert.startsWith('SEAM') && seams.length > 0) {
      const seam = seams[at % seams.length] as number;
      out = out.slice(0, seam) + insert.slice(4) + out.slice(seam + 1);
    } else if (insert === 'DUPLICATE') {
      const node = JSON.stringify(NODES[at % NODES.length]);
      out = out.replace(node, `${node},${node}`);
    } else {
      out = out.slice(0, i) + insert + out.slice(i + remove);
    }
  }
  return out;
}

describe('property: knowing the items never changes an answer', () => {
  it('a warm extender answers edited full lists exactly as a fresh one does', async () => {
    const a = await warm();
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('filter', 'prioritize' as const),
        fc.array(edit, { minLength: 1, maxLength: 3 }),
        async (verb, edits) => {
          const text = apply(BODY, edits);
          const expected = await post(app(), verb, text);
          const got = await post(a, verb, text);
          expect(got.status).toBeLessThan(500);
          expect(got).toEqual(expected);
          if (got.status >= 400) refused++;
        },
      ),
      { numRuns: 300, seed: 20_260_104 },
    );
    // Both kinds of outcome are exercised.
    expect(refused).toBeGreaterThan(30);
    expect(refused).toBeLessThan(270);
  }, 120_000);
});
