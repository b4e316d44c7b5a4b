// The extender's defences against clients that stall or flood it (issue 14), over real sockets to a
// listening app: header, request and keep-alive timeouts; body memory that follows the bytes received,
// not the Content-Length claimed; the in-flight limits answered 503 with a reason; /healthz unaffected.
// How fast /healthz answers under large requests is measured in test/bench/extender-healthz.bench.ts.
import { connect, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildExtender } from '../../../extender/app.js';
import type { Binder } from '../../../extender/binder.js';
import { ClusterCache } from '../../../extender/cache.js';
import type { ExtenderConfig } from '../../../extender/config.js';
import { ProfileBook } from '../../../policy/workload/job.js';

const binder: Binder = {
  bind: async () => ({ outcome: 'bound', message: '' }),
  readPod: async () => undefined,
};

let apps: FastifyInstance[] = [];
let sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets) s.destroy();
  for (const a of apps) await a.close();
  apps = [];
  sockets = [];
});

async function listen(config: Partial<ExtenderConfig>): Promise<number> {
  const app = buildExtender({ cache: new ClusterCache(new ProfileBook()), binder, config });
  apps.push(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return (app.server.address() as { port: number }).port;
}

/** A raw connection that records what comes back and when it closes. */
function open(port: number): Promise<{ socket: Socket; text: () => string; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    let text = '';
    const started = Date.now();
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (text += d));
    const closed = new Promise<number>((res) => socket.on('close', () => res(Date.now() - started)));
    socket.once('connect', () => resolve({ socket, text: () => text, closed }));
    socket.once('error', reject);
  });
}

const head = (path: string, length: number) =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

/** Resolves with how long the socket stayed open, or rejects after `ms`. */
function closesWithin(closed: Promise<number>, ms: number): Promise<number> {
  return Promise.race([
    closed,
    new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms)),
  ]);
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

async function post(port: number, path: string, body: string) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const FAST = { headersTimeoutMs: 400, requestTimeoutMs: 800, keepAliveTimeoutMs: 300 };
// The server looks at timed-out connections once a second, so each deadline may be passed by up to that.
const SLACK_MS = 2500;

describe('timeouts', () => {
  it('drops a client that never finishes its headers', async () => {
    const port = await listen(FAST);
    const c = await open(port);
    c.socket.write('POST /scheduler/filter HTTP/1.1\r\nHost: x\r\n');
    const openMs = await closesWithin(c.closed, FAST.headersTimeoutMs + SLACK_MS);
    expect(openMs).toBeGreaterThanOrEqual(FAST.headersTimeoutMs - 50);
    expect(c.text()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('answers 408 and closes when a body stops short of its Content-Length', async () => {
    const port = await listen(FAST);
    const c = await open(port);
    c.socket.write(head('/scheduler/filter', 1000) + '{"Pod":');
    const openMs = await closesWithin(c.closed, FAST.requestTimeoutMs + SLACK_MS);
    expect(openMs).toBeGreaterThanOrEqual(FAST.requestTimeoutMs - 50);
    expect(c.text()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('closes an idle keep-alive connection', async () => {
    const port = await listen(FAST);
    const c = await open(port);
    c.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await closesWithin(c.closed, FAST.keepAliveTimeoutMs + SLACK_MS);
    expect(c.text()).toMatch(/^HTTP\/1\.1 200[\s\S]*\r\n\r\nok\n?$/);
  });

  it('keeps a keep-alive connection open longer than Go clients keep theirs idle (90 s) by default', async () => {
    const port = await listen({});
    expect(apps[0]?.server.keepAliveTimeout).toBe(120_000);
    expect(apps[0]?.server.headersTimeout).toBe(10_000);
    expect(apps[0]?.server.requestTimeout).toBe(30_000);
    expect((await get(port, '/healthz')).status).toBe(200);
  });
});

describe('memory follows the bytes received', () => {
  it('takes a few KiB, not 32 MiB, for each client that claims 32 MiB and sends 1 KiB', async () => {
    // The in-flight byte budget would turn most of them away first; this is about what one admitted costs.
    const port = await listen({ maxInflightBytes: 2 ** 40 });
    const before = process.memoryUsage().arrayBuffers;
    const clients = await Promise.all(Array.from({ length: 20 }, () => open(port)));
    for (const c of clients) c.socket.write(head('/scheduler/filter', 32 * 1024 * 1024) + ' '.repeat(1024));
    // Every server-side socket has read its kilobyte once /healthz, queued behind them, answers.
    await new Promise((r) => setTimeout(r, 200));
    expect((await get(port, '/healthz')).status).toBe(200);
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(grown).toBeLessThan(20 * 1024 * 1024);
    expect(clients.every((c) => c.text() === '')).toBe(true);
  });
});

describe('in-flight limits', () => {
  it('answers 503 with the reason past maxInflight, keeps /healthz and /metrics open, and admits again once one ends', async () => {
    const port = await listen({ maxInflight: 2 });
    const stalled = await Promise.all([open(port), open(port)]);
    for (const c of stalled) c.socket.write(head('/scheduler/filter', 100) + '{');
    await new Promise((r) => setTimeout(r, 100));
    const refused = await post(port, '/scheduler/prioritize', '{}');
    expect(refused.status).toBe(503);
    expect(refused.json).toMatchObject({ code: 'SMARTMIG_OVERLOADED' });
    expect(String(refused.json['message'])).toMatch(/2 requests in flight.*maxInflight 2/);
    expect((await get(port, '/healthz')).body.trim()).toBe('ok');
    expect((await get(port, '/metrics')).body).toMatch(
      /smartmig_extender_decisions_total\{verb="prioritize",outcome="overloaded"\} 1/,
    );
    stalled[0]?.socket.destroy();
    await stalled[0]?.closed;
    await new Promise((r) => setTimeout(r, 50));
    // Admitted again: a 400 for the empty object, from validation, not the gate.
    expect((await post(port, '/scheduler/prioritize', '{}')).status).toBe(400);
  });

  it('answers 503 when the declared bodies in flight would pass maxInflightBytes', async () => {
    const port = await listen({ bodyLimit: 1024 * 1024, maxInflightBytes: 2 * 1024 * 1024 });
    const big = await Promise.all([open(port), open(port)]);
    for (const c of big) c.socket.write(head('/scheduler/filter', 1024 * 1024) + '{');
    await new Promise((r) => setTimeout(r, 100));
    const refused = await post(port, '/mutate', '{}');
    expect(refused.status).toBe(503);
    expect(String(refused.json['message'])).toMatch(/2097152 body bytes in flight.*maxInflightBytes/);
  });
});
