// Asks the repartitioning controller for layouts and applies what the cluster's rules allow.
import { computeProfiles, type GpuModel } from '../mig/catalog.js';
import { lateChoice } from '../placement/late-choice.js';
import type { Arrival, ClusterView, PendingDemand, Repartitioner, RunningWork } from '../repartition/controller.js';
import { TargetBook, type RepartitionLimits } from '../repartition/targets.js';
import type { Job, ProfileBook } from '../workload/job.js';
import type { SimCluster } from './sim-cluster.js';

/**
 * The profile a waiting job would ask for, as the admission webhook picks it when nothing is free: the
 * smallest that meets its deadline, else the late-job choice (late-choice.ts).
 */
export function demandProfile(model: GpuModel, job: Job, profiles: ProfileBook, now: number): string {
  const min = job.minCompute ?? 0;
  const options = smallestProfilePerSize(model).filter((o) => o.k >= min);
  for (const o of options) if (now + profiles.duration(job, o.k) <= job.deadline) return o.name;
  const late = lateChoice(options.map((o) => ({ ...o, compute: o.k, duration: profiles.duration(job, o.k) })));
  return (late ?? (smallestProfilePerSize(model).at(-1) as { name: string })).name;
}

const PER_SIZE = new WeakMap<GpuModel, { k: number; name: string }[]>();

function smallestProfilePerSize(model: GpuModel): { k: number; name: string }[] {
  let list = PER_SIZE.get(model);
  if (!list) {
    const bySize = new Map<number, { k: number; name: string; mem: number }>();
    for (const p of computeProfiles(model)) {
      const cur = bySize.get(p.computeSlices);
      if (!cur || p.memorySlices < cur.mem)
        bySize.set(p.computeSlices, { k: p.computeSlices, name: p.name, mem: p.memorySlices });
    }
    list = [...bySize.values()].sort((a, b) => a.k - b.k).map(({ k, name }) => ({ k, name }));
    PER_SIZE.set(model, list);
  }
  return list;
}

/** A layout change that started: the GPU, when, and its new compute sizes (for charts of the day). */
export interface LayoutEvent {
  readonly t: number;
  readonly gpu: number;
  readonly layout: string;
}

/** What of a run the repartitioning reads: the controller, the cluster, and the jobs' work and ends. */
export interface RunState {
  readonly controller: Repartitioner;
  readonly cluster: SimCluster;
  readonly profiles: ProfileBook;
  /** Work left per job id (paper mode preempts, so less than the job's work). */
  readonly remaining: Float64Array;
  /** Expected end of the job on each busy slice, by slice id (cluster mode). */
  readonly sliceEnd: readonly number[];
}

/**
 * The simulator's side of the drain contract: asks the controller for targets, keeps them in a TargetBook,
 * takes draining GPUs out of placement and starts a node's change once GPUs to change are idle.
 */
export class Repartitioning {
  readonly book: TargetBook;
  /** GPUs that started a change. */
  repartitions = 0;
  /** Targets the limits refused (dwell, node limit, GPU reconfiguring). */
  refused = 0;
  readonly changes: LayoutEvent[] = [];
  private readonly nodeOf: number[];
  private readonly nodeBusyUntil: number[];
  private seenArrivals = 0;

  private readonly controller: Repartitioner;
  private readonly cluster: SimCluster;
  private readonly profiles: ProfileBook;
  private readonly remaining: Float64Array;
  private readonly sliceEnd: readonly number[];

  constructor(
    run: RunState,
    limits: RepartitionLimits,
    private readonly gpusPerNode: number,
  ) {
    ({
      controller: this.controller,
      cluster: this.cluster,
      profiles: this.profiles,
      remaining: this.remaining,
      sliceEnd: this.sliceEnd,
    } = run);
    const cluster = this.cluster;
    this.book = new TargetBook(cluster.gpuCount, limits);
    this.nodeOf = Array.from({ length: cluster.gpuCount }, (_, g) => Math.floor(g / gpusPerNode));
    this.nodeBusyUntil = new Array<number>(Math.ceil(cluster.gpuCount / gpusPerNode)).fill(-Infinity);
  }

  /** Builds the controller's view, asks it and records the targets the limits allow. */
  consult(waiting: readonly Job[], jobs: readonly Job[], released: number, now: number): void {
    const { cluster, book } = this;
    const gpus = Array.from({ length: cluster.gpuCount }, (_, g) =>
      cluster.gpuState(
        g,
        this.nodeOf[g] as number,
        g - (this.nodeOf[g] as number) * this.gpusPerNode,
        book.targetOf(g),
      ),
    );
    const model = cluster.models[0] as GpuModel;
    const profiles = this.profiles;
    const from = this.seenArrivals;
    this.seenArrivals = released;
    // Most controllers read only part of the view; a waiting queue of hundreds of jobs makes the rest costly.
    let pending: PendingDemand[] | undefined;
    let arrivals: Arrival[] | undefined;
    let waitingWork: Arrival[] | undefined;
    let running: RunningWork[] | undefined;
    const remaining = this.remaining;
    const sliceEnd = this.sliceEnd;
    const view: ClusterView = {
      now,
      gpus,
      get pending() {
        pending ??= waiting.map((j) => ({ profile: demandProfile(model, j, profiles, now), deadline: j.deadline }));
        return pending;
      },
      get waiting() {
        waitingWork ??= waiting.map((j) => ({
          release: j.release,
          deadline: j.deadline,
          work: remaining[j.id] as number,
          profile: j.profile,
        }));
        return waitingWork;
      },
      get running() {
        running ??= runningWork(cluster, jobs, sliceEnd);
        return running;
      },
      get arrivals() {
        arrivals ??= jobs.slice(from, released).map((j) => ({
          release: j.release,
          deadline: j.deadline,
          work: j.work,
          profile: j.profile,
        }));
        return arrivals;
      },
    };
    const changes = this.controller.decide(view);
    if (changes.length === 0) return;
    const outcomes = book.propose(changes, gpus, now, (n) => (this.nodeBusyUntil[n] as number) > now);
    for (const o of outcomes) {
      if (o.verdict === 'drain') cluster.setAvailable(o.gpu, false);
      else if (o.verdict === 'cancel') cluster.setAvailable(o.gpu, !cluster.reconfiguring[o.gpu]);
      else if (o.verdict !== 'same') this.refused++;
    }
  }

  /** Gives up drains past the timeout: those GPUs take work again. */
  expire(now: number): void {
    for (const g of this.book.expire(now)) this.cluster.setAvailable(g, !this.cluster.reconfiguring[g]);
  }

  /**
   * Starts the changes that may start: per node not already applying one, its draining GPUs that are idle
   * change together. Returns the time the started changes end per GPU, for the loop's event queue.
   */
  startReady(now: number, reconfigureMin: number): number[] {
    const { cluster, book } = this;
    const started: number[] = [];
    if (book.draining === 0) return started;
    const startedNodes = new Set<number>();
    for (let g = 0; g < cluster.gpuCount; g++) {
      const target = book.targetOf(g);
      if (target === undefined || cluster.reconfiguring[g] || !cluster.isIdle(g)) continue;
      const n = this.nodeOf[g] as number;
      // A node applies one config at a time: GPUs that became idle during a change wait for the next.
      if ((this.nodeBusyUntil[n] as number) > now && !startedNodes.has(n)) continue;
      startedNodes.add(n);
      book.started(g, now);
      cluster.beginReconfigure(g, target, now);
      this.nodeBusyUntil[n] = now + reconfigureMin;
      this.changes.push({ t: now, gpu: g, layout: cluster.layoutName(g) });
      this.repartitions++;
      started.push(g);
    }
    return started;
  }

  /** When the next drain times out, or Infinity. */
  nextExpiry(): number {
    return this.book.nextExpiry();
  }
}

/** The jobs on busy slices, with when they are expected to end. */
function runningWork(cluster: SimCluster, jobs: readonly Job[], sliceEnd: readonly number[]): RunningWork[] {
  const out: RunningWork[] = [];
  for (let g = 0; g < cluster.gpuCount; g++) {
    (cluster.gpuSlices[g] as number[]).forEach((s, i) => {
      const id = cluster.sliceJob[s] as number;
      if (id < 0) return;
      out.push({ gpu: g, slice: i, end: sliceEnd[s] as number, deadline: jobs[id]?.deadline ?? Infinity });
    });
  }
  return out;
}
