// What the charts plot, derived from experiment results: per-hour means over seeds and GPU-hours per layout.
import type { HourStats } from '../../policy/sim/recorder.js';
import type { ExperimentResult } from '../../policy/sim/experiment.js';

/** Hours to plot: the longest hourly record of any seed of any run. */
export function hourSpan(results: readonly ExperimentResult[]): number {
  return Math.max(0, ...results.flatMap((r) => r.runs.map((run) => run.hourly.length)));
}

/**
 * Mean over seeds of `value` for each hour in [0, hours). A seed whose record is shorter has nothing in the
 * missing hour: `absent` stands in for it (0 for energy; null for ratios, which leaves that seed out).
 * An hour with no contribution from any seed is null.
 */
export function meanByHour(
  result: ExperimentResult,
  hours: number,
  value: (h: HourStats) => number | null,
  absent: number | null,
): (number | null)[] {
  return Array.from({ length: hours }, (_, i) => {
    const samples = result.runs
      .map((run) => {
        const h = run.hourly[i];
        return h === undefined ? absent : value(h);
      })
      .filter((v): v is number => v !== null && Number.isFinite(v));
    return samples.length === 0 ? null : samples.reduce((s, v) => s + v, 0) / samples.length;
  });
}

/** Energy used in each hour in kWh (equal to the hour's mean power in kW). */
export function hourlyEnergyKWh(result: ExperimentResult, hours: number): (number | null)[] {
  return meanByHour(result, hours, (h) => h.energyWmin / 60_000, 0);
}

/** Mean tardiness of the jobs completed in each hour, minutes; null where no seed completed a job. */
export function hourlyTardinessMin(result: ExperimentResult, hours: number): (number | null)[] {
  return meanByHour(result, hours, (h) => (h.completions > 0 ? h.tardinessMin / h.completions : null), null);
}

/** GPU-hours in each layout, mean over seeds (a seed that never used a layout counts as zero). */
export function layoutGpuHours(result: ExperimentResult): Map<string, number> {
  const out = new Map<string, number>();
  const seeds = Math.max(1, result.runs.length);
  for (const run of result.runs) {
    for (const [key, minutes] of Object.entries(run.layoutMinutes)) {
      out.set(key, (out.get(key) ?? 0) + minutes / 60 / seeds);
    }
  }
  return out;
}
