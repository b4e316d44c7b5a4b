// One named configuration run over several seeds, with the energy lower bound of each seed's workload:
// what `smartmig simulate`, the demo and the benchmarks report.
import { fleetEnergyLowerBound } from '../bounds/energy.js';
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
  /** The model of each GPU when the cluster mixes models (parallel to `layouts`); absent: `model` for all. */
  readonly models?: readonly GpuModel[];
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
  const models = spec.models ?? spec.layouts.map(() => spec.model);
  if (models.length !== spec.layouts.length) throw new RangeError('one GPU model per layout');
  const fleet = modelGroups(models).map(({ model, gpus }) => {
    const power = powerModel(model);
    return { model, gpus, power: (b: number) => power.watts(b), table: power.table };
  });
  const tableOf = (m: GpuModel) => (fleet.find((g) => g.model === m) as (typeof fleet)[number]).table;
  const etWeight = spec.etWeight ?? PAPER_ET_WEIGHT;
  const runs: SeedRun[] = seeds.map((seed) => {
    const jobs = workload(seed);
    const sim = simulate({
      gpus: spec.layouts.map((layout, i) => ({ model: models[i] as GpuModel, layout })),
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
      powerTable: tableOf,
    });
    const lb = fleetEnergyLowerBound(jobs, fleet);
    onSeedDone?.(seed);
    return { ...sim, seed, energyLowerBoundWmin: lb.energyWmin, makespanLowerBoundMin: lb.makespanMin };
  });
  const mean = (f: (r: SeedRun) => number): number => runs.reduce((s, r) => s + f(r), 0) / Math.max(1, runs.length);
  const energy = mean((r) => r.energyWmin);
  const lb = mean((r) => r.energyLowerBoundWmin);
  const { model: _model, models: _models, layouts, controller: _controller, ...rest } = spec;
  return {
    label: spec.label,
    spec: { ...rest, etWeight, gpu: fleetName(fleet), gpus: layouts.length },
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

/** GPUs per model, in order of first appearance. */
function modelGroups(models: readonly GpuModel[]): { model: GpuModel; gpus: number }[] {
  const groups: { model: GpuModel; gpus: number }[] = [];
  for (const m of models) {
    const g = groups.find((x) => x.model === m);
    if (g) g.gpus++;
    else groups.push({ model: m, gpus: 1 });
  }
  return groups;
}

/** `A100-40GB` for one model, `A100-40GB×4+H100-80GB×4` for a mix. */
export function fleetName(fleet: readonly { model: GpuModel; gpus: number }[]): string {
  return fleet.length === 1
    ? (fleet[0] as { model: GpuModel }).model.name
    : fleet.map((g) => `${g.model.name}×${g.gpus}`).join('+');
}
