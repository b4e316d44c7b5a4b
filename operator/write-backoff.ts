// Failed writes back off per object: exponential with jitter, and never sooner than the Retry-After of a 429.
// Without it every round retried every failed write at once, which is what an overloaded API server needs
// least. Conflicts (409) are not failures here: the next round redoes them with fresh data.
import { retryAfterHeaderMs } from '../kube/retry-after.js';
import { statusOf } from './kube.js';

export const WRITE_BACKOFF = { baseMs: 1000, maxMs: 300_000 };

export class WriteBackoff {
  private readonly waits = new Map<string, { failures: number; notBefore: number }>();

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

  /** Records a failed write: the next one waits 2^(n−1) × base (capped), jittered to between half and all of it. */
  failed(key: string, err: unknown, now: number): void {
    if (statusOf(err) === 409) return;
    const failures = (this.waits.get(key)?.failures ?? 0) + 1;
    const exp = Math.min(this.maxMs, this.baseMs * 2 ** (failures - 1));
    const wait = Math.max(exp * (0.5 + this.random() / 2), retryAfterHeaderMs(err) ?? 0);
    if (this.waits.size >= 10_000) this.waits.clear();
    this.waits.set(key, { failures, notBefore: now + wait });
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
