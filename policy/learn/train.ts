// Training the mean-field actor on a setting: the actor starts every training day from the best static
// layout (found on the first training seeds, as `compare` finds it) and is scored by its ET gain over that
// layout on the same day, so days of different load weigh alike.
import type * as tf from '@tensorflow/tfjs';
import type { Layout } from '../mig/layout.js';
import { layoutOptions, runDay, type Setting } from '../evaluate/setting.js';
import { meanFieldRepartitioner } from '../repartition/meanfield.js';
import { staticRepartitioner } from '../repartition/static.js';
import type { Job } from '../workload/job.js';
import { buildActor, getFlat, initialWeights, setFlat, type ActorShape } from './actor.js';
import { esStart, esStep, type EsConfig, type EsState, type Generation } from './evolution.js';
import { inputCount } from './features.js';
import { demonstrations, imitate, type FitOptions } from './imitate.js';
import { scheduleRepartitioner, type SchedulePhase } from '../repartition/schedule.js';

export interface ActorSpec {
  readonly hidden: readonly number[];
  /** Minutes between decisions (0: whenever the simulator asks). */
  readonly everyMin: number;
  readonly keepBias: number;
}

export const ACTOR_DEFAULTS: ActorSpec = { hidden: [32, 32], everyMin: 5, keepBias: 1 };

export function actorShape(setting: Setting, hidden: readonly number[]): ActorShape {
  const k = layoutOptions(setting.model).length;
  return { inputs: inputCount(k), hidden, outputs: k + 1 };
}

export interface TrainerOptions {
  readonly setting: Setting;
  readonly actor: ActorSpec;
  readonly es: EsConfig;
  /** Layouts every day starts from (the best static one). */
  readonly start: readonly Layout[];
  /** Seeds the current weights are checked on between generations (never the evaluation seeds). */
  readonly validationSeeds: readonly number[];
  /** Called after every simulated day. */
  readonly onDay?: () => void;
}

export class MeanFieldTrainer {
  readonly net: tf.Sequential;
  readonly shape: ActorShape;
  state: EsState;
  private readonly baseline = new Map<number, number>();
  private readonly jobs = new Map<number, readonly Job[]>();
  private readonly options: Layout[];

  constructor(
    private readonly opts: TrainerOptions,
    resume?: EsState,
  ) {
    this.shape = actorShape(opts.setting, opts.actor.hidden);
    this.net = buildActor(this.shape);
    this.options = layoutOptions(opts.setting.model);
    this.state = resume ?? esStart(initialWeights(this.shape, opts.es.seed, opts.actor.keepBias));
    if (this.state.theta.length !== this.paramCount())
      throw new Error(`trainer: ${this.state.theta.length} weights, the actor has ${this.paramCount()}`);
  }

  private paramCount(): number {
    const dims = [this.shape.inputs, ...this.shape.hidden, this.shape.outputs];
    let n = 0;
    for (let i = 0; i + 1 < dims.length; i++) n += ((dims[i] as number) + 1) * (dims[i + 1] as number);
    return n;
  }

  private day(seed: number): readonly Job[] {
    let jobs = this.jobs.get(seed);
    if (!jobs) {
      jobs = this.opts.setting.workload(seed);
      this.jobs.set(seed, jobs);
    }
    return jobs;
  }

  /** ET of the starting (best static) layout on a seed's day. */
  baselineEt(seed: number): number {
    let et = this.baseline.get(seed);
    if (et === undefined) {
      et = runDay(this.opts.setting, this.opts.start, staticRepartitioner(), seed, this.day(seed)).et;
      this.opts.onDay?.();
      this.baseline.set(seed, et);
    }
    return et;
  }

  /** ET of weights on a seed's day. */
  et(theta: Float32Array, seed: number): number {
    setFlat(this.net, theta);
    const { setting, actor } = this.opts;
    const controller = meanFieldRepartitioner({
      model: setting.model,
      options: this.options,
      net: this.net,
      everyMin: actor.everyMin,
    });
    const et = runDay(setting, this.opts.start, controller, seed, this.day(seed)).et;
    this.opts.onDay?.();
    return et;
  }

  /** Mean ET gain over the starting layout, 1 − ET/ET_start per day. */
  gain(theta: Float32Array, seeds: readonly number[]): number {
    let sum = 0;
    for (const s of seeds) sum += 1 - this.et(theta, s) / this.baselineEt(s);
    return sum / seeds.length;
  }

  /** Starts from an actor that imitates a timetable on the seeds' days (it replaces the current weights). */
  imitateTimetable(phases: readonly SchedulePhase[], seeds: readonly number[], fit: FitOptions): number {
    const { setting, actor, start, onDay } = this.opts;
    const demos = demonstrations({
      setting,
      options: this.options,
      everyMin: actor.everyMin,
      teacher: () => scheduleRepartitioner('timetable', phases),
      start,
      seeds,
      onDay,
    });
    setFlat(this.net, this.state.theta);
    const accuracy = imitate(this.net, demos, fit);
    this.state = esStart(getFlat(this.net));
    return accuracy;
  }

  step(): Generation {
    return esStep(this.state, this.opts.es, (theta, seeds) => this.gain(theta, seeds));
  }

  validate(): number {
    return this.gain(this.state.theta, this.opts.validationSeeds);
  }
}
