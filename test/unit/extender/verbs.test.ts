// filter, prioritize and bind over HTTP (fastify inject, no socket), in both nodeCacheCapable modes, with
// bodies shaped as kube-scheduler marshals them (Go: nil pointers and maps as null).
import { describe, expect, it } from 'vitest';
import { buildExtender } from '../../../extender/app.js';
import type { Binder } from '../../../extender/binder.js';
import { ClusterCache } from '../../../extender/cache.js';
import type { ExtenderConfig } from '../../../extender/config.js';
import { jsonDepth, scanJson } from '../../../extender/json-body.js';
import type { ExtenderFilterResult, HostPriority, Node, Pod } from '../../../extender/schemas.js';
import { ProfileBook } from '../../../policy/workload/job.js';
import { minutes, node, pod } from './builders.js';

/** Bind is exercised against a real API server in test/integration; here it must never be reached. */
const unreachableBinder: Binder = {
  bind: () => Promise.reject(new Error('bind must not be called by these tests')),
  readPod: () => Promise.reject(new Error('readPod must not be called by these tests')),
};

const NODES: Node[] = [
  node('packed', { gpus: 1 }),
  node('idle'),
  node('pending', { labels: { 'nvidia.com/mig.config.state': 'pending' } }),
  node('big', { mig: { 'nvidia.com/mig-1g.5gb': 3, 'nvidia.com/mig-4g.20gb': 1 } }),
  node('cordoned', { unschedulable: true }),
  node('full', { mig: { 'nvidia.com/mig-1g.5gb': 1 } }),
];

function setup(config: Partial<ExtenderConfig> = {}, ready = true) {
  const cache = new ClusterCache(new ProfileBook());
  for (const n of NODES) cache.upsertNode(n);
  for (let i = 0; i < 6; i++) cache.upsertPod(pod(`busy-${i}`, { nodeName: 'packed' }), minutes(0));
  cache.upsertPod(pod('busy-full', { nodeName: 'full' }), minutes(0));
  const app = buildExtender({ cache, binder: unreachableBinder, config, clock: () => minutes(5), ready: () => ready });
  return { app, cache };
}

const goPod = (p: Pod): Pod => ({ ...p, metadata: { ...p.metadata, creationTimestamp: null } });
const cacheArgs = (p: Pod, names: string[]) => ({ Pod: goPod(p), Nodes: null, NodeNames: names });
const listArgs = (p: Pod, nodes: Node[]) => ({ Pod: goPod(p), Nodes: { metadata: {}, items: nodes }, NodeNames: null });
const ALL = NODES.map((n) => n.metadata.name);

describe('filter', () => {
  it('nodeCacheCapable: passes nodes with a free slice, with a reason for every other', async () => {
    const { app } = setup();
    const res = await app.inject({
      method: 'POST',
      url: '/scheduler/filter',
      payload: cacheArgs(pod('p'), [...ALL, 'ghost']),
    });
    expect(res.statusCode).toBe(200);
    const body = res.json<ExtenderFilterResult>();
    expect(body.NodeNames).toEqual(['packed', 'idle', 'big']);
    expect(body.Nodes).toBeUndefined();
    expect(body.Error).toBe('');
    expect(body.FailedNodes).toEqual({
      full: '0 of 1 1g.5gb slices free, 1 needed',
      ghost: 'node not in the smartmig extender cache yet',
    });
    expect(body.FailedAndUnresolvableNodes).toEqual({
      pending: 'MIG layout is being reconfigured',
      cordoned: 'node is cordoned',
    });
  });

  it('full Nodes list: answers with the passing Node objects unchanged', async () => {
    const { app } = setup();
    const res = await app.inject({ method: 'POST', url: '/scheduler/filter', payload: listArgs(pod('p'), NODES) });
    const body = res.json<ExtenderFilterResult>();
    expect(body.NodeNames).toBeUndefined();
    expect(body.Nodes?.items).toEqual([NODES[0], NODES[1], NODES[3]]);
    expect(Object.keys(body.FailedNodes)).toEqual(['full']);
  });

  it('full Nodes list: reads node facts from the request, slices in use from the cache', async () => {
    const { app } = setup();
    const nowPending = node('idle', { labels: { 'nvidia.com/mig.config.state': 'pending' } });
    const res = await app.inject({
      method: 'POST',
      url: '/scheduler/filter',
      payload: listArgs(pod('p'), [nowPending, node('full', { mig: { 'nvidia.com/mig-1g.5gb': 1 } })]),
    });
    const body = res.json<ExtenderFilterResult>();
    expect(body.Nodes?.items).toEqual([]);
    expect(body.FailedAndUnresolvableNodes).toEqual({ idle: 'MIG layout is being reconfigured' });
    expect(body.FailedNodes).toEqual({ full: '0 of 1 1g.5gb slices free, 1 needed' });
  });

  it('full Nodes list the byte scan cannot place (a repeated key): Node objects come back whole, UTF-8 intact', async () => {
    const { app } = setup();
    const idle = node('idle', { labels: { 'topology.kubernetes.io/zone': 'zürich-☃' } });
    const payload = `{"Pod":${JSON.stringify(pod('p'))},"Nodes":{"items":[]},"Nodes":{"items":[${JSON.stringify(idle)}]}}`;
    const res = await app.inject({
      method: 'POST',
      url: '/scheduler/filter',
      payload,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.json<ExtenderFilterResult>().Nodes?.items).toEqual([idle]);
  });

  it('a null items list is an empty candidate list', async () => {
    const { app } = setup();
    const res = await app.inject({
      method: 'POST',
      url: '/scheduler/filter',
      payload: { Pod: pod('p'), Nodes: { metadata: {}, items: null } },
    });
    expect(res.json()).toMatchObject({ Nodes: { items: [] }, Error: '' });
  });

  it('a pod that asks for no MIG slice passes everywhere', async () => {
    const { app } = setup();
    const res = await app.inject({
      method: 'POST',
      url: '/scheduler/filter',
      payload: cacheArgs(pod('web', { mig: { cpu: 1 } }), ALL),
    });
    expect(res.json<ExtenderFilterResult>().NodeNames).toEqual(ALL);
  });
});

describe('prioritize', () => {
  it.each([
    ['cedf', { big: 10, packed: 9, idle: 8 }],
    ['edf-most-packed', { packed: 10, big: 9, idle: 9 }],
    ['random', { packed: 10, big: 10, idle: 10 }],
  ] as const)('%s scores the candidates 0..10', async (heuristic, expected) => {
    const { app } = setup({ heuristic });
    for (const payload of [
      cacheArgs(pod('p'), ['packed', 'idle', 'big']),
      listArgs(pod('p'), [NODES[0], NODES[1], NODES[3]] as Node[]),
    ]) {
      const res = await app.inject({ method: 'POST', url: '/scheduler/prioritize', payload });
      expect(res.statusCode).toBe(200);
      const list = res.json<HostPriority[]>();
      expect(Object.fromEntries(list.map((h) => [h.Host, h.Score]))).toEqual(expected);
    }
  });

  it('gives 0 to nodes it cannot place the pod on or does not know', async () => {
    const { app } = setup();
    const res = await app.inject({
      method: 'POST',
      url: '/scheduler/prioritize',
      payload: cacheArgs(pod('p'), ['full', 'ghost', 'idle']),
    });
    expect(res.json()).toEqual([
      { Host: 'full', Score: 0 },
      { Host: 'ghost', Score: 0 },
      { Host: 'idle', Score: 10 },
    ]);
  });
});

describe('bad requests get 400 and a message that says what is wrong', () => {
  const p = pod('p');
  const json = (payload: unknown) => ({
    payload: JSON.stringify(payload),
    headers: { 'content-type': 'application/json' },
  });
  const cases: {
    name: string;
    url: string;
    req: { payload: string; headers: Record<string, string> };
    code: string;
    message: RegExp;
    status?: number;
  }[] = [
    {
      name: 'no Pod',
      url: '/scheduler/filter',
      req: json({ NodeNames: ['a'] }),
      code: 'SMARTMIG_INVALID_BODY',
      message: /required property 'Pod'/,
    },
    {
      name: 'Pod is a string',
      url: '/scheduler/filter',
      req: json({ Pod: 'p', NodeNames: [] }),
      code: 'SMARTMIG_INVALID_BODY',
      message: /body\/Pod must be object/,
    },
    {
      name: 'containers missing',
      url: '/scheduler/prioritize',
      req: json({ Pod: { metadata: {}, spec: {} }, NodeNames: [] }),
      code: 'SMARTMIG_INVALID_BODY',
      message: /containers/,
    },
    {
      name: 'NodeNames holds a number',
      url: '/scheduler/filter',
      req: json({ Pod: p, NodeNames: [7] }),
      code: 'SMARTMIG_INVALID_BODY',
      message: /NodeNames\/0 must be string/,
    },
    {
      name: 'neither NodeNames nor Nodes',
      url: '/scheduler/filter',
      req: json({ Pod: p, Nodes: null, NodeNames: null }),
      code: 'SMARTMIG_NO_NODES',
      message: /neither NodeNames/,
    },
    {
      name: 'a Node without a name',
      url: '/scheduler/filter',
      req: json({ Pod: p, Nodes: { items: [{ metadata: {} }] } }),
      code: 'SMARTMIG_INVALID_BODY',
      message: /Nodes\/items\/0\/metadata must have required property 'name'/,
    },
    {
      name: 'a malformed quantity',
      url: '/scheduler/filter',
      req: json({ Pod: pod('q', { mig: { 'nvidia.com/mig-1g.5gb': '1.5' } }), NodeNames: ['idle'] }),
      code: 'SMARTMIG_BAD_QUANTITY',
      message: /containers\[0\].*"1.5" is not a whole/,
    },
    {
      name: 'not JSON',
      url: '/scheduler/filter',
      req: { payload: '{"Pod": ', headers: { 'content-type': 'application/json' } },
      code: 'FST_ERR_CTP_INVALID_JSON_BODY',
      message: /JSON/,
    },
    {
      name: 'empty body',
      url: '/scheduler/filter',
      req: { payload: '', headers: { 'content-type': 'application/json' } },
      code: 'FST_ERR_CTP_EMPTY_JSON_BODY',
      message: /empty/,
    },
    {
      name: 'nested too deep',
      url: '/scheduler/filter',
      req: { payload: `{"Pod":${'['.repeat(70)}${']'.repeat(70)}}`, headers: { 'content-type': 'application/json' } },
      code: 'SMARTMIG_TOO_DEEP',
      message: /deeper than 64 levels/,
    },
    {
      name: 'prototype poisoning with __proto__ (fix: it was called "not valid JSON")',
      url: '/scheduler/filter',
      req: { payload: '{"Pod":{"__proto__":{"x":1}},"NodeNames":[]}', headers: { 'content-type': 'application/json' } },
      code: 'SMARTMIG_FORBIDDEN_KEY',
      message: /^request body contains the forbidden key __proto__ \(at Pod\.__proto__\)/,
    },
    {
      name: 'prototype poisoning with an escaped __proto__, deep in a list',
      url: '/scheduler/prioritize',
      req: {
        payload: '{"Pod":{},"Nodes":{"items":[{},{"metadata":{"\\u005f_proto__":1}}]}}',
        headers: { 'content-type': 'application/json' },
      },
      code: 'SMARTMIG_FORBIDDEN_KEY',
      message: /forbidden key __proto__ \(at Nodes\.items\[1\]\.metadata\.__proto__\)/,
    },
    {
      name: 'prototype poisoning with constructor.prototype',
      url: '/mutate',
      req: { payload: '{"constructor":{"prototype":{"x":1}}}', headers: { 'content-type': 'application/json' } },
      code: 'SMARTMIG_FORBIDDEN_KEY',
      message: /forbidden key constructor\.prototype \(at constructor\.prototype\)/,
    },
    {
      name: 'a harmless constructor key is only validated',
      url: '/scheduler/filter',
      req: { payload: '{"Pod":{"constructor":1},"NodeNames":[]}', headers: { 'content-type': 'application/json' } },
      code: 'SMARTMIG_INVALID_BODY',
      message: /body\/Pod must have required property 'metadata'/,
    },
    {
      name: 'invalid JSON with a __proto__ key is still not JSON',
      url: '/scheduler/filter',
      req: { payload: '{"__proto__": ', headers: { 'content-type': 'application/json' } },
      code: 'FST_ERR_CTP_INVALID_JSON_BODY',
      message: /not valid JSON/,
    },
    {
      name: 'bind without Node',
      url: '/scheduler/bind',
      req: json({ PodName: 'p', PodNamespace: 'd', PodUID: 'u' }),
      code: 'SMARTMIG_INVALID_BODY',
      message: /required property 'Node'/,
    },
    {
      name: 'bind with an empty PodName',
      url: '/scheduler/bind',
      req: json({ PodName: '', PodNamespace: 'd', PodUID: 'u', Node: 'n' }),
      code: 'SMARTMIG_INVALID_BODY',
      message: /PodName must NOT have fewer than 1 characters/,
    },
    {
      name: 'bind with a numeric UID',
      url: '/scheduler/bind',
      req: json({ PodName: 'p', PodNamespace: 'd', PodUID: 5, Node: 'n' }),
      code: 'SMARTMIG_INVALID_BODY',
      message: /PodUID must be string/,
    },
    {
      name: 'plain text',
      url: '/scheduler/filter',
      req: { payload: 'Pod=p', headers: { 'content-type': 'text/plain' } },
      code: 'SMARTMIG_INVALID_BODY',
      message: /body must be object/,
    },
    {
      name: 'an unknown media type',
      url: '/scheduler/filter',
      req: { payload: 'Pod=p', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
      message: /^Content-Type "application\/x-www-form-urlencoded" is not supported; send application\/json$/,
      status: 415,
    },
    {
      name: 'a JSON body without a Content-Type',
      url: '/scheduler/filter',
      req: { payload: JSON.stringify({ Pod: p, NodeNames: ['idle'] }), headers: {} },
      code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
      message: /^request has a body but no Content-Type header; send Content-Type: application\/json$/,
      status: 415,
    },
  ];
  it.each(cases)('$name', async ({ url, req, code, message, status }) => {
    const { app } = setup();
    const res = await app.inject({ method: 'POST', url, ...req });
    expect(res.statusCode).toBe(status ?? 400);
    const body = res.json<{ code: string; message: string; statusCode: number }>();
    expect(body.code).toBe(code);
    expect(body.message).toMatch(message);
    expect(body.statusCode).toBe(status ?? 400);
  });

  it('an oversized body is refused before parsing, with the limit in the message', async () => {
    const { app } = setup({ bodyLimit: 4096 });
    const res = await app.inject({
      method: 'POST',
      url: '/scheduler/filter',
      payload: cacheArgs(
        pod('p'),
        Array.from({ length: 1000 }, (_, i) => `node-${i}`),
      ),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'SMARTMIG_BODY_TOO_LARGE',
      message: expect.stringContaining('4096 bytes'),
    });
  });
});

describe('health and metrics', () => {
  it('healthz always, readyz once synced', async () => {
    expect((await setup({}, false).app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await setup({}, false).app.inject({ url: '/readyz' })).statusCode).toBe(503);
    const ready = await setup({}, true).app.inject({ url: '/readyz' });
    expect(ready.json()).toEqual({ ready: true, nodes: NODES.length, pods: 7 });
  });

  it('exports request durations per verb and decisions by outcome', async () => {
    const { app } = setup();
    await app.inject({ method: 'POST', url: '/scheduler/filter', payload: cacheArgs(pod('p'), ALL) });
    await app.inject({ method: 'POST', url: '/scheduler/filter', payload: cacheArgs(pod('p'), ['full']) });
    await app.inject({ method: 'POST', url: '/scheduler/prioritize', payload: cacheArgs(pod('p'), ALL) });
    await app.inject({ method: 'POST', url: '/scheduler/filter', payload: { Pod: 1 } });
    const text = (await app.inject({ url: '/metrics' })).body;
    expect(text).toContain('smartmig_extender_request_duration_seconds_count{verb="filter",code="200"} 2');
    expect(text).toContain('smartmig_extender_request_duration_seconds_count{verb="filter",code="400"} 1');
    expect(text).toContain('smartmig_extender_request_duration_seconds_count{verb="prioritize",code="200"} 1');
    expect(text).toContain('smartmig_extender_decisions_total{verb="filter",outcome="fit"} 1');
    expect(text).toContain('smartmig_extender_decisions_total{verb="filter",outcome="no_fit"} 1');
    expect(text).toContain('smartmig_extender_decisions_total{verb="filter",outcome="bad_request"} 1');
    expect(text).toContain('smartmig_extender_rejected_nodes_total{reason="no-free-slice"} 2');
    expect(text).toContain('smartmig_extender_bad_requests_total{code="SMARTMIG_INVALID_BODY"} 1');
    expect(text).toContain('smartmig_extender_cache_objects{kind="nodes"} 6');
  });
});

describe('jsonDepth', () => {
  it.each([
    ['1', 0],
    ['[]', 1],
    ['{"a":[1,{"b":2}]}', 3],
    ['"[[[["', 0],
    ['{"a":"x\\"[[[","b":[]}', 2],
    ['{"a":"x\\\\","b":[[]]}', 3],
    ['["unterminated', 1],
  ])('%s → %d', (text, depth) => expect(jsonDepth(text)).toBe(depth));

  it('stops counting once over the limit', () => expect(jsonDepth('['.repeat(1000), 10)).toBe(11));
});

describe('scanJson', () => {
  const spans = (text: string) => scanJson(text).items?.spans.map(([a, b]) => text.slice(a, b));
  it('finds each element of Nodes.items in the text', () => {
    const text =
      '{"Pod":{"items":[{"x":1}]},"Nodes":{"metadata":{},"items":[ {"a":[1]} ,{"b":"}]"}]},"NodeNames":null}';
    expect(spans(text)).toEqual(['{"a":[1]}', '{"b":"}]"}']);
  });
  it('gives up on duplicate keys, whose last value JSON.parse keeps', () => {
    expect(scanJson('{"Nodes":{"items":[{}]},"Nodes":{"items":[{},{}]}}').items).toBeUndefined();
  });
  it('has no items when there is no Nodes list', () => expect(spans('{"NodeNames":["a"]}')).toBeUndefined());
  it.each([
    ['{"__proto__":{}}', true],
    ['{"a":{"constructor":{"prototype":{}}}}', true],
    ['{"\\u005f_proto__":1}', true],
    ['{"a":"__proto__"}', false],
    ['{"labels":{"x":"constructor"}}', false],
  ])('%s suspicious: %s', (text, suspicious) => expect(scanJson(text).suspicious).toBe(suspicious));
});
