// `renderReport`: one self-contained HTML document (inline CSS and SVG, no scripts, no external
// resources) comparing simulation runs, for `smartmig simulate --report` and the demo.
import type { ExperimentResult } from '../../policy/sim/experiment.js';
import { barChart } from './bar-chart.js';
import { escapeHtml, formatNumber } from './format.js';
import { legend, runLegendItems, type LegendItem } from './legend.js';
import { layoutLabel } from './layout-label.js';
import { lineChart } from './line-chart.js';
import { LAYOUT_COLOURS, OTHER_COLOUR, runStyle } from './palette.js';
import { hourlyEnergyKWh, hourlyTardinessMin, hourSpan, layoutGpuHours } from './series.js';
import { stackedBarChart, type StackCategory } from './stacked-bar.js';
import { REPORT_CSS } from './style.js';
import { summaryTable } from './summary-table.js';

export interface ReportOptions {
  readonly title: string;
  readonly subtitle?: string;
  /** The command line that produced the results, shown so the report can be reproduced. */
  readonly command?: string;
  /** When the results were produced, already formatted; passed in so rendering stays deterministic. */
  readonly generatedAt?: string;
}

const OTHER_KEY = '\u0000other';

function section(id: string, heading: string, caption: string, ...body: string[]): string {
  return `<section id="${id}"><h2>${escapeHtml(heading)}</h2><p class="caption">${escapeHtml(caption)}</p>${body.join('')}</section>`;
}

// Charts keep a minimum width (style.ts) so their text stays readable; narrow screens scroll them instead.
function figure(chart: string): string {
  return `<div class="chart-wrap">${chart}</div>`;
}

function header(opts: ReportOptions): string {
  const parts = [`<h1>${escapeHtml(opts.title)}</h1>`];
  if (opts.subtitle) parts.push(`<p class="subtitle">${escapeHtml(opts.subtitle)}</p>`);
  if (opts.command) parts.push(`<p class="meta">Command: <code>${escapeHtml(opts.command)}</code></p>`);
  if (opts.generatedAt) parts.push(`<p class="meta">Generated ${escapeHtml(opts.generatedAt)}</p>`);
  return `<header>${parts.join('')}</header>`;
}

function etNote(results: readonly ExperimentResult[]): string {
  const weights = [...new Set(results.map((r) => r.spec.etWeight).filter((w): w is number => w !== undefined))];
  const a = weights.length === 0 ? '' : `, a = ${weights.map((w) => w.toExponential(2)).join(' or ')} per W·min`;
  return (
    `ET = (a·e + t)/(a + 1) with e the energy in W·min and t the mean tardiness in minutes${a}; lower is better. ` +
    'Energy above lower bound compares with the least energy the same jobs could use: perfect speed-up on ' +
    'whole GPUs, idle only until the shortest possible makespan (docs/bounds.md). All figures are means over seeds.'
  );
}

function timeSections(results: readonly ExperimentResult[]): string[] {
  const hours = hourSpan(results);
  const labels = results.map((r) => r.label);
  const key = legend(runLegendItems(labels, runStyle));
  const series = (values: (r: ExperimentResult) => (number | null)[]) =>
    results.map((r, i) => ({ label: r.label, values: values(r), style: runStyle(i) }));
  const energy = lineChart({
    title: 'Energy per hour of each run',
    xLabel: 'Hour of the simulation',
    yLabel: 'Energy per hour (kWh)',
    series: series((r) => hourlyEnergyKWh(r, hours)),
  });
  const tardiness = lineChart({
    title: 'Mean tardiness of the jobs completed in each hour',
    xLabel: 'Hour of the simulation',
    yLabel: 'Mean tardiness (min)',
    series: series((r) => hourlyTardinessMin(r, hours)),
  });
  return [
    section(
      'energy',
      'Energy through the day',
      'Energy all GPUs used in each hour, mean over seeds. A kWh in one hour is a mean power of one kW.',
      figure(energy),
      key,
    ),
    section(
      'tardiness',
      'Tardiness through the day',
      'Tardiness summed over the jobs completed in each hour, divided by their number; mean over seeds. ' +
        'Gaps are hours in which no job completed.',
      figure(tardiness),
      key,
    ),
  ];
}

/** Layouts by total GPU-hours over all runs; past the palette, the least used are lumped as "other". */
function layoutCategories(usage: readonly Map<string, number>[]): {
  categories: StackCategory[];
  keyOf: (k: string) => string;
} {
  const totals = new Map<string, number>();
  for (const m of usage) for (const [k, v] of m) totals.set(k, (totals.get(k) ?? 0) + v);
  const ordered = [...totals.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const keep = ordered.length <= LAYOUT_COLOURS.length ? ordered.length : LAYOUT_COLOURS.length - 1;
  const named = ordered.slice(0, keep).map(([k], i) => ({
    key: k,
    label: layoutLabel(k),
    colour: LAYOUT_COLOURS[i] as string,
  }));
  const rest = ordered.length - keep;
  const categories =
    rest > 0 ? [...named, { key: OTHER_KEY, label: `other (${rest} layouts)`, colour: OTHER_COLOUR }] : named;
  const kept = new Set(named.map((c) => c.key));
  return { categories, keyOf: (k) => (kept.has(k) ? k : OTHER_KEY) };
}

function layoutSection(results: readonly ExperimentResult[]): string {
  const usage = results.map(layoutGpuHours);
  const { categories, keyOf } = layoutCategories(usage);
  const rows = results.map((r, i) => {
    const amounts = new Map<string, number>();
    for (const [k, v] of usage[i] ?? []) amounts.set(keyOf(k), (amounts.get(keyOf(k)) ?? 0) + v);
    return { label: r.label, amounts };
  });
  const chart = stackedBarChart({ title: 'GPU-hours spent in each MIG layout', categories, rows, unit: 'GPU-hours' });
  const items: LegendItem[] = categories.map((c) => ({ label: c.label, colour: c.colour }));
  return section(
    'layouts',
    'Configuration usage',
    'GPU-hours each run spent in each MIG layout (named by its compute instances), mean over seeds.',
    figure(chart),
    legend(items),
  );
}

function comparisonSection(results: readonly ExperimentResult[]): string {
  const chart = barChart({
    title: 'Energy, mean tardiness and ET of each run',
    rows: results.map((r, i) => ({ label: r.label, style: runStyle(i) })),
    panels: [
      {
        title: 'Energy (M W·min)',
        values: results.map((r) => r.energyWmin / 1e6),
        markers: results.map((r) => r.energyLowerBoundWmin / 1e6),
        markerLabel: 'energy lower bound',
      },
      { title: 'Mean tardiness (min)', values: results.map((r) => r.meanTardinessMin) },
      { title: 'ET', values: results.map((r) => r.et) },
    ],
  });
  return section(
    'comparison',
    'Comparison',
    'Lower is better in every panel. The black tick on each energy bar is that run’s energy lower bound.',
    figure(chart),
  );
}

function body(results: readonly ExperimentResult[]): string[] {
  if (results.length === 0) return [section('summary', 'Summary', 'No runs to report.')];
  return [
    section(
      'summary',
      'Summary',
      `${formatNumber(results.length)} run${results.length === 1 ? '' : 's'}; the row with the lowest ET is marked.`,
      summaryTable(results),
      `<p class="note">${escapeHtml(etNote(results))}</p>`,
    ),
    ...timeSections(results),
    layoutSection(results),
    comparisonSection(results),
  ];
}

export function renderReport(results: readonly ExperimentResult[], opts: ReportOptions): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(opts.title)}</title>`,
    `<style>${REPORT_CSS}</style>`,
    '</head>',
    '<body>',
    '<main>',
    header(opts),
    ...body(results),
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
