// Profiling aid for the extender benchmark: runs one scenario in-process through inject() so that
// `node --cpu-prof` sees only the extender. Not a benchmark; prints mean service time per verb.
//   node --import tsx --cpu-prof --cpu-prof-dir=/tmp/prof test/bench/extender-profile.ts cache-5000
// Scenarios: cache-500, cache-5000, nodes-1000 (the same list each time), nodes-1000-new (every Node new).
import { buildExtender } from '../../extender/app.js';
import { ClusterCache } from '../../extender/cache.js';
import { ProfileBook } from '../../policy/workload/job.js';
import { createRng } from '../../policy/random.js';
import { benchPod, syntheticCluster } from './extender-cluster.js';

const NOW = Date.parse('2026-01-01T00:10:00Z');
const scenario = process.argv[2] ?? 'cache-500';
const rounds = Number(process.argv[3] ?? 200);
const { nodes, pods } = syntheticCluster({ nodes: 5_000, gpusPerNode: 8, pods: 50_000, seed: 7 });
const cache = new ClusterCache(new ProfileBook());
for (const n of nodes) cache.upsertNode(n);
for (const p of pods()) cache.upsertPod(p, NOW);
const app = buildExtender({
  cache,
  binder: { bind: () => Promise.reject(new Error('no')), readPod: () => Promise.resolve(undefined) },
  clock: () => NOW,
  config: { bodyLimit: 64 * 1024 * 1024 },
});
const names = nodes.map((n) => n.metadata.name);
const pod = benchPod('pending', 'pending-uid', 'nvidia.com/mig-1g.5gb', createRng(1));
/** Round `round`'s body; in nodes-1000-new every Node object is new to the extender (a newer resourceVersion). */
const bodyOf = (round: number): string =>
  JSON.stringify(
    scenario === 'nodes-1000'
      ? { Pod: pod, Nodes: { items: nodes.slice(0, 1000) }, NodeNames: null }
      : scenario === 'nodes-1000-new'
        ? {
            Pod: pod,
            Nodes: {
              items: nodes.slice(0, 1000).map((n) => ({
                ...n,
                metadata: { ...n.metadata, resourceVersion: `${n.metadata.resourceVersion}.${round}` },
              })),
            },
            NodeNames: null,
          }
        : { Pod: pod, Nodes: null, NodeNames: scenario === 'cache-5000' ? names : names.slice(0, 500) },
  );
let body = bodyOf(0);
for (const verb of ['filter', 'prioritize']) {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    if (scenario === 'nodes-1000-new') body = bodyOf(verb === 'filter' ? i : rounds + i);
    const t0 = performance.now();
    const r = await app.inject({
      method: 'POST',
      url: `/scheduler/${verb}`,
      payload: body,
      headers: { 'content-type': 'application/json' },
    });
    times.push(performance.now() - t0);
    if (r.statusCode !== 200) throw new Error(r.body);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => (times[Math.floor(q * (times.length - 1))] as number).toFixed(3);
  console.log(`${scenario} ${verb}: min ${at(0)} / median ${at(0.5)} / p90 ${at(0.9)} ms per request (inject)`);
}
