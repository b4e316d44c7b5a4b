// MigPartition policies in the extender: their workloads become speed-up profiles (scores, expected finishes
// and the webhook's choice follow them) and their objective weight scores the nodes they manage; editing or
// deleting a policy undoes it. The list/watch loop is replaced by direct calls; the rest is the real app.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { MigPartition } from '../../../api/types.js';
import { buildExtender } from '../../../extender/app.js';
import { ClusterCache } from '../../../extender/cache.js';
import { PartitionPolicies, partitionView } from '../../../extender/partitions.js';
import type { AdmissionResponse, HostPriority, Node, Pod } from '../../../extender/schemas.js';
import { ProfileBook } from '../../../policy/workload/job.js';
import { EPOCH_MS, minutes, noBinder, node, pod } from './builders.js';

const MIG = {
  'nvidia.com/mig-1g.5gb': 7,
  'nvidia.com/mig-2g.10gb': 3,
  'nvidia.com/mig-3g.20gb': 2,
  'nvidia.com/mig-7g.40gb': 1,
};
const NODES: Node[] = [
  node('managed', { gpus: 4, mig: MIG, annotations: { 'smartmig.io/partition': 'pool' } }),
  node('free', { gpus: 4, mig: MIG }),
];

function policy(
  name: string,
  spec: { energyWeight?: number; workloads?: Record<string, Record<number, number>> },
  created = '2026-01-01T00:00:00Z',
): MigPartition {
  return {
    metadata: { name, creationTimestamp: created as unknown as Date },
    spec: {
      nodeSelector: {},
      mode: 'Dynamic',
      objective: spec.energyWeight === undefined ? undefined : { energyWeight: spec.energyWeight },
      workloads: Object.entries(spec.workloads ?? {}).map(([w, s]) => ({
        name: w,
        speedup: Object.entries(s).map(([k, factor]) => ({ computeSlices: Number(k), factor })),
      })),
    },
  };
}

function setup(heuristic: 'cedf' | 'marginal-et' = 'cedf') {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s) as (typeof lines)[number]) });
  const book = new ProfileBook();
  const cache = new ClusterCache(book);
  for (const n of NODES) cache.upsertNode(n);
  const policies = new PartitionPolicies(book, cache, log);
  const app = buildExtender({ cache, book, binder: noBinder, config: { heuristic }, clock: () => minutes(0) });
  return { app, cache, policies, lines };
}

const goPod = (p: Pod): Pod => ({ ...p, metadata: { ...p.metadata, creationTimestamp: null } });

describe('objective weight per node (marginal-et)', () => {
  const job = pod('job', { annotations: { 'smartmig.io/work': '30' } });
  async function scores(app: ReturnType<typeof setup>['app']): Promise<Record<string, number>[]> {
    const out: Record<string, number>[] = [];
    for (const payload of [
      { Pod: goPod(job), Nodes: null, NodeNames: ['managed', 'free'] },
      { Pod: goPod(job), Nodes: { metadata: {}, items: NODES }, NodeNames: null },
    ]) {
      const res = await app.inject({ method: 'POST', url: '/scheduler/prioritize', payload });
      expect(res.statusCode).toBe(200);
      out.push(Object.fromEntries(res.json<HostPriority[]>().map((h) => [h.Host, h.Score])));
    }
    return out;
  }

  it("scores a managed node with its MigPartition's energyWeight, others with the configured etWeight", async () => {
    const { app, policies } = setup('marginal-et');
    const tie = { managed: 10, free: 10 };
    expect(await scores(app)).toEqual([tie, tie]);
    // Energy is free for the managed node: its cost is 0, lower than the other's.
    policies.upsert(policy('pool', { energyWeight: 0 }));
    expect(await scores(app)).toEqual([
      { managed: 10, free: 9 },
      { managed: 10, free: 9 },
    ]);
    // Energy weighs far more there than the extender's 0.19 per 10⁶ W·min.
    policies.upsert(policy('pool', { energyWeight: 1000 }));
    expect(await scores(app)).toEqual([
      { managed: 9, free: 10 },
      { managed: 9, free: 10 },
    ]);
    policies.delete(policy('pool', {}));
    expect(await scores(app)).toEqual([tie, tie]);
  });

  it('reads energyWeight per 10⁶ W·min and applies the CRD default to objects without one', () => {
    const v = partitionView([policy('a', { energyWeight: 2 }), policy('b', {})]);
    expect(v.weights.get('a')).toBeCloseTo(2e-6, 15);
    expect(v.weights.get('b')).toBeCloseTo(0.19e-6, 15);
  });
});

describe('workload profiles from policies', () => {
  const review = (object: unknown) => ({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: '7f0b2c1e-0000-4000-8000-000000000002',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      operation: 'CREATE',
      namespace: 'jobs',
      object,
    },
  });
  const moldable = pod('m', {
    mig: { 'nvidia.com/mig-7g.40gb': 1 },
    annotations: {
      'smartmig.io/workload': 'llm-ft',
      'smartmig.io/work': '60',
      'smartmig.io/deadline': '40m',
      'smartmig.io/profiles': '1g.5gb,2g.10gb,3g.20gb',
    },
  });
  async function choice(app: ReturnType<typeof setup>['app']): Promise<string> {
    const res = await app.inject({ method: 'POST', url: '/mutate', payload: review(moldable) });
    const r = res.json<{ response: AdmissionResponse }>().response;
    if (!r.allowed) return `denied: ${r.status?.message ?? ''}`;
    if (!r.patch) return 'unchanged';
    const patch = JSON.parse(Buffer.from(r.patch, 'base64').toString()) as { op: string; path: string }[];
    return (
      patch
        .find((op) => op.op === 'add')
        ?.path.split('/')
        .pop() ?? ''
    );
  }

  it("the webhook picks by the policy's profile, and refuses the name again once the policy is gone", async () => {
    const { app, policies } = setup();
    expect(await choice(app)).toMatch(/^denied: .*llm-ft" is not a known speed-up profile/);
    // 60 min of work, due in 40: 2g takes 50 min, 3g 30 min.
    policies.upsert(policy('pool', { workloads: { 'llm-ft': { 2: 1.2, 3: 2 } } }));
    expect(await choice(app)).toBe('nvidia.com~1mig-3g.20gb');
    // Edited: 2g now takes 30 min and is the slowest that is on time.
    policies.upsert(policy('pool', { workloads: { 'llm-ft': { 2: 2, 3: 2.5 } } }));
    expect(await choice(app)).toBe('nvidia.com~1mig-2g.10gb');
    policies.delete(policy('pool', {}));
    expect(await choice(app)).toMatch(/^denied/);
  });

  it('recomputes the expected finish of running pods that name the workload', () => {
    const { cache, policies } = setup();
    const running = pod('r', {
      nodeName: 'free',
      mig: { 'nvidia.com/mig-2g.10gb': 1 },
      startTime: '2026-01-01T00:00:00Z',
      annotations: { 'smartmig.io/workload': 'llm-ft', 'smartmig.io/work': '60' },
    });
    cache.upsertPod(running, minutes(0));
    const busyUntilMin = () => (cache.nodeState('free')?.busyUntil ?? NaN) - EPOCH_MS / 60_000;
    expect(busyUntilMin()).toBeCloseTo(30); // unknown workload: linear speed-up
    policies.upsert(policy('pool', { workloads: { 'llm-ft': { 2: 1.2 } } }));
    expect(busyUntilMin()).toBeCloseTo(50);
    expect(cache.pod('uid-r')?.finishMs).toBe(EPOCH_MS + 50 * 60_000);
    policies.replace([]);
    expect(busyUntilMin()).toBeCloseTo(30);
  });

  it('warns once about two policies that define a workload differently, and keeps the older one', () => {
    const { policies, lines } = setup();
    policies.upsert(policy('young', { workloads: { w: { 2: 1.9 } } }, '2026-02-01T00:00:00Z'));
    policies.upsert(policy('old', { workloads: { w: { 2: 1.2 } } }, '2026-01-01T00:00:00Z'));
    expect(policies.current.profiles.profiles.find((p) => p.name === 'w')?.speedup).toEqual({ 1: 1, 2: 1.2 });
    const warnings = () => lines.filter((l) => l.level === 40);
    expect(warnings()).toEqual([expect.objectContaining({ workload: 'w', kept: 'old', ignored: 'young' })]);
    const updates = lines.length;
    // A status-only update changes nothing: no new view, no repeated warning.
    policies.upsert({ ...policy('old', { workloads: { w: { 2: 1.2 } } }), status: { nodesSelected: 3 } });
    expect(lines.length).toBe(updates);
    policies.upsert(policy('young', { workloads: { w: { 2: 1.9 }, other: { 2: 1.5 } } }, '2026-02-01T00:00:00Z'));
    expect(warnings()).toHaveLength(1);
    policies.delete(policy('old', {}));
    expect(policies.current.profiles.profiles.find((p) => p.name === 'w')?.speedup).toEqual({ 1: 1, 2: 1.9 });
  });
});
