// Parity of the simulator and the operator: one twice-daily MigPartition (drain WaitIdle, at most two nodes
// changing at once), one seed of the paper workload, run (a) in the simulator (runDay, with the operator's own
// twice-daily controller built from the same object) and (b) by `smartmig operator` against the real local
// control plane, with `smartmig fake-gpu` emulating four single-GPU A100 nodes and time compressed 60× (one
// simulated minute per real second). The two phases are real UTC minutes one minute apart (the operator's
// timetable reads the wall clock at minute resolution); the simulator's clock is mapped onto them.
//
// The cluster replays the simulator's occupancy: each job becomes a pod bound to the node and GPU the simulator
// ran it on, created when the simulator started it (and once that GPU has the layout it ran on); fake-gpu runs
// it for the same time. Scheduling is thus out of this test (test/e2e/whole-loop.test.ts covers it); what is
// compared is what the controller and the drain contract make of the same occupancy.
//
// It proves: per GPU, the operator makes the same layout changes in the same order as the simulator (GPUs busy
// at a switch drain and change when their last pod ends; idle ones change at the switch; the node limit
// serialises the rest), each within [-TOL_EARLY_MIN, +TOL_LATE_MIN] simulated minutes of the simulator's
// time; no GPU is reconfigured while a pod holds it (fake-gpu's smartmig_fake_gpu_busy_reconfigurations_total
// stays 0, no pod fails); and the operator counts as many successful repartitions as it made changes. A busy
// GPU reconfigured at the switch would come TOL_EARLY_MIN or more too early (the scenario's drains are longer),
// a skipped or extra phase would change a GPU's sequence.
import { CoreV1Api, CustomObjectsApi, ListWatch, Watch, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIG_CONFIG_LABEL, MIG_STATE_LABEL } from '../../api/labels.js';
import { labelledLayouts, parseMigPartedConfig, renderMigPartedConfig } from '../../operator/migparted.js';
import { findProfile } from '../../policy/mig/catalog.js';
import { bindChartRbac, type ChartRbac } from '../support/chart-rbac.js';
import {
  createTestNamespace,
  tearDownRun,
  kubeconfigPath,
  kubectl,
  loadKubeConfig,
  uniqueName,
  waitFor,
} from '../support/cluster.js';
import { ensureCrd } from '../support/crd.js';
import { scrape, sumOf } from '../support/metrics.js';
import { freePort, startSmartmig, waitHealthy, assertRunning, type Child } from '../support/processes.js';
import {
  GPUS_PER_NODE,
  LEAD_IN_MIN,
  MODEL,
  NIGHT_LAYOUT,
  RECONFIGURE_SECONDS,
  TIME_SCALE,
  parityPartition,
  scenarioIssues,
  simulateScenario,
  sizesKey,
  type Change,
  type Placement,
  type ScenarioOptions,
  type SimScenario,
} from './parity-scenario.js';

/** Seed and load chosen so that both phases have GPUs that switch at once, GPUs that drain, and slot waits. */
const SCENARIO: ScenarioOptions = {
  seed: 4,
  nodes: 4,
  multiplier: 4,
  arrivalMin: 100,
  startHour: 9,
  maxNodesReconfiguring: 2,
};
/**
 * How much later than the simulator the cluster may change a GPU, simulated minutes (= real seconds). The
 * cluster only lags: the operator notices a phase at its next decision (decisionInterval 1 s), marks the GPU
 * one round before it launches, and frees a node's slot only after mig-manager reports success and a round
 * clears the marks (the simulator frees it exactly RECONFIGURE_SECONDS after the start); a pod the simulator
 * started right after a change waits for the change in the cluster and ends that much later. About a second
 * per step, and a slot chain has three steps; twice that for a busy machine. Measured on 2 busy cores: 0.2 to
 * 2.3 minutes.
 */
const TOL_LATE_MIN = 8;
/** How much earlier: only timer and clock jitter (the cluster never starts anything before the simulator). */
const TOL_EARLY_MIN = 0.5;
/** Drains in the scenario that last longer than this tell "waited for the pod" from "changed at the switch". */
const LONG_DRAIN_MIN = TOL_LATE_MIN;
const CONFIG_MAP = 'mig-parted-config';

const admin = loadKubeConfig('admin');
const core = admin.makeApiClient(CoreV1Api);
const custom = admin.makeApiClient(CustomObjectsApi);
const run = uniqueName('parity');
const prefix = `${run}-n`;
const nodeNames = Array.from({ length: SCENARIO.nodes }, (_, i) => `${prefix}${i}`);
const msPerSimMin = 60_000 / TIME_SCALE;

let namespace = '';
const rbac: ChartRbac[] = [];
const children: Child[] = [];
const url = { operator: '', fakeGpu: '' };
let firstPhaseMs = 0;
let sim: SimScenario;

/** What the test sees of each node: its config label, mig-manager's state, and every change of the label. */
interface NodeTrack {
  config: string | undefined;
  state: string | undefined;
  /** The layout the labelled config gives the node's GPU (sizes key), once read. */
  layout: string | undefined;
}
const tracks = new Map<string, NodeTrack>();
const labelChanges: { node: string; at: number; config: string; layout: Promise<string> }[] = [];
let nodeWatch: ListWatch<V1Node> | undefined;

/** The sizes key of GPU 0 under a config name: from the mig-parted ConfigMap, or the name's standard meaning. */
async function layoutOfConfig(config: string): Promise<string> {
  const cm = await core.readNamespacedConfigMap({ name: CONFIG_MAP, namespace });
  const parsed = parseMigPartedConfig(cm.data?.['config.yaml']);
  const layouts = labelledLayouts(parsed.ok ? parsed.value : undefined, config, MODEL, GPUS_PER_NODE);
  const target = layouts?.[0];
  if (!target) throw new Error(`config ${config} gives GPU 0 no layout`);
  return sizesKey(target.layout);
}

function onNode(n: V1Node): void {
  const name = n.metadata?.name ?? '';
  if (!nodeNames.includes(name)) return;
  const config = n.metadata?.labels?.[MIG_CONFIG_LABEL];
  const state = n.metadata?.labels?.[MIG_STATE_LABEL];
  const track = tracks.get(name);
  if (!track) {
    tracks.set(name, { config, state, layout: config === NIGHT_LAYOUT ? sizesKeyOf(NIGHT_LAYOUT) : undefined });
    return;
  }
  track.state = state;
  if (config === undefined || config === track.config) return;
  track.config = config;
  track.layout = undefined;
  const layout = layoutOfConfig(config);
  labelChanges.push({ node: name, at: Date.now(), config, layout });
  void layout.then(
    (l) => {
      if (track.config === config) track.layout = l;
    },
    () => undefined,
  );
}

function sizesKeyOf(named: string): string {
  const layouts = labelledLayouts(undefined, named, MODEL, 1);
  if (!layouts?.[0]) throw new Error(`no layout named ${named}`);
  return sizesKey(layouts[0].layout);
}

/** The job as a pod on the GPU the simulator ran it on. */
function podOf(p: Placement): V1Pod {
  const resource = findProfile(MODEL, p.profile)?.resource;
  if (!resource) throw new Error(`no resource for ${p.profile}`);
  return {
    metadata: {
      name: `job-${String(p.job.id).padStart(4, '0')}`,
      annotations: {
        'smartmig.io/gpu': String(p.gpu % GPUS_PER_NODE),
        'smartmig.io/work': p.job.work.toFixed(6),
        'smartmig.io/workload': p.job.profile,
      },
    },
    spec: {
      nodeName: nodeNames[Math.floor(p.gpu / GPUS_PER_NODE)],
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      containers: [
        { name: 'job', image: 'registry.invalid/smartmig/job:1', resources: { limits: { [resource]: '1' } } },
      ],
    },
  };
}

const sleepUntil = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms - Date.now())));

/**
 * Creates each pod when the simulator started its job, once its node has settled in the layout the job ran on
 * (a pod sent to a GPU still on its old layout would take another slice or fail). Returns how late each was.
 */
async function replay(t0: number): Promise<{ job: number; lateMs: number }[]> {
  return Promise.all(
    sim.placements.map(async (p) => {
      const due = t0 + p.startMin * msPerSimMin;
      await sleepUntil(due);
      const node = nodeNames[Math.floor(p.gpu / GPUS_PER_NODE)] as string;
      await waitFor(
        () => {
          const t = tracks.get(node);
          return t?.state === 'success' && t.layout === p.layout;
        },
        {
          description: `${node} settled in ${p.layout} for job ${p.job.id} (${JSON.stringify(tracks.get(node))})`,
          timeoutMs: TOL_LATE_MIN * msPerSimMin,
          intervalMs: 25,
        },
      );
      await core.createNamespacedPod({ namespace, body: podOf(p) });
      return { job: p.job.id, lateMs: Date.now() - due };
    }),
  );
}

function bySim(changes: readonly Change[]): Map<number, Change[]> {
  const out = new Map<number, Change[]>();
  for (const c of changes) out.set(c.gpu, [...(out.get(c.gpu) ?? []), c]);
  return out;
}

beforeAll(async () => {
  await ensureCrd();
  namespace = await createTestNamespace(admin, 'parity');
  const configMap = `${namespace}/${CONFIG_MAP}`;
  await core.createNamespacedConfigMap({
    namespace,
    body: {
      metadata: { name: CONFIG_MAP },
      data: { 'config.yaml': renderMigPartedConfig({ version: 'v1', 'mig-configs': {} }) },
    },
  });
  rbac.push(
    await bindChartRbac({
      template: 'rbac-operator.yaml',
      user: 'smartmig-operator',
      namespace,
      release: run,
      set: [`operator.migConfigMap=${configMap}`],
    }),
  );
  nodeWatch = new ListWatch<V1Node>('/api/v1/nodes', new Watch(admin), () => core.listNode(), false);
  nodeWatch.on('add', onNode);
  nodeWatch.on('update', onNode);
  await nodeWatch.start();

  const [fakeGpuPort, operatorPort] = [await freePort(), await freePort()];
  const fakeGpu = startSmartmig(
    'fake-gpu',
    [
      ...['--nodes', String(SCENARIO.nodes), '--gpus-per-node', String(GPUS_PER_NODE), '--gpu', MODEL.name],
      ...['--layout', NIGHT_LAYOUT, '--reconfigure-seconds', String(RECONFIGURE_SECONDS)],
      ...['--time-scale', String(TIME_SCALE), '--config-map', configMap, '--node-prefix', prefix],
      ...['--metrics-port', String(fakeGpuPort), '--kubeconfig', kubeconfigPath('admin'), '--cleanup'],
    ],
    { name: 'parity-fake-gpu' },
  );
  children.push(fakeGpu);
  url.fakeGpu = `http://127.0.0.1:${fakeGpuPort}`;
  await waitHealthy(fakeGpu, `${url.fakeGpu}/healthz`);
  const operator = startSmartmig(
    'operator',
    [
      ...['--kubeconfig', kubeconfigPath('operator'), '--metrics-port', String(operatorPort)],
      ...['--mig-config-map', configMap, '--resync', '1', '--config-settle', '0', '--identity', `${run}-operator`],
    ],
    { name: 'parity-operator' },
  );
  children.push(operator);
  url.operator = `http://127.0.0.1:${operatorPort}`;
  await waitHealthy(operator, `${url.operator}/readyz`);
  await waitFor(() => nodeNames.every((n) => tracks.get(n)?.layout === sizesKeyOf(NIGHT_LAYOUT)), {
    description: 'the emulated nodes in the night layout',
  });

  // The first phase: a whole UTC minute, far enough ahead for the lead-in; the simulator runs on that clock.
  firstPhaseMs = Math.ceil((Date.now() + LEAD_IN_MIN * msPerSimMin + 5000) / 60_000) * 60_000;
  sim = simulateScenario(SCENARIO, firstPhaseMs);
  await kubectl(['apply', '-f', '-'], {
    input: JSON.stringify(parityPartition(run, nodeNames, firstPhaseMs, SCENARIO.maxNodesReconfiguring)),
  });
  await waitFor(
    async () => {
      const mp = (await custom.getClusterCustomObject({
        group: 'smartmig.io',
        version: 'v1alpha1',
        plural: 'migpartitions',
        name: run,
      })) as { status?: { conditions?: { type: string; status: string }[] } };
      return mp.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    },
    { description: `MigPartition ${run} Ready`, timeoutMs: 30_000 },
  );
}, 180_000);

afterAll(async () => {
  await nodeWatch?.stop();
  await tearDownRun(admin, { children, partition: run, namespace, nodeNames, rbac });
}, 120_000);

describe('operator and simulator parity (twice-daily, WaitIdle)', () => {
  it('runs a scenario where the drain decides: busy GPUs drain, idle ones switch, slots serialise', () => {
    // Every job seen running (so replayed), each GPU changing once per phase, and in each phase a GPU that
    // switches at once and one that drains for longer than the tolerance; no change near a phase boundary.
    expect(scenarioIssues(sim, { tolLateMin: TOL_LATE_MIN, longDrainMin: LONG_DRAIN_MIN })).toEqual([]);
    // The node limit holds some GPUs back: a change starts neither at a switch nor when the GPU's last job ended.
    const slotWaits = sim.changes.filter(
      (c) =>
        sim.phases.every((p) => Math.abs(c.t - p) > 0.1) &&
        !sim.placements.some((p) => p.gpu === c.gpu && Math.abs(p.endMin - c.t) < 0.02),
    );
    expect(slotWaits.length).toBeGreaterThan(0);
  });

  it('makes the same layout changes per GPU, in the same order and within the tolerance, never on a busy GPU', async () => {
    const t0 = firstPhaseMs - LEAD_IN_MIN * msPerSimMin;
    expect(Date.now()).toBeLessThan(t0);
    const per = bySim(sim.changes);
    const lastSim = Math.max(...sim.changes.map((c) => c.t));
    // Settled only at the end; a pod that could not be replayed fails the test there.
    const replayed = replay(t0).then(
      (late) => ({ late, error: undefined }),
      (error: unknown) => ({ late: [], error }),
    );
    // Wait until every node made as many changes as in the simulator, or the last one is overdue.
    const counted = (node: string): number => labelChanges.filter((c) => c.node === node).length;
    await sleepUntil(t0 + lastSim * msPerSimMin);
    await waitFor(
      () => {
        for (const c of children) assertRunning(c);
        return nodeNames.every((n, g) => counted(n) >= (per.get(g)?.length ?? 0));
      },
      { description: 'the cluster to make the simulator’s changes', timeoutMs: (TOL_LATE_MIN + 2) * msPerSimMin },
    ).catch(() => undefined);
    // A moment more for changes the simulator did not make.
    await new Promise((r) => setTimeout(r, 2000));
    const { late, error } = await replayed;
    if (error) throw error;

    const cluster = new Map<number, Change[]>();
    for (const c of labelChanges) {
      const g = nodeNames.indexOf(c.node) * GPUS_PER_NODE;
      const change = { gpu: g, t: (c.at - t0) / msPerSimMin, layout: await c.layout };
      cluster.set(g, [...(cluster.get(g) ?? []), change]);
    }
    const rows: string[] = [];
    for (let g = 0; g < SCENARIO.nodes; g++) {
      const s = per.get(g) ?? [];
      const k = cluster.get(g) ?? [];
      const fmt = (l: readonly Change[]): string => l.map((c) => `${c.layout}@${c.t.toFixed(2)}`).join(' ');
      rows.push(`GPU ${g}: simulator ${fmt(s)} | cluster ${fmt(k)}`);
    }
    const worstReplay = Math.max(0, ...late.map((l) => l.lateMs));
    console.log(
      `[parity] seed ${SCENARIO.seed}, ${sim.placements.length} pods (latest ${(worstReplay / 1000).toFixed(2)} s ` +
        `after the simulator's start), changes at simulated minutes (phases at ${sim.phases.join(', ')}):\n` +
        rows.join('\n'),
    );
    for (let g = 0; g < SCENARIO.nodes; g++) {
      const s = per.get(g) ?? [];
      const k = cluster.get(g) ?? [];
      expect(
        k.map((c) => c.layout),
        rows[g],
      ).toEqual(s.map((c) => c.layout));
      s.forEach((c, i) => {
        const lag = (k[i]?.t ?? Infinity) - c.t;
        expect(lag, `${rows[g]}: change ${i} lags ${lag.toFixed(2)} min`).toBeGreaterThanOrEqual(-TOL_EARLY_MIN);
        expect(lag, `${rows[g]}: change ${i} lags ${lag.toFixed(2)} min`).toBeLessThanOrEqual(TOL_LATE_MIN);
      });
    }

    // No GPU was reconfigured under a pod, and no pod lost its slice or failed to get one.
    const fake = await scrape(`${url.fakeGpu}/metrics`);
    expect(sumOf(fake, 'smartmig_fake_gpu_busy_reconfigurations_total')).toBe(0);
    expect(sumOf(fake, 'smartmig_fake_gpu_pods_total', { outcome: 'rejected' }) ?? 0).toBe(0);
    const pods = (await core.listNamespacedPod({ namespace })).items;
    expect(pods.length).toBe(sim.placements.length);
    const failed = pods.filter((p) => p.status?.phase === 'Failed');
    expect(failed.map((p) => `${p.metadata?.name}: ${p.status?.reason} ${p.status?.message}`)).toEqual([]);
    // The operator saw each change through to mig-manager's success.
    const changes = labelChanges.length;
    const operator = await waitFor(
      async () => {
        const m = await scrape(`${url.operator}/metrics`);
        return (sumOf(m, 'smartmig_repartitions_total', { result: 'success' }) ?? 0) >= changes && m;
      },
      { description: `the operator to count ${changes} repartitions`, timeoutMs: 10_000 },
    );
    expect(sumOf(operator, 'smartmig_repartitions_total', { result: 'success' })).toBe(changes);
    expect(sumOf(operator, 'smartmig_repartitions_total', { result: 'failed' }) ?? 0).toBe(0);
  }, 300_000);
});
