// Wires the operator once: informers, the reconciler, leader election and metrics. `smartmig operator` and the
// integration tests both start the operator through setupControllers.
import {
  CoreV1Api,
  CustomObjectsApi,
  ResourceV1Api,
  type KubeConfig,
  type KubernetesListObject,
  type ResourceV1ResourceClaim,
  type V1ConfigMap,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { GROUP, PLURAL, VERSION } from '../api/schema.js';
import type { MigPartition } from '../api/types.js';
import type { OperatorConfig } from './config.js';
import { Informer } from './informers.js';
import { makeClients } from './kube.js';
import { LeaderElector } from './leader.js';
import { createMetrics, type OperatorMetrics } from './metrics.js';
import { Reconciler, type Caches } from './reconciler.js';

export interface OperatorDeps {
  readonly kc: KubeConfig;
  readonly config: OperatorConfig;
  readonly log: Logger;
  readonly metrics?: OperatorMetrics;
  readonly now?: () => number;
}

export interface Operator {
  readonly metrics: OperatorMetrics;
  readonly reconciler: Reconciler;
  readonly caches: Caches;
  /** Starts the caches, then campaigns for the lease (or acts at once without leader election). */
  start(): Promise<void>;
  /** Stops acting and watching; releases the lease unless `release` is false (a crash-like stop). */
  stop(opts?: { release?: boolean }): Promise<void>;
  isLeader(): boolean;
  /** Whether the caches have synced (readiness). */
  ready(): boolean;
}

type PartitionObject = MigPartition & { metadata?: { name?: string } };

export function setupControllers(deps: OperatorDeps): Operator {
  const { kc, config, log } = deps;
  const metrics = deps.metrics ?? createMetrics();
  const clients = makeClients(kc);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const resource = kc.makeApiClient(ResourceV1Api);
  const cm = config.migConfigMap;
  // The informers call into the reconciler, which needs the informers: tie the knot through a holder.
  const ref: { rec?: Reconciler } = {};
  const restarted = (resource: string) => () => metrics.watchRestarts.inc({ resource });
  const caches: Caches = {
    nodes: new Informer<V1Node>({
      name: 'nodes',
      kc,
      path: '/api/v1/nodes',
      list: () => core.listNode(),
      log,
      onChange: (_v, n) => ref.rec?.onNode(n),
      onRestart: restarted('nodes'),
    }),
    pods: new Informer<V1Pod>({
      name: 'pods',
      kc,
      path: '/api/v1/pods',
      list: () => core.listPodForAllNamespaces(),
      log,
      onChange: (_v, p, old) => ref.rec?.onPod(p, old),
      onRestart: restarted('pods'),
    }),
    partitions: new Informer<PartitionObject>({
      name: 'migpartitions',
      kc,
      path: `/apis/${GROUP}/${VERSION}/${PLURAL}`,
      list: () =>
        custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL }) as Promise<
          KubernetesListObject<PartitionObject>
        >,
      log,
      onChange: (_v, p) => ref.rec?.onPartition(p),
      onRestart: restarted('migpartitions'),
    }),
    configMap: new Informer<V1ConfigMap>({
      name: 'configmap',
      kc,
      path: `/api/v1/namespaces/${cm.namespace}/configmaps`,
      fieldSelector: `metadata.name=${cm.name}`,
      list: () => core.listNamespacedConfigMap({ namespace: cm.namespace, fieldSelector: `metadata.name=${cm.name}` }),
      log,
      onChange: (_v, c) => ref.rec?.onConfigMap(c),
      onRestart: restarted('configmap'),
    }),
    claims: new Informer<ResourceV1ResourceClaim>({
      name: 'resourceclaims',
      kc,
      path: '/apis/resource.k8s.io/v1/resourceclaims',
      list: () => resource.listResourceClaimForAllNamespaces(),
      log,
      onChange: () => ref.rec?.onClaim(),
      onRestart: restarted('resourceclaims'),
    }),
  };
  let elector: LeaderElector | undefined;
  const rec = new Reconciler({
    clients,
    caches,
    config,
    metrics,
    log,
    ...(deps.now ? { now: deps.now } : {}),
    mayWrite: () => elector?.holdsLease() ?? true,
  });
  ref.rec = rec;
  let campaign: Promise<void> | undefined;
  let synced = false;
  let leading = false;

  return {
    metrics,
    reconciler: rec,
    caches,
    async start() {
      await Promise.all(Object.values(caches).map((c: Informer<never>) => c.start()));
      synced = true;
      if (!config.leaderElect) {
        leading = true;
        rec.start();
        return;
      }
      elector = new LeaderElector({
        clients,
        namespace: config.leaseNamespace,
        name: config.leaseName,
        identity: config.identity,
        leaseDurationMs: config.leaseDurationMs,
        renewDeadlineMs: config.renewDeadlineMs,
        retryPeriodMs: config.retryPeriodMs,
        log,
        onStartedLeading: () => {
          leading = true;
          rec.start();
        },
        onStoppedLeading: () => {
          leading = false;
          void rec.stop();
        },
      });
      campaign = elector.run();
    },
    async stop(opts = {}) {
      await elector?.stop(opts.release ?? true);
      await campaign;
      await rec.stop();
      leading = false;
      await Promise.all(Object.values(caches).map((c: Informer<never>) => c.stop()));
    },
    isLeader: () => leading,
    ready: () => synced,
  };
}
