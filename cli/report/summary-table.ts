// The summary table: one row per run with the measures the paper reports, the best ET marked.
import type { ExperimentResult } from '../../policy/sim/experiment.js';
import { escapeHtml, formatNumber, formatPercent } from './format.js';
import { runStyle } from './palette.js';

/** Indices of the runs with the lowest finite ET; none when there is nothing to compare. */
export function bestEtIndices(results: readonly ExperimentResult[]): Set<number> {
  const finite = results.map((r) => r.et).filter((et) => Number.isFinite(et));
  if (results.length < 2 || finite.length === 0) return new Set();
  const best = Math.min(...finite);
  return new Set(results.flatMap((r, i) => (r.et === best ? [i] : [])));
}

/** A count that is a mean over seeds: whole when it is whole, one decimal otherwise. */
function formatCount(value: number): string {
  return formatNumber(value, Number.isInteger(value) ? 0 : 1);
}

function seedText(seeds: readonly number[]): string {
  if (seeds.length === 0) return 'no seeds';
  const shown = seeds.length <= 6 ? seeds.join(', ') : `${seeds.slice(0, 5).join(', ')}, …`;
  return `${seeds.length} seed${seeds.length === 1 ? '' : 's'} (${shown})`;
}

/** The setup under the label: placement, repartitioning, cluster, mode and seeds. */
export function setupText(r: ExperimentResult): string {
  const s = r.spec;
  return `${s.placement} · ${s.repartition} · ${s.gpus}× ${s.gpu} · ${s.mode} mode · ${seedText(r.seeds)}`;
}

const HEADERS = [
  'Run',
  'Jobs',
  'Energy (M W·min)',
  'Energy (kWh)',
  'Mean tardiness (min)',
  'On time',
  'ET',
  'Energy above lower bound',
  'Repartitions',
];

function row(r: ExperimentResult, i: number, best: boolean): string {
  const swatch = `<span class="dot" style="background:${runStyle(i).colour}"></span>`;
  const badge = best ? ' <span class="badge">best ET</span>' : '';
  const label = `<th scope="row">${swatch}${escapeHtml(r.label)}${badge}<div class="setup">${escapeHtml(setupText(r))}</div></th>`;
  const cells = [
    formatCount(r.jobs),
    formatNumber(r.energyWmin / 1e6, 3),
    formatNumber(r.energyKWh, 1),
    formatNumber(r.meanTardinessMin, 2),
    formatPercent(r.onTimeFraction),
    formatNumber(r.et, 3),
    formatPercent(r.energyAboveLowerBound),
    formatCount(r.repartitions),
  ].map((c) => `<td>${c}</td>`);
  return `<tr${best ? ' class="best"' : ''}>${label}${cells.join('')}</tr>`;
}

export function summaryTable(results: readonly ExperimentResult[]): string {
  const best = bestEtIndices(results);
  const head = HEADERS.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('');
  const body = results.map((r, i) => row(r, i, best.has(i))).join('');
  return `<div class="table-wrap"><table class="summary"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}
