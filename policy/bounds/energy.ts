// Energy lower bound of a workload on m MIG GPUs (docs/model.md §7).
import type { GpuModel } from '../mig/catalog.js';
import type { Job } from '../workload/job.js';
import { minPreemptiveMakespan, type LinearJob } from './makespan.js';

export interface EnergyLowerBound {
  /** The bound: busyWmin + idleWmin, W·min. */
  readonly energyWmin: number;
  /** C*, the minimum preemptive makespan of the linearised jobs on whole GPUs, minutes. */
  readonly makespanMin: number;
  /** Energy of the linearised work itself, Σ_j p_j · P[full] (when power lies above its chord), W·min. */
  readonly busyWmin: number;
  /** Idle power on every GPU for the rest of [0, C*], (m·C* − Σ_j p_j) · P[0], W·min. */
  readonly idleWmin: number;
}

export interface EnergyBoundOptions {
  readonly gpus: number;
  readonly model: GpuModel;
  /** Watts drawn by one GPU with this many busy compute slices (0 … model.computeSlices). */
  readonly power: (busyCompute: number) => number;
}

/** Each job as if it ran on a whole GPU with perfect speed-up: p_j = work_j / compute slices. */
export function linearise(jobs: readonly Job[], computeSlices: number): LinearJob[] {
  return jobs.map((j) => ({ release: j.release, p: j.work / computeSlices }));
}

/**
 * E_LB = Σ_j p_j·P[K] + (m·C* − Σ_j p_j)·P[0], K = compute slices per GPU, p_j = work_j / K.
 *
 * Why it is valid: a job on k slices takes work/speedup_k ≥ work/k minutes (speed-ups are sublinear), so it
 * holds at least `work` slice-minutes; and a GPU with b busy slices draws P[b] ≥ P[0] + b·s, where
 * s = min_k (P[k] − P[0])/k, the chord slope (P[K] − P[0])/K whenever P lies on or above its chord, as the
 * measured curves do. Integrating over [0, C] on m GPUs gives E ≥ m·C·P[0] + s·Σ_j work_j. Any schedule
 * finishes no earlier than C*: a job on k slices advances at rate ≤ k/K of a whole GPU, one slice at a time,
 * which is a preemptive schedule of the linearised jobs on m machines. Using the minimum slope instead of
 * the chord keeps the bound valid for a power curve that dips below its chord; for the paper's curves the
 * two are the same and this is exactly docs/model.md §7.
 */
export function energyLowerBound(jobs: readonly Job[], opts: EnergyBoundOptions): EnergyLowerBound {
  return fleetEnergyLowerBound(jobs, [opts]);
}

/**
 * The same bound on a cluster that mixes GPU models, one group per model. Each group idles at its own P[0]
 * over [0, C*], and the work is priced at the smallest chord slope of any group, since a job may run on
 * whichever GPU draws least. C* relaxes every GPU to the largest compute-slice count of the fleet (a job
 * advances no faster than on the biggest whole GPU), which can only lower it. With one group this is
 * `energyLowerBound` exactly.
 */
export function fleetEnergyLowerBound(jobs: readonly Job[], fleet: readonly EnergyBoundOptions[]): EnergyLowerBound {
  if (fleet.length === 0) throw new RangeError('a fleet needs at least one group of GPUs');
  let gpus = 0;
  let full = 0;
  let idleW = 0;
  let slope = Infinity;
  for (const g of fleet) {
    if (!Number.isInteger(g.gpus) || g.gpus < 1) throw new RangeError(`gpus must be a positive integer, got ${g.gpus}`);
    const k = g.model.computeSlices;
    const idle = g.power(0);
    for (let b = 1; b <= k; b++) slope = Math.min(slope, (g.power(b) - idle) / b);
    gpus += g.gpus;
    full = Math.max(full, k);
    idleW += g.gpus * idle;
  }
  const linear = linearise(jobs, full);
  const makespanMin = minPreemptiveMakespan(linear, gpus);
  const work = jobs.reduce((s, j) => s + j.work, 0);
  const busyMin = linear.reduce((s, j) => s + j.p, 0);
  // Split as before: the linearised work at idle plus its marginal power, and idle power for the rest.
  const meanIdle = idleW / gpus;
  const busyWmin = busyMin * meanIdle + work * slope;
  const idleWmin = makespanMin * idleW - busyMin * meanIdle;
  return { energyWmin: busyWmin + idleWmin, makespanMin, busyWmin, idleWmin };
}
