// Paper mode: free, work-conserving preemption. At every arrival and completion all jobs in the system
// are placed afresh by the heuristic; a job keeps the work it has done when it moves.
import type { Job } from '../workload/job.js';
import { EventQueue } from './event-queue.js';
import type { RunContext } from './run-context.js';

interface Active {
  readonly job: Job;
  slice: number;
  /** 1g-minutes done per minute on the current slice. */
  rate: number;
  /** Predicted completion on the current slice, Infinity while waiting. */
  finish: number;
}

export function runPaper(ctx: RunContext): void {
  // Preemption is free here, so a running job is a waiting one with less work: give it in `jobs`.
  if (ctx.cfg.running?.length) throw new Error('paper mode takes running jobs as jobs with their remaining work');
  const { cfg, cluster, heuristic, recorder, remaining } = ctx;
  const jobs = cfg.jobs;
  const reconfigDone = new EventQueue<number>();
  // Jobs in the system in the heuristic's order. Its keys never change while a job waits or runs, so an
  // arrival is inserted once rather than every job being sorted again at every event.
  const active: Active[] = [];
  const arrived: Active[] = [];
  let next = 0;
  let now = 0;
  for (;;) {
    // Completion is decided by predicted finish time, not by remaining work reaching zero: at large times a
    // tiny remainder may be below the clock's resolution and would never run out.
    let tc = Infinity;
    for (const a of active) {
      a.finish = a.slice >= 0 ? now + (remaining[a.job.id] as number) / a.rate : Infinity;
      if (a.finish < tc) tc = a.finish;
    }
    const ta = next < jobs.length ? (jobs[next] as Job).release : Infinity;
    const t = Math.min(tc, ta, reconfigDone.peekTime(), ctx.nextDecisionTime());
    if (t === Infinity) break;
    cluster.advance(t);
    const dt = t - now;
    now = t;
    ctx.placement.now = now;
    let handled = completeAndAdvance(ctx, active, now, dt);
    if (arrived.length > 0) arrived.length = 0;
    while (next < jobs.length && (jobs[next] as Job).release <= now) {
      const job = jobs[next++] as Job;
      recorder.arrival(job);
      arrived.push({ job, slice: -1, rate: 0, finish: Infinity });
      handled++;
    }
    while (reconfigDone.peekTime() <= now) cluster.finishReconfigure((reconfigDone.pop() as { value: number }).value);
    ctx.events += handled;
    cluster.releaseAll(now);
    // The controller sees the jobs in the order they had before this event's arrivals were sorted in.
    const started = ctx.repartition(() => [...active, ...arrived].map((a) => a.job), next, now, handled);
    for (const g of started) reconfigDone.push(now + cfg.reconfigureMin, 0, g);
    for (const a of arrived) insertInOrder(active, a, heuristic.compare);
    placeAll(ctx, active, now);
    cfg.onProgress?.(now);
  }
}

/**
 * Records the jobs that finish by `now` and takes them out of `active` (keeping its order); the others
 * are credited the work done in the last `dt` minutes. Returns the completions.
 */
function completeAndAdvance(ctx: RunContext, active: Active[], now: number, dt: number): number {
  const { recorder, remaining } = ctx;
  let kept = 0;
  for (const a of active) {
    if (a.finish <= now) {
      remaining[a.job.id] = 0;
      recorder.completion(a.job, now);
      continue;
    }
    if (a.slice >= 0) remaining[a.job.id] = (remaining[a.job.id] as number) - a.rate * dt;
    active[kept++] = a;
  }
  const done = active.length - kept;
  if (done > 0) active.length = kept;
  return done;
}

/** Inserts after every job that compares before or equal to it (the heuristics' orders are total). */
function insertInOrder(active: Active[], a: Active, compare: (x: Job, y: Job) => number): void {
  let lo = 0;
  let hi = active.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compare((active[mid] as Active).job, a.job) <= 0) lo = mid + 1;
    else hi = mid;
  }
  active.splice(lo, 0, a);
}

/** Offers every job, in order, a slice of the emptied cluster; those that get none wait. */
function placeAll(ctx: RunContext, active: readonly Active[], now: number): void {
  const { cluster, heuristic, placement } = ctx;
  for (const a of active) {
    a.slice = cluster.free.total > 0 ? heuristic.choose(a.job, cluster.free, placement) : -1;
    if (a.slice < 0) continue;
    cluster.occupy(a.slice, a.job.id, now);
    a.rate = a.job.work / ctx.runMinutes(a.job, cluster.sliceSize[a.slice] as number);
  }
}
