// Extender benchmark (issue 4): autocannon on loopback against `smartmig extender`'s app, holding a
// cluster of 5,000 nodes × 8 A100-40GB GPUs and 50,000 bound pods. The server runs in a child process
// pinned to core 0 and the load generator to the other cores (taskset, where there is one and more than
// one core; otherwise both run unpinned and the output says so). Resident memory of the server is
// sampled from /proc every 50 ms while the load runs (the maximum is reported), besides the kernel's
// own high-water mark. Scenarios:
//   cache-500    nodeCacheCapable, 500 NodeNames per request: what kube-scheduler sends in a 5,000-node
//                cluster (its default percentageOfNodesToScore stops the feasible-node search at 10 %)
//   cache-5000   nodeCacheCapable, all 5,000 NodeNames (percentageOfNodesToScore: 100)
//   cache-500-new, cache-5000-new  the same sizes, but no list comes again within the extender's memo of
//                lists (kube-scheduler's rotating window of nodes): 200 and 50 lists, and each prioritize
//                gets a list of its own (its filter's list without every tenth name, as if filtered)
//   nodes-1000   full `Nodes` lists of 1,000 kubelet-sized Node objects (nodeCacheCapable: false); the
//                same two lists again and again, as a scheduler sends them while no node changes
//   nodes-1000-churn  the same, with 10 of the 1,000 Node objects new in every request (a kubelet status
//                update each), so the extender parses those afresh
// Before the full-list scenarios, the first filter and prioritize of each list are timed on their own:
// the extender has seen none of their Node objects yet (as after a restart).
// Filter and prioritize alternate on every connection; latency is per request and per filter+prioritize
// pair (the scheduler calls them back to back). Prints figures; never fails on a target.
//
//   npm run bench -- extender          (or: node --import tsx test/bench/extender.bench.ts [--quick])
//   --only nodes-1000                  only the scenarios whose name starts so (after the warm-up)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildExtender } from '../../extender/app.js';
import type { Binder } from '../../extender/binder.js';
import { ClusterCache } from '../../extender/cache.js';
import { limitHeapGrowth } from '../../extender/heap.js';
import { createMetrics } from '../../extender/metrics.js';
import { ProfileBook } from '../../policy/workload/job.js';
import { createRng } from '../../policy/random.js';
import type { Node, Pod } from '../../extender/schemas.js';
import { benchPod, syntheticCluster } from './extender-cluster.js';

const CLUSTER = { nodes: 5_000, gpusPerNode: 8, pods: 50_000, seed: 7 };
const NOW = Date.parse('2026-01-01T00:10:00Z');

interface Figures {
  scenario: string;
  connections: number;
  requestsPerSec: number;
  filter: { p50: number; p99: number };
  prioritize: { p50: number; p99: number };
  pair: { p50: number; p99: number };
  errors: number;
  bodyBytes: number;
  /** Mean time inside the extender (its own histogram), ms: the rest is HTTP and the load generator. */
  serverMean?: Record<string, number>;
}

// ---- server (child process) ----

async function serve(): Promise<void> {
  // As `smartmig extender` does (extender/main.ts).
  limitHeapGrowth();
  const started = performance.now();
  const { nodes, pods } = syntheticCluster(CLUSTER);
  const cache = new ClusterCache(new ProfileBook());
  for (const n of nodes) cache.upsertNode(n);
  nodes.length = 0;
  for (const p of pods()) cache.upsertPod(p, NOW);
  const binder: Binder = {
    bind: () => Promise.resolve({ outcome: 'error', message: 'the benchmark does not bind' }),
    readPod: () => Promise.resolve(undefined),
  };
  const app = buildExtender({
    cache,
    binder,
    clock: () => NOW,
    metrics: createMetrics({ processMetrics: true }),
    config: { bodyLimit: 64 * 1024 * 1024 },
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  // No explicit gc() here, although it would make the idle figure tidier: after a forced collection V8
  // kept the old generation's limit so tight that it ran a full mark-compact every eight or so full-list
  // requests (78 in 8 s against 2 without it), which a production extender never does.
  const ready = {
    address,
    nodes: cache.nodeCount,
    pods: cache.podCount,
    buildMs: Math.round(performance.now() - started),
  };
  process.stdout.write(`READY ${JSON.stringify(ready)}\n`);
  // Exit normally on SIGTERM, so `node --cpu-prof` writes its profile.
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

// ---- load generator ----

interface CannonResult {
  requests: { total: number; average: number };
  errors: number;
  non2xx: number;
  duration: number;
}
interface CannonInstance {
  on(event: 'response', fn: (client: object, status: number, bytes: number, ms: number) => void): void;
}
type Cannon = ((opts: object, cb: (err: unknown, res: CannonResult) => void) => CannonInstance) & {
  track?: unknown;
};
const autocannon = createRequire(import.meta.url)('autocannon') as Cannon;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: round(percentile(s, 50)), p99: round(percentile(s, 99)) };
};
const round = (x: number): number => Math.round(x * 100) / 100;

async function load(
  address: string,
  scenario: string,
  bodies: [string, string][],
  connections: number,
  seconds: number,
): Promise<Figures> {
  const filter: number[] = [];
  const prioritize: number[] = [];
  const pair: number[] = [];
  const seen = new Map<object, { n: number; last: number }>();
  const requests = bodies.flatMap(([f, p]) => [
    { method: 'POST', path: '/scheduler/filter', headers: { 'content-type': 'application/json' }, body: f },
    { method: 'POST', path: '/scheduler/prioritize', headers: { 'content-type': 'application/json' }, body: p },
  ]);
  const result = await new Promise<CannonResult>((resolve, reject) => {
    const inst = autocannon({ url: address, connections, duration: seconds, requests }, (err, res) =>
      err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(res),
    );
    // Each connection walks the request list in order: even responses are filters, odd ones prioritizes.
    inst.on('response', (client, _status, _bytes, ms) => {
      const s = seen.get(client) ?? { n: 0, last: 0 };
      if (s.n % 2 === 0) filter.push(ms);
      else {
        prioritize.push(ms);
        pair.push(s.last + ms);
      }
      s.last = ms;
      s.n++;
      seen.set(client, s);
    });
  });
  return {
    scenario,
    connections,
    requestsPerSec: Math.round(result.requests.total / result.duration),
    filter: stats(filter),
    prioritize: stats(prioritize),
    pair: stats(pair),
    errors: result.errors + result.non2xx,
    bodyBytes: Math.round(bodies.reduce((a, [f]) => a + f.length, 0) / bodies.length),
  };
}

/**
 * How the server and the load generator share the cores: the server on core 0, this process (autocannon)
 * on the others, when taskset exists and there are at least two cores. Returns the prefix for the
 * server's command line and a line for the output.
 */
function pinning(): { prefix: string[]; note: string } {
  const cores = availableParallelism();
  const hasTaskset = spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!hasTaskset) return { prefix: [], note: 'taskset not found: server and load generator run unpinned' };
  if (cores < 2) return { prefix: [], note: 'one core only: server and load generator share it, unpinned' };
  const others = cores === 2 ? '1' : `1-${cores - 1}`;
  const self = spawnSync('taskset', ['-pc', others, String(process.pid)], { stdio: 'ignore' }).status === 0;
  return {
    prefix: ['taskset', '-c', '0'],
    note: `server pinned to core 0 (taskset -c 0); load generator ${self ? `pinned to cores ${others}` : 'unpinned (taskset -p failed)'}; ${cores} cores`,
  };
}

function startServer(
  prefix: readonly string[],
): Promise<{ child: ChildProcess; address: string; info: Record<string, unknown> }> {
  const self = fileURLToPath(import.meta.url);
  // Extra V8 flags for the server, e.g. SMARTMIG_BENCH_NODE_FLAGS=--max-old-space-size=256.
  const flags = (process.env['SMARTMIG_BENCH_NODE_FLAGS'] ?? '').split(' ').filter(Boolean);
  const node = [process.execPath, ...flags, '--import', 'tsx', self, '--serve'];
  const [cmd, ...args] = [...prefix, ...node] as [string, ...string[]];
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
    let ready = false;
    child.stdout?.on('data', (d: Buffer) => {
      // After READY, whatever the server prints (e.g. --trace-gc lines) goes to stderr.
      if (ready) return void process.stderr.write(d);
      buf += d.toString();
      const m = /READY (.*)\n/.exec(buf);
      if (m) {
        ready = true;
        const info = JSON.parse(m[1] as string) as Record<string, unknown>;
        resolve({ child, address: info['address'] as string, info });
      }
    });
  });
}

/** Mean server-side handling time per verb (ms) from the extender's own histogram, since the last call. */
async function serverMeans(address: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${address}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const verb of ['filter', 'prioritize']) {
    const sum = new RegExp(
      `^smartmig_extender_request_duration_seconds_sum\\{verb="${verb}",code="200"\\} (\\S+)`,
      'm',
    ).exec(text);
    const count = new RegExp(
      `^smartmig_extender_request_duration_seconds_count\\{verb="${verb}",code="200"\\} (\\S+)`,
      'm',
    ).exec(text);
    const s = Number(sum?.[1] ?? 0);
    const c = Number(count?.[1] ?? 0);
    const prev = lastServer[verb] ?? { s: 0, c: 0 };
    out[verb] = c > prev.c ? round(((s - prev.s) / (c - prev.c)) * 1000) : NaN;
    lastServer[verb] = { s, c };
  }
  return out;
}
const lastServer: Record<string, { s: number; c: number }> = {};

/** A field of /proc/PID/status in MB (VmRSS: resident now, VmHWM: the most it has been); NaN without /proc. */
function procStatusMB(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : NaN;
  } catch {
    return NaN;
  }
}

/**
 * Samples the server's resident memory every `everyMs` from /proc (outside the server: no request of
 * its own on its core) until stopped; gives the largest sample, or NaN where there is no /proc.
 */
function sampleResident(pid: number | undefined, everyMs = 50): { stop: () => number } {
  let max = procStatusMB(pid, 'VmRSS');
  const timer = setInterval(() => {
    const mb = procStatusMB(pid, 'VmRSS');
    if (mb > max) max = mb;
  }, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(max, procStatusMB(pid, 'VmRSS'));
    },
  };
}

async function residentMB(address: string): Promise<number> {
  return (await memoryMB(address)).rss as number;
}

/** Resident memory of the server and what V8 holds of it: heap (total, used) and off-heap (external). */
async function memoryMB(address: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${address}/metrics`)).text();
  const mb = (metric: string) => {
    const m = new RegExp(`^smartmig_extender_${metric} (\\d+)`, 'm').exec(text);
    return m ? Math.round(Number(m[1]) / 2 ** 20) : NaN;
  };
  return {
    rss: mb('process_resident_memory_bytes'),
    heapTotal: mb('nodejs_heap_size_total_bytes'),
    heapUsed: mb('nodejs_heap_size_used_bytes'),
    external: mb('nodejs_external_memory_bytes'),
  };
}

function requestBodies(quick: boolean) {
  const { nodes } = syntheticCluster(CLUSTER);
  const rng = createRng(99);
  const names = nodes.map((n) => n.metadata.name);
  const resources = ['nvidia.com/mig-1g.5gb', 'nvidia.com/mig-2g.10gb', 'nvidia.com/mig-3g.20gb'];
  const pending = (i: number) => benchPod(`pending-${i}`, `pending-uid-${i}`, resources[i % 3] as string, rng);
  const sample = (k: number) => {
    const start = rng.int(names.length);
    return Array.from({ length: k }, (_, j) => names[(start + j * 7) % names.length] as string);
  };
  const same = (body: string): [string, string] => [body, body];
  const variants = quick ? 3 : 12;
  return {
    cache500: Array.from({ length: variants }, (_, i) =>
      same(JSON.stringify({ Pod: pending(i), Nodes: null, NodeNames: sample(500) })),
    ),
    cache5000: Array.from({ length: 3 }, (_, i) =>
      same(JSON.stringify({ Pod: pending(i), Nodes: null, NodeNames: names })),
    ),
    cache500New: Array.from({ length: 200 }, (_, i) => newLists(pending(i), sample(500))),
    cache5000New: Array.from({ length: 50 }, (_, i) => {
      const start = rng.int(names.length);
      return newLists(pending(i), [...names.slice(start), ...names.slice(0, start)]);
    }),
    nodes1000: Array.from({ length: 2 }, (_, i) => {
      const start = i * 1000;
      return same(
        JSON.stringify({
          Pod: pending(i),
          Nodes: { metadata: {}, items: nodes.slice(start, start + 1000) },
          NodeNames: null,
        }),
      );
    }),
    nodes1000Churn: churnBodies(nodes.slice(0, 1000), pending(0)),
  };
}

/** A filter body with these names and a prioritize body with those of them a filter might pass. */
function newLists(pod: Pod, names: string[]): [string, string] {
  const passed = names.filter((_, j) => j % 10 !== 9);
  return [
    JSON.stringify({ Pod: pod, Nodes: null, NodeNames: names }),
    JSON.stringify({ Pod: pod, Nodes: null, NodeNames: passed }),
  ];
}

/** Nodes whose objects change between consecutive requests of the churn scenario. */
const CHURN = 10;
const CHURN_VARIANTS = 4;

/**
 * The same 1,000 nodes in four variants that differ in CHURN nodes (a newer resourceVersion and
 * heartbeat, as after a kubelet status update). Filter gets variants 0 and 2, prioritize 1 and 3, so each
 * request carries CHURN Node objects that differ from the ones the request before it sent.
 */
function churnBodies(nodes: Node[], pod: Pod): [string, string][] {
  const variant = (v: number) =>
    JSON.stringify({
      Pod: pod,
      Nodes: {
        metadata: {},
        items: nodes.map((n, i) => {
          if (i % (nodes.length / CHURN) !== 0) return n;
          const status = n.status as unknown as { conditions: { lastHeartbeatTime: string }[] };
          const heartbeat = `2026-01-01T00:0${v}:00Z`;
          return {
            ...n,
            metadata: { ...n.metadata, resourceVersion: `${n.metadata.resourceVersion}${v}` },
            status: { ...status, conditions: status.conditions.map((c) => ({ ...c, lastHeartbeatTime: heartbeat })) },
          };
        }),
      },
      NodeNames: null,
    });
  const bodies = Array.from({ length: CHURN_VARIANTS }, (_, v) => variant(v));
  return [
    [bodies[0] as string, bodies[1] as string],
    [bodies[2] as string, bodies[3] as string],
  ];
}

export async function run(
  opts: { quick?: boolean; only?: string } = {},
): Promise<{ figures: Figures[]; memory: Record<string, number>; cold?: Record<string, number> }> {
  const quick = opts.quick ?? false;
  const seconds = quick ? 3 : 10;
  const bodies = requestBodies(quick);
  const pin = pinning();
  console.log(pin.note);
  const { child, address, info } = await startServer(pin.prefix);
  try {
    const memory: Record<string, number> = { idleMB: await residentMB(address) };
    console.log(`server: ${JSON.stringify(info)}, resident ${memory['idleMB']} MB after loading the cluster`);
    const sampler = sampleResident(child.pid);
    const figures: Figures[] = [];
    // Warm the JIT before measuring.
    await load(address, 'warm-up', bodies.cache500, 4, quick ? 1 : 3);
    await serverMeans(address);
    const plan: [string, [string, string][], number][] = [
      ['cache-500', bodies.cache500, 1],
      ['cache-500', bodies.cache500, 8],
      ['cache-5000', bodies.cache5000, 1],
      ['cache-5000', bodies.cache5000, 4],
      ['cache-500-new', bodies.cache500New, 1],
      ['cache-5000-new', bodies.cache5000New, 1],
      ['nodes-1000', bodies.nodes1000, 1],
      ['nodes-1000', bodies.nodes1000, 2],
      ['nodes-1000-churn', bodies.nodes1000Churn, 1],
    ];
    let cold: Record<string, number> | undefined;
    for (const [scenario, b, connections] of plan) {
      if (opts.only && !scenario.startsWith(opts.only)) continue;
      // The first full lists an extender sees are all new to it: measured apart, once, as a warm-up.
      if (scenario.startsWith('nodes-') && !cold) cold = await firstSight(address, bodies.nodes1000);
      const f = await load(address, scenario, b, connections, seconds);
      figures.push({ ...f, serverMean: await serverMeans(address) });
      if (scenario === 'cache-5000' && connections > 1) memory['afterCacheMB'] = await residentMB(address);
    }
    memory['peakLoadMB'] = sampler.stop();
    // The kernel's high-water mark covers the whole life of the process, loading the cluster included.
    memory['highWaterMB'] = procStatusMB(child.pid, 'VmHWM');
    const end = await memoryMB(address);
    memory['endMB'] = end['rss'] as number;
    memory['heapTotalMB'] = end['heapTotal'] as number;
    memory['heapUsedMB'] = end['heapUsed'] as number;
    memory['externalMB'] = end['external'] as number;
    return { figures, memory, cold };
  } finally {
    child.removeAllListeners('exit');
    child.kill('SIGTERM');
  }
}

/**
 * Client-side latency (ms) of the first filter and prioritize of each full-list body, before the extender
 * has seen any of its Node objects (as after a restart); the benchmark's own requests come after these.
 */
async function firstSight(address: string, bodies: [string, string][]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [k, [f, p]] of bodies.entries()) {
    for (const [verb, body] of [
      ['filter', f],
      ['prioritize', p],
    ] as const) {
      const t0 = performance.now();
      const res = await fetch(`${address}/scheduler/${verb}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      await res.arrayBuffer();
      out[`${verb}${k}`] = round(performance.now() - t0);
    }
  }
  await serverMeans(address);
  return out;
}

function print(r: Awaited<ReturnType<typeof run>>): void {
  const rows = r.figures.map((f) => ({
    scenario: f.scenario,
    conns: f.connections,
    'body KB': Math.round(f.bodyBytes / 1024),
    'req/s': f.requestsPerSec,
    'filter p50/p99 ms': `${f.filter.p50} / ${f.filter.p99}`,
    'prioritize p50/p99 ms': `${f.prioritize.p50} / ${f.prioritize.p99}`,
    'pair p99 ms': f.pair.p99,
    'server mean ms': `${f.serverMean?.['filter']} / ${f.serverMean?.['prioritize']}`,
    errors: f.errors,
  }));
  console.table(rows);
  const m = r.memory;
  console.log(
    `resident memory: ${m['idleMB']} MB loaded, ${m['afterCacheMB']} MB after the nodeCacheCapable runs, ${m['endMB']} MB at the end (V8 heap ${m['heapUsedMB']} of ${m['heapTotalMB']} MB, off-heap ${m['externalMB']} MB); peak ${m['peakLoadMB']} MB while under load (sampled every 50 ms), high-water mark ${m['highWaterMB']} MB (VmHWM, loading included)`,
  );
  if (Number.isNaN(m['peakLoadMB'])) console.log('no /proc here: resident memory under load was not sampled');
  if (r.cold) console.log(`first sight of each full list (nothing memoised yet), ms: ${JSON.stringify(r.cold)}`);
  console.log(`JSON ${JSON.stringify(r)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes('--serve')) await serve();
  else {
    const only = process.argv.indexOf('--only');
    print(await run({ quick: process.argv.includes('--quick'), only: only > 0 ? process.argv[only + 1] : undefined }));
  }
}
