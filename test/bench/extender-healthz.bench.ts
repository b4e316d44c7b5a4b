// /healthz while the extender works on large requests (issue 14): six clients send a full `Nodes` list of
// about 24 MB each to filter at once (kube-scheduler with nodeCacheCapable: false on a big cluster), and
// /healthz is asked every 20 ms meanwhile. Twice: with the in-flight byte budget off (every list admitted,
// as before it existed) and with the default budget (two bodies at the body limit; the rest get 503). The
// extender runs in a child process of its own, so the client's work does not delay its answers; the child
// reports its peak resident memory.
import { fork, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { buildExtender } from '../../extender/app.js';
import { ClusterCache } from '../../extender/cache.js';
import { ProfileBook } from '../../policy/workload/job.js';
import { syntheticCluster } from './extender-cluster.js';
import { median, printFigures, type Figure } from './report.js';

const CLIENTS = 6;
const NODES = 5000;
const PROBE_EVERY_MS = 20;

/** The child: an extender app with an empty cache (full lists carry the node facts), on a free port. */
async function serve(maxInflightBytes: number | undefined): Promise<void> {
  const app = buildExtender({
    cache: new ClusterCache(new ProfileBook()),
    binder: { bind: async () => ({ outcome: 'bound', message: '' }), readPod: async () => undefined },
    config: { maxInflightBytes },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  let peak = 0;
  const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  process.on('message', (m) => {
    if (m === 'report') {
      clearInterval(sample);
      process.send?.({ peakRssMiB: peak / 2 ** 20 });
    }
  });
  process.send?.({ port: (app.server.address() as { port: number }).port });
}

function nodeList(): string {
  const { nodes } = syntheticCluster({ nodes: NODES, gpusPerNode: 8, pods: 0 });
  const pod = {
    metadata: { name: 'big', namespace: 'jobs', uid: 'uid-big' },
    spec: { containers: [{ name: 'job', resources: { limits: { 'nvidia.com/mig-1g.5gb': '1' } } }] },
  };
  return JSON.stringify({ Pod: pod, Nodes: { metadata: {}, items: nodes }, NodeNames: null });
}

function start(budget: string): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(fileURLToPath(import.meta.url), ['serve', budget], { execArgv: ['--import', 'tsx'] });
  children.add(child);
  child.on('error', (err) => console.error(`extender child: ${err.message}`));
  return new Promise((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve({ child, port: m.port }));
    child.once('exit', (code) => reject(new Error(`extender child exited ${code}`)));
  });
}

/**
 * The status of a filter request. A 503 comes before the body has been read and closes the connection,
 * so the write of the rest fails, after the response or (a race) before the client has read it: 0.
 */
function postFilter(port: number, body: string): Promise<number> {
  return new Promise((resolve) => {
    let status = 0;
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/scheduler/filter',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        status = res.statusCode ?? 0;
        res.resume();
        res.on('end', () => resolve(status));
        // After the response, the failed write of the rest surfaces here.
        res.on('error', () => resolve(status));
      },
    );
    // A write that fails before the 503 has been read: the connection was closed on a refusal (0).
    req.on('error', () => resolve(status));
    req.on('socket', (socket) => socket.on('error', () => undefined));
    req.end(body);
  });
}

interface Round {
  readonly probesMs: number[];
  readonly statuses: number[];
  readonly allMs: number;
  readonly peakRssMiB: number;
}

async function round(budget: string, body: string): Promise<Round> {
  const { child, port } = await start(budget);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 20; i++) await fetch(`${url}/healthz`).then((r) => r.text());
  const probesMs: number[] = [];
  let probing = true;
  const probe = (async () => {
    while (probing) {
      const t = performance.now();
      await fetch(`${url}/healthz`).then((r) => r.text());
      probesMs.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, PROBE_EVERY_MS));
    }
  })();
  const t0 = performance.now();
  const statuses = await Promise.all(Array.from({ length: CLIENTS }, () => postFilter(port, body)));
  const allMs = performance.now() - t0;
  probing = false;
  await probe;
  const report = new Promise<{ peakRssMiB: number }>((resolve) =>
    child.once('message', (m: { peakRssMiB: number }) => resolve(m)),
  );
  child.send('report');
  const { peakRssMiB } = await report;
  child.kill();
  return { probesMs, statuses, allMs, peakRssMiB };
}

const children = new Set<ChildProcess>();
process.on('exit', () => children.forEach((c) => c.kill()));

async function main(): Promise<void> {
  const body = nodeList();
  const figures: Figure[] = [{ name: 'request body', value: body.length / 2 ** 20, unit: 'MiB' }];
  for (const [label, budget] of [
    ['no byte budget', String(2 ** 40)],
    ['default budget', ''],
  ] as const) {
    const r = await round(budget, body);
    const p = [...r.probesMs].sort((a, b) => a - b);
    const at = (q: number) => p[Math.min(p.length - 1, Math.floor(q * p.length))] as number;
    figures.push(
      { name: `${label}: /healthz median`, value: median(r.probesMs), unit: 'ms' },
      { name: `${label}: /healthz 99th percentile`, value: at(0.99), unit: 'ms' },
      { name: `${label}: /healthz slowest`, value: p[p.length - 1] as number, unit: 'ms' },
      { name: `${label}: ${CLIENTS} lists answered 200`, value: r.statuses.filter((s) => s === 200).length, unit: '' },
      {
        name: `${label}: ${CLIENTS} lists refused (503, or closed before it was read)`,
        value: r.statuses.filter((s) => s === 503 || s === 0).length,
        unit: '',
      },
      { name: `${label}: all ${CLIENTS} answered after`, value: r.allMs / 1000, unit: 's' },
      { name: `${label}: extender peak resident memory`, value: r.peakRssMiB, unit: 'MiB' },
    );
  }
  printFigures(`extender /healthz under ${CLIENTS} concurrent full Node lists of ${NODES} nodes`, figures);
}

if (process.argv[2] === 'serve') {
  await serve(process.argv[3] ? Number(process.argv[3]) : undefined);
} else {
  await main();
}
