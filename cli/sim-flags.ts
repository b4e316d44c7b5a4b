// Flags shared by `simulate`, `bounds` and the demo: GPUs, layouts, workload and seeds, checked before
// anything runs, each bad value reported with the flag that carried it.
import { findGpuModel, GPU_MODELS, type GpuModel } from '../policy/mig/catalog.js';
import type { Layout } from '../policy/mig/layout.js';
import { parseLayout } from '../policy/mig/layout-text.js';
import { resolveNamedLayout } from '../policy/mig/named.js';
import type { Job } from '../policy/workload/job.js';
import { numberFlag, parseIntList, stringFlag, type FlagSpec, type Parsed } from './args.js';
import { loadWorkload } from './load-workload.js';
import { UsageError } from './usage-error.js';

// The recorder keeps a row per simulated hour; a year bounds its memory (and no study runs longer).
const MAX_HOURS = 24 * 365;

export const CLUSTER_FLAGS: FlagSpec = {
  gpus: { type: 'string' },
  gpu: { type: 'string' },
  layouts: { type: 'string' },
};

export const WORKLOAD_FLAGS: FlagSpec = {
  workload: { type: 'string' },
  multiplier: { type: 'string' },
  hours: { type: 'string' },
  seeds: { type: 'string' },
  'trace-from': { type: 'string' },
  'time-scale': { type: 'string' },
};

/** The part of --gpu's help that only `simulate` honours. */
export const MIX_HELP = `;
                        or a mix, e.g. A100-40GB:4,H100-80GB:4 (then --gpus is their sum)`;

export const CLUSTER_HELP = `  --gpus N              GPUs in the cluster (default 8)
  --gpu MODEL           GPU model: ${GPU_MODELS.join(', ')} (default A100-40GB)${MIX_HELP}
  --layouts L,L,...     initial layout per GPU, repeated to fill --gpus: paper configuration numbers
                        (1..12), named layouts (all-1g.5gb, all-balanced, all-disabled, ...), or
                        PROFILE@START lists separated by ';' (default: the paper's 1,1,2,3,3,5,5,10)`;

export const WORKLOAD_HELP = `  --workload W          'paper' (the paper's diurnal generator) or a trace CSV path (openb columns)
  --multiplier X        paper workload: arrival-rate multiplier (default 20)
  --hours H             paper workload: hours of arrivals; trace: window length (default 24 / whole trace; ≤ 8760)
  --trace-from MIN      trace: window start, minutes after the first pod (default 0)
  --time-scale X        trace: divide release times by X (default 1)
  --seeds LIST          seeds, e.g. 1-5 or 1,3,7 (default 1)`;

/** The paper's static baseline for 8 GPUs (SMART-MIG, IPDPS 2026). */
const PAPER_STATIC = '1,1,2,3,3,5,5,10';

export interface ClusterChoice {
  /** The first model (the only one unless `--gpu` names several). */
  model: GpuModel;
  /** The model of each GPU, parallel to `layouts`. */
  models: GpuModel[];
  layouts: Layout[];
}

/** --gpu: the GPU model (default A100-40GB). */
export function readGpuModel(p: Parsed): GpuModel {
  const gpuName = stringFlag(p, 'gpu', 'A100-40GB');
  const model = findGpuModel(gpuName);
  if (!model) throw new UsageError(`--gpu: unknown GPU model "${gpuName}" (known: ${GPU_MODELS.join(', ')})`);
  return model;
}

export function readCluster(p: Parsed): ClusterChoice {
  const text = stringFlag(p, 'gpu', 'A100-40GB');
  if (!text.includes(':')) {
    const model = readGpuModel(p);
    const gpus = numberFlag(p, 'gpus', 8, { min: 1, integer: true });
    const layouts = fillLayouts(model, gpus, stringFlag(p, 'layouts'));
    return { model, models: layouts.map(() => model), layouts };
  }
  // A mix: MODEL:N,MODEL:N; --layouts (default all-balanced) is read for each model in turn.
  const groups = text.split(',').map((part) => {
    const m = /^\s*([^:]+):(\d+)\s*$/.exec(part);
    const model = m ? findGpuModel(m[1] as string) : undefined;
    if (!m || !model || Number(m[2]) < 1)
      throw new UsageError(`--gpu: "${part}" is not MODEL:COUNT with a known model (known: ${GPU_MODELS.join(', ')})`);
    return { model, gpus: Number(m[2]) };
  });
  const total = groups.reduce((s, g) => s + g.gpus, 0);
  if (p.values.gpus !== undefined && numberFlag(p, 'gpus', total, { min: 1, integer: true }) !== total)
    throw new UsageError(`--gpus: ${String(p.values.gpus)} differs from the ${total} GPUs --gpu names`);
  const layouts = groups.flatMap((g) => fillLayouts(g.model, g.gpus, stringFlag(p, 'layouts', 'all-balanced'), true));
  const models = groups.flatMap((g) => Array.from({ length: g.gpus }, () => g.model));
  return { model: groups[0]?.model as GpuModel, models, layouts };
}

/** `gpus` layouts of `model` from --layouts (repeated to fill), or the model's default; `mixed` names the model. */
function fillLayouts(model: GpuModel, gpus: number, text: string | undefined, mixed = false): Layout[] {
  const fallback = model.computeSlices === 7 ? PAPER_STATIC : 'all-balanced';
  const pattern = parseLayoutList(model, text ?? fallback);
  if (gpus % pattern.length !== 0) {
    throw new UsageError(
      `--layouts: ${pattern.length} layouts do not fill ${gpus} ${mixed ? `${model.name} ` : ''}GPUs (give 1, a divisor or ${gpus})`,
    );
  }
  return Array.from({ length: gpus }, (_, i) => pattern[i % pattern.length] as Layout);
}

/** A GPU with MIG disabled runs one job at a time on the whole GPU: the full-size instance. */
function fullGpu(model: GpuModel): Layout {
  const full = model.profiles.find((q) => q.computeSlices === model.computeSlices && !q.mediaExtensions);
  return { slices: full ? [{ profile: full.name, start: 0 }] : [] };
}

export function parseLayoutList(model: GpuModel, text: string): Layout[] {
  const parts = text.includes(';') ? text.split(';') : text.split(',');
  const simple = parts.every((s) => /^\s*\d+\s*$/.test(s) || resolveNamedLayout(model, s.trim()));
  const items = simple || text.includes(';') ? parts : [text];
  return items.map((item) => {
    const r = parseLayout(model, item);
    if (!r.ok) throw new UsageError(`--layouts: ${r.message}`);
    return r.migEnabled ? r.layout : fullGpu(model);
  });
}

export interface WorkloadChoice {
  spec: string;
  seeds: number[];
  horizonMin: number;
  /** Jobs for a seed (the generator draws anew; a trace re-synthesises deadlines and profiles). */
  jobsFor(seed: number): Job[];
  describe: string;
}

export function readWorkload(p: Parsed, model: GpuModel): WorkloadChoice {
  const spec = stringFlag(p, 'workload', 'paper');
  const seeds = parseIntList('seeds', stringFlag(p, 'seeds', '1'));
  const isPaper = spec === 'paper';
  const hours = p.values.hours === undefined ? undefined : numberFlag(p, 'hours', 24, { min: 0.01, max: MAX_HOURS });
  const multiplier = numberFlag(p, 'multiplier', 20, { min: 0 });
  if (!isPaper && p.values.multiplier !== undefined)
    throw new UsageError('--multiplier: applies to --workload paper only (use --time-scale for traces)');
  const opts = {
    hours: isPaper ? (hours ?? 24) : hours,
    multiplier,
    gpu: model,
    traceFromMinute: numberFlag(p, 'trace-from', 0, { min: 0 }),
    traceTimeScale: numberFlag(p, 'time-scale', 1, { min: 1e-9 }),
  };
  // Load once up front so a bad path or row fails before any simulation starts.
  const first = loadWorkload(spec, { ...opts, seed: seeds[0] ?? 1 });
  const lastRelease = first.jobs.at(-1)?.release ?? 0;
  return {
    spec,
    seeds,
    horizonMin: isPaper ? (opts.hours as number) * 60 : Math.max(lastRelease, (hours ?? 0) * 60),
    jobsFor: (seed) => (seed === (seeds[0] ?? 1) ? first.jobs : loadWorkload(spec, { ...opts, seed }).jobs),
    describe: first.source,
  };
}
