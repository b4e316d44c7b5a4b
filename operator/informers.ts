// List-and-watch caches that survive errors. @kubernetes/client-node's ListWatch re-lists after a 410 but stops
// on any other error; this restarts it with exponential back-off and keeps the last cache meanwhile.
import {
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
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

export class Informer<T extends KubernetesObject> {
  private readonly lw: ListWatch<T>;
  private synced = false;
  private stopped = true;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Last seen object per key, to hand `onChange` the old version of an update. */
  private readonly last = new Map<string, T>();

  constructor(private readonly opts: InformerOptions<T>) {
    this.lw = new ListWatch<T>(opts.path, new Watch(opts.kc), opts.list, false, undefined, opts.fieldSelector);
    const key = (o: T): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
    this.lw.on('add', (o) => {
      this.failures = 0;
      const old = this.last.get(key(o));
      this.last.set(key(o), o);
      opts.onChange(old ? 'update' : 'add', o, old);
    });
    this.lw.on('update', (o) => {
      this.failures = 0;
      const old = this.last.get(key(o));
      this.last.set(key(o), o);
      opts.onChange('update', o, old);
    });
    this.lw.on('delete', (o) => {
      this.last.delete(key(o));
      opts.onChange('delete', o, undefined);
    });
    this.lw.on('error', (err) => this.restartLater(err));
  }

  /** Lists and starts watching; resolves once the first list has succeeded (retrying until then). */
  async start(): Promise<void> {
    this.stopped = false;
    while (!this.stopped && !this.synced) {
      let failed = false;
      const onErr = (): void => {
        failed = true;
      };
      this.lw.on('error', onErr);
      await this.lw.start();
      this.lw.off('error', onErr);
      if (!failed) this.synced = true;
      else await new Promise((r) => setTimeout(r, this.backoff()));
    }
  }

  private backoff(): number {
    const min = this.opts.minBackoffMs ?? 500;
    const max = this.opts.maxBackoffMs ?? 30_000;
    return Math.min(max, min * 2 ** Math.min(this.failures, 16));
  }

  private restartLater(err: unknown): void {
    this.failures++;
    if (this.stopped || !this.synced) return;
    const wait = this.backoff();
    this.opts.log.warn(
      { informer: this.opts.name, err: describeError(err), retryMs: wait },
      'watch failed; restarting',
    );
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.stopped) return;
      this.opts.onRestart?.();
      this.lw.start().catch((e: unknown) => this.restartLater(e));
    }, wait);
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  list(): readonly T[] {
    return this.lw.list();
  }

  get(name: string, namespace?: string): T | undefined {
    return this.lw.get(name, namespace);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.lw.stop();
  }
}
