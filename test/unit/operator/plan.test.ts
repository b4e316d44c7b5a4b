import { describe, expect, it } from 'vitest';
import { CONTROLLERS, controllerCache } from '../../../operator/controllers.js';
import { isoTime } from '../../../operator/facts.js';
import {
  DESIRED_ANNOTATION,
  DRAINING_ANNOTATION,
  FAILURES_ANNOTATION,
  LAST_CHANGE_ANNOTATION,
  MIG_CONFIG_LABEL,
  MIG_STATE_LABEL,
  OWNER_ANNOTATION,
  REPARTITION_TAINT,
} from '../../../api/labels.js';
import { observe } from '../../../operator/observe.js';
import { FakeCluster, gpuNode, migPod, partition, snapshotOf } from './harness.js';

const ALL_7G =
  'version: v1\nmig-configs:\n  all-7g:\n    - devices: all\n      mig-enabled: true\n      mig-devices: {"7g.40gb": 1}\n';

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

  it('stops waiting for a node stuck in pending after applyTimeout: Failed, event, slot freed, no relaunch', () => {
    const c = staticCluster('all-2g.10gb', { maxNodesReconfiguring: 1, applyTimeout: '5m' });
    c.commit(c.plan());
    const first = ['n1', 'n2'].find((n) => c.node(n).metadata?.annotations?.[DESIRED_ANNOTATION] !== undefined)!;
    const other = first === 'n1' ? 'n2' : 'n1';
    c.stuck.add(first);
    c.settle(10, 10_000);
    // Stuck, within its timeout: it keeps the one slot, the other node waits.
    expect(c.node(first).metadata?.labels?.[MIG_STATE_LABEL]).toBe('pending');
    expect(c.node(other).metadata?.labels?.[MIG_CONFIG_LABEL]).toBeUndefined();
    expect(c.status('p')?.nodes?.find((n) => n.name === first)?.state).toBe('Applying');
    c.now += 5 * 60_000;
    const plans = c.settle(20, 10_000);
    expect(plans.flatMap((p) => p.repartitions).filter((r) => r.result === 'timeout')).toHaveLength(1);
    const timedOut = c.events.filter((e) => e.reason === 'ReconfigureTimedOut');
    expect(timedOut).toHaveLength(1);
    expect(timedOut[0]!.message).toContain(`node ${first}`);
    expect(c.status('p')?.nodes?.find((n) => n.name === first)?.state).toBe('Failed');
    expect(condition(c, 'p', 'Degraded')).toMatchObject({ status: 'True', reason: 'ReconfigureFailed' });
    expect(condition(c, 'p', 'Degraded')?.message).toContain(first);
    // The freed slot lets the other node change; the stuck one is not relabelled under mig-manager's feet.
    expect(c.layouts(other)).toEqual(['2g.10gb+2g.10gb+2g.10gb', '2g.10gb+2g.10gb+2g.10gb']);
    expect(c.node(other).metadata?.labels?.[MIG_STATE_LABEL]).toBe('success');
    expect(c.applied.filter((a) => a.node === first)).toHaveLength(1);
    // mig-manager finishes at last: the node converges and the failure count goes.
    c.stuck.clear();
    (c.node(first).metadata as { labels: Record<string, string> }).labels[MIG_STATE_LABEL] = 'success';
    c.settle(5, 10_000);
    expect(c.status('p')?.nodes?.find((n) => n.name === first)?.state).toBe('Converged');
    expect(c.node(first).metadata?.annotations?.[FAILURES_ANNOTATION]).toBeUndefined();
    expect(condition(c, 'p', 'Ready')).toMatchObject({ status: 'True' });
    expect(c.violations).toEqual([]);
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

describe('planner: minimum dwell', () => {
  /**
   * One node, both GPUs changed a minute ago, one pod waiting for a profile neither has. Built with the
   * operator's own controller table (operator/controllers.ts), so the test also fails if the policy's
   * minDwell stops reaching the controller.
   */
  function recentlyChanged(minDwell: string) {
    const c = new FakeCluster({ controllerFor: controllerCache(CONTROLLERS), controllers: CONTROLLERS });
    c.configText = ALL_7G;
    const node = gpuNode('n1', { pool: 'a', [MIG_CONFIG_LABEL]: 'all-7g', [MIG_STATE_LABEL]: 'success' });
    const changed = isoTime(c.now - 60_000);
    node.metadata!.annotations = { [LAST_CHANGE_ANNOTATION]: JSON.stringify({ 0: changed, 1: changed }) };
    c.addNode(node);
    c.partitions.push(
      partition('d', {
        nodeSelector: pool,
        mode: 'Dynamic',
        dynamic: { controller: 'greedy' },
        limits: { minDwell, decisionInterval: '1s' },
      }),
    );
    c.pods.push(migPod('1g.5gb'));
    return c;
  }

  const cases = [
    { name: 'a GPU changed 1 min ago under minDwell 5m stays as it is', minDwell: '5m', changes: 0 },
    { name: 'the same GPU under minDwell 0s changes at once', minDwell: '0s', changes: 1 },
  ];
  it.each(cases)('$name', ({ minDwell, changes }) => {
    const c = recentlyChanged(minDwell);
    c.settle(10);
    expect(c.applied).toHaveLength(changes);
    // The controller was asked (so it is the dwell, not a missing decision, that kept the layout).
    expect(c.status('d')?.lastDecisionTime).toBeDefined();
    expect(c.violations).toEqual([]);
  });

  it('changes the GPU once minDwell has passed since its last change, and records the new change time', () => {
    const c = recentlyChanged('5m');
    const start = c.now;
    c.settle(10);
    c.now = start + 3 * 60_000; // 4 min after the last change
    c.settle(10);
    expect(c.applied).toEqual([]);
    c.now = start + 4 * 60_000 + 1000; // 5 min and 1 s
    c.settle(10);
    expect(c.applied).toHaveLength(1);
    const gpu = c.applied[0]?.gpus[0] as number;
    const last = JSON.parse(c.node('n1').metadata?.annotations?.[LAST_CHANGE_ANNOTATION] ?? '{}') as Record<
      string,
      string
    >;
    expect(Date.parse(last[String(gpu)] as string)).toBeGreaterThan(start + 4 * 60_000);
  });
});

describe('planner: what it cannot plan', () => {
  it('reports an unreadable mig-parted ConfigMap as ConfigMapUnavailable, with one event', () => {
    const c = staticCluster('all-1g.5gb');
    c.configText = 'version: [not, v1';
    const plan = c.plan();
    const ready = plan.statuses[0]?.status.conditions?.find((x) => x.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'ConfigMapUnavailable' });
    expect(ready?.message).toContain('not YAML');
    expect(plan.statuses[0]?.status.conditions?.find((x) => x.type === 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'ConfigMapUnavailable',
    });
    expect(plan.nodePatches).toEqual([]);
    expect(plan.events).toEqual([expect.objectContaining({ type: 'Warning', reason: 'ConfigMapUnavailable' })]);
    // The status says so now: the next round emits nothing new.
    c.partitions[0]!.status = plan.statuses[0]?.status;
    expect(c.plan().events).toEqual([]);
  });

  it('warns once about selected nodes with an unknown GPU model or without a GPU count', () => {
    const c = staticCluster('all-1g.5gb');
    c.addNode(gpuNode('odd', { pool: 'a', 'nvidia.com/gpu.product': 'NVIDIA-Mystery-GPU' }));
    const uncounted = gpuNode('uncounted', { pool: 'a' });
    delete uncounted.metadata!.labels!['nvidia.com/gpu.count'];
    c.addNode(uncounted);
    c.commit(c.plan());
    const warnings = c.events.filter((e) => e.type === 'Warning');
    expect(warnings.map((e) => e.reason).sort()).toEqual(['NoGpuCount', 'UnknownGpuModel']);
    expect(warnings.find((e) => e.reason === 'UnknownGpuModel')?.message).toContain(
      'odd: unknown GPU model NVIDIA-Mystery-GPU',
    );
    expect(warnings.find((e) => e.reason === 'NoGpuCount')?.message).toContain('uncounted');
    c.settle(10);
    expect(c.events.filter((e) => e.type === 'Warning')).toHaveLength(2);
    expect(c.status('p')?.nodes?.find((n) => n.name === 'odd')).toMatchObject({ state: 'Unknown' });
    // With the model in the spec, the node is planned like the others.
    c.partitions[0]!.spec.gpuModel = 'A100-40GB';
    c.settle(10);
    expect(c.status('p')?.nodes?.find((n) => n.name === 'odd')?.state).toBe('Converged');
  });

  it("observes the nodes a policy manages with the planner's model: spec.gpuModel before the detected one", () => {
    const c = staticCluster('all-1g.5gb');
    c.partitions[0]!.spec.gpuModel = 'A100-80GB';
    c.addNode(gpuNode('odd', { pool: 'a', 'nvidia.com/gpu.product': 'NVIDIA-Mystery-GPU' }));
    const snap = snapshotOf(c);
    const plan = c.plan();
    expect(plan.managed.get('n1')?.model?.name).toBe('A100-80GB');
    expect(plan.managed.get('odd')?.model?.name).toBe('A100-80GB');
    expect(plan.managed.has('other')).toBe(false);
    const obs = observe(snap, (n) => plan.managed.get(n.name)?.model);
    expect([...new Set(obs.gpus.map((g) => `${g.node}:${g.model}`))].sort()).toEqual([
      'n1:A100-80GB',
      'n2:A100-80GB',
      'odd:A100-80GB',
    ]);
  });
});

describe('planner: dynamic (twice-daily timetable)', () => {
  const HOUR = 3_600_000;
  function timetableCluster() {
    const c = new FakeCluster();
    c.configText = ALL_7G;
    for (const n of ['n1', 'n2'])
      c.addNode(gpuNode(n, { pool: 'a', [MIG_CONFIG_LABEL]: 'all-7g', [MIG_STATE_LABEL]: 'success' }));
    c.partitions.push(
      partition('t', {
        nodeSelector: pool,
        mode: 'Dynamic',
        dynamic: {
          controller: 'twice-daily',
          schedule: [
            { from: '08:00', layouts: [{ layout: '2' }] },
            { from: '20:00', layouts: [{ gpus: [0], layout: '1' }, { layout: '5' }] },
          ],
        },
        limits: { decisionInterval: '1m', minDwell: '0s', maxNodesReconfiguring: 2 },
      }),
    );
    return c;
  }

  it('follows the timetable with nothing pending, by UTC time of day and GPU index, and drains busy GPUs first', () => {
    const c = timetableCluster();
    c.now = 9 * HOUR; // 09:00 UTC on day 0: the 08:00 phase
    c.settle(20);
    expect([...c.layouts('n1'), ...c.layouts('n2')]).toEqual(Array(4).fill('4g.20gb+3g.20gb'));
    // A pod on n1's GPU 1 at 20:00: n2 changes at once, n1's GPU 1 only after the pod ends.
    c.pods.push(migPod('4g.20gb', { node: 'n1', gpu: 1 }));
    c.now = 20 * HOUR + 60_000;
    c.settle(20);
    expect(c.layouts('n2')).toEqual(['7g.40gb', '3g.20gb+3g.20gb']);
    expect(c.layouts('n1')[1]).toBe('4g.20gb+3g.20gb');
    c.pods.length = 0;
    c.now += 60_000;
    c.settle(20);
    expect(c.layouts('n1')).toEqual(['7g.40gb', '3g.20gb+3g.20gb']);
    expect(c.violations).toEqual([]);
  });

  it('an edited schedule takes effect at once (the controller is rebuilt for the new generation)', () => {
    const c = timetableCluster();
    c.now = 9 * HOUR;
    c.settle(20);
    expect(c.layouts('n1')).toEqual(Array(2).fill('4g.20gb+3g.20gb'));
    c.partitions[0]!.spec.dynamic!.schedule![0] = { from: '08:00', layouts: [{ layout: '5' }] };
    c.partitions[0]!.metadata!.generation = 2;
    c.now += 60_000;
    c.settle(20);
    expect([...c.layouts('n1'), ...c.layouts('n2')]).toEqual(Array(4).fill('3g.20gb+3g.20gb'));
    expect(c.violations).toEqual([]);
  });

  it('refuses a timetable without twice-daily, and twice-daily without one', () => {
    const c = timetableCluster();
    c.partitions[0]!.spec.dynamic = { controller: 'greedy', schedule: [{ from: '08:00', layouts: [{ layout: '2' }] }] };
    c.settle();
    expect(c.status('t')?.conditions?.find((x) => x.type === 'Degraded')?.message).toMatch(/takes no schedule/);
    c.partitions[0]!.spec.dynamic = { controller: 'twice-daily' };
    c.partitions[0]!.metadata!.generation = 2;
    c.settle();
    expect(c.status('t')?.conditions?.find((x) => x.type === 'Degraded')?.message).toMatch(/needs a schedule/);
    c.partitions[0]!.spec.dynamic = { controller: 'timetable' };
    c.partitions[0]!.metadata!.generation = 3;
    c.settle();
    expect(c.status('t')?.conditions?.find((x) => x.type === 'Degraded')?.message).toMatch(
      /controller timetable needs a schedule/,
    );
  });

  it('timetable follows a schedule of six blocks, wrapping past midnight', () => {
    const c = timetableCluster();
    const blocks = ['1', '2', '5', '6', '2', '9'];
    c.partitions[0]!.spec.dynamic = {
      controller: 'timetable',
      schedule: blocks.map((layout, b) => ({ from: `${String(b * 4).padStart(2, '0')}:00`, layouts: [{ layout }] })),
    };
    const seen: string[] = [];
    for (let h = 1; h <= 25; h += 4) {
      c.now = h * HOUR;
      c.settle(20);
      expect(new Set([...c.layouts('n1'), ...c.layouts('n2')]).size).toBe(1);
      seen.push(c.layouts('n1')[0]!);
    }
    // 01:00 … 21:00 on day 0, then 01:00 on day 1 is block 0 again.
    expect(seen).toEqual([
      '7g.40gb',
      '4g.20gb+3g.20gb',
      '3g.20gb+3g.20gb',
      '2g.10gb+2g.10gb+3g.20gb',
      '4g.20gb+3g.20gb',
      '2g.10gb+2g.10gb+2g.10gb+1g.10gb',
      '7g.40gb',
    ]);
    expect(c.violations).toEqual([]);
  });
});
