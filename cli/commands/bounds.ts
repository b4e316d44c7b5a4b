// `smartmig bounds`: energy and tardiness lower bounds of a workload, per seed and averaged over seeds.
import { numberFlag, parseFlags, parseIntList, stringFlag, type FlagSpec, type Parsed } from '../args.js';
import type { Command } from '../command.js';
import { loadWorkload } from '../load-workload.js';
import { UsageError } from '../usage-error.js';
import { energyLowerBound, type EnergyLowerBound } from '../../policy/bounds/energy.js';
import { tardinessLowerBound, type TardinessLowerBound } from '../../policy/bounds/tardiness.js';
import { powerModel } from '../../policy/energy/index.js';
import { findGpuModel, GPU_MODELS, type GpuModel } from '../../policy/mig/catalog.js';
import type { Job } from '../../policy/workload/job.js';

const DEFAULTS = { gpus: 8, gpu: 'A100-40GB', workload: 'paper', multiplier: 20, hours: 24, seeds: '1' };
const TARDINESS_DEFAULTS = { jobs: 30, step: 1, timeLimit: 30 };
const WMIN_PER_KWH = 60 * 1000;

const help = `Usage: smartmig bounds [--gpus N] [--gpu MODEL] [--workload paper|FILE] [--multiplier X] [--hours H]
                       [--seeds LIST] [--json] [--tardiness [--tardiness-jobs N] [--step MIN] [--time-limit S]]

Lower bounds that no scheduler can beat on this workload (docs/bounds.md):
  energy      jobs linearised onto whole GPUs at full power, plus idle power on every GPU from time 0 to
              C*, the shortest possible preemptive makespan (W·min and kWh)
  tardiness   a time-indexed MIP on whole GPUs, solved with HiGHS; only for the first N jobs by release,
              because it grows with jobs × time steps

Flags:
  --gpus N              GPUs in the cluster; default ${DEFAULTS.gpus}
  --gpu MODEL           GPU model (${GPU_MODELS.join(', ')}); default ${DEFAULTS.gpu}
  --workload SPEC       "paper" (the diurnal generator) or an openb-format CSV trace; default paper
  --multiplier X        paper: arrival-rate multiplier; default ${DEFAULTS.multiplier}
  --hours H             paper: arrival window in hours; trace: window length; default ${DEFAULTS.hours}
  --seeds LIST          seeds such as 1-5 or 1,3,7; results are given per seed and as means; default ${DEFAULTS.seeds}
  --json                one JSON object instead of the table
  --tardiness           also compute the tardiness bound
  --tardiness-jobs N    jobs it covers (the first N by release); default ${TARDINESS_DEFAULTS.jobs}
  --step MIN            MIP time step in minutes (the bound is within 2·step of the optimum); default ${TARDINESS_DEFAULTS.step}
  --time-limit S        HiGHS time limit per seed in seconds; on expiry its proven bound is reported;
                        default ${TARDINESS_DEFAULTS.timeLimit}`;

interface Settings {
  gpus: number;
  model: GpuModel;
  workload: string;
  multiplier: number;
  hours: number;
  seeds: number[];
  json: boolean;
  tardiness?: { jobs: number; step: number; timeLimit: number };
}

interface SeedResult {
  seed: number;
  source: string;
  jobs: number;
  energy: EnergyLowerBound;
  tardiness?: TardinessLowerBound & { jobs: number };
}

function settings(p: Parsed): Settings {
  const gpuName = stringFlag(p, 'gpu', DEFAULTS.gpu);
  const model = findGpuModel(gpuName);
  if (!model) throw new UsageError(`--gpu: unknown GPU model "${gpuName}" (valid: ${GPU_MODELS.join(', ')})`);
  const seeds = parseIntList('seeds', stringFlag(p, 'seeds', DEFAULTS.seeds));
  const base: Settings = {
    gpus: numberFlag(p, 'gpus', DEFAULTS.gpus, { integer: true, min: 1 }),
    model,
    workload: stringFlag(p, 'workload', DEFAULTS.workload),
    multiplier: positive(p, 'multiplier', DEFAULTS.multiplier),
    hours: positive(p, 'hours', DEFAULTS.hours),
    seeds,
    json: p.values['json'] === true,
  };
  if (p.values['tardiness'] !== true) {
    const stray = ['tardiness-jobs', 'step', 'time-limit'].find((f) => p.values[f] !== undefined);
    if (stray) throw new UsageError(`--${stray}: only meaningful with --tardiness`);
    return base;
  }
  return {
    ...base,
    tardiness: {
      jobs: numberFlag(p, 'tardiness-jobs', TARDINESS_DEFAULTS.jobs, { integer: true, min: 1 }),
      step: positive(p, 'step', TARDINESS_DEFAULTS.step),
      timeLimit: positive(p, 'time-limit', TARDINESS_DEFAULTS.timeLimit),
    },
  };
}

function positive(p: Parsed, name: string, fallback: number): number {
  const v = numberFlag(p, name, fallback);
  if (!(v > 0)) throw new UsageError(`--${name}: expected a number > 0, got "${String(p.values[name])}"`);
  return v;
}

async function boundsForSeed(s: Settings, seed: number): Promise<SeedResult> {
  const loaded = loadWorkload(s.workload, { seed, hours: s.hours, multiplier: s.multiplier, gpu: s.model });
  const power = powerModel(s.model);
  const energy = energyLowerBound(loaded.jobs, { gpus: s.gpus, model: s.model, power: (k) => power.watts(k) });
  const result: SeedResult = { seed, source: loaded.source, jobs: loaded.jobs.length, energy };
  if (!s.tardiness) return result;
  const first = firstJobs(loaded.jobs, s.tardiness.jobs);
  const tardiness = await tardinessLowerBound(first, {
    gpus: s.gpus,
    computeSlices: s.model.computeSlices,
    stepMin: s.tardiness.step,
    timeLimitSec: s.tardiness.timeLimit,
  });
  return { ...result, tardiness: { ...tardiness, jobs: first.length } };
}

/** The first n jobs by release: a lower bound for them holds whatever the later jobs do. */
function firstJobs(jobs: readonly Job[], n: number): Job[] {
  return [...jobs].sort((a, b) => a.release - b.release || a.id - b.id).slice(0, n);
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

function summary(results: readonly SeedResult[]) {
  const pick = (f: (r: SeedResult) => number) => mean(results.map(f));
  const tard = results.flatMap((r) => (r.tardiness ? [r.tardiness.meanTardinessMin] : []));
  return {
    jobs: pick((r) => r.jobs),
    energyWmin: pick((r) => r.energy.energyWmin),
    energyKWh: pick((r) => r.energy.energyWmin) / WMIN_PER_KWH,
    makespanMin: pick((r) => r.energy.makespanMin),
    busyWmin: pick((r) => r.energy.busyWmin),
    idleWmin: pick((r) => r.energy.idleWmin),
    ...(tard.length > 0 && { meanTardinessMin: mean(tard) }),
  };
}

function toJson(s: Settings, results: readonly SeedResult[]): string {
  return JSON.stringify(
    {
      gpus: s.gpus,
      gpu: s.model.name,
      workload: s.workload,
      multiplier: s.multiplier,
      hours: s.hours,
      seeds: results.map((r) => ({ ...r, energy: { ...r.energy, energyKWh: r.energy.energyWmin / WMIN_PER_KWH } })),
      mean: summary(results),
    },
    (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v),
    2,
  );
}

const fmt = (v: number, digits = 0) =>
  v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function toTable(s: Settings, results: readonly SeedResult[]): string {
  const t = s.tardiness;
  const head = [
    'seed',
    'jobs',
    'C* (min)',
    'energy LB (W·min)',
    'kWh',
    ...(t ? ['tardiness LB (min)', 'status', 'gap'] : []),
  ];
  const row = (r: SeedResult) => [
    String(r.seed),
    fmt(r.jobs),
    fmt(r.energy.makespanMin, 2),
    fmt(r.energy.energyWmin),
    fmt(r.energy.energyWmin / WMIN_PER_KWH, 2),
    ...(r.tardiness ? [fmt(r.tardiness.meanTardinessMin, 3), r.tardiness.status, gap(r.tardiness)] : []),
  ];
  const m = summary(results);
  const meanRow = [
    'mean',
    fmt(m.jobs, 1),
    fmt(m.makespanMin, 2),
    fmt(m.energyWmin),
    fmt(m.energyKWh, 2),
    ...(t ? [fmt(m.meanTardinessMin ?? 0, 3), '', ''] : []),
  ];
  const rows = [head, ...results.map(row), ...(results.length > 1 ? [meanRow] : [])];
  const widths = head.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const lines = rows.map((r) =>
    r
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ')
      .trimEnd(),
  );
  const first = results[0];
  return [
    `Lower bounds: ${s.gpus} × ${s.model.name}, ${first ? first.source.replace(/, seed \d+$/, '') : s.workload}`,
    '',
    ...lines,
    '',
    `energy LB: every job linearised onto a whole GPU at full power, plus idle power on all ${s.gpus} GPUs from 0 to C*,`,
    '  the minimum preemptive makespan. No schedule uses less energy from time 0 until its last job ends.',
    ...(t ? tardinessNotes(s, t, results) : []),
  ].join('\n');
}

function tardinessNotes(s: Settings, t: NonNullable<Settings['tardiness']>, results: readonly SeedResult[]): string[] {
  const covered = results[0]?.tardiness?.jobs ?? t.jobs;
  const notes = [
    `tardiness LB: mean over the FIRST ${covered} JOBS by release only (not the whole workload), on ${s.gpus} whole GPUs,`,
    `  step ${t.step} min: the relaxed (preemptive, whole-GPU) optimum is at most ${2 * t.step} min above it. The whole`,
    `  workload's mean tardiness is at least ${covered}/n of it, n being all its jobs.`,
  ];
  if (results.some((r) => r.tardiness?.status === 'time-limit')) {
    notes.push(`  time-limit: HiGHS stopped after ${t.timeLimit} s; its proven bound is shown (valid, maybe loose).`);
  }
  if (results.some((r) => r.tardiness?.status === 'too-large')) {
    notes.push('  too-large: the model was not built (shown as 0); use fewer --tardiness-jobs or a larger --step.');
  }
  return notes;
}

function gap(t: TardinessLowerBound): string {
  if (t.status === 'too-large') return '';
  return Number.isFinite(t.mipGap) ? `${(t.mipGap * 100).toFixed(1)} %` : '—';
}

const FLAGS = {
  gpus: { type: 'string' },
  gpu: { type: 'string' },
  workload: { type: 'string' },
  multiplier: { type: 'string' },
  hours: { type: 'string' },
  seeds: { type: 'string' },
  json: { type: 'boolean' },
  tardiness: { type: 'boolean' },
  'tardiness-jobs': { type: 'string' },
  step: { type: 'string' },
  'time-limit': { type: 'string' },
} satisfies FlagSpec;

export const command: Command = {
  name: 'bounds',
  help,
  flags: FLAGS,
  async run(argv) {
    const parsed = parseFlags(argv, FLAGS);
    const s = settings(parsed);
    const results: SeedResult[] = [];
    for (const seed of s.seeds) results.push(await boundsForSeed(s, seed));
    console.log(s.json ? toJson(s, results) : toTable(s, results));
    return 0;
  },
};
