// List-then-watch loops (kube/list-watch.ts) that feed the ClusterCache with compact records. The client
// library's makeInformer keeps every full object in memory (50,000 pods would cost hundreds of MB) and stops
// on errors other than 410, so the extender lists in pages and keeps only what the cache records.
import type { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { FastifyBaseLogger } from 'fastify';
import { ListWatch, listPage, type Backoff, type ListWatchSpec } from '../kube/list-watch.js';
import type { ClusterCache } from './cache.js';
import type { ExtenderMetrics } from './metrics.js';
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
  clock: () => number;
  log: FastifyBaseLogger;
  metrics: ExtenderMetrics;
  backoff?: Backoff;
}): Informers {
  const { kc, core, cache, clock, log, metrics } = opts;
  const reflector = <T>(spec: Omit<ListWatchSpec<T>, 'backoff' | 'onRestart'>): ListWatch<T> =>
    new ListWatch<T>(
      {
        ...spec,
        backoff: opts.backoff,
        onList: (items, resourceVersion) => {
          spec.onList(items, resourceVersion);
          log.info({ resource: spec.resource, count: items.length, resourceVersion }, 'listed');
        },
        onRestart: (err, retryInMs) => {
          metrics.informerRestarts.inc({ resource: spec.resource });
          const message = err instanceof Error ? err.message : String(err);
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
  void nodes.start();
  void pods.start();
  const reflectors = [nodes, pods];
  return {
    reflectors,
    synced: () => reflectors.every((r) => r.synced),
    stop: () => reflectors.forEach((r) => r.stop()),
  };
}
