// The deterministic discrete-event simulator of a MIG cluster: same configuration and seed, same numbers.
import type { Job } from '../workload/job.js';
import type { SimConfig } from './config.js';
import { runCluster } from './cluster-loop.js';
import { runPaper } from './paper-loop.js';
import type { SimResult } from './result.js';
import { RunContext } from './run-context.js';

export function simulate(cfg: SimConfig): SimResult {
  cfg.jobs.forEach((job, i) => {
    // Ids index per-job arrays in the run loops.
    if (job.id !== i) throw new Error(`simulate: job ids must be 0..n−1 in order (job ${i} has id ${job.id})`);
    if (i > 0 && job.release < (cfg.jobs[i - 1] as Job).release)
      throw new Error('simulate: jobs must be sorted by release');
  });
  const ctx = new RunContext(cfg);
  if (cfg.mode === 'paper') runPaper(ctx);
  else runCluster(ctx);
  return ctx.result();
}
