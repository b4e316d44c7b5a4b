import { describe, expect, it } from 'vitest';
import {
  DESIRED_ANNOTATION,
  DRAINING_ANNOTATION,
  FAILURES_ANNOTATION,
  MIG_CONFIG_LABEL,
  MIG_STATE_LABEL,
  OWNER_ANNOTATION,
  REPARTITION_TAINT,
} from '../../../operator/labels.js';
import { observe } from '../../../operator/observe.js';
import { FakeCluster, gpuNode, migPod, partition, snapshotOf } from './harness.js';

const pool = { matchLabels: { pool: 'a' } };

function staticCluster(layout = 'all-1g.5gb', limits: Record<string, unknown> = {}) {
  const c = new FakeCluster();
  c.addNode(gpuNode('n1', { pool: 'a' }));
  c.addNode(gpuNode('n2', { pool: 'a' }));
  c.addNode(gpuNode('other', { pool: 'b' }));
  c.partitions.push(partition('p', { nodeSelector: pool, mode: 'Static', static: { layouts: [{ layout }] }, limits }));
  return c;
}

const condition = (c: FakeCluster, name: string, type: string) =>
  c.status(name)?.conditions?.find((x) => x.type === type);

describe('planner: static layouts', () => {
  it('applies the layout to every selected node through the ConfigMap and labels, and reports Ready', () => {
    const c = staticCluster('all-1g.5gb', { maxNodesReconfiguring: 2 });
    c.settle();
    expect(c.layouts('n1')).toEqual(['1g.5gb+1g.5gb+1g.5gb+1g.5gb+1g.5gb+1g.5gb+1g.5gb', expect.any(String)]);
    expect(c.layouts('n2')[1]).toBe('1g.5gb+1g.5gb+1g.5gb+1g.5gb+1g.5gb+1g.5gb+1g.5gb');
    const label = c.node('n1').metadata?.labels?.[MIG_CONFIG_LABEL];
    expect(label).toMatch(/^smartmig-[0-9a-f]{12}$/);
    // Equal content, equal name: both nodes share one config entry.
    expect(c.node('n2').metadata?.labels?.[MIG_CONFIG_LABEL]).toBe(label);
    expect(Object.keys(c.config()['mig-configs'])).toEqual([label]);
    expect(c.config()['mig-configs'][label as string]).toEqual([
      { devices: [0, 1], 'mig-enabled': true, 'mig-devices': { '1g.5gb': 7 } },
    ]);
    expect(c.node('other').metadata?.labels?.[MIG_CONFIG_LABEL]).toBeUndefined();
    expect(c.node('n1').metadata?.annotations?.[OWNER_ANNOTATION]).toBe('p');
    expect(c.node('n1').metadata?.annotations?.[DRAINING_ANNOTATION]).toBeUndefined();
    expect(condition(c, 'p', 'Ready')).toMatchObject({ status: 'True', reason: 'Converged' });
    expect(condition(c, 'p', 'Progressing')).toMatchObject({ status: 'False' });
    expect(c.status('p')).toMatchObject({
      nodesSelected: 2,
      nodesConverged: 2,
      nodesReconfiguring: 0,
      gpuModel: 'A100-40GB',
    });
    expect(c.events.map((e) => e.reason)).toEqual(
      expect.arrayContaining(['Draining', 'Reconfiguring', 'Reconfigured']),
    );
    expect(c.violations).toEqual([]);
  });

  it('is idempotent: a converged cluster gives an empty plan and a stable status', () => {
    const c = staticCluster();
    c.settle(40);
    const since = condition(c, 'p', 'Ready')?.lastTransitionTime;
    c.now += 60_000;
    const plan = c.plan();
    expect(plan.nodePatches).toEqual([]);
    expect(plan.configAdds.size).toBe(0);
    expect(plan.statuses[0]?.status).toEqual(c.status('p'));
    expect(since).toBeDefined();
  });

  it('observes modelled power and slices for the metrics', () => {
    const c = staticCluster('all-3g.20gb', { maxNodesReconfiguring: 2 });
    c.settle();
    c.pods.push(migPod('3g.20gb', { node: 'n1', gpu: 1 }), migPod('1g.5gb'));
    const snap = snapshotOf(c);
    const obs = observe(snap);
    const watts = obs.gpus.filter((g) => g.node === 'n1').map((g) => g.watts);
    expect(watts).toEqual([40, 205.3]);
    expect(obs.slices.get('3g.20gb|busy')).toBe(1);
    expect(obs.slices.get('3g.20gb|free')).toBe(7);
    expect(obs.pending.get('1g.5gb')).toBe(1);
  });

  it('changes at most maxNodesReconfiguring nodes at once', () => {
    const c = staticCluster('all-2g.10gb', { maxNodesReconfiguring: 1 });
    for (let i = 0; i < 30; i++) {
      c.commit(c.plan());
      const busy = ['n1', 'n2'].filter((n) => c.node(n).metadata?.annotations?.[DRAINING_ANNOTATION] !== undefined);
      expect(busy.length).toBeLessThanOrEqual(1);
      c.now += 1000;
    }
    expect(c.layouts('n1')).toEqual(['2g.10gb+2g.10gb+2g.10gb', '2g.10gb+2g.10gb+2g.10gb']);
    expect(c.layouts('n2')).toEqual(['2g.10gb+2g.10gb+2g.10gb', '2g.10gb+2g.10gb+2g.10gb']);
  });

  it('WaitIdle: marks the busy GPU, waits for its pod, never reconfigures it while the pod runs', () => {
    const c = staticCluster('all-1g.5gb', { maxNodesReconfiguring: 2 });
    c.configText =
      'version: v1\nmig-configs:\n  all-7g:\n    - devices: all\n      mig-enabled: true\n      mig-devices: {"7g.40gb": 1}\n';
    for (const n of ['n1', 'n2']) {
      (c.node(n).metadata!.labels as Record<string, string>)[MIG_CONFIG_LABEL] = 'all-7g';
      (c.node(n).metadata!.labels as Record<string, string>)[MIG_STATE_LABEL] = 'success';
    }
    const pod = migPod('7g.40gb', { node: 'n1', gpu: 0 });
    c.pods.push(pod);
    c.settle(10);
    expect(c.node('n1').metadata?.annotations?.[DRAINING_ANNOTATION]).toBe('0,1');
    expect(c.node('n1').metadata?.labels?.[MIG_CONFIG_LABEL]).toBe('all-7g');
    expect(c.layouts('n2')[0]).toContain('1g.5gb');
    expect(c.status('p')?.nodes?.find((n) => n.name === 'n1')).toMatchObject({
      state: 'Draining',
      message: 'waiting for pods to leave GPU(s) 0',
    });
    pod.status = { phase: 'Succeeded' };
    c.settle(10);
    expect(c.layouts('n1')).toEqual([expect.stringContaining('1g.5gb'), expect.stringContaining('1g.5gb')]);
    expect(c.node('n1').metadata?.annotations?.[DRAINING_ANNOTATION]).toBeUndefined();
    expect(c.violations).toEqual([]);
  });

  it('a pod without a GPU index blocks every GPU that has its profile', () => {
    const c = staticCluster('all-1g.5gb', { maxNodesReconfiguring: 2 });
    c.configText =
      'version: v1\nmig-configs:\n  mixed:\n    - devices: [0]\n      mig-enabled: true\n      mig-devices: {"7g.40gb": 1}\n' +
      '    - devices: [1]\n      mig-enabled: true\n      mig-devices: {"3g.20gb": 2}\n';
    const labels = c.node('n1').metadata!.labels as Record<string, string>;
    labels[MIG_CONFIG_LABEL] = 'mixed';
    labels[MIG_STATE_LABEL] = 'success';
    c.pods.push(migPod('3g.20gb', { node: 'n1' }));
    c.settle(10);
    const n1 = c.status('p')?.nodes?.find((n) => n.name === 'n1');
    expect(n1?.gpus?.map((g) => g.busy)).toEqual([false, true]);
    expect(n1?.state).toBe('Draining');
    expect(c.violations).toEqual([]);
  });

  it('Cordon: taints the node while it changes and removes the taint afterwards', () => {
    const c = staticCluster('all-3g.20gb', { drain: 'Cordon', maxNodesReconfiguring: 2 });
    c.commit(c.plan());
    expect(c.node('n1').spec?.taints).toEqual([expect.objectContaining(REPARTITION_TAINT)]);
    expect(c.node('n1').metadata?.labels?.[MIG_CONFIG_LABEL]).toBeUndefined();
    c.settle();
    expect(c.node('n1').spec?.taints).toEqual([]);
    expect(c.layouts('n1')).toEqual(['3g.20gb+3g.20gb', '3g.20gb+3g.20gb']);
  });

  it('backs off after a mig-manager failure and retries under a new name', () => {
    const c = staticCluster('all-2g.10gb', { maxNodesReconfiguring: 2 });
    c.commit(c.plan());
    const desired = c.node('n1').metadata?.annotations?.[DESIRED_ANNOTATION] as string;
    c.failing.add(desired);
    c.settle(5);
    expect(c.node('n1').metadata?.labels?.[MIG_STATE_LABEL]).toBe('failed');
    expect(c.node('n1').metadata?.annotations?.[FAILURES_ANNOTATION]).toBe('1');
    expect(c.status('p')?.nodes?.find((n) => n.name === 'n1')?.state).toBe('Failed');
    expect(condition(c, 'p', 'Degraded')).toMatchObject({ status: 'True', reason: 'ReconfigureFailed' });
    expect(c.events.filter((e) => e.reason === 'ReconfigureFailed')).toHaveLength(2);
    c.now += 31_000;
    c.settle(10);
    expect(c.node('n1').metadata?.labels?.[MIG_CONFIG_LABEL]).toBe(`${desired}-r1`);
    expect(c.node('n1').metadata?.labels?.[MIG_STATE_LABEL]).toBe('success');
    expect(c.node('n1').metadata?.annotations?.[FAILURES_ANNOTATION]).toBeUndefined();
    expect(condition(c, 'p', 'Ready')).toMatchObject({ status: 'True' });
  });

  // fix: a failed node's retry skipped the slot check, so every failed node relaunched in one round
  it('retries after a failure still within maxNodesReconfiguring', () => {
    const c = staticCluster('all-2g.10gb', { maxNodesReconfiguring: 1 });
    c.addNode(gpuNode('n3', { pool: 'a' }));
    c.commit(c.plan());
    c.failing.add(c.node('n1').metadata?.annotations?.[DESIRED_ANNOTATION] as string);
    const changing = () =>
      ['n1', 'n2', 'n3'].filter(
        (n) =>
          c.node(n).metadata?.annotations?.[DRAINING_ANNOTATION] !== undefined ||
          c.node(n).metadata?.labels?.[MIG_STATE_LABEL] === 'pending',
      ).length;
    for (let i = 0; i < 12; i++) {
      c.commit(c.plan());
      c.now += 1000;
    }
    expect(['n1', 'n2', 'n3'].map((n) => c.node(n).metadata?.labels?.[MIG_STATE_LABEL])).toEqual([
      'failed',
      'failed',
      'failed',
    ]);
    c.failing.clear();
    c.now += 31_000;
    for (let i = 0; i < 30; i++) {
      c.commit(c.plan());
      expect(changing()).toBeLessThanOrEqual(1);
      c.now += 1000;
    }
    for (const n of ['n1', 'n2', 'n3']) expect(c.node(n).metadata?.labels?.[MIG_STATE_LABEL]).toBe('success');
  });

  it('reports an invalid layout with its reason and applies nothing', () => {
    const c = staticCluster('all-9g.99gb');
    c.settle();
    expect(condition(c, 'p', 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidLayout' });
    expect(condition(c, 'p', 'Ready')?.message).toContain('spec.static.layouts[0].layout');
    expect(condition(c, 'p', 'Degraded')).toMatchObject({ status: 'True', reason: 'InvalidLayout' });
    expect(c.node('n1').metadata?.labels?.[MIG_CONFIG_LABEL]).toBeUndefined();
    expect(c.events.filter((e) => e.reason === 'InvalidLayout')).toHaveLength(1);
  });

  it('refuses the later of two policies that select the same node, without fighting', () => {
    const c = staticCluster('all-1g.5gb');
    c.partitions.push(
      partition(
        'later',
        {
          nodeSelector: { matchLabels: { 'nvidia.com/gpu.count': '2' } },
          mode: 'Static',
          static: { layouts: [{ layout: 'all-7g.40gb' }] },
        },
        10,
      ),
    );
    c.settle(30);
    expect(condition(c, 'later', 'Ready')).toMatchObject({ status: 'False', reason: 'Conflict' });
    expect(condition(c, 'later', 'Ready')?.message).toContain('older MigPartition p');
    expect(condition(c, 'p', 'Ready')).toMatchObject({ status: 'True' });
    expect(c.layouts('n1')[0]).toContain('1g.5gb');
    expect(c.node('other').metadata?.labels?.[MIG_CONFIG_LABEL]).toBeUndefined();
    expect(c.events.filter((e) => e.reason === 'Conflict')).toHaveLength(1);
  });

  it('releases nodes whose policy is gone', () => {
    const c = staticCluster('all-1g.5gb', { drain: 'Cordon' });
    c.commit(c.plan());
    expect(c.node('n1').spec?.taints?.length).toBe(1);
    c.partitions = [];
    c.commit(c.plan());
    expect(c.node('n1').metadata?.annotations?.[OWNER_ANNOTATION]).toBeUndefined();
    expect(c.node('n1').metadata?.annotations?.[DRAINING_ANNOTATION]).toBeUndefined();
    expect(c.node('n1').spec?.taints).toEqual([]);
  });

  it('rebuilds its state from the cluster: a fresh planner continues a change half way', () => {
    const c = staticCluster('all-2g.10gb', { maxNodesReconfiguring: 2 });
    c.commit(c.plan());
    const fresh = new FakeCluster();
    fresh.nodes = c.nodes;
    fresh.configText = c.configText;
    fresh.partitions = c.partitions;
    fresh.now = c.now + 1000;
    fresh.settle();
    expect(fresh.layouts('n1')).toEqual(['2g.10gb+2g.10gb+2g.10gb', '2g.10gb+2g.10gb+2g.10gb']);
    expect(fresh.violations).toEqual([]);
  });

  it('keeps the GPU operator configs it did not write and removes its own unused ones', () => {
    const c = staticCluster('all-1g.5gb', { maxNodesReconfiguring: 2 });
    c.configText =
      'version: v1\nmig-configs:\n  all-disabled:\n    - devices: all\n      mig-enabled: false\n' +
      '  smartmig-000000000000:\n    - devices: all\n      mig-enabled: true\n      mig-devices: {}\n';
    c.settle();
    const names = Object.keys(c.config()['mig-configs']);
    expect(names).toContain('all-disabled');
    expect(names).not.toContain('smartmig-000000000000');
  });
});

describe('planner: dynamic (greedy)', () => {
  function dynamicCluster(limits: Record<string, unknown> = {}) {
    const c = new FakeCluster();
    c.configText =
      'version: v1\nmig-configs:\n  all-7g:\n    - devices: all\n      mig-enabled: true\n      mig-devices: {"7g.40gb": 1}\n';
    for (const n of ['n1', 'n2']) {
      const node = gpuNode(n, { pool: 'a', [MIG_CONFIG_LABEL]: 'all-7g', [MIG_STATE_LABEL]: 'success' });
      c.addNode(node);
    }
    c.partitions.push(
      partition('d', { nodeSelector: pool, mode: 'Dynamic', dynamic: { controller: 'greedy' }, limits }),
    );
    return c;
  }

  it('supplies the profile that pending pods lack, on one idle GPU', () => {
    const c = dynamicCluster();
    c.pods.push(migPod('3g.20gb'), migPod('3g.20gb'));
    c.settle();
    const all = [...c.layouts('n1'), ...c.layouts('n2')];
    expect(all.filter((l) => l.includes('3g.20gb'))).toHaveLength(1);
    expect(all.filter((l) => l === '7g.40gb')).toHaveLength(3);
    expect(c.status('d')?.lastDecisionTime).toBeDefined();
    expect(c.violations).toEqual([]);
  });

  it('does nothing without pending demand', () => {
    const c = dynamicCluster();
    c.settle();
    expect(c.applied).toEqual([]);
    expect(condition(c, 'd', 'Ready')).toMatchObject({ status: 'True' });
  });

  it('never picks a GPU that runs a pod', () => {
    const c = dynamicCluster();
    c.pods.push(migPod('7g.40gb', { node: 'n1', gpu: 0 }), migPod('1g.5gb'));
    c.settle();
    expect(c.layouts('n1')[0]).toBe('7g.40gb');
    expect(c.violations).toEqual([]);
    expect(c.applied.length).toBe(1);
  });

  it('waits for the decision interval between decisions', () => {
    const c = dynamicCluster({ decisionInterval: '1m', minDwell: '0s', maxNodesReconfiguring: 2 });
    c.pods.push(migPod('1g.5gb'));
    c.settle(10);
    expect(c.applied.length).toBe(1);
    expect(c.layouts('n1')[0]).toBe('4g.20gb+2g.10gb+1g.5gb');
    c.pods.push(migPod('3g.20gb'));
    c.settle(10);
    expect(c.applied.length).toBe(1);
    c.now += 60_000;
    c.settle(10);
    expect(c.applied.length).toBe(2);
  });

  it('reports an unknown controller', () => {
    const c = dynamicCluster();
    c.partitions[0]!.spec.dynamic = { controller: 'oracle' };
    c.settle();
    expect(condition(c, 'd', 'Ready')).toMatchObject({ status: 'False', reason: 'UnknownController' });
  });

  it('refuses a model that greedy would ignore, with one event, and acts once the model is removed', () => {
    const c = dynamicCluster();
    c.partitions[0]!.spec.dynamic = { controller: 'greedy', model: 'mean-field-v1' };
    c.pods.push(migPod('3g.20gb'));
    c.settle();
    expect(condition(c, 'd', 'Degraded')).toMatchObject({ status: 'True', reason: 'ModelNotSupported' });
    expect(condition(c, 'd', 'Ready')).toMatchObject({ status: 'False', reason: 'ModelNotSupported' });
    expect(condition(c, 'd', 'Ready')?.message).toContain('spec.dynamic.model: controller greedy takes no model');
    expect(c.events.filter((e) => e.reason === 'ModelNotSupported' && e.type === 'Warning')).toHaveLength(1);
    expect(c.applied).toEqual([]);
    c.partitions[0]!.spec.dynamic = { controller: 'greedy' };
    c.partitions[0]!.metadata!.generation = (c.partitions[0]!.metadata!.generation ?? 1) + 1;
    c.settle();
    expect(condition(c, 'd', 'Degraded')).toMatchObject({ status: 'False' });
    expect(c.applied.length).toBe(1);
  });
});
