// Property tests of the operator's planner: random clusters, policies and event orders (pods arriving, being
// bound, finishing; mig-manager failing or hanging; time passing), with the planner's invariants checked after
// every round: no GPU is reconfigured while a pod holds it, a round is a function of its snapshot, no more
// nodes drain at once than the policy allows, and a static policy converges once the pods are gone.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DRAINING_ANNOTATION, MIG_CONFIG_LABEL, MIG_STATE_LABEL } from '../../../api/labels.js';
import { planRound } from '../../../operator/plan/round.js';
import { FakeCluster, gpuNode, migPod, partition, snapshotOf } from './harness.js';

const PROFILES = ['1g.5gb', '2g.10gb', '3g.20gb', '4g.20gb', '7g.40gb'] as const;
const LAYOUTS = ['all-1g.5gb', 'all-2g.10gb', 'all-3g.20gb', 'all-balanced', 'all-7g.40gb', '1', '5', '10'] as const;

type Step =
  | { kind: 'arrive'; profile: (typeof PROFILES)[number] }
  | { kind: 'bind'; pod: number; node: number; gpu: number }
  | { kind: 'finish'; pod: number }
  | { kind: 'stick'; node: number }
  | { kind: 'unstick'; node: number }
  | { kind: 'round'; ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('arrive' as const), profile: fc.constantFrom(...PROFILES) }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('bind' as const), pod: fc.nat(20), node: fc.nat(3), gpu: fc.nat(3) }),
  },
  fc.record({ kind: fc.constant('finish' as const), pod: fc.nat(20) }),
  fc.record({ kind: fc.constant('stick' as const), node: fc.nat(3) }),
  fc.record({ kind: fc.constant('unstick' as const), node: fc.nat(3) }),
  fc.record({ kind: fc.constant('round' as const), ms: fc.constantFrom(1_000, 15_000, 60_000, 600_000) }),
);

const scenario = fc.record({
  nodes: fc.integer({ min: 1, max: 4 }),
  gpus: fc.integer({ min: 1, max: 4 }),
  mode: fc.constantFrom('Static' as const, 'Dynamic' as const),
  layout: fc.constantFrom(...LAYOUTS),
  controller: fc.constantFrom('greedy', 'twice-daily'),
  maxNodesReconfiguring: fc.integer({ min: 1, max: 3 }),
  drain: fc.constantFrom('WaitIdle' as const, 'Cordon' as const),
  steps: fc.array(step, { minLength: 1, maxLength: 60 }),
});

/** What the random runs exercised, so that a generator that never reaches the interesting cases fails. */
const seen = { binds: 0, applied: 0, busyDrains: 0 };

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

/** The layout the nodes start with, applied by mig-manager before the operator came. */
const START =
  'version: v1\nmig-configs:\n  start:\n    - devices: all\n      mig-enabled: true\n' +
  '      mig-devices: {"1g.5gb": 2, "2g.10gb": 1, "3g.20gb": 1}\n';

function build(s: Scenario): FakeCluster {
  const c = new FakeCluster();
  c.configText = START;
  const started = { [MIG_CONFIG_LABEL]: 'start', [MIG_STATE_LABEL]: 'success' };
  for (let i = 0; i < s.nodes; i++) c.addNode(gpuNode(`n${i}`, { pool: 'a', ...started }, s.gpus));
  const limits = { maxNodesReconfiguring: s.maxNodesReconfiguring, drain: s.drain, applyTimeout: '5m' };
  c.partitions.push(
    s.mode === 'Static'
      ? partition('p', { nodeSelector: {}, mode: 'Static', static: { layouts: [{ layout: s.layout }] }, limits })
      : partition('p', {
          nodeSelector: {},
          mode: 'Dynamic',
          dynamic:
            s.controller === 'greedy'
              ? { controller: 'greedy' }
              : {
                  controller: 'twice-daily',
                  schedule: [
                    { from: '00:00', layouts: [{ layout: s.layout }] },
                    { from: '00:10', layouts: [{ layout: 'all-balanced' }] },
                  ],
                },
          limits: { ...limits, decisionInterval: '1s', minDwell: '0s' },
        }),
  );
  return c;
}

/** A round as the reconciler runs it, with the invariants that must hold after it. */
function round(c: FakeCluster, s: Scenario, ms: number): void {
  const snap = snapshotOf(c);
  const plan = planRound(snap, c.opts);
  expect(planRound(snapshotOf(c), c.opts), 'the same snapshot gives the same plan').toEqual(plan);
  c.commit(plan);
  c.now += ms;
  seen.applied += plan.nodePatches.length;
  // A drain that waits: a node marked draining while one of its pods still runs.
  for (const n of c.nodes.values())
    if (
      n.metadata?.annotations?.[DRAINING_ANNOTATION] &&
      c.pods.some((p) => p.status?.phase === 'Running' && p.spec?.nodeName === n.metadata?.name)
    )
      seen.busyDrains++;
  expect(c.violations, 'a GPU reconfigured while a pod held it').toEqual([]);
  const draining = [...c.nodes.values()].filter((n) => n.metadata?.annotations?.[DRAINING_ANNOTATION]).length;
  expect(draining).toBeLessThanOrEqual(s.maxNodesReconfiguring);
}

/** mig-manager on the node recovers: a config it left pending succeeds, and later ones are applied at once. */
function answer(c: FakeCluster, node: string): void {
  if (!c.stuck.delete(node)) return;
  const labels = c.node(node).metadata?.labels;
  if (labels?.[MIG_STATE_LABEL] === 'pending') labels[MIG_STATE_LABEL] = 'success';
}

function apply(c: FakeCluster, s: Scenario, st: Step): void {
  const pending = c.pods.filter((p) => p.status?.phase === 'Pending' && !p.spec?.nodeName);
  const running = c.pods.filter((p) => p.status?.phase === 'Running');
  switch (st.kind) {
    case 'arrive':
      c.pods.push(migPod(st.profile));
      return;
    case 'bind': {
      // The extender binds only to a GPU whose current layout has the pod's profile: the first such GPU of
      // the node from the drawn one on.
      const pod = pending[st.pod % Math.max(1, pending.length)];
      const node = `n${st.node % s.nodes}`;
      const limits = pod?.spec?.containers[0]?.resources?.limits ?? {};
      const profile = Object.keys(limits)[0]?.slice('nvidia.com/mig-'.length);
      const layouts = c.layouts(node);
      const gpu = [...layouts.keys()]
        .map((i) => (i + st.gpu) % layouts.length)
        .find((g) => (layouts[g] ?? '').split('+').includes(profile ?? ''));
      if (!pod || gpu === undefined) return;
      pod.spec = { ...pod.spec, containers: pod.spec?.containers ?? [], nodeName: node };
      pod.status = { phase: 'Running' };
      seen.binds++;
      pod.metadata = { ...pod.metadata, annotations: { ...pod.metadata?.annotations, 'smartmig.io/gpu': String(gpu) } };
      return;
    }
    case 'finish': {
      const pod = running[st.pod % Math.max(1, running.length)];
      if (pod) pod.status = { phase: 'Succeeded' };
      return;
    }
    case 'stick':
      c.stuck.add(`n${st.node % s.nodes}`);
      return;
    case 'unstick':
      answer(c, `n${st.node % s.nodes}`);
      return;
    case 'round':
      round(c, s, st.ms);
  }
}

describe('planner properties (random clusters, policies and event orders)', () => {
  it('never reconfigures a busy GPU, plans deterministically and respects maxNodesReconfiguring', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const c = build(s);
        for (const st of s.steps) apply(c, s, st);
        round(c, s, 1_000);
      }),
      { numRuns: 150, seed: 20261206 },
    );
    expect(seen.binds).toBeGreaterThan(50);
    expect(seen.applied).toBeGreaterThan(50);
    expect(seen.busyDrains).toBeGreaterThan(10);
  });

  it('a static policy converges once pods are gone and mig-manager answers', () => {
    fc.assert(
      fc.property(
        scenario.filter((s) => s.mode === 'Static'),
        (s) => {
          const c = build(s);
          for (const st of s.steps) apply(c, s, st);
          for (const p of c.pods) if (p.status?.phase === 'Running') p.status = { phase: 'Succeeded' };
          for (const name of [...c.stuck]) answer(c, name);
          // Long enough for every back-off and apply timeout to run out.
          for (let i = 0; i < 80; i++) round(c, s, 600_000);
          const ready = c.status('p')?.conditions?.find((x) => x.type === 'Ready');
          expect(ready?.status, JSON.stringify(c.status('p')?.conditions)).toBe('True');
        },
      ),
      { numRuns: 60, seed: 20261207 },
    );
  });
});
