import type { GpuModel } from '../mig/catalog.js';
import type { PlacementName } from '../placement/heuristics.js';
import type { Repartitioner } from '../repartition/controller.js';
import type { RepartitionLimits } from '../repartition/targets.js';
import type { Job, ProfileBook } from '../workload/job.js';
import type { GpuSpec } from './sim-cluster.js';

/**
 * `paper`: free, work-conserving preemption; every job is re-placed at every arrival and completion.
 * `cluster`: what Kubernetes can do; a job runs to completion on the slice it starts on.
 */
export const SIM_MODES = ['paper', 'cluster'] as const;
export type SimMode = (typeof SIM_MODES)[number];

/** ET weight a ≈ 0.19 per 10^6 W·min (docs/model.md §4). */
export const PAPER_ET_WEIGHT = 0.19e-6;

/** A job already running when the run starts (cluster mode): it keeps its slice until `endMin`. */
export interface PinnedJob {
  readonly gpu: number;
  /** Index of the slice in the GPU's layout. */
  readonly slice: number;
  readonly endMin: number;
  readonly deadline: number;
}

export interface SimConfig {
  readonly gpus: readonly GpuSpec[];
  /** Jobs sorted by release. */
  readonly jobs: readonly Job[];
  /** Jobs running at time 0 (cluster mode; a lookahead's rollout starts from the cluster as it is). */
  readonly running?: readonly PinnedJob[];
  readonly profiles: ProfileBook;
  readonly mode: SimMode;
  readonly placement: PlacementName;
  readonly repartitioner: Repartitioner;
  readonly seed: number;
  /** Length of the workload window in minutes; idle GPUs draw power at least until then. */
  readonly horizonMin: number;
  /** Minutes a reconfigured GPU is out of service. */
  readonly reconfigureMin: number;
  /** Dwell, nodes changing at once, drain timeout (default: none). Decisions follow the two fields below. */
  readonly limits?: Partial<RepartitionLimits>;
  /** GPUs per node; a node applies its GPUs' changes together (default 8). */
  readonly gpusPerNode?: number;
  /** Ask the controller every this many arrival/completion events (the paper: 5)... */
  readonly decideEveryEvents?: number;
  /** ...or every this many minutes of simulated time. */
  readonly decideEveryMin?: number;
  readonly etWeight: number;
  /** Watts by busy compute slices 0..C for a GPU model. */
  readonly powerTable: (model: GpuModel) => readonly number[];
  /** Called now and then with the simulated time reached, for progress bars. */
  readonly onProgress?: (nowMin: number) => void;
}
