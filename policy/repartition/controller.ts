// The repartitioning hook: at decision points a controller sees the cluster and sets target layouts.
// The simulator and the operator both drive controllers through this one small interface, and both apply
// the targets by the drain contract of targets.ts.
import type { GpuModel } from '../mig/catalog.js';
import type { Layout } from '../mig/layout.js';

export interface GpuState {
  /** Stable index of the GPU in the cluster (simulator) or in the operator's snapshot. */
  readonly id: number;
  readonly model: GpuModel;
  readonly layout: Layout;
  /** Node the GPU belongs to (index); a node applies the changes of its GPUs together. */
  readonly node: number;
  /** The GPU's index on its node (nvidia-smi's numbering); absent: `id`. */
  readonly index?: number;
  /** Per slice of `layout`, whether a job runs on it. A busy GPU with a new target drains first. */
  readonly busy: readonly boolean[];
  /** The target it drains towards, when it differs from `layout`. */
  readonly target?: Layout;
  /** Whether a reconfiguration is in progress (the GPU is unavailable). */
  readonly reconfiguring: boolean;
  /** Time of the GPU's last layout change, minutes (−Infinity if never). */
  readonly lastChange: number;
  /**
   * The caller will not change this GPU now (e.g. its node is at the limit of concurrent reconfigurations, or
   * it may run pods the caller cannot place on a slice); its free slices still serve demand. Absent: false.
   */
  readonly locked?: boolean;
}

/** A job or pod waiting for a slice: the profile it wants and when it is due. */
export interface PendingDemand {
  readonly profile: string;
  /** Deadline in minutes, Infinity when none. */
  readonly deadline: number;
}

/** Work seen arriving, for controllers that estimate demand: what a pod's annotations tell in a cluster. */
export interface Arrival {
  /** Minutes. */
  readonly release: number;
  readonly deadline: number;
  /** Minutes on one compute slice. */
  readonly work: number;
  /** Speed-up profile name. */
  readonly profile: string;
}

/** A job on a busy slice. */
export interface RunningWork {
  readonly gpu: number;
  /** Index of the slice in the GPU's layout. */
  readonly slice: number;
  /** Expected end, minutes. */
  readonly end: number;
  readonly deadline: number;
}

export interface ClusterView {
  /** Minutes since the start of the run (simulator) or of the operator's epoch. */
  readonly now: number;
  readonly gpus: readonly GpuState[];
  readonly pending: readonly PendingDemand[];
  /** Work that arrived since the previous decision (absent where the caller cannot tell). */
  readonly arrivals?: readonly Arrival[];
  /** Waiting work with what is left of it (absent where the caller cannot tell). */
  readonly waiting?: readonly Arrival[];
  /** Jobs running now and their expected ends (absent where the caller cannot tell). */
  readonly running?: readonly RunningWork[];
}

/** A target layout for a GPU; its current layout as target cancels a drain. */
export interface LayoutChange {
  readonly gpu: number;
  readonly layout: Layout;
}

/** What a caller must know of a controller before building one. */
export interface ControllerTraits {
  /** Whether it reads a trained model (a Dynamic MigPartition's `model`); one that does not cannot honour it. */
  readonly takesModel: boolean;
  /** Whether it acts on the clock, with nothing pending (a timetable); others are asked only when work waits. */
  readonly actsOnTime?: boolean;
  /** Whether it follows a timetable (a Dynamic MigPartition's `schedule`), which it then requires. */
  readonly takesSchedule?: boolean;
}

export interface Repartitioner {
  readonly name: string;
  /**
   * Returns new targets. A GPU keeps its target until it has changed, the controller cancels it or the drain
   * times out; callers never reconfigure a GPU with a busy slice.
   */
  decide(view: ClusterView): LayoutChange[];
}
