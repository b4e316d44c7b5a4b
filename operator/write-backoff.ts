// Writes that failed, per object: when the next attempt may go (exponential back-off with jitter, never sooner
// than the Retry-After of a 429) and the HTTP status it failed with, so that each failure is reported once.
// Without the back-off every round retried every failed write at once, which is what an overloaded API
// server needs least. Conflicts (409) are not failures here: the next round redoes them with fresh data.
import { retryAfterHeaderMs } from '../kube/retry-after.js';
import { statusOf } from './kube.js';

export const WRITE_BACKOFF = { baseMs: 1000, maxMs: 300_000 };

export class WriteBackoff {
  private readonly waits = new Map<string, { failures: number; notBefore: number; status: number }>();

  constructor(
    private readonly random: () => number = Math.random,
    private readonly baseMs = WRITE_BACKOFF.baseMs,
    private readonly maxMs = WRITE_BACKOFF.maxMs,
  ) {}

  /** Whether the object may be written at `now`. */
  due(key: string, now: number): boolean {
    const w = this.waits.get(key);
    return w === undefined || now >= w.notBefore;
  }

  /**
   * Records a failed write: the next one waits 2^(n−1) × base (capped), jittered to between half and all of
   * it. Returns whether the failure is news: the object's first since it was last written, or another status.
   */
  failed(key: string, err: unknown, now: number): boolean {
    const status = statusOf(err);
    if (status === 409) return false;
    const before = this.waits.get(key);
    const failures = (before?.failures ?? 0) + 1;
    const exp = Math.min(this.maxMs, this.baseMs * 2 ** (failures - 1));
    const wait = Math.max(exp * (0.5 + this.random() / 2), retryAfterHeaderMs(err) ?? 0);
    if (this.waits.size >= 10_000) this.waits.clear();
    this.waits.set(key, { failures, notBefore: now + wait, status });
    return before?.status !== status;
  }

  succeeded(key: string): void {
    this.waits.delete(key);
  }

  /** The earliest time a deferred write becomes due (Infinity: none waits). */
  nextAt(): number {
    let t = Infinity;
    for (const w of this.waits.values()) t = Math.min(t, w.notBefore);
    return t;
  }
}
