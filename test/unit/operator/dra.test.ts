import { describe, expect, it } from 'vitest';
import {
  DESIRED_LAYOUTS_ANNOTATION,
  DRAINING_ANNOTATION,
  LAST_CHANGE_ANNOTATION,
  LAYOUTS_ANNOTATION,
  MIG_CONFIG_LABEL,
  MIG_STATE_LABEL,
  OWNER_ANNOTATION,
} from '../../../api/labels.js';
import { steeringRules, type GpuTarget } from '../../../dra/steering.js';
import type { V1PodSpec } from '@kubernetes/client-node';
import { MIG_CLASS } from '../../../dra/device-classes.js';
import { DRIVER } from '../../../dra/devices.js';
import {
  holdsDevices,
  isPendingDemand,
  nodeFacts,
  podFacts,
  withClaims,
  type ClaimShape,
} from '../../../operator/facts.js';
import { parseLayoutText } from '../../../operator/plan/dra.js';
import { A100, FakeCluster, claimPod, draNode, gpuNode, migPod, partition } from './harness.js';

const pool = { matchLabels: { pool: 'a' } };
const ONE_G = '1g.5gb+1g.5gb+1g.5gb+1g.5gb+1g.5gb+1g.5gb+1g.5gb';
const ALL_7G = { 0: '7g.40gb@0', 1: '7g.40gb@0' };

const condition = (c: FakeCluster, name: string, type: string) =>
  c.status(name)?.conditions?.find((x) => x.type === type);
const nodeStatus = (c: FakeCluster, p: string, node: string) => c.status(p)?.nodes?.find((n) => n.name === node);
const ann = (c: FakeCluster, node: string, key: string) => c.node(node).metadata?.annotations?.[key];
const ruleNames = (c: FakeCluster, node: string) => (c.rules.get(node) ?? []).map((r) => r.metadata.name).sort();

/** The rules a node should have when each GPU has `layouts[g]` (layout key text). */
function rulesFor(node: string, layouts: Record<number, string>) {
  const targets = new Map<number, GpuTarget>();
  for (const [g, text] of Object.entries(layouts)) {
    const t = parseLayoutText(A100, text);
    if (!t) throw new Error(text);
    targets.set(Number(g), { kind: 'layout', layout: t.layout });
  }
  return steeringRules(node, A100, targets)
    .map((r) => r.metadata.name)
    .sort();
}

function staticDra(layout: string, limits: Record<string, unknown> = {}) {
  const c = new FakeCluster();
  c.addNode(draNode('d1', { pool: 'a' }));
  c.partitions.push(partition('p', { nodeSelector: pool, mode: 'Static', static: { layouts: [{ layout }] }, limits }));
  return c;
}

/** A DRA node whose GPUs the operator had set to 7g.40gb (annotation and rules), under a 1g policy. */
function busyCluster(pods: ReturnType<typeof claimPod>[]) {
  const c = staticDra('all-1g.5gb');
  c.setDraLayouts('d1', ALL_7G);
  (c.node('d1').metadata?.annotations as Record<string, string>)[OWNER_ANNOTATION] = 'p';
  c.pods.push(...pods);
  return c;
}

/** A claim pod whose claim is named (`resourceClaimName`), so no claim controller is needed. */
function namedClaimPod(claim: string, opts: { node?: string } = {}) {
  const pod = claimPod(opts);
  (pod.spec as V1PodSpec).resourceClaims = [{ name: 'gpu', resourceClaimName: claim }];
  return pod;
}

/** A ResourceClaim for one MIG device of `profile`, allocated to `device` in `pool` when given. */
function migClaim(profile: string, at?: { pool: string; device: string; driver?: string }): ClaimShape {
  const selector = `device.attributes['gpu.nvidia.com'].profile == '${profile}'`;
  return {
    spec: {
      devices: {
        requests: [
          { name: 'mig', exactly: { deviceClassName: MIG_CLASS, selectors: [{ cel: { expression: selector } }] } },
        ],
      },
    },
    ...(at
      ? {
          status: {
            allocation: { devices: { results: [{ driver: at.driver ?? DRIVER, pool: at.pool, device: at.device }] } },
          },
        }
      : {}),
  };
}

describe('facts: DRA nodes and claim pods', () => {
  it("reads a claim pod's claims: their MIG demand joins its slices, allocated devices on its node are held", () => {
    const claims = new Map<string, ClaimShape>([
      ['a', migClaim('2g.10gb', { pool: 'd1', device: 'gpu-0-mig-2g10gb-14-2' })],
      [
        'nic',
        {
          status: { allocation: { devices: { results: [{ driver: 'nic.example.com', pool: 'd1', device: 'eth1' }] } } },
        },
      ],
    ]);
    const pod = namedClaimPod('a', { node: 'd1' });
    (pod.spec as V1PodSpec).resourceClaims?.push({ name: 'net', resourceClaimName: 'nic' });
    const f = withClaims(podFacts(pod), pod, (name) => claims.get(name));
    expect(f.claimDevices).toEqual(['gpu-0-mig-2g10gb-14-2']);
    expect([...f.slices]).toEqual([['2g.10gb', 1]]);
    // Its slices come from claims: only a DRA node can serve them.
    expect(f.viaClaims).toBe(true);
    expect(podFacts(pod).viaClaims).toBe(false);
    // One claim not known yet: which GPU the pod holds is unknown, its known demand still counts.
    const partial = withClaims(podFacts(pod), pod, (name) => (name === 'a' ? claims.get(name) : undefined));
    expect(partial.claimDevices).toBeUndefined();
    expect(partial.slices.get('2g.10gb')).toBe(1);
    // A template entry without a claim yet says nothing.
    const templated = claimPod({ node: 'd1' });
    expect(withClaims(podFacts(templated), templated, () => undefined).claimDevices).toBeUndefined();
    const pending = namedClaimPod('a');
    expect(isPendingDemand(withClaims(podFacts(pending), pending, (name) => claims.get(name)))).toBe(true);
  });

  it('reads the allocation mode, the layouts annotation and claim pods', () => {
    const n = draNode('d1');
    (n.metadata?.annotations as Record<string, string>)[LAYOUTS_ANNOTATION] = '{"1":"3g.20gb@4","x":"y"}';
    const f = nodeFacts(n);
    expect(f.dra).toBe(true);
    expect([...f.layouts]).toEqual([[1, '3g.20gb@4']]);
    expect(f.desiredLayouts).toBeUndefined();
    expect(nodeFacts(gpuNode('n1')).dra).toBe(false);
    const bound = podFacts(claimPod({ node: 'd1', gpu: 1 }));
    expect(bound).toMatchObject({ claims: 1, gpu: 1, wholeGpus: 0 });
    expect(holdsDevices(bound)).toBe(true);
    expect(holdsDevices(podFacts(claimPod({ node: 'd1', phase: 'Succeeded' })))).toBe(false);
    expect(holdsDevices(podFacts(claimPod()))).toBe(false);
  });

  it('parses layout texts and rejects placements the model lacks', () => {
    expect(parseLayoutText(A100, '3g.20gb@4,3g.20gb@0')?.layout.slices).toEqual([
      { profile: '3g.20gb', start: 0 },
      { profile: '3g.20gb', start: 4 },
    ]);
    expect(parseLayoutText(A100, 'disabled')).toMatchObject({ migEnabled: false });
    expect(parseLayoutText(A100, '3g.20gb@1')).toBeUndefined();
    expect(parseLayoutText(A100, 'nope@0')).toBeUndefined();
  });
});

describe('planner: DRA nodes', () => {
  it('a static policy converges with the rules of its layout, without ConfigMap or mig-manager', () => {
    const c = staticDra('all-3g.20gb');
    c.settle();
    expect(c.draLayouts('d1')).toEqual(['3g.20gb+3g.20gb', '3g.20gb+3g.20gb']);
    expect(ann(c, 'd1', LAYOUTS_ANNOTATION)).toBe(
      JSON.stringify({ '0': '3g.20gb@0,3g.20gb@4', '1': '3g.20gb@0,3g.20gb@4' }),
    );
    expect(ruleNames(c, 'd1')).toEqual(rulesFor('d1', { 0: '3g.20gb@0,3g.20gb@4', 1: '3g.20gb@0,3g.20gb@4' }));
    // Everything but the two 3g.20gb placements of each GPU is tainted, the whole GPU included.
    expect(c.offer('d1', 0)).toBe('gpu-0-mig-3g20gb-9-0,gpu-0-mig-3g20gb-9-4');
    expect(c.offer('d1', 1)).toBe('gpu-1-mig-3g20gb-9-0,gpu-1-mig-3g20gb-9-4');
    expect(c.configText).toBe('');
    expect(c.applied).toEqual([]);
    expect(c.node('d1').metadata?.labels?.[MIG_CONFIG_LABEL]).toBeUndefined();
    expect(c.node('d1').metadata?.labels?.[MIG_STATE_LABEL]).toBeUndefined();
    for (const key of [DRAINING_ANNOTATION, DESIRED_LAYOUTS_ANNOTATION]) expect(ann(c, 'd1', key)).toBeUndefined();
    expect(ann(c, 'd1', LAST_CHANGE_ANNOTATION)).toBeDefined();
    expect(condition(c, 'p', 'Ready')).toMatchObject({ status: 'True', reason: 'Converged' });
    expect(c.status('p')).toMatchObject({ nodesSelected: 1, nodesConverged: 1, nodesReconfiguring: 0 });
    expect(c.events.map((e) => e.reason)).toEqual(expect.arrayContaining(['Draining', 'Reconfigured']));
    expect(c.violations).toEqual([]);
    // Converged: the next round writes nothing and keeps the rules.
    c.now += 60_000;
    const plan = c.plan();
    expect(plan.nodePatches).toEqual([]);
    expect(plan.configAdds.size).toBe(0);
    expect(plan.draTargets.get('d1')?.targets.size).toBe(2);
    const writes = c.ruleWrites;
    c.commit(plan);
    expect(c.ruleWrites).toBe(writes);
  });

  it('drains a busy GPU first and changes it only once its pod is gone', () => {
    const pod = claimPod({ node: 'd1', gpu: 0 });
    const c = busyCluster([pod]);
    c.settle(10);
    expect(c.draLayouts('d1')).toEqual(['7g.40gb', ONE_G]);
    expect(ann(c, 'd1', DRAINING_ANNOTATION)).toBe('0');
    expect(c.offer('d1', 0)).toBe('drain');
    expect(nodeStatus(c, 'p', 'd1')).toMatchObject({
      state: 'Draining',
      message: 'waiting for pods to leave GPU(s) 0',
    });
    expect(c.violations).toEqual([]);
    pod.status = { phase: 'Succeeded' };
    c.settle(10);
    expect(c.draLayouts('d1')).toEqual([ONE_G, ONE_G]);
    expect(ann(c, 'd1', DRAINING_ANNOTATION)).toBeUndefined();
    expect(ann(c, 'd1', DESIRED_LAYOUTS_ANNOTATION)).toBeUndefined();
    expect(c.offer('d1', 0)?.split(',')).toHaveLength(7);
    expect(condition(c, 'p', 'Ready')).toMatchObject({ status: 'True', reason: 'Converged' });
    expect(c.violations).toEqual([]);
  });

  it('holds every GPU of the node for a claim pod that does not say which GPU it has', () => {
    const pod = claimPod({ node: 'd1' });
    const c = busyCluster([pod]);
    c.settle(10);
    expect(c.draLayouts('d1')).toEqual(['7g.40gb', '7g.40gb']);
    expect(ann(c, 'd1', DRAINING_ANNOTATION)).toBe('0,1');
    expect([c.offer('d1', 0), c.offer('d1', 1)]).toEqual(['drain', 'drain']);
    pod.status = { phase: 'Failed' };
    c.settle(10);
    expect(c.draLayouts('d1')).toEqual([ONE_G, ONE_G]);
    expect(c.violations).toEqual([]);
  });

  it('gives up after the drain timeout, frees the GPU, and backs off', () => {
    const c = staticDra('all-1g.5gb', { drainTimeout: '5s' });
    c.setDraLayouts('d1', ALL_7G);
    c.pods.push(claimPod({ node: 'd1', gpu: 0 }));
    for (let i = 0; i < 10; i++) {
      c.commit(c.plan());
      c.now += 1000;
    }
    expect(c.events.map((e) => e.reason)).toContain('DrainTimeout');
    expect(c.offer('d1', 0)).toBe('gpu-0-mig-7g40gb-0-0');
    expect(c.violations).toEqual([]);
  });

  it('works node by node in a mixed cluster under one policy', () => {
    const c = new FakeCluster();
    c.addNode(gpuNode('n1', { pool: 'a' }));
    c.addNode(draNode('d1', { pool: 'a' }));
    c.partitions.push(
      partition('p', {
        nodeSelector: pool,
        mode: 'Static',
        static: { layouts: [{ layout: 'all-2g.10gb' }] },
        limits: { maxNodesReconfiguring: 2 },
      }),
    );
    c.settle();
    const two = '2g.10gb+2g.10gb+2g.10gb';
    expect(c.layouts('n1')).toEqual([two, two]);
    expect(c.draLayouts('d1')).toEqual([two, two]);
    // The device-plugin node goes through the ConfigMap and mig-manager; the DRA node only through rules.
    expect(c.applied.map((a) => a.node)).toEqual(['n1']);
    expect(c.node('d1').metadata?.labels?.[MIG_CONFIG_LABEL]).toBeUndefined();
    expect(ann(c, 'n1', LAYOUTS_ANNOTATION)).toBeUndefined();
    expect([...c.rules.keys()]).toEqual(['d1']);
    expect(ruleNames(c, 'd1')).toEqual(
      rulesFor('d1', { 0: '2g.10gb@0,2g.10gb@2,2g.10gb@4', 1: '2g.10gb@0,2g.10gb@2,2g.10gb@4' }),
    );
    expect(c.status('p')).toMatchObject({ nodesSelected: 2, nodesConverged: 2 });
    expect(c.violations).toEqual([]);
  });

  it('each kind of node is carved only for the pods it can serve: claims on DRA, nvidia.com/mig-* elsewhere', () => {
    // Two policies side by side, as in a mixed cluster: both see every pending pod.
    const c = new FakeCluster();
    c.configText =
      'version: v1\nmig-configs:\n  all-7g:\n    - devices: all\n      mig-enabled: true\n      mig-devices: {"7g.40gb": 1}\n';
    c.addNode(draNode('d1', { pool: 'a' }));
    c.setDraLayouts('d1', ALL_7G);
    c.addNode(gpuNode('n1', { pool: 'b', [MIG_CONFIG_LABEL]: 'all-7g', [MIG_STATE_LABEL]: 'success' }));
    const greedy = { mode: 'Dynamic' as const, dynamic: { controller: 'greedy' } };
    c.partitions.push(partition('d', { nodeSelector: pool, ...greedy }));
    c.partitions.push(partition('n', { nodeSelector: { matchLabels: { pool: 'b' } }, ...greedy }));
    // A device-plugin pod can never land on d1 and a claim pod never on n1: neither may reshape them.
    c.claims.set('waiting', migClaim('3g.20gb'));
    c.pods.push(migPod('1g.5gb'), namedClaimPod('waiting'));
    c.settle();
    expect(c.draLayouts('d1').filter((l) => l.includes('3g.20gb'))).toHaveLength(1);
    expect(c.draLayouts('d1').some((l) => l.includes('1g.5gb'))).toBe(false);
    expect(c.layouts('n1').filter((l) => l.includes('1g.5gb'))).toHaveLength(1);
    expect(c.layouts('n1').some((l) => l.includes('3g.20gb'))).toBe(false);
    expect(c.violations).toEqual([]);
  });

  it('a claim pod whose claim is allocated holds only its device: the other GPU changes at once', () => {
    const pod = namedClaimPod('held', { node: 'd1' });
    const c = busyCluster([pod]);
    c.claims.set('held', migClaim('7g.40gb', { pool: 'd1', device: 'gpu-1-mig-7g40gb-0-0' }));
    c.settle(10);
    expect(c.draLayouts('d1')).toEqual([ONE_G, '7g.40gb']);
    expect(ann(c, 'd1', DRAINING_ANNOTATION)).toBe('1');
    expect(c.violations).toEqual([]);
    pod.status = { phase: 'Succeeded' };
    c.settle(10);
    expect(c.draLayouts('d1')).toEqual([ONE_G, ONE_G]);
    expect(c.violations).toEqual([]);
  });

  it("holds the whole node while a claim pod's claim is unallocated or from another pool", () => {
    for (const claim of [migClaim('7g.40gb'), migClaim('7g.40gb', { pool: 'd9', device: 'gpu-1-mig-7g40gb-0-0' })]) {
      const c = busyCluster([namedClaimPod('held', { node: 'd1' })]);
      c.claims.set('held', claim);
      c.settle(10);
      expect(c.draLayouts('d1')).toEqual(['7g.40gb', '7g.40gb']);
      expect(ann(c, 'd1', DRAINING_ANNOTATION)).toBe('0,1');
    }
  });

  it('a pending claim pod is demand: greedy carves the profile its claim selects', () => {
    const c = new FakeCluster();
    c.addNode(draNode('d1', { pool: 'a' }));
    c.setDraLayouts('d1', ALL_7G);
    c.partitions.push(partition('d', { nodeSelector: pool, mode: 'Dynamic', dynamic: { controller: 'greedy' } }));
    const running = namedClaimPod('running', { node: 'd1' });
    c.claims.set('running', migClaim('7g.40gb', { pool: 'd1', device: 'gpu-0-mig-7g40gb-0-0' }));
    c.claims.set('waiting', migClaim('3g.20gb'));
    c.pods.push(running, namedClaimPod('waiting'));
    c.settle();
    expect(c.draLayouts('d1')[0]).toBe('7g.40gb');
    expect(c.draLayouts('d1')[1]).toContain('3g.20gb');
    expect(c.violations).toEqual([]);
  });

  it('removes its rules and marks when the node leaves the policy', () => {
    const c = staticDra('all-3g.20gb');
    c.settle();
    expect(c.rules.get('d1')?.length).toBeGreaterThan(0);
    (c.node('d1').metadata?.labels as Record<string, string>).pool = 'b';
    c.settle();
    expect(c.rules.has('d1')).toBe(false);
    expect(ann(c, 'd1', LAYOUTS_ANNOTATION)).toBeUndefined();
    expect(ann(c, 'd1', OWNER_ANNOTATION)).toBeUndefined();
  });

  it('never changes more DRA nodes at once than maxNodesReconfiguring', () => {
    const c = new FakeCluster();
    for (const n of ['d1', 'd2', 'd3']) c.addNode(draNode(n, { pool: 'a' }));
    c.partitions.push(
      partition('p', {
        nodeSelector: pool,
        mode: 'Static',
        static: { layouts: [{ layout: 'all-2g.10gb' }] },
        limits: { maxNodesReconfiguring: 1 },
      }),
    );
    for (let i = 0; i < 20; i++) {
      c.commit(c.plan());
      const busy = ['d1', 'd2', 'd3'].filter((n) => ann(c, n, DESIRED_LAYOUTS_ANNOTATION) !== undefined);
      expect(busy.length).toBeLessThanOrEqual(1);
      c.now += 1000;
    }
    for (const n of ['d1', 'd2', 'd3'])
      expect(c.draLayouts(n)).toEqual(['2g.10gb+2g.10gb+2g.10gb', '2g.10gb+2g.10gb+2g.10gb']);
  });
});
