// The one list-then-watch loop behind every cache (extender, operator, fake-gpu). client-node's makeInformer
// and ListWatch keep every full object and stop on errors other than 410 Gone; this one keeps only the
// resourceVersion: it lists in pages, watches from the list's resourceVersion with bookmarks, re-lists on
// 410, resumes after a clean close, and retries anything else with capped exponential back-off and jitter,
// so its callers outlive API server restarts. Callers hold the state they need and log or count restarts.
import { Watch, type KubeConfig } from '@kubernetes/client-node';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One page of a list. A lister that does not page leaves `continueToken` out. */
export interface ListPage<T> {
  readonly items: T[];
  readonly resourceVersion: string;
  readonly continueToken?: string | undefined;
}

export interface Backoff {
  readonly minMs: number;
  readonly maxMs: number;
}
export const DEFAULT_BACKOFF: Backoff = { minMs: 500, maxMs: 30_000 };
/** The API server closes a watch after this; a fresh one then resumes from the last resourceVersion. */
const WATCH_TIMEOUT_S = 300;

export interface ListWatchSpec<T> {
  /** What the caller's logs and metrics call it, e.g. `pods`. */
  readonly resource: string;
  /** Watch path, e.g. /api/v1/pods. */
  readonly path: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly backoff?: Backoff;
  readonly watchTimeoutS?: number;
  /** Lists one page with the same selectors as the watch; `continueToken` is undefined for the first. */
  list(continueToken: string | undefined): Promise<ListPage<T>>;
  /** The full state after every (re)list. */
  onList(items: T[], resourceVersion: string): void;
  onEvent(type: WatchEventType, obj: T): void;
  /** A list or watch failed; the loop tries again in `retryInMs`. */
  onRestart?(err: unknown, retryInMs: number): void;
}

/** A ListPage from a typed list result (its `metadata`). */
export function listPage<T>(
  items: T[],
  meta: { resourceVersion?: string; _continue?: string } | undefined,
): ListPage<T> {
  return { items, resourceVersion: meta?.resourceVersion ?? '', continueToken: meta?._continue };
}

/** Runs once: start() after stop() does nothing. */
export class ListWatch<T> {
  private listed = false;
  private started = false;
  private stopped = false;
  private resourceVersion = '';
  private abort: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private readonly firstList: Promise<void>;
  private resolveFirst!: () => void;

  constructor(
    private readonly spec: ListWatchSpec<T>,
    private readonly kc: KubeConfig,
  ) {
    this.firstList = new Promise((resolve) => (this.resolveFirst = resolve));
  }

  get resource(): string {
    return this.spec.resource;
  }

  /** True once a list has succeeded; stays true through later outages (the caller's state is then stale). */
  get synced(): boolean {
    return this.listed;
  }

  /** Starts; resolves after the first successful list (retrying until then), or on stop(). */
  start(): Promise<void> {
    if (!this.started) {
      this.started = true;
      this.relist();
    }
    return this.firstList;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort?.abort();
    this.resolveFirst();
  }

  private relist(): void {
    if (this.stopped) return;
    this.listAll().then(
      (done) => {
        if (done) this.watch();
      },
      (err: unknown) => this.retry(err, () => this.relist()),
    );
  }

  /** Lists every page; false when stopped meanwhile. */
  private async listAll(): Promise<boolean> {
    const items: T[] = [];
    let token: string | undefined;
    let rv: string;
    do {
      const page = await this.spec.list(token);
      items.push(...page.items);
      token = page.continueToken || undefined;
      rv = page.resourceVersion;
    } while (token && !this.stopped);
    if (this.stopped) return false;
    this.resourceVersion = rv;
    this.failures = 0;
    this.listed = true;
    this.spec.onList(items, rv);
    this.resolveFirst();
    return true;
  }

  private watch(): void {
    if (this.stopped) return;
    // An ERROR event ends the watch: 410 means our resourceVersion is gone and only a re-list helps.
    let failed: { code?: number; message?: string } | undefined;
    const onEvent = (type: string, obj: unknown): void => {
      if (type === 'ERROR') {
        failed = obj as typeof failed;
        this.abort?.abort();
        return;
      }
      const rv = (obj as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
      if (rv) this.resourceVersion = rv;
      // An event (bookmarks too) shows the connection works again.
      this.failures = 0;
      if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') this.spec.onEvent(type, obj as T);
    };
    const onDone = (err: unknown): void => {
      if (this.stopped) return;
      if (failed?.code === 410 || statusCode(err) === 410) return this.relist();
      const failure = failed ? new Error(`watch ERROR ${failed.code ?? '?'}: ${failed.message ?? ''}`) : err;
      if (failure) this.retry(failure, () => this.watch());
      else this.watch();
    };
    const query = {
      resourceVersion: this.resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds: this.spec.watchTimeoutS ?? WATCH_TIMEOUT_S,
      labelSelector: this.spec.labelSelector,
      fieldSelector: this.spec.fieldSelector,
    };
    new Watch(this.kc).watch(this.spec.path, query, onEvent, onDone).then(
      (abort) => {
        if (this.stopped) abort.abort();
        else this.abort = abort;
      },
      (err: unknown) => this.retry(err, () => this.watch()),
    );
  }

  private retry(err: unknown, again: () => void): void {
    if (this.stopped) return;
    this.failures++;
    const { minMs, maxMs } = this.spec.backoff ?? DEFAULT_BACKOFF;
    const base = minMs * 2 ** Math.min(this.failures - 1, 16);
    const delay = Math.round(Math.min(maxMs, base * (0.8 + 0.4 * Math.random())));
    this.spec.onRestart?.(err, delay);
    this.timer = setTimeout(again, delay);
  }
}

function statusCode(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null && 'statusCode' in err ? Number(err.statusCode) : undefined;
}
