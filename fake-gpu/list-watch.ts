// A list-then-watch loop with back-off. client-node's makeInformer re-lists on 410 Gone but stops on any other
// error; this one re-lists on 410, resumes the watch after a clean close, and retries everything else with
// capped exponential back-off, so fake-gpu outlives API server restarts.
import { Watch, type KubeConfig } from '@kubernetes/client-node';

export interface ListWatchSpec<T> {
  readonly resource: string;
  /** Watch path, e.g. /api/v1/pods. */
  readonly path: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  list(): Promise<{ items: T[]; resourceVersion: string }>;
  /** The full state after every (re)list. */
  onList(items: T[]): void;
  onEvent(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T): void;
  onRestart?(err: unknown, retryInMs: number): void;
}

const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 15_000;
/** The API server ends a watch after this; a new one resumes from the last resourceVersion. */
const WATCH_TIMEOUT_S = 240;

export class ListWatch<T> {
  private stopped = false;
  private resourceVersion = '';
  private abort: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private firstList: Promise<void>;
  private resolveFirst!: () => void;

  constructor(
    private readonly spec: ListWatchSpec<T>,
    private readonly kc: KubeConfig,
  ) {
    this.firstList = new Promise((resolve) => (this.resolveFirst = resolve));
  }

  /** Starts; resolves after the first successful list. */
  start(): Promise<void> {
    this.relist();
    return this.firstList;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort?.abort();
    this.resolveFirst();
  }

  private relist(): void {
    if (this.stopped) return;
    this.spec.list().then(
      ({ items, resourceVersion }) => {
        if (this.stopped) return;
        this.resourceVersion = resourceVersion;
        this.failures = 0;
        this.spec.onList(items);
        this.resolveFirst();
        this.watch();
      },
      (err: unknown) => this.retry(err, () => this.relist()),
    );
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
      if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') this.spec.onEvent(type, obj as T);
    };
    const onDone = (err: unknown): void => {
      if (this.stopped) return;
      if (gone) this.relist();
      else if (err && !isAbort(err)) this.retry(err, () => this.watch());
      else this.watch();
    };
    const query: Record<string, string | number | boolean | undefined> = {
      resourceVersion: this.resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds: WATCH_TIMEOUT_S,
    };
    if (this.spec.labelSelector) query.labelSelector = this.spec.labelSelector;
    if (this.spec.fieldSelector) query.fieldSelector = this.spec.fieldSelector;
    new Watch(this.kc).watch(this.spec.path, query, onEvent, onDone).then(
      (abort) => {
        if (this.stopped) abort.abort();
        else this.abort = abort;
      },
      (err: unknown) => this.retry(err, () => this.relist()),
    );
  }

  private retry(err: unknown, again: () => void): void {
    if (this.stopped) return;
    this.failures++;
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(this.failures - 1, 10));
    this.spec.onRestart?.(err, delay);
    this.timer = setTimeout(again, delay * (0.8 + 0.4 * Math.random()));
  }
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.message.includes('aborted'));
}
