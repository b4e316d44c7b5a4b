// Scheduling throughput through the real kube-scheduler (issue 3): 1,000 GPU pods onto 100 emulated nodes
// (`smartmig fake-gpu`, 8 A100-40GB each in all-balanced), once by the cluster's default-scheduler (no extender)
// and once by smartmig-scheduler, which calls `smartmig extender` (filter, prioritize, bind) for every pod.
// Same pods, same nodes; the pods are deleted between the two runs.
//
// Pods are created while every node is cordoned, so creating them (which the API server does at its own pace)
// is not timed: once the scheduler has tried every pod and marked it Unschedulable, the clock starts, the nodes
// are uncordoned, which puts all 1,000 pods back into the scheduler's queue at once, and the clock stops when
// the last one is bound (seen through a watch).
// Brings up what it needs: the local control plane (the vitest global setup), the chart's extender RBAC,
// fake-gpu and the extender as processes, as `npx vitest run test/e2e` does.
import {
  CoreV1Api,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type KubeConfig,
  type V1Pod,
} from '@kubernetes/client-node';
import { pino } from 'pino';
import { bindChartRbac } from '../support/chart-rbac.js';
import {
  DEFAULT_SCHEDULER,
  SMARTMIG_SCHEDULER,
  createTestNamespace,
  deleteTestNamespace,
  ignoreNotFound,
  kubeconfigPath,
  loadKubeConfig,
  readLocalCluster,
  uniqueName,
  waitFor,
} from '../support/cluster.js';
import setupCluster from '../support/global-setup.js';
import { scrape, sumOf, type Sample } from '../support/metrics.js';
import { freePort, startExtenderOn, startSmartmig, waitHealthy, type Child } from '../support/processes.js';
import { printFigures, type Figure } from './report.js';

const PODS = 1000;
const NODES = 100;
const WARM_UP_PODS = 50;
/** all-balanced on an A100-40GB: 2× 1g.5gb, 1× 2g.10gb, 1× 3g.20gb per GPU; pods take half of each. */
const PROFILES = ['1g.5gb', '1g.5gb', '2g.10gb', '3g.20gb'];
const CREATE_CONCURRENCY = 16;
const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

const log = pino({ level: process.env['SMARTMIG_BENCH_LOG'] ?? 'info' });

interface Bench {
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly namespace: string;
  readonly nodeNames: readonly string[];
  readonly extenderUrl: string;
  readonly fakeGpuUrl: string;
}

function benchPod(b: Bench, i: number, schedulerName: string): V1Pod {
  const profile = PROFILES[i % PROFILES.length] as string;
  return {
    metadata: { name: `pod-${String(i).padStart(4, '0')}`, annotations: { 'smartmig.io/work': '600' } },
    spec: {
      schedulerName,
      terminationGracePeriodSeconds: 0,
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [...b.nodeNames] }] },
            ],
          },
        },
      },
      containers: [
        {
          name: 'job',
          image: 'registry.invalid/smartmig-bench/job:1',
          resources: { limits: { [`nvidia.com/mig-${profile}`]: '1' } },
        },
      ],
    },
  };
}

/** Runs `task` over `items` with at most `limit` in flight. */
async function inParallel<T>(items: readonly T[], limit: number, task: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await task(items[next++] as T);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

async function setCordon(b: Bench, unschedulable: boolean): Promise<void> {
  await inParallel(b.nodeNames, CREATE_CONCURRENCY, (name) =>
    b.core.patchNode({ name, body: { spec: { unschedulable } } }, MERGE_PATCH),
  );
}

/**
 * Watches the namespace's pods and records when each was first seen bound. A watch that ends early is
 * started again from the current resourceVersion of a fresh list (pods bound meanwhile count from then).
 */
async function watchBindings(b: Bench): Promise<{ bound: Map<string, number>; stop: () => void }> {
  const bound = new Map<string, number>();
  let stopped = false;
  let current: AbortController | undefined;
  const seen = (pod: V1Pod): void => {
    const name = pod.metadata?.name ?? '';
    if (pod.spec?.nodeName && !bound.has(name)) bound.set(name, performance.now());
  };
  // A restart may still be on its way when stop() is called: it must not leave a watch open behind it,
  // which kept the benchmark's process alive after its figures (until the API server closed the watch).
  const start = async (): Promise<void> => {
    const list = await b.core.listNamespacedPod({ namespace: b.namespace });
    if (stopped) return;
    list.items.forEach(seen);
    const started = await new Watch(b.kc).watch(
      `/api/v1/namespaces/${b.namespace}/pods`,
      { resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true },
      (_type: string, pod: V1Pod) => seen(pod),
      (err: unknown) => {
        if (stopped) return;
        log.warn({ err }, 'pod watch ended early; starting it again');
        start().catch((e: unknown) => log.error({ err: e }, 'pod watch could not restart'));
      },
    );
    if (stopped) started.abort();
    else current = started;
  };
  await start();
  return {
    bound,
    stop: () => {
      stopped = true;
      current?.abort();
    },
  };
}

async function extenderVerbTotals(b: Bench): Promise<Sample[]> {
  return scrape(`${b.extenderUrl}/metrics`);
}

interface RunResult {
  readonly podsPerSecond: number;
  readonly seconds: number;
  readonly createSeconds: number;
}

/** One timed run: create the pods on cordoned nodes, uncordon, wait until every pod is bound. */
async function timedRun(b: Bench, schedulerName: string, count: number): Promise<RunResult> {
  await setCordon(b, true);
  const watch = await watchBindings(b);
  try {
    const createStart = performance.now();
    const indices = Array.from({ length: count }, (_, i) => i);
    await inParallel(indices, CREATE_CONCURRENCY, (i) =>
      b.core.createNamespacedPod({ namespace: b.namespace, body: benchPod(b, i, schedulerName) }),
    );
    const createSeconds = (performance.now() - createStart) / 1000;
    // Every pod has been tried once and found no schedulable node, so the uncordon requeues all of them.
    await waitFor(
      async () => {
        const pods = (await b.core.listNamespacedPod({ namespace: b.namespace })).items;
        const tried = pods.filter((p) =>
          p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable'),
        );
        return tried.length === count;
      },
      { description: `${schedulerName} to have tried all ${count} pods`, timeoutMs: 120_000, intervalMs: 1000 },
    );
    if (watch.bound.size > 0) throw new Error(`${watch.bound.size} pods were bound to cordoned nodes`);
    const t0 = performance.now();
    await setCordon(b, false);
    await waitFor(() => watch.bound.size >= count, {
      description: `${count} pods bound by ${schedulerName}`,
      timeoutMs: 180_000,
      intervalMs: 50,
    }).catch(async (err: unknown) => {
      const pods = (await b.core.listNamespacedPod({ namespace: b.namespace })).items;
      const unbound = pods.filter((p) => !p.spec?.nodeName);
      const cond = unbound[0]?.status?.conditions?.find((c) => c.type === 'PodScheduled');
      throw new Error(
        `${(err as Error).message}: the watch saw ${watch.bound.size} bound, the API server lists ` +
          `${pods.length - unbound.length} of ${pods.length}; e.g. ${unbound[0]?.metadata?.name}: ${cond?.message}`,
      );
    });
    const seconds = (Math.max(...watch.bound.values()) - t0) / 1000;
    return { podsPerSecond: count / seconds, seconds, createSeconds };
  } finally {
    watch.stop();
  }
}

/** Deletes the pods and waits until fake-gpu and the extender have let go of them. */
async function reset(b: Bench): Promise<void> {
  await b.core.deleteCollectionNamespacedPod({ namespace: b.namespace, gracePeriodSeconds: 0 });
  await waitFor(async () => (await b.core.listNamespacedPod({ namespace: b.namespace, limit: 1 })).items.length === 0, {
    description: 'the pods to be gone',
    timeoutMs: 120_000,
    intervalMs: 500,
  });
  let held = '';
  await waitFor(
    async () => {
      const [fake, ext] = await Promise.all([scrape(`${b.fakeGpuUrl}/metrics`), extenderVerbTotals(b)]);
      const running = sumOf(fake, 'smartmig_fake_gpu_running_pods');
      const cached = sumOf(ext, 'smartmig_extender_cache_objects', { kind: 'pods' });
      held = `fake-gpu runs ${running} pods, the extender's cache holds ${cached}`;
      return running === 0 && cached === 0;
    },
    { description: 'fake-gpu and the extender to free every slice', timeoutMs: 60_000, intervalMs: 500 },
  ).catch((err: unknown) => {
    throw new Error(`${(err as Error).message} (${held})`);
  });
}

function meanMs(before: Sample[], after: Sample[], verb: string): number {
  const d = (name: string) =>
    (sumOf(after, name, { verb, code: '200' }) ?? 0) - (sumOf(before, name, { verb, code: '200' }) ?? 0);
  const count = d('smartmig_extender_request_duration_seconds_count');
  return count > 0 ? (d('smartmig_extender_request_duration_seconds_sum') / count) * 1000 : NaN;
}

async function main(): Promise<void> {
  await setupCluster();
  const kc = loadKubeConfig('admin');
  const core = kc.makeApiClient(CoreV1Api);
  const run = uniqueName('bench-sched');
  const namespace = await createTestNamespace(kc, 'bench-sched');
  const rbac = await bindChartRbac({
    template: 'rbac-extender.yaml',
    user: 'smartmig-extender',
    namespace,
    release: run,
  });
  const children: Child[] = [];
  const nodeNames = Array.from({ length: NODES }, (_, i) => `${run}-${i}`);
  try {
    const fakeGpuPort = await freePort();
    const fakeGpu = startSmartmig(
      'fake-gpu',
      [
        ...['--nodes', String(NODES), '--gpus-per-node', '8', '--gpu', 'A100-40GB', '--layout', 'all-balanced'],
        ...['--node-prefix', `${run}-`, '--metrics-port', String(fakeGpuPort), '--time-scale', '1'],
        ...['--config-map', `${namespace}/mig-parted-config`, '--kubeconfig', kubeconfigPath('admin'), '--cleanup'],
        ...['--log-level', 'warn'],
      ],
      { name: 'bench-fake-gpu' },
    );
    children.push(fakeGpu);
    const fakeGpuUrl = `http://127.0.0.1:${fakeGpuPort}`;
    await waitHealthy(fakeGpu, `${fakeGpuUrl}/healthz`, 120_000);
    const extenderPort = Number(new URL(readLocalCluster().extender.url).port);
    const extender = await startExtenderOn(
      extenderPort,
      ['--kubeconfig', kubeconfigPath('extender'), '--log-level', 'warn'],
      { name: 'bench-extender' },
    );
    children.push(extender);
    const extenderUrl = `http://127.0.0.1:${extenderPort}`;
    await waitHealthy(extender, `${extenderUrl}/readyz`);
    const b: Bench = { kc, core, namespace, nodeNames, extenderUrl, fakeGpuUrl };
    await waitFor(
      async () =>
        (sumOf(await extenderVerbTotals(b), 'smartmig_extender_cache_objects', { kind: 'nodes' }) ?? 0) >= NODES,
      { description: `the extender cache to hold the ${NODES} nodes`, timeoutMs: 60_000 },
    );

    log.info('warm-up');
    for (const scheduler of [DEFAULT_SCHEDULER, SMARTMIG_SCHEDULER]) {
      await timedRun(b, scheduler, WARM_UP_PODS);
      await reset(b);
    }
    log.info(`default-scheduler: ${PODS} pods`);
    const plain = await timedRun(b, DEFAULT_SCHEDULER, PODS);
    await reset(b);
    log.info(`smartmig-scheduler: ${PODS} pods`);
    const before = await extenderVerbTotals(b);
    const smart = await timedRun(b, SMARTMIG_SCHEDULER, PODS);
    const after = await extenderVerbTotals(b);
    await reset(b);

    const figures: Figure[] = [
      { name: 'default-scheduler (no extender)', value: plain.podsPerSecond, unit: 'pods/s' },
      { name: 'smartmig-scheduler + extender', value: smart.podsPerSecond, unit: 'pods/s' },
      { name: 'ratio, with / without the extender', value: smart.podsPerSecond / plain.podsPerSecond, unit: '×' },
      { name: 'all bound after uncordon, default-scheduler', value: plain.seconds, unit: 's' },
      { name: 'all bound after uncordon, smartmig-scheduler', value: smart.seconds, unit: 's' },
      { name: 'creating the pods (untimed), default run', value: plain.createSeconds, unit: 's' },
      { name: 'creating the pods (untimed), smartmig run', value: smart.createSeconds, unit: 's' },
    ];
    for (const verb of ['filter', 'prioritize', 'bind']) {
      figures.push({ name: `extender ${verb}, server-side mean`, value: meanMs(before, after, verb), unit: 'ms' });
    }
    printFigures(`scheduler: ${PODS} pods onto ${NODES} emulated nodes (8 A100-40GB each, all-balanced)`, figures);
  } finally {
    for (const c of [...children].reverse()) await c.stop();
    await deleteTestNamespace(kc, namespace);
    for (const name of nodeNames) await ignoreNotFound(core.deleteNode({ name }));
    await rbac.remove();
  }
}

await main();
