// Caches of whole objects on the shared list/watch loop (kube/list-watch.ts), which retries every error with
// back-off. Each keeps the last object per key, so `onChange` gets the old version of an update and a
// re-list after an outage turns into the adds, updates and deletes that happened meanwhile.
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { DEFAULT_BACKOFF, ListWatch, listPage } from '../kube/list-watch.js';
import { describeError } from './kube.js';

export interface InformerOptions<T extends KubernetesObject> {
  readonly name: string;
  readonly kc: KubeConfig;
  /** API path of the collection, e.g. `/api/v1/nodes`. */
  readonly path: string;
  readonly list: () => Promise<KubernetesListObject<T>>;
  readonly fieldSelector?: string;
  readonly log: Logger;
  /** Called on every add, update and delete, with the old object for updates when known. */
  readonly onChange: (verb: 'add' | 'update' | 'delete', obj: T, old: T | undefined) => void;
  readonly onRestart?: () => void;
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

const key = (namespace: string | undefined, name: string | undefined): string => `${namespace ?? ''}/${name ?? ''}`;
const keyOf = (o: KubernetesObject): string => key(o.metadata?.namespace, o.metadata?.name);

export class Informer<T extends KubernetesObject> {
  private readonly lw: ListWatch<T>;
  /** Last seen object per key. */
  private readonly objects = new Map<string, T>();

  constructor(private readonly opts: InformerOptions<T>) {
    this.lw = new ListWatch<T>(
      {
        resource: opts.name,
        path: opts.path,
        fieldSelector: opts.fieldSelector,
        backoff: {
          minMs: opts.minBackoffMs ?? DEFAULT_BACKOFF.minMs,
          maxMs: opts.maxBackoffMs ?? DEFAULT_BACKOFF.maxMs,
        },
        list: async () => {
          const r = await opts.list();
          return listPage(r.items, r.metadata);
        },
        onList: (items) => this.replace(items),
        onEvent: (type, o) => (type === 'DELETED' ? this.remove(o) : this.upsert(o)),
        onRestart: (err, retryMs) => {
          opts.log.warn({ informer: opts.name, err: describeError(err), retryMs }, 'list/watch failed; restarting');
          opts.onRestart?.();
        },
      },
      opts.kc,
    );
  }

  /** Lists and starts watching; resolves once the first list has succeeded (retrying until then). */
  start(): Promise<void> {
    return this.lw.start();
  }

  get hasSynced(): boolean {
    return this.lw.synced;
  }

  list(): readonly T[] {
    return [...this.objects.values()];
  }

  get(name: string, namespace?: string): T | undefined {
    return this.objects.get(key(namespace, name));
  }

  stop(): Promise<void> {
    this.lw.stop();
    return Promise.resolve();
  }

  /** A (re)list: whatever is gone was deleted, the rest added or updated. */
  private replace(items: readonly T[]): void {
    const listed = new Set(items.map(keyOf));
    for (const [k, old] of this.objects) if (!listed.has(k)) this.remove(old);
    for (const o of items) this.upsert(o);
  }

  private upsert(o: T): void {
    const old = this.objects.get(keyOf(o));
    // A re-list repeats what has not changed: no event for those (as client-node's ListWatch).
    if (old && old.metadata?.resourceVersion && old.metadata.resourceVersion === o.metadata?.resourceVersion) return;
    this.objects.set(keyOf(o), o);
    this.opts.onChange(old ? 'update' : 'add', o, old);
  }

  private remove(o: T): void {
    if (this.objects.delete(keyOf(o))) this.opts.onChange('delete', o, undefined);
  }
}
