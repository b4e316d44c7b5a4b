// What both run loops share: the cluster, the heuristic, the recorder and the controller schedule.
import { placementHeuristic, type PlacementContext, type PlacementHeuristic } from '../placement/heuristics.js';
import { deriveRng } from '../random.js';
import { speedupOn, speedupTable, type Job } from '../workload/job.js';
import type { SimConfig } from './config.js';
import { DEFAULT_LIMITS } from '../repartition/targets.js';
import { Repartitioning } from './controller-hook.js';
import { Recorder } from './recorder.js';
import { etScore, type SimResult } from './result.js';
import { SimCluster } from './sim-cluster.js';

export class RunContext {
  readonly recorder = new Recorder();
  readonly heuristic: PlacementHeuristic;
  readonly cluster: SimCluster;
  readonly placement: PlacementContext & { now: number };
  /** Work left per job id, minutes on 1g: preempted jobs in paper mode need less than their whole work. */
  readonly remaining: Float64Array;
  /** Expected finish of the job on each busy slice (cluster mode), by slice id. */
  readonly sliceEnd: number[] = [];
  readonly repartitioning: Repartitioning;
  events = 0;
  /** Speed-up tables by job id (shared per profile), indexed by compute slices. */
  private readonly speedups: Float64Array[];
  private eventsSinceDecision = 0;
  private nextDecisionAt: number;
  /** The controller never acts: skip building its view. */
  private readonly controllerIdle: boolean;

  constructor(readonly cfg: SimConfig) {
    this.remaining = new Float64Array(cfg.jobs.length);
    for (const j of cfg.jobs) this.remaining[j.id] = j.work;
    this.speedups = speedupTables(cfg);
    const fullGpu = cfg.gpus[0]?.model.computeSlices ?? 7;
    this.heuristic = placementHeuristic(cfg.placement, cfg.profiles, fullGpu);
    this.cluster = new SimCluster(cfg.gpus, this.heuristic.rank, cfg.powerTable, (from, to, w) =>
      this.recorder.energy(from, to, w),
    );
    const cluster = this.cluster;
    const remaining = this.remaining;
    this.placement = {
      now: 0,
      duration: (job, k) => (remaining[job.id] as number) / this.speedup(job, k),
      busyOf: (slice) => cluster.busy[cluster.sliceGpu[slice] as number] as number,
      gpuOf: (slice) => cluster.sliceGpu[slice] as number,
      watts: (slice, busy) => cluster.wattsOf(cluster.sliceGpu[slice] as number, busy),
      etWeight: cfg.etWeight,
      rng: deriveRng(cfg.seed, 'placement'),
    };
    this.repartitioning = new Repartitioning(
      {
        controller: cfg.repartitioner,
        cluster: this.cluster,
        profiles: cfg.profiles,
        remaining: this.remaining,
        sliceEnd: this.sliceEnd,
      },
      { ...DEFAULT_LIMITS, ...cfg.limits },
      cfg.gpusPerNode ?? 8,
    );
    this.controllerIdle = cfg.repartitioner.name === 'static';
    this.nextDecisionAt = cfg.decideEveryMin ?? Infinity;
  }

  /** `speedupOn` of the job's profile on k compute slices, from the run's tables. */
  speedup(job: Job, k: number): number {
    const s = (this.speedups[job.id] as Float64Array)[k];
    return s === undefined ? speedupOn(this.cfg.profiles.get(job.profile), k) : s;
  }

  /** Minutes the whole job takes on k compute slices: `ProfileBook.duration` without the lookups. */
  runMinutes(job: Job, k: number): number {
    return job.work / this.speedup(job, k);
  }

  /** Counts handled events and says whether the controller is due. */
  private decisionDue(now: number, handled: number): boolean {
    this.eventsSinceDecision += handled;
    const every = this.cfg.decideEveryEvents;
    if (every !== undefined && this.eventsSinceDecision >= every) {
      this.eventsSinceDecision = 0;
      return true;
    }
    if (now >= this.nextDecisionAt) {
      this.nextDecisionAt = nextTick(now, this.cfg.decideEveryMin as number);
      return true;
    }
    return false;
  }

  /** The next time-driven decision point or drain timeout, or Infinity. */
  nextDecisionTime(): number {
    return this.controllerIdle ? Infinity : Math.min(this.nextDecisionAt, this.repartitioning.nextExpiry());
  }

  /**
   * Gives up timed-out drains, runs the controller when due, and starts the changes of idle draining GPUs;
   * returns the GPUs that started reconfiguring.
   */
  repartition(waiting: () => readonly Job[], released: number, now: number, handled: number): number[] {
    if (this.controllerIdle) return [];
    const r = this.repartitioning;
    r.expire(now);
    if (this.decisionDue(now, handled)) r.consult(waiting(), this.cfg.jobs, released, now);
    return r.startReady(now, this.cfg.reconfigureMin);
  }

  result(): SimResult {
    const r = this.recorder;
    const end = Math.max(this.cfg.horizonMin, r.lastCompletion);
    this.cluster.finish(end);
    const energy = this.cluster.energyWmin;
    const meanT = r.completed ? r.tardinessSum / r.completed : 0;
    return {
      jobs: this.cfg.jobs.length,
      completed: r.completed,
      energyWmin: energy,
      energyKWh: energy / 60 / 1000,
      meanTardinessMin: meanT,
      maxTardinessMin: r.maxTardiness,
      onTimeFraction: r.completed ? r.onTime / r.completed : 1,
      et: etScore(energy, meanT, this.cfg.etWeight),
      repartitions: this.repartitioning.repartitions,
      refusedRepartitions: this.repartitioning.refused,
      drainingGpuMin: this.repartitioning.book.drainedMinutes(end),
      abandonedDrains: this.repartitioning.book.abandoned,
      changes: this.repartitioning.changes,
      endMin: end,
      events: this.events,
      hourly: r.hours,
      layoutMinutes: Object.fromEntries(this.cluster.layoutMinutes),
      gpuEnergyWmin: [...this.cluster.gpuEnergy],
    };
  }
}

/**
 * The first multiple of `step` after `now`. With steps that binary floating point cannot hold (20 s is 1/3
 * minute) `floor(now / step) + 1` ticks can land on `now` itself, and a decision point that never moves
 * on would stall the run.
 */
function nextTick(now: number, step: number): number {
  let k = Math.floor(now / step) + 1;
  while (k * step <= now) k++;
  return k * step;
}

/** One speed-up table per profile, listed by job id, up to the largest GPU's compute slices. */
function speedupTables(cfg: SimConfig): Float64Array[] {
  const maxK = cfg.gpus.reduce((k, g) => Math.max(k, g.model.computeSlices), 0);
  const byProfile = new Map<string, Float64Array>();
  return cfg.jobs.map((job) => {
    let table = byProfile.get(job.profile);
    if (table === undefined) {
      table = speedupTable(cfg.profiles.get(job.profile), maxK);
      byProfile.set(job.profile, table);
    }
    return table;
  });
}
