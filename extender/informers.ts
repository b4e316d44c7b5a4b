// List-then-watch loops that feed the ClusterCache with compact records. The client library's
// makeInformer keeps every full object in memory (50,000 pods would cost hundreds of MB) and stops on
// errors other than 410, so the extender runs its own: list in pages, watch from the list's
// resourceVersion with bookmarks, re-list on 410 Gone, and retry with capped exponential back-off.
import { Watch, type CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { FastifyBaseLogger } from 'fastify';
import type { ClusterCache } from './cache.js';
import type { ExtenderMetrics } from './metrics.js';
import type { Node, Pod } from './schemas.js';

export interface Reflector {
  readonly resource: string;
  readonly synced: boolean;
  stop(): void;
}

interface Page<T> {
  items: T[];
  resourceVersion: string;
  continueToken?: string;
}

interface ReflectorSpec<T> {
  readonly resource: string;
  /** Watch path, e.g. /api/v1/nodes. */
  readonly path: string;
  readonly fieldSelector?: string;
  list(continueToken: string | undefined): Promise<Page<T>>;
  replace(items: T[]): void;
  upsert(item: T): void;
  remove(item: T): void;
}

const PAGE = 500;

export interface Backoff {
  readonly minMs: number;
  readonly maxMs: number;
}
export const DEFAULT_BACKOFF: Backoff = { minMs: 500, maxMs: 30_000 };
/** The API server closes a watch after this; a fresh one then resumes from the last resourceVersion. */
const WATCH_TIMEOUT_S = 300;

class ListWatch<T> implements Reflector {
  synced = false;
  private stopped = false;
  private resourceVersion = '';
  private abort: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;

  constructor(
    private readonly spec: ReflectorSpec<T>,
    private readonly kc: KubeConfig,
    private readonly log: FastifyBaseLogger,
    private readonly metrics: ExtenderMetrics,
    private readonly backoff: Backoff,
  ) {}

  get resource(): string {
    return this.spec.resource;
  }

  start(): void {
    this.relist();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort?.abort();
  }

  private relist(): void {
    if (this.stopped) return;
    this.listAll().then(
      () => this.watch(),
      (err: unknown) => this.retry(err, () => this.relist()),
    );
  }

  private async listAll(): Promise<void> {
    const items: T[] = [];
    let token: string | undefined;
    let rv: string;
    do {
      const page = await this.spec.list(token);
      items.push(...page.items);
      token = page.continueToken || undefined;
      rv = page.resourceVersion;
    } while (token && !this.stopped);
    this.spec.replace(items);
    this.resourceVersion = rv;
    this.synced = true;
    this.failures = 0;
    this.log.info({ resource: this.spec.resource, count: items.length, resourceVersion: rv }, 'listed');
  }

  private watch(): void {
    if (this.stopped) return;
    let gone = false;
    const onEvent = (type: string, obj: unknown): void => {
      const o = obj as { metadata?: { resourceVersion?: string }; code?: number };
      if (type === 'ERROR') {
        gone = o.code === 410;
        this.abort?.abort();
        return;
      }
      if (o.metadata?.resourceVersion) this.resourceVersion = o.metadata.resourceVersion;
      if (type === 'ADDED' || type === 'MODIFIED') this.spec.upsert(obj as T);
      else if (type === 'DELETED') this.spec.remove(obj as T);
    };
    const onDone = (err: unknown): void => {
      if (this.stopped) return;
      if (gone) this.relist();
      else if (err && !isAbort(err)) this.retry(err, () => this.watch());
      else this.watch();
    };
    new Watch(this.kc)
      .watch(
        this.spec.path,
        {
          resourceVersion: this.resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: WATCH_TIMEOUT_S,
          fieldSelector: this.spec.fieldSelector,
        },
        onEvent,
        onDone,
      )
      .then(
        (abort) => {
          this.abort = abort;
        },
        (err: unknown) => this.retry(err, () => this.watch()),
      );
  }

  private retry(err: unknown, again: () => void): void {
    if (this.stopped) return;
    this.failures++;
    this.metrics.informerRestarts.inc({ resource: this.spec.resource });
    const delay = Math.min(this.backoff.maxMs, this.backoff.minMs * 2 ** Math.min(this.failures - 1, 10));
    const message = err instanceof Error ? err.message : String(err);
    this.log.warn({ resource: this.spec.resource, err: message, retryInMs: delay }, 'list/watch failed');
    this.timer = setTimeout(again, delay * (0.8 + 0.4 * Math.random()));
  }
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.message.includes('aborted'));
}

/** Pods that still hold or want resources: finished ones leave the watch as DELETED events. */
export const ACTIVE_PODS = 'status.phase!=Succeeded,status.phase!=Failed';

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
  const backoff = opts.backoff ?? DEFAULT_BACKOFF;
  // Typed list results carry Date timestamps where the schema types say string; kube.ts reads both.
  const nodes = new ListWatch<Node>(
    {
      resource: 'nodes',
      path: '/api/v1/nodes',
      list: async (token) => {
        const r = await core.listNode({ limit: PAGE, _continue: token });
        return page(r.items as unknown as Node[], r.metadata);
      },
      replace: (items) => cache.replaceNodes(items),
      upsert: (n) => cache.upsertNode(n),
      remove: (n) => cache.deleteNode(n.metadata.name),
    },
    kc,
    log,
    metrics,
    backoff,
  );
  const pods = new ListWatch<Pod>(
    {
      resource: 'pods',
      path: '/api/v1/pods',
      fieldSelector: ACTIVE_PODS,
      list: async (token) => {
        const r = await core.listPodForAllNamespaces({ limit: PAGE, _continue: token, fieldSelector: ACTIVE_PODS });
        return page(r.items as unknown as Pod[], r.metadata);
      },
      replace: (items) => cache.replacePods(items, clock()),
      upsert: (p) => cache.upsertPod(p, clock()),
      remove: (p) => {
        if (p.metadata.uid) cache.deletePod(p.metadata.uid);
      },
    },
    kc,
    log,
    metrics,
    backoff,
  );
  nodes.start();
  pods.start();
  const reflectors = [nodes, pods];
  return {
    reflectors,
    synced: () => reflectors.every((r) => r.synced),
    stop: () => reflectors.forEach((r) => r.stop()),
  };
}

function page<T>(items: T[], meta: { resourceVersion?: string; _continue?: string } | undefined): Page<T> {
  return { items, resourceVersion: meta?.resourceVersion ?? '', continueToken: meta?._continue };
}
