// The paper's synthetic workload (docs/model.md §2): diurnal Poisson arrivals, an 80/20 inference/training mix,
// lognormal training and exponential inference work, deadlines a little looser than the whole-GPU time.
import { deriveRng, type Rng } from '../random.js';
import { PAPER_PROFILES, speedupOn, type Job, type SpeedupProfile } from './job.js';
import { WorkloadParseError } from './csv.js';

/** Arrival rate in jobs per minute for hours 0..23 at 1× (a diurnal shape from the Alibaba PAI 2020 trace). */
export const PAPER_BASE_RATES: readonly number[] = [
  0.111, 0.083, 0.085, 0.1, 0.137, 0.169, 0.171, 0.169, 0.179, 0.191, 0.201, 0.188, 0.17, 0.177, 0.168, 0.171, 0.163,
  0.138, 0.12, 0.111, 0.129, 0.116, 0.106, 0.104,
];

/** Training time on 1g: lognormal with 90 % of its mass in [40, 60] minutes. */
export const TRAINING_LOG_MEAN = (Math.log(40) + Math.log(60)) / 2;
export const TRAINING_LOG_SD = (Math.log(60) - Math.log(40)) / (2 * 1.645);
/** Inference time on 1g: exponential with this mean, minutes. */
export const INFERENCE_MEAN_MINUTES = 3;
/** Deadline slack: d = r + U(lo, hi) × (time on the whole GPU). */
export const DEADLINE_FACTOR: readonly [number, number] = [1.0, 1.5];
/** Within each kind, the share of BERT jobs (the rest are ResNet). */
export const BERT_SHARE = 2 / 3;

export interface PaperWorkloadOptions {
  readonly seed: number;
  /** Length of the arrival window in hours (fractions allowed). Default 24. */
  readonly hours?: number;
  /** Scales every hourly base rate. Default 20 (the paper's main experiments). */
  readonly multiplier?: number;
  /** Hour of day at minute 0, 0..23. Default 0. */
  readonly startHour?: number;
  /** Share of training jobs. Default 0.2. */
  readonly trainingFraction?: number;
}

/** Expected number of jobs for these options (the integral of the rate), for sizing and tests. */
export function expectedPaperJobs(opts: Omit<PaperWorkloadOptions, 'seed'>): number {
  const { hours, multiplier, startHour } = withDefaults({ seed: 0, ...opts });
  let total = 0;
  for (let h = 0; h < hours; h++) total += rateAt(startHour + h) * multiplier * 60 * Math.min(1, hours - h);
  return total;
}

/**
 * Generates the paper's workload. Same options → identical jobs. Arrival times come from one derived random
 * stream and job attributes from another, with a fixed number of draws per job, so changing the mix or the
 * work distribution never moves an arrival, and changing the rate keeps each job's attribute draws in order.
 */
export function generatePaperWorkload(opts: PaperWorkloadOptions): Job[] {
  const o = withDefaults(opts);
  const releases = arrivals(deriveRng(o.seed, 'paper/arrivals'), o.hours, o.multiplier, o.startHour);
  const attrs = deriveRng(o.seed, 'paper/attributes');
  return releases.map((release, id) => paperJob(attrs, id, release, o.trainingFraction));
}

/** The four paper profiles by kind and model, looked up once. */
const PROFILE = {
  training: { bert: profileNamed('bert-training'), resnet: profileNamed('resnet-training') },
  inference: { bert: profileNamed('bert-inference'), resnet: profileNamed('resnet-inference') },
};

function profileNamed(name: string): SpeedupProfile {
  const p = PAPER_PROFILES.find((x) => x.name === name);
  if (!p) throw new Error(`PAPER_PROFILES lacks ${name}`);
  return p;
}

/** Exactly five uniform draws per job, whatever the job turns out to be. */
function paperJob(rng: Rng, id: number, release: number, trainingFraction: number): Job {
  const [uKind, uModel, uWork1, uWork2, uDeadline] = [rng.next(), rng.next(), rng.next(), rng.next(), rng.next()];
  const kind = uKind < trainingFraction ? 'training' : 'inference';
  const profile = PROFILE[kind][uModel < BERT_SHARE ? 'bert' : 'resnet'];
  const work =
    kind === 'training'
      ? Math.exp(TRAINING_LOG_MEAN + TRAINING_LOG_SD * standardNormal(uWork1, uWork2))
      : -INFERENCE_MEAN_MINUTES * Math.log(1 - uWork1);
  return { id, release, deadline: paperDeadline(release, work, profile, uDeadline), work, profile: profile.name, kind };
}

/** d = r + U(1.0, 1.5) × p_7, with `u` the uniform draw in [0, 1) and p_7 the time on the whole 7g GPU. */
export function paperDeadline(release: number, work: number, profile: SpeedupProfile, u: number): number {
  const [lo, hi] = DEADLINE_FACTOR;
  return release + (lo + (hi - lo) * u) * (work / speedupOn(profile, 7));
}

/** Box–Muller from two uniforms in [0, 1); 1 − u keeps the logarithm finite. */
function standardNormal(u1: number, u2: number): number {
  return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
}

function rateAt(hourOfRun: number): number {
  return PAPER_BASE_RATES[((Math.floor(hourOfRun) % 24) + 24) % 24] ?? 0;
}

/**
 * Non-homogeneous Poisson arrivals with a rate constant within each hour. Within an hour the gaps are
 * exponential at that hour's rate; a gap that runs past the hour's end is dropped and sampling restarts at
 * the boundary with the next rate, which is exact because the exponential distribution is memoryless.
 */
function arrivals(rng: Rng, hours: number, multiplier: number, startHour: number): number[] {
  const out: number[] = [];
  const end = hours * 60;
  for (let h = 0; h * 60 < end; h++) {
    const rate = rateAt(startHour + h) * multiplier;
    const hourEnd = Math.min(end, (h + 1) * 60);
    if (rate <= 0) continue;
    let t = h * 60;
    for (;;) {
      t += -Math.log(1 - rng.next()) / rate;
      if (t >= hourEnd) break;
      out.push(t);
    }
  }
  return out;
}

function withDefaults(opts: PaperWorkloadOptions): Required<PaperWorkloadOptions> {
  const o = { hours: 24, multiplier: 20, startHour: 0, trainingFraction: 0.2, ...opts };
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new WorkloadParseError('E_WORKLOAD_OPTION', 0, `paper workload: ${what}`);
  };
  check(Number.isFinite(o.hours) && o.hours >= 0, `hours must be a number ≥ 0, got ${o.hours}`);
  check(Number.isFinite(o.multiplier) && o.multiplier >= 0, `multiplier must be a number ≥ 0, got ${o.multiplier}`);
  check(Number.isInteger(o.startHour) && o.startHour >= 0 && o.startHour < 24, `startHour must be 0..23`);
  check(o.trainingFraction >= 0 && o.trainingFraction <= 1, `trainingFraction must be in [0, 1]`);
  check(Number.isInteger(o.seed), `seed must be an integer, got ${o.seed}`);
  return o;
}
