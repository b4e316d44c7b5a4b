// Cluster mode: what Kubernetes can do. A job runs to completion on the slice it starts on; a GPU is
// repartitioned only when idle and is out of service while it reconfigures.
import type { Job } from '../workload/job.js';
import { EventQueue } from './event-queue.js';
import type { RunContext } from './run-context.js';

const COMPLETION = 0;
const RECONFIGURED = 1;

interface Done {
  readonly kind: typeof COMPLETION | typeof RECONFIGURED;
  /** The slice (completion) or GPU (reconfiguration). */
  readonly target: number;
  readonly job?: Job;
}

export function runCluster(ctx: RunContext): void {
  const { cfg, cluster, heuristic, recorder, placement } = ctx;
  const jobs = cfg.jobs;
  const queue = new EventQueue<Done>();
  const waiting = new WaitingQueue(heuristic.compare);
  let next = 0;
  let progressAt = 0;
  (cfg.running ?? []).forEach((r, i) => {
    const slice = cluster.gpuSlices[r.gpu]?.[r.slice];
    if (slice === undefined || cluster.sliceJob[slice] !== -1)
      throw new Error(`running job on GPU ${r.gpu} slice ${r.slice}: no free slice there`);
    // Ids past the job list: these jobs never wait, so no per-job array is read for them.
    const job: Job = { id: jobs.length + i, release: 0, deadline: r.deadline, work: 0, profile: '', kind: 'inference' };
    cluster.occupy(slice, job.id, 0);
    ctx.sliceEnd[slice] = r.endMin;
    queue.push(r.endMin, COMPLETION, { kind: COMPLETION, target: slice, job });
  });
  for (;;) {
    const ta = next < jobs.length ? (jobs[next] as Job).release : Infinity;
    const busy = queue.size > 0 || waiting.size > 0 || next < jobs.length;
    const t = Math.min(ta, queue.peekTime(), busy ? ctx.nextDecisionTime() : Infinity);
    if (t === Infinity) break;
    cluster.advance(t);
    placement.now = t;
    let handled = 0;
    while (queue.peekTime() <= t) {
      const e = (queue.pop() as { value: Done }).value;
      if (e.kind === COMPLETION) {
        cluster.release(e.target, t);
        recorder.completion(e.job as Job, t);
        handled++;
      } else cluster.finishReconfigure(e.target);
    }
    while (next < jobs.length && (jobs[next] as Job).release <= t) {
      const job = jobs[next++] as Job;
      recorder.arrival(job);
      waiting.insert(job);
      handled++;
    }
    ctx.events += handled;
    // A copy: the queue changes in place, and the controller's view may read it after this event.
    for (const g of ctx.repartition(() => [...waiting.jobs], next, t, handled))
      queue.push(t + cfg.reconfigureMin, RECONFIGURED, { kind: RECONFIGURED, target: g });
    if (waiting.size > 0 && cluster.free.total > 0) {
      waiting.drain((job) => {
        const slice = heuristic.choose(job, cluster.free, placement);
        if (slice < 0) return cluster.free.total === 0 ? 'stop' : 'keep';
        cluster.occupy(slice, job.id, t);
        const end = t + ctx.runMinutes(job, cluster.sliceSize[slice] as number);
        ctx.sliceEnd[slice] = end;
        queue.push(end, COMPLETION, { kind: COMPLETION, target: slice, job });
        return cluster.free.total === 0 ? 'placed-stop' : 'placed';
      });
    }
    if (t >= progressAt) {
      cfg.onProgress?.(t);
      progressAt = t + 10;
    }
  }
}

type Verdict = 'placed' | 'placed-stop' | 'keep' | 'stop';

/** Jobs waiting for a slice, kept in the heuristic's order. */
class WaitingQueue {
  readonly jobs: Job[] = [];
  constructor(private readonly compare: (a: Job, b: Job) => number) {}

  get size(): number {
    return this.jobs.length;
  }

  insert(job: Job): void {
    const a = this.jobs;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.compare(a[mid] as Job, job) <= 0) lo = mid + 1;
      else hi = mid;
    }
    a.splice(lo, 0, job);
  }

  /** Offers jobs in order; placed ones leave the queue (in place: the queue can hold many thousands). */
  drain(offer: (job: Job) => Verdict): void {
    const a = this.jobs;
    let i = 0;
    while (i < a.length) {
      const v = offer(a[i] as Job);
      if (v === 'placed' || v === 'placed-stop') a.splice(i, 1);
      else i++;
      if (v === 'stop' || v === 'placed-stop') return;
    }
  }
}
