// The whole loop on DRA nodes, in a mixed cluster: the local control plane, two `smartmig fake-gpu` processes
// (2 DRA nodes × 2 A100-40GB publishing NVIDIA's driver objects and playing its kubelet plugin, and 2
// device-plugin nodes × 2 A100-40GB starting at all-1g.5gb), `smartmig operator` and `smartmig extender` (its
// admission webhook, over HTTPS) as separate processes under the chart's RBAC (not admin), and two Dynamic
// greedy MigPartitions: one over the DRA nodes (drain WaitIdle), one over the device-plugin nodes (drain
// Cordon). Every pod goes through the stock kube-scheduler, whose allocator takes the first device that fits.
//
// The workload: a time-compressed slice of the paper's jobs (`nvidia.com/mig-*`) on the device-plugin nodes
// from the start; after a quiet spell, claim pods on the DRA nodes (ResourceClaimTemplates selecting profiles
// by CEL, `exactly` one profile or `firstAvailable` among two, no catch-all) in three waves: middle-sized
// slices, held back by a scheduling gate as a job queue holds an admitted batch until the operator has steered
// the idle GPUs for it; then whole and half GPUs; then 1g slices, so that busy GPUs must drain and change
// layout. Moldable pods, which the webhook turns into claims, come along from the second wave on.
//
// The operator steers a DRA GPU only when pending claims need it and it can read what the GPU holds: a GPU it
// never steered offers every placement, first fit, and one that is busy then is left alone (its pods' claims
// say which devices they hold, but the planner has no layout to weigh them against). Hence the gated batch.
//
// Invariants, from samples of the DRA nodes (their `smartmig.io/layouts` and draining marks) and the pods every
// 300 ms: every pod succeeds; a claim pod runs only on a device of the layout the operator published for its
// GPU (a GPU it never steered offers every placement); no DRA GPU's layout changes while a pod runs on it;
// device-plugin pods, which can never land on a DRA node, never make the operator steer one; at the end the
// DeviceTaintRules leave exactly the published layouts to the allocator. On the device-plugin nodes, as in
// whole-loop: no busy GPU is ever reconfigured (fake-gpu's mig-manager counts them), repartitions succeed, no
// pod is rejected.
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  ResourceV1Api,
  setHeaderOptions,
  type V1Pod,
  type V1ResourceSlice,
} from '@kubernetes/client-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRAINING_ANNOTATION, GPU_ANNOTATION, LAYOUTS_ANNOTATION, SLICE_ANNOTATION } from '../../api/labels.js';
import { deviceName } from '../../dra/devices.js';
import { RULE_NODE_LABEL, type DeviceTaintRule } from '../../dra/steering.js';
import { WHOLE_GPU_TEXT } from '../../operator/plan/dra.js';
import { findGpuModel, findProfile, type GpuModel, type MigProfile } from '../../policy/mig/catalog.js';
import { bindChartRbac, type ChartRbac } from '../support/chart-rbac.js';
import {
  DEFAULT_SCHEDULER,
  createTestNamespace,
  ignoreNotFound,
  kubeconfigPath,
  loadKubeConfig,
  tearDownRun,
  uniqueName,
  waitFor,
} from '../support/cluster.js';
import { ensureCrd } from '../support/crd.js';
import { scrape, sumOf, type Sample } from '../support/metrics.js';
import { assertRunning, freePort, startSmartmig, waitHealthy, type Child } from '../support/processes.js';
import { makeServingCerts, registerPodWebhook } from '../support/webhook.js';
import {
  applyDynamicPartition,
  createMigPartedConfig,
  describePod,
  readPartition,
  submitAt,
  waitAllSucceeded,
} from './loop.js';
import { onNodes, paperPods } from './workload.js';

/** Simulated minutes per real minute for the device-plugin pods (the paper's jobs). */
const TIME_SCALE = 120;
const DP_PODS = 32;
/** Real milliseconds from the first device-plugin pod to the first claim pod: device-plugin demand alone. */
const QUIET_MS = 5000;
/** Claim pods by wave: the templates they take turns on. The first wave is one gated batch. */
const WAVES: readonly (readonly string[])[] = [
  ['small', 'half'],
  ['whole', 'half'],
  ['tiny', 'small'],
];
const PER_WAVE = 16;
const CLAIM_PODS = WAVES.length * PER_WAVE;
/** When the second wave starts, real milliseconds after the batch; then one claim pod every CLAIM_GAP_MS. */
const SECOND_WAVE_MS = 8000;
const CLAIM_GAP_MS = 900;
/** The scheduling gate that holds the first wave, as a job queue would. */
const BATCH_GATE = 'smartmig.io/e2e-batch';
/** Moldable pods (`smartmig.io/allocation: dra`) through the extender's webhook, one every MOLD_GAP_MS. */
const MOLD_PODS = 8;
const MOLD_GAP_MS = 4000;
const MOLD_ACCEPTED = ['1g.5gb', '2g.10gb', '3g.20gb', '4g.20gb', '7g.40gb'];
const GPUS_PER_NODE = 2;
const SAMPLE_MS = 300;
const DRAIN_TIMEOUT_MS = 120_000;
const RULES = { group: 'resource.k8s.io', version: 'v1', plural: 'devicetaintrules' };

const model = findGpuModel('A100-40GB') as GpuModel;
const admin = loadKubeConfig('admin');
const core = admin.makeApiClient(CoreV1Api);
const custom = admin.makeApiClient(CustomObjectsApi);
const resource = admin.makeApiClient(ResourceV1Api);
const run = uniqueName('dra-e2e');
const draNodes = [0, 1].map((i) => `${run}-dra-${i}`);
const dpNodes = [0, 1].map((i) => `${run}-dp-${i}`);
/** The device-plugin nodes' policy is named `run` (tearDownRun deletes it); the DRA nodes' is this one. */
const draPartition = `${run}-dra`;
const podLabels = { 'smartmig.io/e2e': run };

let namespace = '';
const rbac: ChartRbac[] = [];
const children: Child[] = [];
const url = { operator: '', fakeDra: '', fakeDp: '' };
let removeWebhook: () => Promise<unknown> = async () => undefined;
let certDir = '';

const profileIs = (profile: string) => ({
  deviceClassName: 'mig.nvidia.com',
  selectors: [{ cel: { expression: `device.attributes['gpu.nvidia.com'].profile == '${profile}'` } }],
});
/** A `firstAvailable` alternative (its name must be a DNS label). */
const alternative = (profile: string) => ({ name: profile.replaceAll('.', ''), ...profileIs(profile) });
/** Claim templates by name: the request of their one device. No catch-all: a claim waits for its profiles. */
const TEMPLATES: Record<string, Record<string, unknown>> = {
  tiny: { exactly: profileIs('1g.5gb') },
  small: { firstAvailable: [alternative('2g.10gb'), alternative('3g.20gb')] },
  half: { firstAvailable: [alternative('3g.20gb'), alternative('4g.20gb')] },
  whole: { exactly: profileIs('7g.40gb') },
};

interface PodSample {
  readonly name: string;
  readonly node: string;
  readonly phase: string;
  readonly gpu: number | undefined;
  readonly slice: string | undefined;
}

/** One look at the cluster: pods first, then the DRA nodes (node → gpu → layout text). */
interface Snapshot {
  readonly at: number;
  /** Pods bound to DRA nodes. */
  readonly pods: Map<string, PodSample>;
  /** Device-plugin pods not bound yet: demand the DRA nodes' policy must not act on. */
  readonly dpPending: number;
  readonly layouts: Map<string, Map<number, string>>;
  /** DRA nodes with a drain mark (a change under way). */
  readonly draining: string[];
}

const samples: Snapshot[] = [];
const outcome = { submittedMs: 0, finishedMs: 0, firstClaimAt: Infinity, releasedAt: Infinity, pods: [] as V1Pod[] };

const isBatch = (i: number): boolean => i < PER_WAVE;

function claimPod(i: number): V1Pod {
  const wave = WAVES[Math.floor(i / PER_WAVE)] as readonly string[];
  const template = wave[i % wave.length] as string;
  // Minutes of work on one compute slice (fake-gpu --time-scale 1, linear speed-up): 9-21 s on a 1g slice,
  // 1.3-3 s on 7g.
  const work = (0.15 + ((i * 7) % 5) * 0.05).toFixed(2);
  return {
    metadata: {
      name: `claim-${String(i).padStart(3, '0')}`,
      labels: { ...podLabels, 'smartmig.io/template': template },
      annotations: { 'smartmig.io/work': work },
    },
    spec: {
      schedulerName: DEFAULT_SCHEDULER,
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      affinity: onNodes(draNodes),
      ...(isBatch(i) ? { schedulingGates: [{ name: BATCH_GATE }] } : {}),
      resourceClaims: [{ name: 'gpu', resourceClaimTemplateName: template }],
      containers: [
        { name: 'job', image: 'registry.invalid/smartmig-e2e/job:1', resources: { claims: [{ name: 'gpu' }] } },
      ],
    },
  };
}

/**
 * A moldable pod: it asks for a device-plugin slice and names the sizes it accepts; the webhook turns that into
 * a claim whose template lists them in smartmig's order of preference.
 */
function moldablePod(i: number, annotations: Record<string, string> = {}): V1Pod {
  return {
    metadata: {
      name: `mold-${String(i).padStart(2, '0')}`,
      labels: podLabels,
      annotations: {
        'smartmig.io/allocation': 'dra',
        'smartmig.io/profiles': MOLD_ACCEPTED.join(','),
        'smartmig.io/work': '0.2',
        ...annotations,
      },
    },
    spec: {
      schedulerName: DEFAULT_SCHEDULER,
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      affinity: onNodes(draNodes),
      containers: [
        {
          name: 'job',
          image: 'registry.invalid/smartmig-e2e/job:1',
          resources: { limits: { cpu: '100m', 'nvidia.com/mig-1g.5gb': '1' } },
        },
      ],
    },
  };
}

function assertAllRunning(): void {
  for (const c of children) assertRunning(c);
}

function layoutsOf(annotations: Record<string, string> | undefined): Map<number, string> {
  const raw = JSON.parse(annotations?.[LAYOUTS_ANNOTATION] ?? '{}') as Record<string, string>;
  return new Map(Object.entries(raw).map(([g, text]) => [Number(g), text]));
}

/** The placements a layout text leaves open, as fake-gpu records them on pods (`3g.20gb@4`; `gpu` for MIG off). */
const placements = (layout: string): string[] => (layout === WHOLE_GPU_TEXT ? ['gpu'] : layout.split(','));

/** The paper's jobs (named `job-NNNN` by paperPods) go to the device-plugin nodes; the others to the DRA nodes. */
const isDevicePluginPod = (pod: V1Pod): boolean => pod.metadata?.name?.startsWith('job-') === true;

async function snapshot(): Promise<Snapshot> {
  const at = Date.now();
  const pods = new Map<string, PodSample>();
  let dpPending = 0;
  for (const p of (await core.listNamespacedPod({ namespace })).items) {
    const node = p.spec?.nodeName;
    if (!node && isDevicePluginPod(p)) dpPending++;
    if (!node || !draNodes.includes(node)) continue;
    const ann = p.metadata?.annotations ?? {};
    const name = p.metadata?.name ?? '';
    const gpu = ann[GPU_ANNOTATION] === undefined ? undefined : Number(ann[GPU_ANNOTATION]);
    pods.set(name, { name, node, phase: p.status?.phase ?? '', gpu, slice: ann[SLICE_ANNOTATION] });
  }
  const layouts = new Map<string, Map<number, string>>();
  const draining: string[] = [];
  for (const name of draNodes) {
    const annotations = (await core.readNode({ name })).metadata?.annotations;
    layouts.set(name, layoutsOf(annotations));
    if (annotations?.[DRAINING_ANNOTATION] !== undefined) draining.push(name);
  }
  return { at, pods, dpPending, layouts, draining };
}

/** Samples until `stop` says so; a failed read is skipped (the next one follows). */
async function sampleUntil(stop: () => boolean): Promise<void> {
  while (!stop()) {
    const next = Date.now() + SAMPLE_MS;
    const s = await snapshot().catch(() => undefined);
    if (s) samples.push(s);
    const wait = next - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

const running = (s: Snapshot | undefined, name: string): PodSample | undefined => {
  const p = s?.pods.get(name);
  return p?.phase === 'Running' ? p : undefined;
};

/**
 * Once the operator has published a layout for every DRA GPU (the gated batch, created right after this starts,
 * is all that waits for them), lets the batch go to the scheduler.
 */
async function releaseBatch(): Promise<void> {
  await waitFor(
    async () => {
      const steered = await Promise.all(
        draNodes.map(async (name) => layoutsOf((await core.readNode({ name })).metadata?.annotations).size),
      );
      return steered.every((n) => n === GPUS_PER_NODE);
    },
    { description: 'the operator to steer every DRA GPU for the gated batch', timeoutMs: 30_000, intervalMs: 200 },
  );
  outcome.releasedAt = Date.now();
  const ungate = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  for (let i = 0; i < PER_WAVE; i++) {
    const name = claimPod(i).metadata?.name ?? '';
    await core.patchNamespacedPod({ name, namespace, body: { spec: { schedulingGates: null } } }, ungate);
  }
}

async function metrics(which: keyof typeof url): Promise<Sample[]> {
  return scrape(`${url[which]}/metrics`);
}

async function nodeRules(node: string): Promise<DeviceTaintRule[]> {
  const out = (await custom.listClusterCustomObject({
    ...RULES,
    labelSelector: `${RULE_NODE_LABEL}=${node}`,
  })) as { items?: DeviceTaintRule[] };
  return out.items ?? [];
}

beforeAll(async () => {
  await ensureCrd();
  namespace = await createTestNamespace(admin, 'dra-e2e');
  const configMap = await createMigPartedConfig(core, namespace);
  rbac.push(
    await bindChartRbac({
      template: 'rbac-operator.yaml',
      user: 'smartmig-operator',
      namespace,
      release: run,
      set: [`operator.migConfigMap=${configMap}`],
    }),
    await bindChartRbac({ template: 'rbac-extender.yaml', user: 'smartmig-extender', namespace, release: run }),
  );
  for (const [name, body] of Object.entries(TEMPLATES)) {
    await resource.createNamespacedResourceClaimTemplate({
      namespace,
      body: { metadata: { name }, spec: { spec: { devices: { requests: [{ name: 'gpu', ...body }] } } } },
    });
  }

  const [draPort, dpPort, operatorPort, port] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const common = ['--gpus-per-node', String(GPUS_PER_NODE), '--gpu', model.name, '--time-scale', '1'];
  const fakeDra = startSmartmig(
    'fake-gpu',
    [
      ...common,
      ...['--nodes', String(draNodes.length), '--allocation-mode', 'dra', '--node-prefix', `${run}-dra-`],
      ...['--metrics-port', String(draPort), '--kubeconfig', kubeconfigPath('admin'), '--cleanup'],
    ],
    { name: 'dra-e2e-fake-gpu-dra' },
  );
  children.push(fakeDra);
  const fakeDp = startSmartmig(
    'fake-gpu',
    [
      ...common,
      ...['--nodes', String(dpNodes.length), '--layout', 'all-1g.5gb', '--reconfigure-seconds', '2'],
      ...['--config-map', configMap, '--node-prefix', `${run}-dp-`, '--metrics-port', String(dpPort)],
      ...['--kubeconfig', kubeconfigPath('admin'), '--cleanup'],
    ],
    { name: 'dra-e2e-fake-gpu-dp' },
  );
  children.push(fakeDp);
  url.fakeDra = `http://127.0.0.1:${draPort}`;
  url.fakeDp = `http://127.0.0.1:${dpPort}`;
  await waitHealthy(fakeDra, `${url.fakeDra}/healthz`);
  await waitHealthy(fakeDp, `${url.fakeDp}/healthz`);

  const operator = startSmartmig(
    'operator',
    [
      ...['--kubeconfig', kubeconfigPath('operator'), '--metrics-port', String(operatorPort)],
      ...['--leader-elect', '--lease-namespace', namespace, '--identity', `${run}-operator`],
      ...['--mig-config-map', configMap, '--resync', '2', '--config-settle', '0'],
    ],
    { name: 'dra-e2e-operator' },
  );
  children.push(operator);
  url.operator = `http://127.0.0.1:${operatorPort}`;
  await waitHealthy(operator, `${url.operator}/readyz`);

  // The extender serves only the webhook here (every pod goes through the stock kube-scheduler), on its own port.
  certDir = mkdtempSync(join(tmpdir(), 'smartmig-dra-e2e-'));
  makeServingCerts(certDir);
  const extender = startSmartmig(
    'extender',
    [
      ...['--host', '127.0.0.1', '--port', String(port), '--kubeconfig', kubeconfigPath('extender')],
      ...['--tls-cert', join(certDir, 'tls.crt'), '--tls-key', join(certDir, 'tls.key')],
    ],
    { name: 'dra-e2e-extender' },
  );
  children.push(extender);
  const hook = { name: `${run}.smartmig.io`, url: `https://127.0.0.1:${port}/mutate`, certDir, namespace };
  // A pod whose allocation the webhook cannot read is refused: once it is, the API server calls the extender.
  removeWebhook = await registerPodWebhook(admin, hook, () => {
    assertRunning(extender);
    const body = moldablePod(99, { 'smartmig.io/allocation': 'never' });
    return core.createNamespacedPod({ namespace, dryRun: 'All', body });
  });

  const limits = (drain: string) => ({ decisionInterval: '1s', minDwell: '5s', maxNodesReconfiguring: 2, drain });
  const greedy = { gpuModel: model.name, dynamic: { controller: 'greedy' } };
  await applyDynamicPartition(draPartition, { nodes: draNodes, ...greedy, limits: limits('WaitIdle') });
  await applyDynamicPartition(run, { nodes: dpNodes, ...greedy, limits: limits('Cordon') });
  await waitFor(
    async () =>
      (await readPartition(custom, run)).status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True'),
    { description: `MigPartition ${run} Ready`, timeoutMs: 60_000 },
  );
  // DRA GPUs that no policy steered yet have no layout to converge to: the policy only has to select them.
  await waitFor(async () => (await readPartition(custom, draPartition)).status?.nodesSelected === draNodes.length, {
    description: `MigPartition ${draPartition} to select the DRA nodes`,
    timeoutMs: 60_000,
  });
}, 180_000);

afterAll(async () => {
  await removeWebhook();
  if (certDir) rmSync(certDir, { recursive: true, force: true });
  await tearDownRun(admin, { children, partition: run, namespace, nodeNames: [...draNodes, ...dpNodes], rbac });
  await ignoreNotFound(
    custom.deleteClusterCustomObject({
      group: 'smartmig.io',
      version: 'v1alpha1',
      plural: 'migpartitions',
      name: draPartition,
    }),
  );
  // The operator is gone: the rules it wrote for the deleted nodes stay unless removed here.
  for (const node of draNodes) {
    for (const r of await nodeRules(node).catch(() => [])) {
      await ignoreNotFound(custom.deleteClusterCustomObject({ ...RULES, name: r.metadata.name }));
    }
  }
}, 120_000);

describe('the whole loop on DRA nodes in a mixed cluster', () => {
  it(`runs ${CLAIM_PODS} claim pods, ${MOLD_PODS} moldable pods and ${DP_PODS} device-plugin pods to completion`, async () => {
    const paper = paperPods({
      seed: 11,
      count: DP_PODS,
      timeScale: TIME_SCALE,
      model,
      schedulerName: DEFAULT_SCHEDULER,
      nodeNames: dpNodes,
      labels: podLabels,
    });
    const waves = QUIET_MS + SECOND_WAVE_MS;
    const claims = Array.from({ length: CLAIM_PODS }, (_, i) => ({
      atMs: isBatch(i) ? QUIET_MS : waves + (i - PER_WAVE) * CLAIM_GAP_MS,
      pod: claimPod(i),
    }));
    const molds = Array.from({ length: MOLD_PODS }, (_, i) => ({
      atMs: waves + 500 + i * MOLD_GAP_MS,
      pod: moldablePod(i),
    }));
    const planned = [...paper, ...claims, ...molds].sort((a, b) => a.atMs - b.atMs);
    let done = false;
    const sampling = sampleUntil(() => done);
    const started = Date.now();
    try {
      let release: Promise<void> | undefined;
      await submitAt(core, namespace, planned, async (pod) => {
        if (isDevicePluginPod(pod)) return;
        outcome.firstClaimAt = Math.min(outcome.firstClaimAt, Date.now());
        release ??= releaseBatch();
        // Pods after the batch wait for its release: ungated claims would land on unsteered GPUs first.
        if (!pod.spec?.schedulingGates) await release;
      });
      outcome.submittedMs = Date.now() - started;
      const count = DP_PODS + CLAIM_PODS + MOLD_PODS;
      outcome.pods = await waitAllSucceeded(core, namespace, count, {
        timeoutMs: DRAIN_TIMEOUT_MS,
        intervalMs: 1000,
        check: assertAllRunning,
      });
      outcome.finishedMs = Date.now() - started;
    } finally {
      done = true;
      await sampling;
    }
    const wanted = new Map<string, number>();
    for (const p of paper) wanted.set(p.profile.name, (wanted.get(p.profile.name) ?? 0) + 1);
    console.log(
      `[dra-e2e] ${CLAIM_PODS} claim pods, ${MOLD_PODS} moldable pods and ${DP_PODS} device-plugin pods ` +
        `(${[...wanted].map(([p, n]) => `${n}× ${p}`).join(', ')}) submitted in ` +
        `${(outcome.submittedMs / 1000).toFixed(1)} s (the batch released ` +
        `${((outcome.releasedAt - outcome.firstClaimAt) / 1000).toFixed(1)} s after it was created), all succeeded ` +
        `after ${(outcome.finishedMs / 1000).toFixed(1)} s; ` +
        `${samples.length} samples`,
    );
    for (const pod of outcome.pods) {
      const dp = isDevicePluginPod(pod);
      expect(dp ? dpNodes : draNodes, describePod(pod)).toContain(pod.spec?.nodeName);
      if (dp) continue;
      const slice = pod.metadata?.annotations?.[SLICE_ANNOTATION] ?? '';
      expect(slice, describePod(pod)).toMatch(/^\dg\.\d+gb@\d$/);
      if (!pod.metadata?.name?.startsWith('mold-')) continue;
      // The webhook gave it a claim from a template of its own, and the allocator one of the sizes it accepts.
      const entry = pod.spec?.resourceClaims?.find((c) => c.name === 'smartmig-mig');
      expect(entry?.resourceClaimTemplateName, describePod(pod)).toMatch(/^smartmig-mig-[0-9a-f]{10}$/);
      expect(pod.spec?.containers[0]?.resources?.limits, describePod(pod)).toEqual({ cpu: '100m' });
      expect(MOLD_ACCEPTED, describePod(pod)).toContain(slice.split('@')[0]);
    }
  }, 300_000);

  it('steers DRA GPUs only for claims, gives each claim a device of its GPU’s layout, never changes a busy GPU', () => {
    const violations: string[] = [];
    let checked = 0;
    let unsteered = 0;
    const published = new Set<string>();
    const changes: string[] = [];
    // Before the first claim pod only device-plugin pods wait, which no DRA GPU can serve: none is touched.
    const quiet = samples.filter((s) => s.at < outcome.firstClaimAt);
    for (const s of quiet) {
      const touched = [...s.layouts].filter(([, l]) => l.size > 0).map(([n]) => n);
      if (touched.length + s.draining.length > 0) {
        violations.push(`DRA nodes ${[...touched, ...s.draining].join(', ')} steered before any claim pod existed`);
      }
    }
    samples.forEach((s, i) => {
      const next = samples[i + 1];
      const after = samples[i + 2];
      // A pod seen running here and in the next sample ran while this sample read the layouts.
      for (const p of s.pods.values()) {
        if (p.phase !== 'Running' || !running(next, p.name)) continue;
        const layout = p.gpu === undefined ? undefined : s.layouts.get(p.node)?.get(p.gpu);
        if (layout === undefined) {
          unsteered++;
          continue;
        }
        checked++;
        if (!p.slice || !placements(layout).includes(p.slice)) {
          violations.push(`${p.name} runs ${p.slice} on ${p.node} GPU ${p.gpu}, outside its layout ${layout}`);
        }
      }
      if (!next) return;
      for (const node of draNodes) {
        for (let g = 0; g < GPUS_PER_NODE; g++) {
          const before = s.layouts.get(node)?.get(g);
          const now = next.layouts.get(node)?.get(g);
          if (before === now) continue;
          if (before === undefined) published.add(`${node}/${g}`);
          else changes.push(`${node}/${g}: ${before} → ${now ?? '(none)'}`);
          // Running from before this sample's layouts were read until after the next one's: it held the GPU.
          for (const p of s.pods.values()) {
            if (p.node !== node || p.gpu !== g || p.phase !== 'Running' || !running(after, p.name)) continue;
            violations.push(`${node} GPU ${g} changed ${before ?? '(none)'} → ${now ?? '(none)'} under ${p.name}`);
          }
        }
      }
    });
    console.log(
      `[dra-e2e] ${quiet.length} samples before the first claim pod (device-plugin pods waiting in ` +
        `${quiet.filter((s) => s.dpPending > 0).length}); ${checked} running-claim observations against a ` +
        `published layout (${unsteered} on GPUs never steered); layouts published on ${published.size} DRA GPUs, ` +
        `${changes.length} changed later${changes.length > 0 ? `: ${changes.join('; ')}` : ''}`,
    );
    expect(violations).toEqual([]);
    // Device-plugin demand was there to be (wrongly) acted on.
    expect(quiet.filter((s) => s.dpPending > 0).length).toBeGreaterThan(3);
    // The claims made the operator steer every DRA GPU, and re-steer some.
    expect(published.size).toBe(draNodes.length * GPUS_PER_NODE);
    expect(changes.length).toBeGreaterThan(0);
    expect(checked).toBeGreaterThan(CLAIM_PODS);
  });

  it("leaves the allocator exactly each DRA GPU's published layout through DeviceTaintRules", async () => {
    for (const node of draNodes) {
      const n = await core.readNode({ name: node });
      expect(n.metadata?.annotations?.[DRAINING_ANNOTATION], node).toBeUndefined();
      const layouts = layoutsOf(n.metadata?.annotations);
      const tainted = new Set((await nodeRules(node)).map((r) => r.spec.deviceSelector.device));
      const slices = (await resource.listResourceSlice({ fieldSelector: `spec.nodeName=${node}` })).items;
      const devices = slices.flatMap((s: V1ResourceSlice) => s.spec.devices ?? []).map((d) => d.name);
      for (let g = 0; g < GPUS_PER_NODE; g++) {
        const layout = layouts.get(g);
        const own = devices.filter((d) => d === `gpu-${g}` || d.startsWith(`gpu-${g}-`));
        // The whole GPU and the A100-40GB's 25 MIG placements.
        expect(own.length, `${node} GPU ${g}`).toBe(26);
        const open = own.filter((d) => !tainted.has(d)).sort();
        if (layout === undefined) {
          expect(open, `${node} GPU ${g} is not steered`).toEqual([...own].sort());
          continue;
        }
        const expected =
          layout === WHOLE_GPU_TEXT
            ? [`gpu-${g}`]
            : layout.split(',').map((slice) => {
                const [name = '', start = ''] = slice.split('@');
                const profile = findProfile(model, name) as MigProfile;
                return deviceName(model, { kind: 'mig', gpu: g, profile, start: Number(start) });
              });
        expect(open, `${node} GPU ${g} on ${layout}`).toEqual(expected.sort());
      }
    }
  });

  it('runs the device-plugin nodes as before: repartitions, never a busy GPU, no rejected pod', async () => {
    const dp = await metrics('fakeDp');
    expect(sumOf(dp, 'smartmig_fake_gpu_busy_reconfigurations_total') ?? 0).toBe(0);
    expect(sumOf(dp, 'smartmig_fake_gpu_reconfigurations_total', { result: 'success' })).toBeGreaterThan(0);
    expect(sumOf(dp, 'smartmig_fake_gpu_pods_total', { outcome: 'succeeded' })).toBe(DP_PODS);
    expect(sumOf(dp, 'smartmig_fake_gpu_pods_total', { outcome: 'rejected' }) ?? 0).toBe(0);
    const dra = await metrics('fakeDra');
    expect(sumOf(dra, 'smartmig_fake_gpu_pods_total', { outcome: 'succeeded' })).toBe(CLAIM_PODS + MOLD_PODS);
    expect(sumOf(dra, 'smartmig_fake_gpu_pods_total', { outcome: 'rejected' }) ?? 0).toBe(0);
    expect(sumOf(dra, 'smartmig_fake_gpu_pods_total', { outcome: 'killed' }) ?? 0).toBe(0);
    const operator = await metrics('operator');
    expect(sumOf(operator, 'smartmig_repartitions_total', { result: 'success' })).toBeGreaterThan(0);
    const configs = await Promise.all(
      dpNodes.map(async (name) => (await core.readNode({ name })).metadata?.labels?.['nvidia.com/mig.config']),
    );
    expect(
      configs.some((c) => c?.startsWith('smartmig-')),
      `node configs ${configs.join(', ')}`,
    ).toBe(true);
    // DRA nodes never get a mig-manager label.
    for (const name of draNodes) {
      const labels = (await core.readNode({ name })).metadata?.labels ?? {};
      expect(labels['nvidia.com/mig.config'] ?? '', name).not.toMatch(/^smartmig-/);
    }
  });
});
