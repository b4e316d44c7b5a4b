// The I/O side of workloads: `paper` runs the generator, anything else is a trace file read from disk and
// handed to the pure parser. Every failure a user can cause becomes a UsageError naming the path and line.
import { readFileSync } from 'node:fs';
import { findGpuModel, GPU_MODELS, type GpuModel } from '../policy/mig/catalog.js';
import { WorkloadParseError } from '../policy/workload/csv.js';
import { generatePaperWorkload } from '../policy/workload/paper-generator.js';
import { parseOpenbPods, type OpenbNote } from '../policy/workload/openb.js';
import type { Job } from '../policy/workload/job.js';
import { UsageError } from './usage-error.js';

export interface LoadWorkloadOptions {
  readonly seed: number;
  /** paper: arrival window (default 24); trace: window length from `traceFromMinute` (default: all). */
  readonly hours?: number;
  /** paper: rate multiplier (default 20). Traces ignore it; use `traceTimeScale`. */
  readonly multiplier?: number;
  /** Target GPU model, as an object or a catalog name/alias. Default A100-40GB. */
  readonly gpu?: GpuModel | string;
  /** paper: hour of day at minute 0. */
  readonly startHour?: number;
  /** trace: window start, minutes after the first pod's creation. */
  readonly traceFromMinute?: number;
  /** trace: divides release times (2 → twice the arrival rate). */
  readonly traceTimeScale?: number;
  /** trace: skip pods that ran longer than this many minutes. */
  readonly traceMaxRunMinutes?: number;
}

export interface LoadedWorkload {
  readonly jobs: Job[];
  readonly skipped: OpenbNote[];
  /** One line saying what was loaded, for reports. */
  readonly source: string;
}

export function loadWorkload(spec: string, opts: LoadWorkloadOptions): LoadedWorkload {
  if (spec === 'paper') return loadPaper(opts);
  const gpu = resolveGpu(opts.gpu);
  let text: string;
  try {
    text = readFileSync(spec, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new UsageError(`workload "${spec}": ${why} (expected "paper" or an openb-format CSV file)`);
  }
  try {
    const r = parseOpenbPods(text, {
      seed: opts.seed,
      gpu,
      ...(opts.hours !== undefined && { hours: opts.hours }),
      ...(opts.traceFromMinute !== undefined && { fromMinute: opts.traceFromMinute }),
      ...(opts.traceTimeScale !== undefined && { timeScale: opts.traceTimeScale }),
      ...(opts.traceMaxRunMinutes !== undefined && { maxRunMinutes: opts.traceMaxRunMinutes }),
    });
    const days = (r.spanMinutes / 1440).toFixed(1);
    const notes = r.adjusted.length > 0 ? `, ${r.adjusted.length} multi-GPU pods on one whole GPU` : '';
    return {
      jobs: r.jobs,
      skipped: r.skipped,
      source: `trace ${spec} (spans ${days} days): ${r.jobs.length} jobs, ${r.skipped.length} rows skipped${notes}, ${gpu.name}, seed ${opts.seed}`,
    };
  } catch (err) {
    if (err instanceof WorkloadParseError) {
      throw new UsageError(err.line > 0 ? `${spec}:${err.line}: ${err.detail}` : `${spec}: ${err.message}`);
    }
    throw err;
  }
}

function loadPaper(opts: LoadWorkloadOptions): LoadedWorkload {
  const hours = opts.hours ?? 24;
  const multiplier = opts.multiplier ?? 20;
  try {
    const jobs = generatePaperWorkload({
      seed: opts.seed,
      hours,
      multiplier,
      ...(opts.startHour !== undefined && { startHour: opts.startHour }),
    });
    return { jobs, skipped: [], source: `paper diurnal ${multiplier}× over ${hours} h, seed ${opts.seed}` };
  } catch (err) {
    if (err instanceof WorkloadParseError) throw new UsageError(err.message);
    throw err;
  }
}

function resolveGpu(gpu: GpuModel | string | undefined): GpuModel {
  if (typeof gpu === 'object') return gpu;
  const found = findGpuModel(gpu ?? 'A100-40GB');
  if (!found) throw new UsageError(`--gpu: "${gpu}" is not one of ${GPU_MODELS.join(', ')}`);
  return found;
}
