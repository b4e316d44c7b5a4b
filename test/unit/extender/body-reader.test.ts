// Request bodies are read into buffers sized by Content-Length, and large ones into buffers reused from
// request to request (body-reader.ts). These tests guard the reading (fastify's limits and errors, bodies
// without a Content-Length) and that a reused buffer never mixes one request's bytes into another answer.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildExtender } from '../../../extender/app.js';
import { LentBuffers } from '../../../extender/body-reader.js';
import { ClusterCache } from '../../../extender/cache.js';
import type { ExtenderFilterResult, Node } from '../../../extender/schemas.js';
import { ProfileBook } from '../../../policy/workload/job.js';
import { minutes, noBinder, node, pod } from './builders.js';

const app = (bodyLimit = 8 * 1024 * 1024) =>
  buildExtender({
    cache: new ClusterCache(new ProfileBook()),
    binder: noBinder,
    config: { bodyLimit },
    clock: () => minutes(5),
  });

/** A full list of `n` nodes named `${prefix}-i`, each with a 10 KB annotation: large bodies without many nodes. */
function bigList(prefix: string, n: number): { text: string; nodes: Node[] } {
  const nodes = Array.from({ length: n }, (_, i) =>
    node(`${prefix}-${i}`, { annotations: { note: `${prefix}`.repeat(10_000 / prefix.length) } }),
  );
  return { text: JSON.stringify({ Pod: pod('p'), Nodes: { metadata: {}, items: nodes }, NodeNames: null }), nodes };
}

const JSON_HEADERS = { 'content-type': 'application/json' };

describe('reading bodies', () => {
  it('reads a body sent without a Content-Length (chunked)', async () => {
    const { text, nodes } = bigList('chunked', 40);
    const res = await app().inject({
      method: 'POST',
      url: '/scheduler/filter',
      headers: JSON_HEADERS,
      payload: Readable.from([text.slice(0, 1000), text.slice(1000, 300_000), text.slice(300_000)]),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json<ExtenderFilterResult>().Nodes?.items).toEqual(nodes);
  });

  it('refuses a chunked body over the limit', async () => {
    const { text } = bigList('large', 40);
    const res = await app(64 * 1024).inject({
      method: 'POST',
      url: '/scheduler/filter',
      headers: JSON_HEADERS,
      payload: Readable.from([text.slice(0, 50_000), text.slice(50_000)]),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'SMARTMIG_BODY_TOO_LARGE' });
  });

  it('answers large bodies in flight at once, each from its own bytes', async () => {
    const a = app();
    const lists = ['alpha', 'bravo', 'charlie', 'delta'].map((p) => bigList(p, 40));
    expect(lists.every((l) => l.text.length > 256 * 1024)).toBe(true);
    for (let round = 0; round < 2; round++) {
      const answers = await Promise.all(
        lists.map(({ text }) =>
          a.inject({ method: 'POST', url: '/scheduler/filter', headers: JSON_HEADERS, payload: text }),
        ),
      );
      answers.forEach((res, i) => expect(res.json<ExtenderFilterResult>().Nodes?.items).toEqual(lists[i]?.nodes));
    }
  });

  it('a buffer reused by the next request leaves the answer already given intact', async () => {
    const a = app();
    const first = bigList('first', 40);
    const second = bigList('second', 40);
    const one = await a.inject({
      method: 'POST',
      url: '/scheduler/filter',
      headers: JSON_HEADERS,
      payload: first.text,
    });
    const two = await a.inject({
      method: 'POST',
      url: '/scheduler/filter',
      headers: JSON_HEADERS,
      payload: second.text,
    });
    expect(one.json<ExtenderFilterResult>().Nodes?.items).toEqual(first.nodes);
    expect(two.json<ExtenderFilterResult>().Nodes?.items).toEqual(second.nodes);
  });
});

describe('LentBuffers', () => {
  const MB = 1024 * 1024;
  it('lends a large buffer again once it is handed back, and never while it is lent', () => {
    const b = new LentBuffers();
    const r1 = {};
    const r2 = {};
    const first = b.acquire(r1, 5 * MB);
    // Identity as a boolean: a failed match would print megabytes of buffer.
    expect(b.acquire(r2, 5 * MB) === first).toBe(false);
    b.release(r1);
    expect(b.acquire({}, 4 * MB) === first).toBe(true);
  });

  it('lends one request several buffers (its body and its reply) and takes all of them back', () => {
    const b = new LentBuffers();
    const r = {};
    const body = b.acquire(r, 2 * MB);
    const reply = b.acquire(r, MB);
    expect(body === reply).toBe(false);
    expect(b.acquire({}, MB) === reply || b.acquire({}, MB) === body).toBe(false);
    b.release(r);
    const again = [b.acquire({}, MB), b.acquire({}, MB)];
    // Smallest fit first: the 1 MiB reply buffer, then the 2 MiB body buffer.
    expect(again[0] === reply && again[1] === body).toBe(true);
  });

  it('gives small bodies a buffer of their own', () => {
    const b = new LentBuffers();
    const r = {};
    const small = b.acquire(r, 1000);
    expect(small.length).toBe(1000);
    b.release(r);
    expect(b.acquire({}, 1000) === small).toBe(false);
  });

  it('keeps at most 16 MiB of idle buffers', () => {
    const b = new LentBuffers();
    const lent = [1, 2, 3].map((i) => {
      const r = {};
      return { r, buf: b.acquire(r, (5 + i) * MB) };
    });
    for (const { r } of lent) b.release(r);
    // 6 + 7 + 8 MiB handed back: the largest goes, the others are lent again.
    const taken = [b.acquire({}, 1), b.acquire({}, MB), b.acquire({}, MB)];
    expect(taken[1] === lent[0]?.buf && taken[2] === lent[1]?.buf).toBe(true);
  });
});
