import type { LayoutEvent } from './controller-hook.js';
import type { HourStats } from './recorder.js';

export interface SimResult {
  readonly jobs: number;
  readonly completed: number;
  readonly energyWmin: number;
  readonly energyKWh: number;
  readonly meanTardinessMin: number;
  readonly maxTardinessMin: number;
  readonly onTimeFraction: number;
  /** (a·e + t)/(a + 1) with e in W·min and t the mean tardiness in minutes. */
  readonly et: number;
  readonly repartitions: number;
  /** Targets the limits refused (minimum dwell, nodes changing at once, GPU reconfiguring). */
  readonly refusedRepartitions: number;
  /** GPU-minutes GPUs spent draining (taking no new work while busy slices finish). */
  readonly drainingGpuMin: number;
  /** Drains given up at the drain timeout. */
  readonly abandonedDrains: number;
  /** Every layout change, in time order. */
  readonly changes: readonly LayoutEvent[];
  readonly endMin: number;
  readonly events: number;
  readonly hourly: readonly HourStats[];
  /** GPU-minutes spent in each layout, keyed by compute sizes such as "4+3". */
  readonly layoutMinutes: Readonly<Record<string, number>>;
  readonly gpuEnergyWmin: readonly number[];
}

export function etScore(energyWmin: number, meanTardinessMin: number, a: number): number {
  return (a * energyWmin + meanTardinessMin) / (a + 1);
}
