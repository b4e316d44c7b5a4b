// One honest comparison: controllers × placements on evaluation seeds, means with 95 % intervals and the
// paired ET improvement against a named baseline. Seeds a controller was tuned on are refused.
import { energyLowerBound } from '../bounds/energy.js';
import { powerModel } from '../energy/power.js';
import type { PlacementName } from '../placement/heuristics.js';
import type { LayoutEvent } from '../sim/controller-hook.js';
import type { Job } from '../workload/job.js';
import { Planner, type ControllerName, type PlanOptions } from './plans.js';
import { runDay, type Setting } from './setting.js';
import { meanInterval, pairedImprovement, type Interval } from './stats.js';

export interface CompareSpec {
  readonly setting: Setting;
  readonly controllers: readonly ControllerName[];
  readonly placements: readonly PlacementName[];
  readonly evalSeeds: readonly number[];
  /** Row whose ET the others are measured against, e.g. `best-static` (with the first placement). */
  readonly baseline: ControllerName;
  readonly plan: Omit<PlanOptions, 'onEvaluate'>;
}

export interface DayFigures {
  readonly seed: number;
  readonly energyWmin: number;
  readonly meanTardinessMin: number;
  readonly et: number;
  readonly energyLowerBoundWmin: number;
  readonly repartitions: number;
  readonly drainingGpuMin: number;
  readonly abandonedDrains: number;
  readonly completed: number;
  readonly jobs: number;
  readonly changes: readonly LayoutEvent[];
  /** What a per-day search found (hindsight). */
  readonly found?: string;
}

export interface CompareRow {
  readonly controller: ControllerName;
  readonly placement: PlacementName;
  readonly deployable: boolean;
  readonly searchSeeds: readonly number[];
  readonly found: string;
  readonly initialLayouts: readonly string[];
  readonly energyWmin: Interval;
  readonly meanTardinessMin: Interval;
  readonly et: Interval;
  /** Energy above the lower bound, as a fraction. */
  readonly aboveLowerBound: Interval;
  readonly repartitions: Interval;
  readonly drainingGpuMin: Interval;
  /** 1 − ET/ET of the baseline on the same seed; absent for the baseline itself. */
  readonly etImprovement?: Interval;
  readonly days: readonly DayFigures[];
}

export interface CompareResult {
  readonly baseline: string;
  readonly evalSeeds: readonly number[];
  readonly rows: readonly CompareRow[];
}

export class SeedOverlapError extends Error {
  readonly code = 'SMARTMIG_SEED_OVERLAP';
}

/** Progress: what is being done, and one tick per simulated day or search candidate. */
export interface CompareProgress {
  stage(label: string): void;
  tick(): void;
}

export function compare(
  spec: CompareSpec,
  progress: CompareProgress = { stage: () => {}, tick: () => {} },
): CompareResult {
  const { setting, evalSeeds } = spec;
  const overlap = spec.plan.searchSeeds.filter((s) => evalSeeds.includes(s));
  if (overlap.length > 0 && spec.controllers.some((c) => c !== 'static' && c !== 'hindsight')) {
    throw new SeedOverlapError(
      `evaluation seeds ${overlap.join(',')} are also search seeds; a controller tuned on a day would be scored on it`,
    );
  }
  const jobs = new Map<number, readonly Job[]>();
  const lowerBound = new Map<number, number>();
  const power = powerModel(setting.model);
  const jobsOf = (seed: number): readonly Job[] => {
    let j = jobs.get(seed);
    if (!j) {
      j = setting.workload(seed);
      jobs.set(seed, j);
      lowerBound.set(
        seed,
        energyLowerBound(j, { gpus: setting.gpus, model: setting.model, power: (b) => power.watts(b) }).energyWmin,
      );
    }
    return j;
  };

  const rows: CompareRow[] = [];
  for (const placement of spec.placements) {
    const s = { ...setting, placement };
    const planner = new Planner(s, { ...spec.plan, onEvaluate: () => progress.tick() });
    for (const name of spec.controllers) {
      progress.stage(`${name} ${placement}: search`);
      const plan = planner.plan(name);
      const tuned = plan.deployable ? plan.searchSeeds.filter((x) => evalSeeds.includes(x)) : [];
      if (tuned.length > 0)
        throw new SeedOverlapError(`${name} was tuned on seeds ${tuned.join(',')}; evaluate it on others`);
      progress.stage(`${name} ${placement}: evaluate`);
      let initial: string[] = [];
      const days = evalSeeds.map((seed): DayFigures => {
        const day = jobsOf(seed);
        const run = plan.forSeed(seed);
        if (initial.length === 0) initial = run.layouts.map((l) => l.slices.map((x) => x.profile).join('+'));
        const r = runDay(s, run.layouts, run.controller, seed, day);
        progress.tick();
        return {
          seed,
          energyWmin: r.energyWmin,
          meanTardinessMin: r.meanTardinessMin,
          et: r.et,
          energyLowerBoundWmin: lowerBound.get(seed) as number,
          repartitions: r.repartitions,
          drainingGpuMin: r.drainingGpuMin,
          abandonedDrains: r.abandonedDrains,
          completed: r.completed,
          jobs: r.jobs,
          changes: r.changes,
          ...(run.found === undefined ? {} : { found: run.found }),
        };
      });
      const of = (f: (d: DayFigures) => number) => meanInterval(days.map(f));
      rows.push({
        controller: name,
        placement,
        deployable: plan.deployable,
        searchSeeds: plan.searchSeeds,
        found: plan.found,
        initialLayouts: initial,
        energyWmin: of((d) => d.energyWmin),
        meanTardinessMin: of((d) => d.meanTardinessMin),
        et: of((d) => d.et),
        aboveLowerBound: of((d) => d.energyWmin / d.energyLowerBoundWmin - 1),
        repartitions: of((d) => d.repartitions),
        drainingGpuMin: of((d) => d.drainingGpuMin),
        days,
      });
    }
  }
  const base = rows.find((r) => r.controller === spec.baseline);
  const withGain = rows.map((r) =>
    base && r !== base
      ? {
          ...r,
          etImprovement: pairedImprovement(
            r.days.map((d) => d.et),
            base.days.map((d) => d.et),
          ),
        }
      : r,
  );
  return { baseline: `${spec.baseline} ${spec.placements[0] ?? ''}`.trim(), evalSeeds: [...evalSeeds], rows: withGain };
}
