// Leader election on a coordination.k8s.io Lease, as client-go does it: take the lease when it is free or its
// holder stopped renewing for a full lease duration (measured on our own clock, so clock skew between
// replicas does not matter), renew it every retry period, and step down when renewals fail for the renew
// deadline. Optimistic concurrency (resourceVersion) decides races between candidates.
import type { V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { describeError, statusOf, type Clients } from './kube.js';

export interface LeaderOptions {
  readonly clients: Clients;
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly log: Logger;
  readonly onStartedLeading: () => void;
  readonly onStoppedLeading: () => void;
  readonly now?: () => number;
}

export const LEADER_DEFAULTS = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/** The attempt's answer, or false once `ms` have passed without one. */
function withTimeout(attempt: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([attempt, late]).finally(() => clearTimeout(timer));
}

/** MicroTime as the apiserver wants it: RFC 3339 with six fractional digits. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  /** The lease record as last seen, and when (our clock) it last changed. */
  private observed: { holder: string; renew: string; rv: string } | undefined;
  private observedAt = 0;
  private lastRenew = 0;
  private readonly now: () => number;

  constructor(private readonly opts: LeaderOptions) {
    this.now = opts.now ?? Date.now;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Whether writes are safe now: leading, and the last renewal is younger than the renew deadline. Checked
   * before every write, so that a replica cut off from the API server stops writing at the deadline even
   * while its step-down is still on the way.
   */
  holdsLease(): boolean {
    return this.leading && this.now() - this.lastRenew < this.opts.renewDeadlineMs;
  }

  /** Runs until stop(): tries to acquire, then renews; calls back on every change of leadership. */
  async run(): Promise<void> {
    while (!this.stopped) {
      // An API server that hangs (rather than refuses) must not hold the leader past its renew deadline: the
      // attempt is given up when the deadline comes, and the late answer, if any, is ignored.
      const budget = this.leading
        ? Math.max(1, this.lastRenew + this.opts.renewDeadlineMs - this.now())
        : this.opts.renewDeadlineMs;
      const ok = await withTimeout(this.tryAcquireOrRenew(), budget);
      if (ok) this.lastRenew = this.now();
      if (ok && !this.leading) {
        this.leading = true;
        this.opts.log.info({ identity: this.opts.identity, lease: this.opts.name }, 'became leader');
        this.opts.onStartedLeading();
      } else if (!ok && this.leading && this.now() - this.lastRenew >= this.opts.renewDeadlineMs) {
        this.stepDown('renew deadline passed');
      }
      await this.sleep(this.opts.retryPeriodMs);
    }
  }

  private stepDown(why: string): void {
    if (!this.leading) return;
    this.leading = false;
    const level = why === 'stopped' ? 'info' : 'warn';
    this.opts.log[level]({ identity: this.opts.identity, why }, 'stopped leading');
    this.opts.onStoppedLeading();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }

  private record(lease: V1Lease): void {
    const spec = lease.spec ?? {};
    const next = {
      holder: spec.holderIdentity ?? '',
      renew: String(spec.renewTime ?? ''),
      rv: lease.metadata?.resourceVersion ?? '',
    };
    if (!this.observed || this.observed.holder !== next.holder || this.observed.renew !== next.renew) {
      this.observedAt = this.now();
    }
    this.observed = next;
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { clients, namespace, name, identity } = this.opts;
    const api = clients.coordination;
    const now = this.now();
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.opts.leaseDurationMs / 1000),
      renewTime: microTime(now),
    };
    let lease: V1Lease;
    try {
      lease = await api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (statusOf(err) !== 404) return this.failed('read', err);
      try {
        const body = {
          metadata: { name, namespace },
          spec: { ...spec, acquireTime: microTime(now), leaseTransitions: 0 },
        };
        this.record(await api.createNamespacedLease({ namespace, body: body as unknown as V1Lease }));
        return true;
      } catch (e) {
        return this.failed('create', e);
      }
    }
    this.record(lease);
    const holder = lease.spec?.holderIdentity ?? '';
    const durationMs = (lease.spec?.leaseDurationSeconds ?? 15) * 1000;
    const mine = holder === identity;
    if (!mine && holder !== '' && this.observedAt + durationMs > now) return false;
    const body = {
      ...lease,
      spec: {
        ...lease.spec,
        ...spec,
        acquireTime: mine ? lease.spec?.acquireTime : microTime(now),
        leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + (mine ? 0 : 1),
      },
    };
    try {
      this.record(await api.replaceNamespacedLease({ name, namespace, body: body as unknown as V1Lease }));
      return true;
    } catch (err) {
      return this.failed('update', err);
    }
  }

  private failed(op: string, err: unknown): boolean {
    // A conflict means another candidate won the race: expected, not worth a warning.
    if (statusOf(err) !== 409) this.opts.log.warn({ op, err: describeError(err) }, 'lease call failed');
    return false;
  }

  /** Stops campaigning; with `release`, gives the lease up so that a standby takes over at once. */
  async stop(release = true): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wake?.();
    const was = this.leading;
    this.stepDown('stopped');
    if (!release || !was) return;
    const { clients, namespace, name, identity } = this.opts;
    try {
      const lease = await clients.coordination.readNamespacedLease({ name, namespace });
      if (lease.spec?.holderIdentity !== identity) return;
      const body = { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1 } };
      await clients.coordination.replaceNamespacedLease({ name, namespace, body: body as unknown as V1Lease });
    } catch (err) {
      this.opts.log.warn({ err: describeError(err) }, 'could not release the lease');
    }
  }
}
