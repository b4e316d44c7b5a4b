// startFakeGpu: emulated GPU nodes against a real API server, wired once for the CLI and the tests. It creates
// (or takes over) the nodes, then runs the mig-manager emulation on node watches, the kubelet emulation on pod
// watches, the lease heartbeats and, when asked, the metrics endpoint. In DRA mode the nodes publish NVIDIA's
// DRA driver objects instead of device-plugin capacity, and there is no mig-manager.
import type { KubeConfig, V1Node, V1Pod } from '@kubernetes/client-node';
import { pino, type Logger } from 'pino';
import { ListWatch, listPage, type Backoff } from '../kube/list-watch.js';
import { powerModel } from '../policy/energy/power.js';
import type { ResolvedConfig } from './config.js';
import type { GpuBoard } from './devices.js';
import { deleteResourceSlices, ensureDeviceClasses, publishResourceSlices } from './dra-publisher.js';
import { Heartbeat, LEASE_NAMESPACE } from './heartbeat.js';
import type { Kube } from './kube.js';
import { MERGE_PATCH, STRATEGIC_PATCH, errorText, ignoreNotFound, kubeClients, statusCode } from './kube.js';
import { Kubelet } from './kubelet.js';
import { FAKE_NODE_LABEL, GPU_SLICES_ANNOTATION, MIG_CONFIG_LABEL, MIG_FAILURE_ANNOTATION } from './labels.js';
import type { FakeGpuMetrics, MetricsServer } from './metrics.js';
import { createMetrics, serveMetrics } from './metrics.js';
import type { BusyReconfiguration } from './mig-manager.js';
import { MigManager } from './mig-manager.js';
import { NodeAgent } from './node-agent.js';
import type { NodeSpec } from './node-builder.js';
import {
  buildNode,
  gfdLabelPatch,
  modeLabelPatch,
  nodeLabels,
  nodeResources,
  readyConditions,
  resourcePatch,
} from './node-builder.js';
import { NodeWriter } from './node-writer.js';

/** Shorter than the shared default: an emulated node should catch up soon after the API server returns. */
const WATCH_BACKOFF: Backoff = { minMs: 250, maxMs: 15_000 };

export interface FakeGpuDeps {
  readonly config: ResolvedConfig;
  readonly kc: KubeConfig;
  readonly log?: Logger;
  readonly now?: () => Date;
  /** Interface the metrics endpoint listens on (default all). */
  readonly metricsHost?: string;
}

export interface FakeGpu {
  readonly nodeNames: readonly string[];
  readonly metrics: FakeGpuMetrics;
  /** The metrics endpoint's port, when one is served. */
  readonly metricsPort: number | undefined;
  /** A node's devices and who holds them (read-only use: tests and diagnostics). */
  board(node: string): GpuBoard | undefined;
  /** Every reconfiguration of a GPU that still had pods, in order. */
  busyReconfigurations(): readonly BusyReconfiguration[];
  /** Stops everything; with `cleanup` in the config also deletes the nodes and their leases. */
  stop(): Promise<void>;
}

/** Creates the node, or resets one left by an earlier run to the configured layout. */
async function registerNode(kube: Kube, agent: NodeAgent, spec: NodeSpec, now: Date, log: Logger): Promise<void> {
  const node = buildNode(spec, now);
  try {
    agent.observe(await kube.core.createNode({ body: node }));
    return;
  } catch (err) {
    if (statusCode(err) !== 409) throw err;
  }
  const existing: V1Node = await kube.core.readNode({ name: spec.name });
  log.info({ node: spec.name }, 'node exists: taking it over with the configured layout');
  const current = existing.metadata?.labels;
  const labels = {
    ...gfdLabelPatch(current, nodeLabels(spec)),
    ...modeLabelPatch(current, nodeLabels(spec)),
    ...nodeLabels(spec),
  };
  const annotations = { ...spec.annotations, [MIG_FAILURE_ANNOTATION]: null };
  agent.observe(
    await kube.core.patchNode({ name: spec.name, body: { metadata: { labels, annotations } } }, MERGE_PATCH),
  );
  const resources = nodeResources(spec.model, spec.gpus, spec.base);
  const status = {
    capacity: resourcePatch(existing.status?.capacity, resources),
    allocatable: resourcePatch(existing.status?.allocatable, resources),
    conditions: readyConditions(now),
  };
  await kube.core.patchNodeStatus({ name: spec.name, body: { status } }, STRATEGIC_PATCH);
}

export async function startFakeGpu(deps: FakeGpuDeps): Promise<FakeGpu> {
  const { config } = deps;
  const log = deps.log ?? pino({ name: 'fake-gpu' });
  const now = deps.now ?? (() => new Date());
  const kube = kubeClients(deps.kc);
  const agents = new Map<string, NodeAgent>();
  const power = powerModel(config.model);
  // The gauges read the kubelet, which is built below with the metrics it reports to.
  const kubeletRef: { current?: Kubelet } = {};
  const metrics = createMetrics({
    nodes: () => agents.size,
    usage: () => {
      const total = new Map<string, { busy: number; free: number }>();
      for (const a of agents.values()) {
        for (const [r, u] of a.board.usage()) {
          const t = total.get(r) ?? { busy: 0, free: 0 };
          total.set(r, { busy: t.busy + u.busy, free: t.free + u.free });
        }
      }
      return total;
    },
    runningPods: () => kubeletRef.current?.running() ?? 0,
    watts: () => [...agents.values()].reduce((w, a) => w + a.busyCompute().reduce((s, k) => s + power.watts(k), 0), 0),
  });
  const writer = new NodeWriter(kube, log, metrics, now);
  // Reconfiguration delays in progress, cut short on stop so the process can exit at once.
  const sleeping = new Map<NodeJS.Timeout, () => void>();
  const k = new Kubelet({ config, kube, writer, log, metrics, now, agent: (n) => agents.get(n) });
  kubeletRef.current = k;
  const migManager = new MigManager({
    config,
    kube,
    writer,
    log,
    metrics,
    now,
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          sleeping.delete(timer);
          resolve();
        }, ms);
        sleeping.set(timer, resolve);
      }),
    onPodsLostDevices: (agent, pods, message) => k.killPods(agent, pods, message),
    onSettled: (agent) => k.onNodeSettled(agent),
  });

  const created = now();
  const dra = config.allocationMode === 'dra';
  if (dra) await ensureDeviceClasses(kube, log);
  await Promise.all(
    config.nodeNames.map(async (name) => {
      const gpus = new Array(config.gpusPerNode).fill(config.initial);
      const spec: NodeSpec = {
        name,
        model: config.model,
        gpus,
        config: config.layout,
        base: config.base,
        allocationMode: config.allocationMode,
      };
      const agent = new NodeAgent(spec, nodeLabels(spec));
      await registerNode(
        kube,
        agent,
        { ...spec, annotations: { [GPU_SLICES_ANNOTATION]: NodeWriter.slicesText(agent) } },
        created,
        log,
      );
      if (dra) {
        const node = { name, uid: agent.uid ?? '' };
        await publishResourceSlices(kube, { node, model: config.model, gpus: config.gpusPerNode }, log);
      }
      agents.set(name, agent);
    }),
  );
  log.info(
    {
      nodes: config.nodeNames.length,
      gpusPerNode: config.gpusPerNode,
      gpu: config.model.name,
      allocationMode: config.allocationMode,
      layout: dra ? undefined : config.layout,
    },
    'nodes registered',
  );

  const nodeWatch = new ListWatch<V1Node>(
    {
      resource: 'nodes',
      path: '/api/v1/nodes',
      labelSelector: `${FAKE_NODE_LABEL}=true`,
      backoff: WATCH_BACKOFF,
      list: async () => {
        const r = await kube.core.listNode({ labelSelector: `${FAKE_NODE_LABEL}=true` });
        return listPage(r.items, r.metadata);
      },
      onList: (nodes) => {
        const seen = new Set(nodes.map((n) => n.metadata?.name));
        for (const a of agents.values()) if (!seen.has(a.name)) a.present = false;
        for (const n of nodes) onNode(n);
      },
      onEvent: (type, n) => {
        const agent = agents.get(n.metadata?.name ?? '');
        if (type !== 'DELETED') return onNode(n);
        if (agent?.present) log.warn({ node: agent.name }, 'node was deleted; no longer emulating it');
        if (agent) agent.present = false;
      },
      onRestart: (err, retryInMs) => restarted('nodes', err, retryInMs),
    },
    deps.kc,
  );
  const onNode = (n: V1Node): void => {
    const agent = agents.get(n.metadata?.name ?? '');
    if (!agent?.present) return;
    if (!agent.dynamic) return migManager.onNode(agent, n);
    // The DRA driver creates MIG instances itself; nothing on a DRA node answers mig-manager's label.
    agent.observe(n);
    if (agent.labels[MIG_CONFIG_LABEL] !== undefined && !agent.migConfigIgnored) {
      agent.migConfigIgnored = true;
      log.warn(
        { node: agent.name, config: agent.labels[MIG_CONFIG_LABEL] },
        `${MIG_CONFIG_LABEL} ignored on a DRA node`,
      );
    }
  };
  const restarted = (resource: string, err: unknown, retryInMs: number): void => {
    metrics.watchRestarts.inc({ resource });
    log.warn({ resource, err: errorText(err), retryInMs }, 'list/watch failed; retrying');
  };
  // Bound pods that are not finished: those a kubelet has to run.
  const boundPods = 'spec.nodeName!=,status.phase!=Succeeded,status.phase!=Failed';
  const podWatch = new ListWatch<V1Pod>(
    {
      resource: 'pods',
      path: '/api/v1/pods',
      fieldSelector: boundPods,
      backoff: WATCH_BACKOFF,
      list: async () => {
        const r = await kube.core.listPodForAllNamespaces({ fieldSelector: boundPods });
        return listPage(r.items, r.metadata);
      },
      onList: (pods) => k.onList(pods.filter((p) => agents.has(p.spec?.nodeName ?? ''))),
      onEvent: (type, p) => k.onPod(type, p),
      onRestart: (err, retryInMs) => restarted('pods', err, retryInMs),
    },
    deps.kc,
  );
  await Promise.all([nodeWatch.start(), podWatch.start()]);
  const heartbeat = new Heartbeat(kube, () => agents.values(), config.heartbeatSeconds, log, metrics, now);
  await heartbeat.start();
  let server: MetricsServer | undefined;
  if (config.metricsPort !== undefined) {
    server = await serveMetrics(metrics.registry, config.metricsPort, deps.metricsHost);
    log.info({ port: server.port }, 'serving /metrics');
  }

  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    // Not present: whatever is still in flight writes nothing more.
    for (const a of agents.values()) a.present = false;
    nodeWatch.stop();
    podWatch.stop();
    k.stop();
    writer.stop();
    for (const [timer, wake] of sleeping) {
      clearTimeout(timer);
      wake();
    }
    await heartbeat.stop();
    await server?.close();
    if (config.cleanup) {
      await Promise.all(
        config.nodeNames.map(async (name) => {
          if (dra) await deleteResourceSlices(kube, name);
          await ignoreNotFound(kube.core.deleteNode({ name }));
          await ignoreNotFound(kube.coordination.deleteNamespacedLease({ name, namespace: LEASE_NAMESPACE }));
        }),
      );
      log.info({ nodes: config.nodeNames.length }, 'nodes deleted');
    }
  };
  return {
    nodeNames: config.nodeNames,
    metrics,
    metricsPort: server?.port,
    board: (node) => agents.get(node)?.board,
    busyReconfigurations: () => migManager.busy,
    stop: () => (stopping ??= stop()),
  };
}
