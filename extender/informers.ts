// List-then-watch loops (kube/list-watch.ts) that feed the ClusterCache with compact records. The client
// library's makeInformer keeps every full object in memory (50,000 pods would cost hundreds of MB) and stops
// on errors other than 410, so the extender lists in pages and keeps only what the cache records.
import { CustomObjectsApi, type CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { FastifyBaseLogger } from 'fastify';
import { ListWatch, listPage, type Backoff, type ListWatchSpec } from '../kube/list-watch.js';
import { GROUP, PLURAL, VERSION } from '../api/schema.js';
import type { MigPartition } from '../api/types.js';
import type { ClusterCache } from './cache.js';
import { TAINT_RULES, draReflectors } from './dra-informers.js';
import type { ExtenderMetrics } from './metrics.js';
import type { PartitionPolicies } from './partitions.js';
import type { Node, Pod } from './schemas.js';

const PAGE = 500;

/** Pods that still hold or want resources: finished ones leave the watch as DELETED events. */
export const ACTIVE_PODS = 'status.phase!=Succeeded,status.phase!=Failed';

/** What a caller may ask of one loop. */
export type Reflector = Pick<ListWatch<unknown>, 'resource' | 'synced' | 'stop'>;

export interface Informers {
  readonly reflectors: readonly Reflector[];
  readonly synced: () => boolean;
  stop(): void;
}

export function startInformers(opts: {
  kc: KubeConfig;
  core: CoreV1Api;
  cache: ClusterCache;
  policies: PartitionPolicies;
  clock: () => number;
  log: FastifyBaseLogger;
  metrics: ExtenderMetrics;
  backoff?: Backoff;
  /** The MigPartition resource; tests name one the API server does not serve to get a cluster without the CRD. */
  partitionResource?: { group: string; version: string; plural: string };
}): Informers {
  const { kc, core, cache, policies, clock, log, metrics } = opts;
  const crd = opts.partitionResource ?? { group: GROUP, version: VERSION, plural: PLURAL };
  /** Set while the MigPartition CRD is not installed (404): the extender then works with built-in profiles. */
  let noCrd = false;
  /** Set while the API server serves no resource.k8s.io/v1 DeviceTaintRules (404): no DRA node is steered. */
  let noTaintRules = false;
  const reflector = <T>(spec: Omit<ListWatchSpec<T>, 'backoff' | 'onRestart'>): ListWatch<T> =>
    new ListWatch<T>(
      {
        ...spec,
        backoff: opts.backoff,
        onList: (items, resourceVersion) => {
          if (spec.resource === PLURAL) noCrd = false;
          if (spec.resource === TAINT_RULES.plural) noTaintRules = false;
          spec.onList(items, resourceVersion);
          log.info({ resource: spec.resource, count: items.length, resourceVersion }, 'listed');
        },
        onRestart: (err, retryInMs) => {
          const message = err instanceof Error ? err.message : String(err);
          if (spec.resource === PLURAL && httpStatus(err) === 404) {
            // Not a failure: a cluster without the CRD has no policies. Say so once, then retry quietly.
            if (!noCrd)
              log.info({ resource: spec.resource, retryInMs }, 'no MigPartition CRD: built-in workloads only');
            noCrd = true;
            log.debug({ resource: spec.resource, err: message, retryInMs }, 'MigPartition CRD still absent');
            return;
          }
          if (spec.resource === TAINT_RULES.plural && httpStatus(err) === 404) {
            noTaintRules = true;
            log.debug({ resource: spec.resource, err: message, retryInMs }, 'DeviceTaintRules not served');
            return;
          }
          metrics.informerRestarts.inc({ resource: spec.resource });
          log.warn({ resource: spec.resource, err: message, retryInMs }, 'list/watch failed');
        },
      },
      kc,
    );
  // Typed list results carry Date timestamps where the schema types say string; kube.ts reads both.
  const nodes = reflector<Node>({
    resource: 'nodes',
    path: '/api/v1/nodes',
    list: async (token) => {
      const r = await core.listNode({ limit: PAGE, _continue: token });
      return listPage(r.items as unknown as Node[], r.metadata);
    },
    onList: (items) => cache.replaceNodes(items),
    onEvent: (type, n) => (type === 'DELETED' ? cache.deleteNode(n.metadata.name) : cache.upsertNode(n)),
  });
  const pods = reflector<Pod>({
    resource: 'pods',
    path: '/api/v1/pods',
    fieldSelector: ACTIVE_PODS,
    list: async (token) => {
      const r = await core.listPodForAllNamespaces({ limit: PAGE, _continue: token, fieldSelector: ACTIVE_PODS });
      return listPage(r.items as unknown as Pod[], r.metadata);
    },
    onList: (items) => cache.replacePods(items, clock()),
    onEvent: (type, p) => {
      if (type !== 'DELETED') cache.upsertPod(p, clock());
      else if (p.metadata.uid) cache.deletePod(p.metadata.uid);
    },
  });
  const custom = kc.makeApiClient(CustomObjectsApi);
  const partitions = reflector<MigPartition>({
    resource: PLURAL,
    path: `/apis/${crd.group}/${crd.version}/${crd.plural}`,
    list: async (token) => {
      const r = (await custom.listClusterCustomObject({
        ...crd,
        limit: PAGE,
        _continue: token,
      })) as { items: MigPartition[]; metadata?: { resourceVersion?: string; _continue?: string } };
      return listPage(r.items, r.metadata);
    },
    onList: (items) => policies.replace(items),
    onEvent: (type, mp) => (type === 'DELETED' ? policies.delete(mp) : policies.upsert(mp)),
  });
  void nodes.start();
  void pods.start();
  void partitions.start();
  const [slices, claims, rules] = draReflectors(kc, cache.dra, reflector) as [
    ListWatch<unknown>,
    ListWatch<unknown>,
    ListWatch<unknown>,
  ];
  for (const r of [slices, claims, rules]) void r.start();
  const reflectors = [nodes, pods, partitions, slices, claims, rules];
  return {
    reflectors,
    // Without the CRD there is nothing to wait for: built-in profiles and the configured etWeight apply.
    synced: () =>
      nodes.synced &&
      pods.synced &&
      (partitions.synced || noCrd) &&
      slices.synced &&
      claims.synced &&
      (rules.synced || noTaintRules),
    stop: () => reflectors.forEach((r) => r.stop()),
  };
}

/** The HTTP status of a failed list or watch: client-node's ApiException has `code`, a watch's error `statusCode`. */
function httpStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  const v = typeof e.code === 'number' ? e.code : e.statusCode;
  return typeof v === 'number' ? v : undefined;
}
