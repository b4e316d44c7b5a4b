// The whole loop, end to end: the local control plane, `smartmig fake-gpu` (4 nodes × 8 A100-40GB, starting at
// all-1g.5gb), `smartmig extender` and `smartmig operator` as separate processes under the chart's RBAC (not
// admin), the real smartmig-scheduler calling the extender, and two Dynamic MigPartitions: greedy on two nodes,
// the learned meanfield controller with the shipped model on the other two. A few hundred pods of the paper's
// workload, time-compressed, must all succeed; no busy GPU may ever be reconfigured; both controllers must
// repartition (most pods want 7g, none of which exist at the start; the actor moves its GPUs to the layouts it
// learned); the metrics endpoints serve tardiness and energy, and a real Prometheus scrapes all three endpoints.
import { CoreV1Api, CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MigPartition } from '../../api/types.js';
import { findGpuModel, type GpuModel } from '../../policy/mig/catalog.js';
import { bindChartRbac, type ChartRbac } from '../support/chart-rbac.js';
import {
  SMARTMIG_SCHEDULER,
  createTestNamespace,
  tearDownRun,
  kubeconfigPath,
  kubectl,
  loadKubeConfig,
  readLocalCluster,
  uniqueName,
  waitFor,
} from '../support/cluster.js';
import { ensureCrd } from '../support/crd.js';
import { scrape, sumOf, type Sample } from '../support/metrics.js';
import {
  assertRunning,
  freePort,
  startExtenderOn,
  startSmartmig,
  waitHealthy,
  type Child,
} from '../support/processes.js';
import {
  prometheusBinary,
  startPrometheus,
  type InstantSample,
  type RunningPrometheus,
} from '../support/prometheus.js';
import {
  applyDynamicPartition,
  createMigPartedConfig,
  describePod,
  readPartition,
  submitAt,
  waitAllSucceeded,
} from './loop.js';
import { paperPods, type PlannedPod } from './workload.js';

/** Simulated minutes per real minute: the paper's 70-minute burst of 250 jobs arrives in 70 s. */
const TIME_SCALE = 60;
const POD_COUNT = 250;
const NODES = 4;
const GPUS_PER_NODE = 8;
/** After the last pod is created, how long the rest may take (the longest job runs about 35 s). */
const DRAIN_TIMEOUT_MS = 240_000;

const model = findGpuModel('A100-40GB') as GpuModel;
const admin = loadKubeConfig('admin');
const core = admin.makeApiClient(CoreV1Api);
const custom = admin.makeApiClient(CustomObjectsApi);
const run = uniqueName('e2e');
const nodeNames = Array.from({ length: NODES }, (_, i) => `${run}-gpu-${i}`);
/** The nodes of each MigPartition: greedy's (named `run`) and the learned controller's. */
const greedyNodes = nodeNames.slice(0, NODES / 2);
const learnedNodes = nodeNames.slice(NODES / 2);
const learned = `${run}-learned`;
const MODEL_NAME = 'meanfield-a100-40gb-cluster';
const podLabels = { 'smartmig.io/e2e': run };

let namespace = '';
const rbac: ChartRbac[] = [];
const children: Child[] = [];
let prometheus: RunningPrometheus | undefined;
const url = { extender: '', operator: '', fakeGpu: '' };
let planned: PlannedPod[] = [];
/** Filled by the first test, read by the others. */
/** The `namespace` label the test's Prometheus puts on every series, for the dashboard's `$namespace`. */
const DASHBOARD_NAMESPACE = 'smartmig-e2e';

/**
 * The queries of one panel of the chart's Grafana dashboard, with its variables filled in as Grafana would for
 * the last `range`, each wrapped to the largest value the panel showed over that range.
 */
function panelPeaks(title: string, range: string): string[] {
  const board = JSON.parse(readFileSync('charts/smartmig/dashboards/smartmig.json', 'utf8')) as {
    panels: { title: string; targets?: { expr: string }[] }[];
  };
  const panel = board.panels.find((p) => p.title === title);
  if (!panel?.targets?.length) throw new Error(`the dashboard has no panel "${title}" with queries`);
  return panel.targets.map((t) => {
    const expr = t.expr
      .replaceAll('$namespace', DASHBOARD_NAMESPACE)
      .replaceAll('$__rate_interval', '1m')
      .replaceAll('$__range', range);
    return `max_over_time((${expr})[${range}:5s])`;
  });
}

const outcome = { submittedMs: 0, finishedMs: 0, pods: [] as V1Pod[] };

/** A Dynamic MigPartition over some of the nodes, with the run's limits. */
async function applyPartition(name: string, nodes: string[], dynamic: Record<string, string>): Promise<void> {
  const limits = { decisionInterval: '1s', minDwell: '10s', maxNodesReconfiguring: 2, drain: 'WaitIdle' };
  await applyDynamicPartition(name, { nodes, gpuModel: model.name, dynamic, limits });
}

const partition = (name = run): Promise<MigPartition> => readPartition(custom, name);

function assertAllRunning(): void {
  for (const c of children) assertRunning(c);
}

async function metrics(which: keyof typeof url): Promise<Sample[]> {
  return scrape(`${url[which]}/metrics`);
}

beforeAll(async () => {
  prometheusBinary(); // fail now, with how to install it, rather than after minutes of setup
  await ensureCrd();
  namespace = await createTestNamespace(admin, 'e2e');
  const configMap = await createMigPartedConfig(core, namespace);
  const release = run;
  rbac.push(
    await bindChartRbac({
      template: 'rbac-operator.yaml',
      user: 'smartmig-operator',
      namespace,
      release,
      set: [`operator.migConfigMap=${configMap}`],
    }),
    await bindChartRbac({ template: 'rbac-extender.yaml', user: 'smartmig-extender', namespace, release }),
  );

  const [fakeGpuPort, operatorPort] = [await freePort(), await freePort()];
  const fakeGpu = startSmartmig(
    'fake-gpu',
    [
      ...['--nodes', String(NODES), '--gpus-per-node', String(GPUS_PER_NODE), '--gpu', model.name],
      ...['--layout', 'all-1g.5gb', '--reconfigure-seconds', '2', '--time-scale', '1'],
      ...['--config-map', configMap, '--node-prefix', `${run}-gpu-`, '--metrics-port', String(fakeGpuPort)],
      ...['--kubeconfig', kubeconfigPath('admin'), '--cleanup'],
    ],
    { name: 'e2e-fake-gpu' },
  );
  children.push(fakeGpu);
  url.fakeGpu = `http://127.0.0.1:${fakeGpuPort}`;
  await waitHealthy(fakeGpu, `${url.fakeGpu}/healthz`);

  const extenderPort = Number(new URL(readLocalCluster().extender.url).port);
  const extender = await startExtenderOn(extenderPort, ['--kubeconfig', kubeconfigPath('extender')], {
    name: 'e2e-extender',
  });
  children.push(extender);
  url.extender = `http://127.0.0.1:${extenderPort}`;
  await waitHealthy(extender, `${url.extender}/readyz`);

  const operator = startSmartmig(
    'operator',
    [
      ...['--kubeconfig', kubeconfigPath('operator'), '--metrics-port', String(operatorPort)],
      ...['--leader-elect', '--lease-namespace', namespace, '--identity', `${run}-operator`],
      ...['--mig-config-map', configMap, '--resync', '2', '--config-settle', '0'],
    ],
    { name: 'e2e-operator' },
  );
  children.push(operator);
  url.operator = `http://127.0.0.1:${operatorPort}`;
  await waitHealthy(operator, `${url.operator}/readyz`);

  prometheus = await startPrometheus({
    targets: {
      extender: `127.0.0.1:${extenderPort}`,
      operator: `127.0.0.1:${operatorPort}`,
      'fake-gpu': `127.0.0.1:${fakeGpuPort}`,
    },
    scrapeIntervalSeconds: 1,
    // What the chart's ServiceMonitor adds; the dashboard's queries select on it.
    labels: { namespace: DASHBOARD_NAMESPACE },
  });

  // Prometheus must hold a sample of the operator before the first change: a rate needs one before it, and
  // the learned policy changes its nodes at its first decision.
  await waitFor(
    async () => {
      const [up] = await (prometheus as RunningPrometheus).query('up{job="operator"}');
      return up?.value === 1;
    },
    { description: 'Prometheus to have scraped the operator once', timeoutMs: 30_000, intervalMs: 500 },
  );
  await applyPartition(run, greedyNodes, { controller: 'greedy' });
  await applyPartition(learned, learnedNodes, { controller: 'meanfield', model: MODEL_NAME });
  await waitFor(
    async () => (await partition()).status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True'),
    { description: `MigPartition ${run} Ready`, timeoutMs: 60_000 },
  );
  // The learned policy's first decision (at once: it acts on the clock) moves its GPUs off all-1g.5gb.
  await waitFor(async () => (await partition(learned)).status?.lastDecisionTime, {
    description: `MigPartition ${learned} to decide`,
    timeoutMs: 60_000,
  });
  planned = paperPods({
    seed: 7,
    count: POD_COUNT,
    timeScale: TIME_SCALE,
    model,
    schedulerName: SMARTMIG_SCHEDULER,
    nodeNames,
    labels: podLabels,
  });
}, 240_000);

afterAll(async () => {
  await prometheus?.stop();
  await kubectl(['delete', 'migpartition', learned, '--ignore-not-found']);
  await tearDownRun(admin, { children, partition: run, namespace, nodeNames, rbac });
}, 120_000);

describe('the whole loop: scheduler, extender, operator and emulated GPUs', () => {
  it(`runs ${POD_COUNT} pods of the paper workload to completion`, async () => {
    const wanted = new Map<string, number>();
    for (const p of planned) wanted.set(p.profile.name, (wanted.get(p.profile.name) ?? 0) + 1);
    // The initial layout has no 7g slice: the workload can only finish if the operator repartitions.
    expect(wanted.get('7g.40gb') ?? 0).toBeGreaterThan(POD_COUNT / 2);
    const started = Date.now();
    await submitAt(core, namespace, planned);
    outcome.submittedMs = Date.now() - started;
    outcome.pods = await waitAllSucceeded(core, namespace, POD_COUNT, {
      timeoutMs: DRAIN_TIMEOUT_MS,
      intervalMs: 2000,
      check: assertAllRunning,
    });
    outcome.finishedMs = Date.now() - started;
    console.log(
      `[e2e] ${POD_COUNT} pods (${[...wanted].map(([p, n]) => `${n}× ${p}`).join(', ')}) submitted in ` +
        `${(outcome.submittedMs / 1000).toFixed(1)} s, all succeeded after ${(outcome.finishedMs / 1000).toFixed(1)} s`,
    );
    // Every pod was bound by the extender (it records its decision) on one of the emulated nodes.
    for (const pod of outcome.pods) {
      expect(nodeNames, describePod(pod)).toContain(pod.spec?.nodeName);
      expect(pod.metadata?.annotations?.['smartmig.io/placement'], describePod(pod)).toBeTruthy();
    }
  }, 420_000);

  it('repartitions GPUs, and never one that runs a pod', async () => {
    const fake = await metrics('fakeGpu');
    expect(sumOf(fake, 'smartmig_fake_gpu_busy_reconfigurations_total')).toBe(0);
    expect(sumOf(fake, 'smartmig_fake_gpu_reconfigurations_total', { result: 'success' })).toBeGreaterThan(0);
    expect(sumOf(fake, 'smartmig_fake_gpu_pods_total', { outcome: 'succeeded' })).toBe(POD_COUNT);
    expect(sumOf(fake, 'smartmig_fake_gpu_pods_total', { outcome: 'rejected' }) ?? 0).toBe(0);
    const operator = await metrics('operator');
    expect(sumOf(operator, 'smartmig_repartitions_total', { result: 'success' })).toBeGreaterThan(0);
    const configs = await Promise.all(
      nodeNames.map(async (name) => (await core.readNode({ name })).metadata?.labels?.['nvidia.com/mig.config']),
    );
    expect(
      configs.some((c) => c?.startsWith('smartmig-')),
      `node configs ${configs.join(', ')}`,
    ).toBe(true);
    for (const name of [run, learned]) {
      const p = await partition(name);
      expect(p.status?.nodesSelected, name).toBe(NODES / 2);
      expect(p.status?.nodesFailed ?? 0, name).toBe(0);
    }
  });

  it('runs the learned controller from the shipped model: it decides, and its nodes change layout', async () => {
    const operator = await metrics('operator');
    expect(
      sumOf(operator, 'smartmig_policy_decision_seconds_count', { controller: `meanfield/${MODEL_NAME}` }),
    ).toBeGreaterThan(0);
    const p = await partition(learned);
    expect(p.status?.conditions?.find((c) => c.type === 'Degraded')?.status).not.toBe('True');
    for (const name of learnedNodes) {
      const config = (await core.readNode({ name })).metadata?.labels?.['nvidia.com/mig.config'];
      expect(config, name).toMatch(/^smartmig-/);
    }
  });

  it('serves tardiness and energy metrics on the operator, decisions on the extender', async () => {
    // The operator counts a completion when its watch reports the pod Succeeded: give it a moment to catch up.
    const operator = await waitFor(
      async () => {
        const samples = await metrics('operator');
        return (sumOf(samples, 'smartmig_job_tardiness_minutes_count') ?? 0) >= POD_COUNT && samples;
      },
      { description: `the operator to count ${POD_COUNT} completions`, timeoutMs: 15_000, intervalMs: 500 },
    );
    expect(sumOf(operator, 'smartmig_job_tardiness_minutes_count')).toBeGreaterThanOrEqual(POD_COUNT);
    expect(sumOf(operator, 'smartmig_job_completions_total')).toBeGreaterThanOrEqual(POD_COUNT);
    const energy = nodeNames.map((node) => sumOf(operator, 'smartmig_gpu_energy_joules_total', { node }) ?? 0);
    for (const joules of energy) expect(joules).toBeGreaterThan(0);
    const count = sumOf(operator, 'smartmig_job_tardiness_minutes_count') ?? 0;
    const late = sumOf(operator, 'smartmig_job_completions_total', { outcome: 'late' }) ?? 0;
    console.log(
      `[e2e] operator: ${sumOf(operator, 'smartmig_repartitions_total', { result: 'success' })} repartitions, ` +
        `${late} of ${count} jobs late, mean tardiness ` +
        `${(((sumOf(operator, 'smartmig_job_tardiness_minutes_sum') ?? 0) / count) * 60).toFixed(2)} s, ` +
        `GPU energy ${(energy.reduce((a, j) => a + j, 0) / 3600).toFixed(1)} Wh`,
    );
    const extender = await metrics('extender');
    expect(
      sumOf(extender, 'smartmig_extender_decisions_total', { verb: 'bind', outcome: 'bound' }),
    ).toBeGreaterThanOrEqual(POD_COUNT);
    expect(sumOf(extender, 'smartmig_extender_decisions_total', { verb: 'filter', outcome: 'fit' })).toBeGreaterThan(0);
  });

  it('is scraped by Prometheus: every target up, smartmig_ metrics queryable', async () => {
    const p = prometheus as RunningPrometheus;
    const up = await waitFor(
      async () => {
        const samples = await p.query('up');
        return samples.length === 3 && samples.every((s) => s.value === 1) && samples;
      },
      { description: 'up == 1 for the three targets', timeoutMs: 15_000, intervalMs: 500 },
    );
    expect(up.map((s) => s.metric['job']).sort()).toEqual(['extender', 'fake-gpu', 'operator']);
    const completions = await waitFor(
      async () => {
        const [s] = await p.query('sum(smartmig_job_completions_total)');
        return s && s.value >= POD_COUNT && s;
      },
      { description: 'Prometheus to have scraped every completion', timeoutMs: 15_000, intervalMs: 500 },
    );
    expect(completions.value).toBeGreaterThanOrEqual(POD_COUNT);
    const [energy] = await p.query(`sum(smartmig_gpu_energy_joules_total{node=~"${run}-gpu-.*"})`);
    expect(energy?.value).toBeGreaterThan(0);
    // Over the whole run, not only now: the counter never left 0.
    const [busy] = await p.query('max_over_time(smartmig_fake_gpu_busy_reconfigurations_total[30m])');
    expect(busy?.value).toBe(0);
    const [tardy] = await p.query('sum(smartmig_job_tardiness_minutes_count)');
    expect(tardy?.value).toBeGreaterThanOrEqual(POD_COUNT);
  });

  it("shows the day on the chart's Grafana dashboard: power, energy, completions and repartitions", async () => {
    const p = prometheus as RunningPrometheus;
    const peak = async (title: string): Promise<InstantSample[]> =>
      (await Promise.all(panelPeaks(title, '30m').map((q) => p.query(q)))).flat();
    // The last scrape may lag the last completion by a scrape interval or two.
    const done = await waitFor(
      async () => {
        const [s] = await peak('On-time and late completions').then((all) => all.filter((x) => x.value > 0));
        return s !== undefined && s;
      },
      { description: 'the completions panel to show data', timeoutMs: 15_000, intervalMs: 1_000 },
    );
    expect(done.value).toBeGreaterThan(0);
    const repartitions = await peak('Repartitions');
    expect(repartitions.find((s) => s.metric['result'] === 'success')?.value).toBeGreaterThan(0);
    const power = await peak('Power per GPU');
    expect(power.length).toBe(NODES * GPUS_PER_NODE);
    expect(Math.max(...power.map((s) => s.value))).toBeGreaterThan(0);
    const [energy] = await peak('Energy in range');
    expect(energy?.value).toBeGreaterThan(0);
  });
});
