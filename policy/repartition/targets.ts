// The drain contract, one definition for the simulator and the operator. A controller sets a target layout
// per GPU, busy or not; a GPU whose target differs from its layout is draining: it takes no new work, and it
// changes once its last busy slice is free. The MigPartition limits (minimum dwell, nodes changing at once,
// drain timeout) are applied here, so a controller scored in the simulator meets the same rules in a cluster.
import { layoutsEqual, type Layout } from '../mig/layout.js';
import type { LayoutChange } from './controller.js';

export interface RepartitionLimits {
  /** Minutes between two decisions of the controller (cluster mode; paper mode decides every 5 events). */
  readonly decisionIntervalMin: number;
  /** Minutes a GPU keeps a layout before a new target is accepted. */
  readonly minDwellMin: number;
  /** Nodes draining or reconfiguring at the same time, at most. */
  readonly maxNodesReconfiguring: number;
  /** Minutes after which a drain that has not completed is given up (Infinity: wait). */
  readonly drainTimeoutMin: number;
}

export const DEFAULT_LIMITS: RepartitionLimits = {
  decisionIntervalMin: 1,
  minDwellMin: 0,
  maxNodesReconfiguring: Infinity,
  drainTimeoutMin: Infinity,
};

/** Whether a GPU with this layout and target is draining: it takes no new work until it has changed. */
export function isDraining(layout: Layout, target: Layout | undefined): boolean {
  return target !== undefined && target !== layout && !layoutsEqual(target, layout);
}

/** What the book needs to know of a GPU when it judges a target. */
export interface GpuFacts {
  readonly node: number;
  readonly layout: Layout;
  /** Minutes of the last layout change (−Infinity if never). */
  readonly lastChange: number;
  /** Out of service while its node applies a change. */
  readonly reconfiguring: boolean;
}

export type TargetVerdict = 'drain' | 'cancel' | 'same' | 'dwell' | 'node-limit' | 'reconfiguring' | 'unknown-gpu';

export interface TargetOutcome {
  readonly gpu: number;
  readonly verdict: TargetVerdict;
}

/**
 * The targets of a cluster's GPUs and when each drain began. Pure bookkeeping: callers say what the GPUs
 * are, it says which targets hold and which GPUs may change now.
 */
export class TargetBook {
  private readonly target: (Layout | undefined)[];
  private readonly since: number[];
  private drainingMinutes = 0;
  abandoned = 0;
  /** GPUs with a target. */
  draining = 0;

  constructor(
    gpuCount: number,
    private readonly limits: RepartitionLimits,
  ) {
    this.target = new Array<Layout | undefined>(gpuCount).fill(undefined);
    this.since = new Array<number>(gpuCount).fill(0);
  }

  targetOf(g: number): Layout | undefined {
    return this.target[g];
  }

  drainingSince(g: number): number | undefined {
    return this.target[g] === undefined ? undefined : this.since[g];
  }

  /** GPU-minutes spent draining by drains that ended (changed, cancelled or given up) before `now`. */
  drainedMinutes(now: number): number {
    let open = 0;
    this.target.forEach((t, g) => {
      if (t !== undefined) open += now - (this.since[g] as number);
    });
    return this.drainingMinutes + open;
  }

  /**
   * Applies a controller's targets under the limits. `nodeChanging(n)` says whether node n is reconfiguring
   * now; a node counts against maxNodesReconfiguring while one of its GPUs drains or it reconfigures.
   */
  propose(
    changes: readonly LayoutChange[],
    gpus: readonly GpuFacts[],
    now: number,
    nodeChanging: (node: number) => boolean,
  ): TargetOutcome[] {
    const busyNodes = new Set<number>();
    gpus.forEach((f, g) => {
      if (this.target[g] !== undefined || nodeChanging(f.node)) busyNodes.add(f.node);
    });
    const out: TargetOutcome[] = [];
    for (const c of changes) {
      const f = gpus[c.gpu];
      const verdict = f ? this.judge(c.gpu, c.layout, f, now, busyNodes) : 'unknown-gpu';
      if (verdict === 'drain') {
        if (this.target[c.gpu] === undefined) {
          this.since[c.gpu] = now;
          this.draining++;
        }
        this.target[c.gpu] = c.layout;
        busyNodes.add((f as GpuFacts).node);
      } else if (verdict === 'cancel') this.end(c.gpu, now);
      out.push({ gpu: c.gpu, verdict });
    }
    return out;
  }

  /** The GPU has started its change: its drain is over. */
  started(g: number, now: number): void {
    this.end(g, now);
  }

  /** Gives up drains older than the timeout; returns the GPUs that take work again. */
  expire(now: number): number[] {
    const limit = this.limits.drainTimeoutMin;
    if (limit === Infinity || this.draining === 0) return [];
    const out: number[] = [];
    this.target.forEach((t, g) => {
      if (t !== undefined && now - (this.since[g] as number) >= limit) {
        this.end(g, now);
        this.abandoned++;
        out.push(g);
      }
    });
    return out;
  }

  /** The earliest time a drain times out, or Infinity. */
  nextExpiry(): number {
    const limit = this.limits.drainTimeoutMin;
    if (limit === Infinity || this.draining === 0) return Infinity;
    let t = Infinity;
    this.target.forEach((x, g) => {
      if (x !== undefined) t = Math.min(t, (this.since[g] as number) + limit);
    });
    return t;
  }

  private judge(g: number, layout: Layout, f: GpuFacts, now: number, busyNodes: Set<number>): TargetVerdict {
    const current = this.target[g];
    if (!isDraining(f.layout, layout)) return current === undefined ? 'same' : 'cancel';
    if (current !== undefined && layoutsEqual(current, layout)) return 'same';
    if (f.reconfiguring) return 'reconfiguring';
    if (now - f.lastChange < this.limits.minDwellMin) return 'dwell';
    if (!busyNodes.has(f.node) && busyNodes.size >= this.limits.maxNodesReconfiguring) return 'node-limit';
    return 'drain';
  }

  private end(g: number, now: number): void {
    if (this.target[g] === undefined) return;
    this.drainingMinutes += now - (this.since[g] as number);
    this.target[g] = undefined;
    this.draining--;
  }
}
