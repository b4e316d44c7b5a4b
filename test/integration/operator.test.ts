// The operator against the real kube-apiserver: MigPartitions applied with kubectl, layouts applied through
// the ConfigMap and the labels, drain modes, failures, conflicts, dynamic demand, restart, and metrics, with
// mig-manager's part played by the test (operator-cluster.ts) and the operator under its least-privilege
// identity (RBAC from charts/smartmig/templates/rbac-operator.yaml).
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../operator/config.js';
import { serveProbes, type ProbeServer } from '../../operator/http.js';
import { DESIRED_ANNOTATION, DRAINING_ANNOTATION, MIG_CONFIG_LABEL, REPARTITION_TAINT } from '../../api/labels.js';
import { parseMigPartedConfig, renderMigPartedConfig } from '../../operator/migparted.js';
import { setupControllers, type Operator } from '../../operator/setup.js';
import {
  createTestNamespace,
  deleteTestNamespace,
  ignoreNotFound,
  kubectl,
  loadKubeConfig,
  uniqueName,
  waitFor,
} from '../support/cluster.js';
import {
  TestMigManager,
  bindOperatorRbac,
  createGpuNode,
  ensureCrd,
  getPartition,
  nodeOf,
  pendingPod,
  readyCondition,
  runningPod,
  setPodPhase,
  waitReady,
} from './operator-cluster.js';

const CM = 'mig-parted-config';
const run = uniqueName('op');
const pool = `pool-${run}`;
const nodes = [`${run}-a`, `${run}-b`];
const dynNodes = [`${run}-d1`, `${run}-d2`];
const partitions: string[] = [];

let admin: KubeConfig;
let ns: string;
let manager: TestMigManager;
let operator: Operator;
let probes: ProbeServer;

function operatorFor(kc: KubeConfig, identity = 'test-operator'): Operator {
  const config = resolveConfig({
    migConfigMap: { namespace: ns, name: CM },
    leaseNamespace: ns,
    identity,
    resyncMs: 2000,
    debounceMs: 50,
    backoffBaseMs: 1000,
    backoffMaxMs: 2000,
  });
  return setupControllers({ kc, config, log: pino({ level: process.env.SMARTMIG_TEST_LOG ?? 'silent' }) });
}

/** Applies a MigPartition with kubectl, as a user would. */
async function applyPartition(name: string, spec: Record<string, unknown>): Promise<void> {
  if (!partitions.includes(name)) partitions.push(name);
  const doc = { apiVersion: 'smartmig.io/v1alpha1', kind: 'MigPartition', metadata: { name }, spec };
  await kubectl(['apply', '-f', '-'], { input: JSON.stringify(doc) });
}

async function configOfNode(name: string): Promise<string | undefined> {
  return (await nodeOf(admin, name)).metadata?.labels?.[MIG_CONFIG_LABEL];
}

async function migConfigs(): Promise<Record<string, unknown>> {
  const cm = await admin.makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: CM, namespace: ns });
  const parsed = parseMigPartedConfig(cm.data?.['config.yaml']);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value['mig-configs'];
}

async function gpuLayouts(name: string): Promise<string[]> {
  const node = await nodeOf(admin, name);
  const cfg = (await migConfigs())[node.metadata?.labels?.[MIG_CONFIG_LABEL] ?? ''] as
    { devices: number[]; 'mig-devices': Record<string, number> }[] | undefined;
  return (cfg ?? []).map((e) => `${e.devices.join(',')}:${JSON.stringify(e['mig-devices'])}`);
}

beforeAll(async () => {
  admin = loadKubeConfig('admin');
  await ensureCrd();
  ns = await createTestNamespace(admin, 'operator');
  await bindOperatorRbac(admin, ns, CM);
  const start = {
    version: 'v1' as const,
    'mig-configs': {
      'all-7g.40gb': [{ devices: 'all' as const, 'mig-enabled': true, 'mig-devices': { '7g.40gb': 1 } }],
    },
  };
  await admin.makeApiClient(CoreV1Api).createNamespacedConfigMap({
    namespace: ns,
    body: { metadata: { name: CM }, data: { 'config.yaml': renderMigPartedConfig(start) } },
  });
  for (const n of nodes)
    await createGpuNode(admin, n, { 'smartmig.io/test-pool': pool, role: 'static' }, 2, 'all-7g.40gb');
  for (const n of dynNodes)
    await createGpuNode(admin, n, { 'smartmig.io/test-pool': pool, role: 'dynamic' }, 2, 'all-7g.40gb');
  manager = new TestMigManager(admin, `smartmig.io/test-pool=${pool}`, { namespace: ns, name: CM });
  await manager.start();
  operator = operatorFor(loadKubeConfig('operator'));
  await operator.start();
  probes = await serveProbes(operator.metrics.registry, '127.0.0.1', 0, operator.ready);
}, 120_000);

afterAll(async () => {
  await operator?.stop();
  await probes?.close();
  await manager?.stop();
  const custom = admin.makeApiClient(CustomObjectsApi);
  for (const name of partitions) {
    await ignoreNotFound(
      custom.deleteClusterCustomObject({ group: 'smartmig.io', version: 'v1alpha1', plural: 'migpartitions', name }),
    );
  }
  const core = admin.makeApiClient(CoreV1Api);
  for (const n of [...nodes, ...dynNodes]) await ignoreNotFound(core.deleteNode({ name: n }));
  if (ns) await deleteTestNamespace(admin, ns);
});

describe('operator against the real apiserver', () => {
  const staticName = `${run}-static`;

  it('applies a kubectl-applied Static MigPartition through the ConfigMap and labels, and reports it', async () => {
    await applyPartition(staticName, {
      nodeSelector: { matchLabels: { 'smartmig.io/test-pool': pool, role: 'static' } },
      mode: 'Static',
      static: { layouts: [{ gpus: [0], layout: 'all-1g.5gb' }, { migDevices: { '3g.20gb': 1, '2g.10gb': 2 } }] },
      limits: { maxNodesReconfiguring: 2 },
    });
    await waitReady(admin, staticName, 'Converged');
    const label = await configOfNode(nodes[0] as string);
    expect(label).toMatch(/^smartmig-[0-9a-f]{12}$/);
    expect(await configOfNode(nodes[1] as string)).toBe(label);
    expect(await gpuLayouts(nodes[0] as string)).toEqual(['0:{"1g.5gb":7}', '1:{"2g.10gb":2,"3g.20gb":1}']);
    const mp = await getPartition(admin, staticName);
    expect(mp.status).toMatchObject({
      nodesSelected: 2,
      nodesConverged: 2,
      nodesReconfiguring: 0,
      gpuModel: 'A100-40GB',
    });
    expect(mp.status?.observedGeneration).toBe(mp.metadata?.generation);
    expect(mp.status?.nodes?.[0]?.gpus).toEqual([
      { index: 0, current: '1g.5gb+1g.5gb+1g.5gb+1g.5gb+1g.5gb+1g.5gb+1g.5gb', busy: false },
      { index: 1, current: '2g.10gb+2g.10gb+3g.20gb', busy: false },
    ]);
    // Defaults come from the CRD.
    expect(mp.spec.limits).toMatchObject({
      decisionInterval: '30s',
      minDwell: '5m',
      drain: 'WaitIdle',
    });
    const { stdout } = await kubectl(['get', 'migpartition', staticName]);
    expect(stdout).toMatch(/MODE\s+MODEL\s+NODES\s+RECONFIGURING\s+READY/);
    expect(stdout).toMatch(/Static\s+A100-40GB\s+2\s+0\s+True/);
    const events = await admin.makeApiClient(CoreV1Api).listNamespacedEvent({
      namespace: 'default',
      fieldSelector: `involvedObject.name=${staticName}`,
    });
    expect(events.items.map((e) => e.reason)).toEqual(
      expect.arrayContaining(['Draining', 'Reconfiguring', 'Reconfigured']),
    );
  });

  it('settles: a converged cluster gets no writes, round after round', async () => {
    await waitReady(admin, staticName, 'Converged');
    await new Promise((r) => setTimeout(r, 500));
    const [writes, rounds] = [operator.reconciler.writes, operator.reconciler.rounds];
    await new Promise((r) => setTimeout(r, 4500));
    expect(operator.reconciler.rounds).toBeGreaterThan(rounds);
    expect(operator.reconciler.writes).toBe(writes);
  });

  it('rejects malformed MigPartitions at the apiserver with a reason', async () => {
    const bad = (spec: unknown) =>
      kubectl(['apply', '-f', '-'], {
        input: JSON.stringify({
          apiVersion: 'smartmig.io/v1alpha1',
          kind: 'MigPartition',
          metadata: { name: `${run}-bad` },
          spec,
        }),
        allowFailure: true,
      });
    const cases: [unknown, RegExp][] = [
      [{ nodeSelector: {}, mode: 'Static' }, /mode Static needs static.layouts/],
      [
        { nodeSelector: {}, mode: 'Static', static: { layouts: [{ layout: 'x', migDevices: { '1g.5gb': 1 } }] } },
        /exactly one of layout and migDevices/,
      ],
      [{ nodeSelector: {}, mode: 'Dynamic', limits: { minDwell: 'five minutes' } }, /minDwell/],
      [{ nodeSelector: {}, mode: 'Sometimes' }, /Unsupported value: "Sometimes"/],
      [{ nodeSelector: {}, mode: 'Dynamic', limits: { maxNodesReconfiguring: 0 } }, /maxNodesReconfiguring/],
      [{ nodeSelector: {}, mode: 'Dynamic', limits: { applyTimeout: '2s' } }, /applyTimeout must be at least 10s/],
    ];
    for (const [spec, message] of cases) {
      const r = await bad(spec);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(message);
    }
  });

  it('reports a layout that does not fit the GPU model, and applies nothing', async () => {
    const name = `${run}-invalid`;
    await applyPartition(name, {
      nodeSelector: { matchLabels: { 'smartmig.io/test-pool': `${pool}-none` } },
      gpuModel: 'A30-24GB',
      mode: 'Static',
      static: { layouts: [{ layout: '3g.20gb@0' }] },
    });
    const ready = await waitReady(admin, name, 'InvalidLayout');
    expect(ready.status).toBe('False');
    expect(ready.message).toContain('spec.static.layouts[0].layout');
    expect(ready.message).toContain('A30-24GB');
  });

  it('refuses a model that its controller would ignore, with a Degraded condition and an event', async () => {
    const name = `${run}-model`;
    await applyPartition(name, {
      nodeSelector: { matchLabels: { 'smartmig.io/test-pool': `${pool}-none` } },
      mode: 'Dynamic',
      dynamic: { controller: 'greedy', model: 'mean-field-v1' },
    });
    const ready = await waitReady(admin, name, 'ModelNotSupported');
    expect(ready.status).toBe('False');
    expect(ready.message).toContain('spec.dynamic.model: controller greedy takes no model');
    const degraded = (await getPartition(admin, name)).status?.conditions?.find((c) => c.type === 'Degraded');
    expect(degraded).toMatchObject({ status: 'True', reason: 'ModelNotSupported' });
    const events = await waitFor(
      async () => {
        const list = await admin
          .makeApiClient(CoreV1Api)
          .listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.name=${name}` });
        const found = list.items.filter((e) => e.reason === 'ModelNotSupported' && e.type === 'Warning');
        return found.length > 0 ? found : undefined;
      },
      { description: 'a ModelNotSupported event' },
    );
    expect(events[0]?.message).toContain('mean-field-v1');
    // Without the model the same policy is fine.
    await kubectl([
      'patch',
      'migpartition',
      name,
      '--type=json',
      '-p',
      '[{"op":"remove","path":"/spec/dynamic/model"}]',
    ]);
    expect(await waitReady(admin, name, 'NoNodesSelected')).toMatchObject({ status: 'True' });
    await kubectl(['delete', 'migpartition', name]);
  });

  it('refuses a later policy that selects the same nodes', async () => {
    const name = `${run}-later`;
    await applyPartition(name, {
      nodeSelector: { matchExpressions: [{ key: 'smartmig.io/test-pool', operator: 'In', values: [pool] }] },
      mode: 'Static',
      static: { layouts: [{ layout: 'all-7g.40gb' }] },
    });
    const ready = await waitReady(admin, name, 'Conflict');
    expect(ready.message).toContain(`older MigPartition ${staticName}`);
    expect(await readyCondition(admin, staticName)).toMatchObject({ status: 'True' });
    await kubectl(['delete', 'migpartition', name]);
  });

  it('Cordon: never reconfigures a GPU that runs a pod, and drains it first', async () => {
    const core = admin.makeApiClient(CoreV1Api);
    await runningPod(admin, ns, 'busy', {
      node: nodes[0] as string,
      profile: '1g.5gb',
      gpu: 0,
      annotations: { 'smartmig.io/deadline': '1h' },
    });
    const before = await configOfNode(nodes[0] as string);
    await applyPartition(staticName, {
      nodeSelector: { matchLabels: { 'smartmig.io/test-pool': pool, role: 'static' } },
      mode: 'Static',
      static: { layouts: [{ layout: 'all-3g.20gb' }] },
      limits: { maxNodesReconfiguring: 2, drain: 'Cordon' },
    });
    // The idle node changes; the busy one is marked and tainted, and keeps its config.
    await waitFor(async () => (await configOfNode(nodes[1] as string)) !== before, {
      description: 'idle node reconfigured',
    });
    const busyNode = await waitFor(
      async () => {
        const n = await nodeOf(admin, nodes[0] as string);
        return n.metadata?.annotations?.[DRAINING_ANNOTATION] === '0,1' &&
          n.spec?.taints?.some((t) => t.key === REPARTITION_TAINT.key)
          ? n
          : undefined;
      },
      { description: 'busy node draining and tainted' },
    );
    expect(busyNode.metadata?.labels?.[MIG_CONFIG_LABEL]).toBe(before);
    await new Promise((r) => setTimeout(r, 2000));
    expect(await configOfNode(nodes[0] as string)).toBe(before);
    const mp = await getPartition(admin, staticName);
    const st = mp.status?.nodes?.find((n) => n.name === nodes[0]);
    expect(st).toMatchObject({ state: 'Draining', message: 'waiting for pods to leave GPU(s) 0' });
    expect(st?.gpus?.[0]).toMatchObject({ busy: true, desired: '3g.20gb+3g.20gb' });
    // The pod finishes: the node changes, and the taint and marks go away.
    await setPodPhase(admin, ns, 'busy', 'Succeeded');
    await waitReady(admin, staticName, 'Converged');
    const done = await nodeOf(admin, nodes[0] as string);
    expect(done.spec?.taints ?? []).toEqual([]);
    expect(done.metadata?.annotations?.[DRAINING_ANNOTATION]).toBeUndefined();
    expect(await gpuLayouts(nodes[0] as string)).toEqual(['0,1:{"3g.20gb":2}']);
    await core.deleteNamespacedPod({ name: 'busy', namespace: ns });
  });

  it('backs off after mig-manager fails, reports it, and retries under a new name', async () => {
    await applyPartition(staticName, {
      nodeSelector: { matchLabels: { 'smartmig.io/test-pool': pool, role: 'static' } },
      mode: 'Static',
      static: { layouts: [{ layout: 'all-2g.10gb' }] },
      limits: { maxNodesReconfiguring: 2 },
    });
    const previous = await configOfNode(nodes[0] as string);
    const desired = await waitFor(
      async () => {
        const d = (await nodeOf(admin, nodes[0] as string)).metadata?.annotations?.[DESIRED_ANNOTATION];
        return d !== previous && d;
      },
      { description: 'a new desired config' },
    );
    manager.failing.add(desired as string);
    const degraded = await waitFor(
      async () =>
        (await getPartition(admin, staticName)).status?.conditions?.find(
          (c: { type: string; status: string }) => c.type === 'Degraded' && c.status === 'True',
        ),
      { description: 'Degraded condition' },
    );
    expect(degraded.reason).toBe('ReconfigureFailed');
    await waitReady(admin, staticName, 'Converged', 30_000);
    expect(await configOfNode(nodes[0] as string)).toBe(`${desired as string}-r1`);
    const events = await admin
      .makeApiClient(CoreV1Api)
      .listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.name=${staticName}` });
    expect(events.items.some((e) => e.reason === 'ReconfigureFailed' && e.type === 'Warning')).toBe(true);
  });

  it('Dynamic (greedy): supplies the profile a pending pod lacks on an idle GPU', async () => {
    const name = `${run}-dynamic`;
    await applyPartition(name, {
      nodeSelector: { matchLabels: { 'smartmig.io/test-pool': pool, role: 'dynamic' } },
      mode: 'Dynamic',
      dynamic: { controller: 'greedy' },
      limits: { decisionInterval: '1s', minDwell: '0s' },
    });
    await waitReady(admin, name, 'Converged');
    await pendingPod(admin, ns, 'wants-3g', '3g.20gb');
    const changed = await waitFor(
      async () => {
        for (const n of dynNodes) {
          const layouts = await gpuLayouts(n);
          if (layouts.some((l) => l.includes('3g.20gb'))) return { node: n, layouts };
        }
        return undefined;
      },
      { description: 'a GPU with 3g.20gb', timeoutMs: 30_000 },
    );
    expect(changed.layouts).toHaveLength(2);
    await waitReady(admin, name, 'Converged');
    const mp = await getPartition(admin, name);
    expect(mp.status?.lastDecisionTime).toBeDefined();
  });

  it('serves the smartmig_ metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${probes.port}/metrics`)).text();
    expect(text).toMatch(/smartmig_repartitions_total\{result="success"\} [1-9]/);
    expect(text).toMatch(/smartmig_repartitions_total\{result="failed"\} [1-9]/);
    expect(text).toMatch(/smartmig_repartition_duration_seconds_count\{result="success"\} [1-9]/);
    expect(text).toMatch(new RegExp(`smartmig_gpu_power_watts\\{node="${nodes[0]}",gpu="0",model="A100-40GB"\\} \\d`));
    expect(text).toMatch(/smartmig_gpu_energy_joules_total\{/);
    expect(text).toMatch(/smartmig_pending_demand\{profile="3g.20gb"\} 1/);
    expect(text).toMatch(/smartmig_slices\{profile="3g.20gb",state="free"\} [1-9]/);
    expect(text).toMatch(/smartmig_policy_decision_seconds_count\{controller="greedy"\} [1-9]/);
    expect(text).toMatch(/smartmig_job_completions_total\{outcome="on_time"\} 1/);
    expect(text).toMatch(/smartmig_job_tardiness_minutes_count 1/);
    expect((await fetch(`http://127.0.0.1:${probes.port}/readyz`)).status).toBe(200);
  });

  it('rebuilds its state from the cluster after a restart and finishes what the old process started', async () => {
    await runningPod(admin, ns, 'holder', { node: nodes[0] as string, profile: '2g.10gb', gpu: 1 });
    const before = await configOfNode(nodes[0] as string);
    await applyPartition(staticName, {
      nodeSelector: { matchLabels: { 'smartmig.io/test-pool': pool, role: 'static' } },
      mode: 'Static',
      static: { layouts: [{ layout: 'all-1g.5gb' }] },
      limits: { maxNodesReconfiguring: 2 },
    });
    await waitFor(async () => (await nodeOf(admin, nodes[0] as string)).metadata?.annotations?.[DRAINING_ANNOTATION], {
      description: 'node draining',
    });
    await operator.stop();
    operator = operatorFor(loadKubeConfig('operator'), 'test-operator-2');
    await operator.start();
    await new Promise((r) => setTimeout(r, 1500));
    expect(await configOfNode(nodes[0] as string)).toBe(before);
    await setPodPhase(admin, ns, 'holder', 'Succeeded');
    await waitReady(admin, staticName, 'Converged');
    expect(await gpuLayouts(nodes[0] as string)).toEqual(['0,1:{"1g.5gb":7}']);
  });

  it('never reconfigured a GPU that ran a pod during the whole run', () => {
    expect(manager.applied.length).toBeGreaterThan(4);
    expect(manager.violations).toEqual([]);
  });

  it('lets the operator identity do only what the chart grants', async () => {
    const r = await kubectl(['auth', 'can-i', 'delete', 'nodes'], { identity: 'operator', allowFailure: true });
    expect(r.stdout.trim()).toBe('no');
    const p = await kubectl(['auth', 'can-i', 'patch', 'nodes'], { identity: 'operator', allowFailure: true });
    expect(p.stdout.trim()).toBe('yes');
    const c = await kubectl(['auth', 'can-i', 'update', `configmaps/${CM}`, '-n', ns], {
      identity: 'operator',
      allowFailure: true,
    });
    expect(c.stdout.trim()).toBe('yes');
    const o = await kubectl(['auth', 'can-i', 'update', 'configmaps/other', '-n', ns], {
      identity: 'operator',
      allowFailure: true,
    });
    expect(o.stdout.trim()).toBe('no');
  });
});
