// Alibaba's GPU-sharing trace v2023 ("openb", Weng et al., USENIX ATC 2023) as MIG jobs. Pure: CSV text in,
// jobs out; reading the file is the caller's business (cli/load-workload.ts).
import { deriveRng } from '../random.js';
import { computeProfiles, findGpuModel, type GpuModel } from '../mig/catalog.js';
import { PAPER_PROFILES, speedupOn, type Job, type JobKind, type SpeedupProfile } from './job.js';
import { BERT_SHARE, DEADLINE_FACTOR } from './paper-generator.js';
import { readCsv, WorkloadParseError, type CsvRecord } from './csv.js';

export const OPENB_COLUMNS = [
  'name',
  'cpu_milli',
  'memory_mib',
  'num_gpu',
  'gpu_milli',
  'gpu_spec',
  'qos',
  'pod_phase',
  'creation_time',
  'deletion_time',
  'scheduled_time',
] as const;
type Column = (typeof OPENB_COLUMNS)[number];

export interface OpenbOptions {
  readonly seed: number;
  /** Target GPU model whose slices the requests are mapped onto. Default A100-40GB. */
  readonly gpu?: GpuModel;
  /** Window start, minutes after the earliest creation time in the file. Default 0. */
  readonly fromMinute?: number;
  /** Window length in hours; pods created outside [from, from + hours) are skipped. Default: to the end. */
  readonly hours?: number;
  /** Divides release times after the window start (2 → arrivals twice as dense). Work is unchanged. Default 1. */
  readonly timeScale?: number;
  /** Pods that ran longer than this on their slice are skipped (long-lived services). Default: no limit. */
  readonly maxRunMinutes?: number;
  /** Share of pods given a training profile in the synthesised mix. Default 0.2, as the paper. */
  readonly trainingFraction?: number;
}

/** A pod kept, but not as the trace has it. */
export interface OpenbNote {
  readonly line: number;
  readonly name: string;
  readonly reason: string;
}

export interface OpenbResult {
  readonly jobs: Job[];
  /** Every data row that did not become a job, and why. */
  readonly skipped: OpenbNote[];
  /** Jobs changed to fit the model, e.g. a multi-GPU pod run on one whole GPU. */
  readonly adjusted: OpenbNote[];
  /** Minutes from the earliest to the latest creation time in the file. */
  readonly spanMinutes: number;
}

interface Row {
  line: number;
  name: string;
  numGpu: number;
  gpuMilli: number;
  phase: string;
  creation: number;
  deletion: number | undefined;
  scheduled: number | undefined;
}

/** One uniform draw each for kind, model and deadline, for every data row, kept or not. */
interface Draws {
  kind: number;
  model: number;
  deadline: number;
}

/**
 * Turns openb pod rows into jobs.
 *
 * - Slice: the pod asks num_gpu × gpu_milli/1000 of a GPU; it gets the smallest compute profile of the target
 *   model that covers that fraction (k/7 on a seven-slice GPU), and `minCompute = k`. Pods with num_gpu > 1
 *   become one whole GPU and are listed in `adjusted`.
 * - Release: creation time in minutes after the window start (the earliest creation time when no window),
 *   divided by `timeScale`.
 * - Work on 1g: run time (deletion − scheduled) × the profile's speed-up on the pod's slice, so the job takes
 *   as long on that slice as the pod ran.
 * - Profile: the trace names no models, so each pod draws one from the paper's mix with a seeded stream:
 *   training with probability `trainingFraction`, then BERT with probability 2/3, else ResNet.
 * - Deadline: as the paper, d = r + U(1.0, 1.5) × (time on the whole GPU).
 *
 * The draws come from one stream, three per data row in file order whether the row is kept or not, so a pod's
 * profile and deadline depend only on the seed and its row, never on the window or the other options.
 *
 * Skipped with a reason: CPU-only pods, pods never scheduled, pods still running when the trace ends (their
 * deletion is the trace's last timestamp, or empty), zero run time, outside the window, longer than
 * `maxRunMinutes`. Throws WorkloadParseError (with the line) on an unknown or missing column, a wrong field
 * count, a non-numeric field, or times out of order.
 */
export function parseOpenbPods(csvText: string, opts: OpenbOptions): OpenbResult {
  const o = checkOptions(opts);
  const records = readCsv(csvText);
  const header = records[0];
  if (!header) throw new WorkloadParseError('E_CSV_EMPTY', 1, 'the file is empty; expected an openb header');
  const index = headerIndex(header);
  const rows = records.slice(1).map((r) => parseRow(r, index));
  // reduce, not Math.min(...): a long trace would overflow the argument list.
  const origin = rows.reduce((m, r) => Math.min(m, r.creation), rows[0]?.creation ?? 0);
  const spanMinutes = (rows.reduce((m, r) => Math.max(m, r.creation), origin) - origin) / 60;
  const traceEnd = rows.reduce((m, r) => Math.max(m, r.deletion ?? -Infinity), -Infinity);
  const rng = deriveRng(o.seed, 'openb/attributes');
  const sizes = sliceSizes(o.gpu);
  const full = o.gpu.computeSlices;
  const jobs: Job[] = [];
  const skipped: OpenbNote[] = [];
  const adjusted: OpenbNote[] = [];
  for (const row of rows) {
    const draws: Draws = { kind: rng.next(), model: rng.next(), deadline: rng.next() };
    const sinceStart = (row.creation - origin) / 60 - o.fromMinute;
    const why = skipReason(row, sinceStart, traceEnd, o);
    if (why) {
      skipped.push({ line: row.line, name: row.name, reason: why });
      continue;
    }
    const k = row.numGpu > 1 ? full : coveringSlice(sizes, (row.numGpu * row.gpuMilli) / 1000);
    if (row.numGpu > 1) {
      adjusted.push({ line: row.line, name: row.name, reason: `asked for ${row.numGpu} GPUs; runs on one whole GPU` });
    }
    const profile = drawProfile(draws, o.trainingFraction);
    const runMinutes = ((row.deletion ?? 0) - (row.scheduled ?? 0)) / 60;
    const work = runMinutes * speedupOn(profile, k);
    const release = sinceStart / o.timeScale;
    const [lo, hi] = DEADLINE_FACTOR;
    const deadline = release + (lo + (hi - lo) * draws.deadline) * (work / speedupOn(profile, full));
    jobs.push({
      id: 0,
      release,
      deadline,
      work,
      profile: profile.name,
      kind: profile.kind,
      minCompute: k,
      name: row.name,
    });
  }
  jobs.sort((a, b) => a.release - b.release);
  return { jobs: jobs.map((j, id) => ({ ...j, id })), skipped, adjusted, spanMinutes };
}

/** Smallest compute profile size whose share of the GPU covers `fraction`; the whole GPU if none smaller does. */
export function coveringSlice(sizes: readonly number[], fraction: number, full = Math.max(...sizes)): number {
  // Requests are in thousandths; the tolerance keeps exactly 2/7 etc. from rounding up a size.
  return sizes.find((k) => k / full + 1e-9 >= fraction) ?? full;
}

/** Distinct compute sizes of the model's general-purpose profiles, ascending: [1, 2, 3, 4, 7] on an A100. */
export function sliceSizes(model: GpuModel): number[] {
  return [...new Set(computeProfiles(model).map((p) => p.computeSlices))].sort((a, b) => a - b);
}

function skipReason(row: Row, sinceStart: number, traceEnd: number, o: Required<OpenbOptions>): string | undefined {
  if (row.numGpu === 0) return 'CPU-only pod (num_gpu 0)';
  if (row.scheduled === undefined) return `never scheduled (phase ${row.phase || 'unknown'})`;
  if (row.deletion === undefined) return 'no deletion time; run time unknown';
  if (row.phase === 'Running' && row.deletion === traceEnd)
    return 'still running when the trace ends; run time unknown';
  if (row.deletion === row.scheduled) return 'zero run time';
  if (sinceStart < 0 || sinceStart >= o.hours * 60) return 'created outside the time window';
  const run = (row.deletion - row.scheduled) / 60;
  if (run > o.maxRunMinutes) return `ran ${Math.round(run)} min, longer than maxRunMinutes ${o.maxRunMinutes}`;
  return undefined;
}

function drawProfile(d: Draws, trainingFraction: number): SpeedupProfile {
  const kind: JobKind = d.kind < trainingFraction ? 'training' : 'inference';
  const model = d.model < BERT_SHARE ? 'bert' : 'resnet';
  const p = PAPER_PROFILES.find((x) => x.name === `${model}-${kind}`);
  if (!p) throw new Error(`PAPER_PROFILES lacks ${model}-${kind}`);
  return p;
}

function headerIndex(header: CsvRecord): Record<Column, number> {
  const names = header.fields.map((f) => f.trim());
  const unknown = names.filter((n) => !(OPENB_COLUMNS as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new WorkloadParseError(
      'E_CSV_HEADER',
      header.line,
      `unknown column(s) ${unknown.map((u) => `"${u}"`).join(', ')}; expected ${OPENB_COLUMNS.join(',')}`,
    );
  }
  const missing = OPENB_COLUMNS.filter((c) => !names.includes(c));
  if (missing.length > 0 || names.length !== OPENB_COLUMNS.length) {
    const what = missing.length > 0 ? `missing column(s) ${missing.join(', ')}` : 'a column appears twice';
    throw new WorkloadParseError('E_CSV_HEADER', header.line, `${what}; expected ${OPENB_COLUMNS.join(',')}`);
  }
  return Object.fromEntries(OPENB_COLUMNS.map((c) => [c, names.indexOf(c)])) as Record<Column, number>;
}

function parseRow(rec: CsvRecord, index: Record<Column, number>): Row {
  const { line, fields } = rec;
  if (fields.length !== OPENB_COLUMNS.length) {
    throw new WorkloadParseError(
      'E_CSV_COLUMNS',
      line,
      `expected ${OPENB_COLUMNS.length} fields, found ${fields.length}`,
    );
  }
  const text = (c: Column) => (fields[index[c]] ?? '').trim();
  const num = (c: Column, opt: { integer?: boolean; optional?: boolean } = {}): number | undefined => {
    const raw = text(c);
    if (raw === '' && opt.optional) return undefined;
    const n = Number(raw);
    if (raw === '' || !Number.isFinite(n) || n < 0 || (opt.integer && !Number.isInteger(n))) {
      const kind = opt.integer ? 'a whole number ≥ 0' : 'a number ≥ 0';
      throw new WorkloadParseError('E_CSV_NUMBER', line, `${c} must be ${kind}, got "${raw}"`);
    }
    return n;
  };
  num('cpu_milli');
  num('memory_mib');
  const row: Row = {
    line,
    name: text('name') || `line-${line}`,
    numGpu: num('num_gpu', { integer: true }) ?? 0,
    gpuMilli: num('gpu_milli') ?? 0,
    phase: text('pod_phase'),
    creation: num('creation_time') ?? 0,
    deletion: num('deletion_time', { optional: true }),
    scheduled: num('scheduled_time', { optional: true }),
  };
  checkRow(row);
  return row;
}

function checkRow(r: Row): void {
  const bad = (msg: string) => new WorkloadParseError('E_CSV_TIME_ORDER', r.line, `${r.name}: ${msg}`);
  if (r.deletion !== undefined && r.deletion < r.creation) throw bad('deletion_time is before creation_time');
  if (r.scheduled !== undefined && r.scheduled < r.creation) throw bad('scheduled_time is before creation_time');
  if (r.scheduled !== undefined && r.deletion !== undefined && r.deletion < r.scheduled) {
    throw bad('deletion_time is before scheduled_time');
  }
  if (r.numGpu === 1 && (r.gpuMilli <= 0 || r.gpuMilli > 1000)) {
    throw new WorkloadParseError('E_CSV_NUMBER', r.line, `${r.name}: gpu_milli must be in 1..1000 for one GPU`);
  }
}

function checkOptions(opts: OpenbOptions): Required<OpenbOptions> {
  const gpu = opts.gpu ?? findGpuModel('A100-40GB');
  if (!gpu) throw new Error('catalog lacks A100-40GB');
  const o = {
    fromMinute: 0,
    hours: Infinity,
    timeScale: 1,
    maxRunMinutes: Infinity,
    trainingFraction: 0.2,
    ...opts,
    gpu,
  };
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new WorkloadParseError('E_WORKLOAD_OPTION', 0, `openb: ${what}`);
  };
  check(Number.isInteger(o.seed), `seed must be an integer, got ${o.seed}`);
  check(Number.isFinite(o.fromMinute) && o.fromMinute >= 0, `fromMinute must be a number ≥ 0`);
  check(o.hours > 0, `hours must be > 0`);
  check(Number.isFinite(o.timeScale) && o.timeScale > 0, `timeScale must be > 0`);
  check(o.maxRunMinutes > 0, `maxRunMinutes must be > 0`);
  check(o.trainingFraction >= 0 && o.trainingFraction <= 1, `trainingFraction must be in [0, 1]`);
  return o;
}
