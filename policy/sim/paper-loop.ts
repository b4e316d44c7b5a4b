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
  const { cfg, cluster, heuristic, recorder, placement, remaining } = ctx;
  const jobs = cfg.jobs;
  const reconfigDone = new EventQueue<number>();
  const order = (a: Active, b: Active): number => heuristic.compare(a.job, b.job);
  let active: Active[] = [];
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
    placement.now = now;
    let handled = 0;
    const still: Active[] = [];
    for (const a of active) {
      if (a.finish <= now) {
        remaining[a.job.id] = 0;
        recorder.completion(a.job, now);
        handled++;
        continue;
      }
      if (a.slice >= 0) remaining[a.job.id] = (remaining[a.job.id] as number) - a.rate * dt;
      still.push(a);
    }
    active = still;
    while (next < jobs.length && (jobs[next] as Job).release <= now) {
      const job = jobs[next++] as Job;
      recorder.arrival(job);
      active.push({ job, slice: -1, rate: 0, finish: Infinity });
      handled++;
    }
    while (reconfigDone.peekTime() <= now) cluster.finishReconfigure((reconfigDone.pop() as { value: number }).value);
    ctx.events += handled;
    cluster.releaseAll(now);
    for (const g of ctx.repartition(() => active.map((a) => a.job), next, now, handled))
      reconfigDone.push(now + cfg.reconfigureMin, 0, g);
    active.sort(order);
    for (const a of active) {
      a.slice = cluster.free.total > 0 ? heuristic.choose(a.job, cluster.free, placement) : -1;
      if (a.slice < 0) continue;
      cluster.occupy(a.slice, a.job.id, now);
      a.rate = a.job.work / cfg.profiles.duration(a.job, cluster.sliceSize[a.slice] as number);
    }
    cfg.onProgress?.(now);
  }
}
