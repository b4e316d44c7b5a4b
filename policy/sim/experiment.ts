// One named configuration run over several seeds, with the energy lower bound of each seed's workload:
// what `smartmig simulate`, the demo and the benchmarks report.
import { energyLowerBound } from '../bounds/energy.js';
import { powerModel } from '../energy/power.js';
import type { GpuModel } from '../mig/catalog.js';
import type { Layout } from '../mig/layout.js';
import type { PlacementName } from '../placement/heuristics.js';
import type { Repartitioner } from '../repartition/controller.js';
import { greedyRepartitioner } from '../repartition/greedy.js';
import { staticRepartitioner } from '../repartition/static.js';
import type { Job } from '../workload/job.js';
import { ProfileBook } from '../workload/job.js';
import { PAPER_ET_WEIGHT, type SimMode } from './config.js';
import type { SimResult } from './result.js';
import { simulate } from './simulator.js';

export const REPARTITIONERS = ['static', 'greedy'] as const;
export type RepartitionName = (typeof REPARTITIONERS)[number];

export function makeRepartitioner(name: RepartitionName): Repartitioner {
  return name === 'greedy' ? greedyRepartitioner() : staticRepartitioner();
}

export interface ExperimentSpec {
  /** Label in tables and reports, e.g. "static CEDF". */
  readonly label: string;
  readonly model: GpuModel;
  /** Initial layout of each GPU. */
  readonly layouts: readonly Layout[];
  readonly mode: SimMode;
  readonly placement: PlacementName;
  readonly repartition: RepartitionName;
  /** A controller for each seed's run instead of `repartition`'s (a learned one); `repartition` still labels it. */
  readonly controller?: () => Repartitioner;
  readonly horizonMin: number;
  /** Minutes a reconfiguration keeps a GPU out of service (paper: 4 s; mig-manager: tens of seconds). */
  readonly reconfigureMin?: number;
  readonly etWeight?: number;
}

export interface SeedRun extends SimResult {
  readonly seed: number;
  readonly energyLowerBoundWmin: number;
  readonly makespanLowerBoundMin: number;
}

/** Means over seeds of the figures the issue names, plus the per-seed runs. */
export interface ExperimentResult {
  readonly label: string;
  readonly spec: Omit<ExperimentSpec, 'model' | 'layouts'> & { gpu: string; gpus: number };
  readonly seeds: number[];
  readonly jobs: number;
  readonly completed: number;
  readonly energyWmin: number;
  readonly energyKWh: number;
  readonly meanTardinessMin: number;
  readonly onTimeFraction: number;
  readonly et: number;
  readonly energyLowerBoundWmin: number;
  /** Energy above the lower bound as a fraction (0.27 = 27 % above). */
  readonly energyAboveLowerBound: number;
  readonly repartitions: number;
  readonly runs: SeedRun[];
}

export function defaultReconfigureMin(mode: SimMode): number {
  return mode === 'paper' ? 4 / 60 : 0.5;
}

export function runExperiment(
  spec: ExperimentSpec,
  workload: (seed: number) => readonly Job[],
  seeds: readonly number[],
  onSeedDone?: (seed: number) => void,
): ExperimentResult {
  const profiles = new ProfileBook();
  const power = powerModel(spec.model);
  const etWeight = spec.etWeight ?? PAPER_ET_WEIGHT;
  const runs: SeedRun[] = seeds.map((seed) => {
    const jobs = workload(seed);
    const sim = simulate({
      gpus: spec.layouts.map((layout) => ({ model: spec.model, layout })),
      jobs,
      profiles,
      mode: spec.mode,
      placement: spec.placement,
      repartitioner: spec.controller?.() ?? makeRepartitioner(spec.repartition),
      seed,
      horizonMin: spec.horizonMin,
      reconfigureMin: spec.reconfigureMin ?? defaultReconfigureMin(spec.mode),
      decideEveryEvents: spec.mode === 'paper' ? 5 : undefined,
      decideEveryMin: spec.mode === 'cluster' ? 1 : undefined,
      etWeight,
      powerTable: () => power.table,
    });
    const lb = energyLowerBound(jobs, { gpus: spec.layouts.length, model: spec.model, power: (b) => power.watts(b) });
    onSeedDone?.(seed);
    return { ...sim, seed, energyLowerBoundWmin: lb.energyWmin, makespanLowerBoundMin: lb.makespanMin };
  });
  const mean = (f: (r: SeedRun) => number): number => runs.reduce((s, r) => s + f(r), 0) / Math.max(1, runs.length);
  const energy = mean((r) => r.energyWmin);
  const lb = mean((r) => r.energyLowerBoundWmin);
  const { model, layouts, controller: _controller, ...rest } = spec;
  return {
    label: spec.label,
    spec: { ...rest, etWeight, gpu: model.name, gpus: layouts.length },
    seeds: [...seeds],
    jobs: mean((r) => r.jobs),
    completed: mean((r) => r.completed),
    energyWmin: energy,
    energyKWh: energy / 60 / 1000,
    meanTardinessMin: mean((r) => r.meanTardinessMin),
    onTimeFraction: mean((r) => r.onTimeFraction),
    et: mean((r) => r.et),
    energyLowerBoundWmin: lb,
    energyAboveLowerBound: energy / lb - 1,
    repartitions: mean((r) => r.repartitions),
    runs,
  };
}
