// The comparison table printed on the terminal by `simulate` and the demo.
import type { ExperimentResult } from '../policy/sim/experiment.js';

const COLUMNS: [string, (r: ExperimentResult) => string][] = [
  ['strategy', (r) => r.label],
  ['jobs', (r) => r.jobs.toFixed(0)],
  ['energy (M W·min)', (r) => (r.energyWmin / 1e6).toFixed(3)],
  ['energy (kWh)', (r) => r.energyKWh.toFixed(1)],
  ['tardiness (min)', (r) => r.meanTardinessMin.toFixed(2)],
  ['on time', (r) => `${(r.onTimeFraction * 100).toFixed(1)} %`],
  ['ET', (r) => r.et.toFixed(3)],
  ['above energy LB', (r) => `${(r.energyAboveLowerBound * 100).toFixed(1)} %`],
  ['repartitions', (r) => r.repartitions.toFixed(0)],
];

export function summaryTable(results: readonly ExperimentResult[]): string {
  const rows = [COLUMNS.map(([h]) => h), ...results.map((r) => COLUMNS.map(([, f]) => f(r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => (row[i] as string).length)));
  const line = (row: string[]): string =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  ');
  const [head, ...body] = rows;
  return [line(head as string[]), widths.map((w) => '─'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
