// An evaluation setting: the cluster, the mode, the rules of repartitioning and the workload of a seed.
// Every controller is scored on the same setting, so their figures compare.
import { powerModel } from '../energy/power.js';
import type { GpuModel } from '../mig/catalog.js';
import type { Layout } from '../mig/layout.js';
import { paper12Layout } from '../mig/paper12.js';
import { maximalLayouts } from '../mig/enumerate.js';
import type { PlacementName } from '../placement/heuristics.js';
import type { Repartitioner } from '../repartition/controller.js';
import { DEFAULT_LIMITS, type RepartitionLimits } from '../repartition/targets.js';
import { PAPER_ET_WEIGHT, type SimMode } from '../sim/config.js';
import type { SimResult } from '../sim/result.js';
import { simulate } from '../sim/simulator.js';
import { ProfileBook, type Job } from '../workload/job.js';

export interface Setting {
  readonly model: GpuModel;
  readonly gpus: number;
  readonly gpusPerNode: number;
  readonly mode: SimMode;
  readonly placement: PlacementName;
  readonly horizonMin: number;
  /** Minutes a changing GPU is out of service (paper: 4 s; mig-manager: 30 s). */
  readonly reconfigureMin: number;
  readonly limits: RepartitionLimits;
  readonly etWeight: number;
  readonly workload: (seed: number) => readonly Job[];
}

export function defaultReconfigureMin(mode: SimMode): number {
  return mode === 'paper' ? 4 / 60 : 0.5;
}

export function makeSetting(
  over: Partial<Setting> & Pick<Setting, 'model' | 'gpus' | 'mode' | 'workload' | 'horizonMin'>,
): Setting {
  return {
    gpusPerNode: 8,
    placement: 'cedf',
    reconfigureMin: defaultReconfigureMin(over.mode),
    limits: DEFAULT_LIMITS,
    etWeight: PAPER_ET_WEIGHT,
    ...over,
  };
}

/** The layouts a controller chooses among: the paper's twelve where the model has that geometry, else every maximal layout. */
export function layoutOptions(model: GpuModel): Layout[] {
  const paper = Array.from({ length: 12 }, (_, i) => paper12Layout(model, i + 1));
  if (paper.every((l) => l !== undefined)) return paper as Layout[];
  return maximalLayouts(model);
}

const PROFILES = new ProfileBook();
const POWER = new WeakMap<GpuModel, readonly number[]>();

function powerTable(model: GpuModel): readonly number[] {
  let t = POWER.get(model);
  if (!t) {
    t = powerModel(model).table;
    POWER.set(model, t);
  }
  return t;
}

/** One seed's day of the setting from `layouts` (one per GPU) under a controller. */
export function runDay(
  setting: Setting,
  layouts: readonly Layout[],
  controller: Repartitioner,
  seed: number,
  jobs: readonly Job[] = setting.workload(seed),
): SimResult {
  if (layouts.length !== setting.gpus) throw new Error(`runDay: ${layouts.length} layouts for ${setting.gpus} GPUs`);
  return simulate({
    gpus: layouts.map((layout) => ({ model: setting.model, layout })),
    jobs,
    profiles: PROFILES,
    mode: setting.mode,
    placement: setting.placement,
    repartitioner: controller,
    seed,
    horizonMin: setting.horizonMin,
    reconfigureMin: setting.reconfigureMin,
    limits: setting.limits,
    gpusPerNode: setting.gpusPerNode,
    decideEveryEvents: setting.mode === 'paper' ? 5 : undefined,
    decideEveryMin: setting.mode === 'cluster' ? setting.limits.decisionIntervalMin : undefined,
    etWeight: setting.etWeight,
    powerTable,
  });
}
