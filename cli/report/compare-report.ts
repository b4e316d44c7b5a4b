// `renderCompareReport`: the HTML page of `smartmig compare --report`. One self-contained document (inline
// CSS and SVG, no scripts, no external resources) that renders byte-for-byte the same for the same result:
// the comparison table with 95 % intervals, then each row's layouts over its first evaluation day.
import type { CompareResult, CompareRow } from '../../policy/evaluate/compare.js';
import type { Interval } from '../../policy/evaluate/stats.js';
import { escapeHtml, formatNumber, MISSING } from './format.js';
import {
  chartEndMin,
  hoursText,
  laneSegments,
  layoutColours,
  layoutLaneChart,
  type LaneSegment,
} from './layout-lanes.js';
import { legend } from './legend.js';
import { REPORT_CSS } from './style.js';

export interface CompareReportOptions {
  readonly command: string;
  readonly describe: string;
  /**
   * Where the layout charts' time axis ends, minutes (the workload's horizon). Without it the axis runs to the
   * hour after the last layout change, or 24 h when nothing changed.
   */
  readonly horizonMin?: number;
}

// Additions to the shared stylesheet for this page only.
const COMPARE_CSS = `
section h3 { margin: 18px 0 2px; font-size: 16px; }
p.found { margin: 2px 0 6px; font-size: 13px; color: var(--muted); }
p.found span.what { color: var(--ink); overflow-wrap: anywhere; }
table.summary tr.reference th, table.summary tr.reference td { color: var(--muted); font-style: italic; }
.badge.reference { background: #57606a; }
.badge.baseline { background: #0072B2; }
svg.chart .lane-seg { shape-rendering: crispEdges; }
`;

/** "1–3, 7, 101–120": seeds in the given order, consecutive runs of three or more joined. */
export function seedRanges(seeds: readonly number[]): string {
  if (seeds.length === 0) return 'none';
  const out: string[] = [];
  let i = 0;
  while (i < seeds.length) {
    let j = i;
    while (j + 1 < seeds.length && (seeds[j + 1] as number) === (seeds[j] as number) + 1) j++;
    if (j - i >= 2) out.push(`${seeds[i]}–${seeds[j]}`);
    else for (let k = i; k <= j; k++) out.push(String(seeds[k]));
    i = j + 1;
  }
  return out.join(', ');
}

/** "mean ± half" with `decimals` places, scaled by `scale`; `—` when the mean is not a number. */
export function formatInterval(i: Interval, decimals: number, scale = 1): string {
  if (!Number.isFinite(i.mean)) return MISSING;
  const half = Number.isFinite(i.half) ? formatNumber(i.half * scale, decimals) : MISSING;
  return `${formatNumber(i.mean * scale, decimals)} ± ${half}`;
}

/** A fraction's interval as percentages: "12.3 ± 4.5 %". */
export function formatPercentInterval(i: Interval, decimals = 1): string {
  const body = formatInterval(i, decimals, 100);
  return body === MISSING ? MISSING : `${body} %`;
}

/** The row's name as the CLI prints it and the baseline is named: "best-static cedf". */
function rowName(r: CompareRow): string {
  return `${r.controller} ${r.placement}`;
}

/** Index of the baseline row: named as `result.baseline`, the one row without an ET gain. */
export function baselineIndex(result: CompareResult): number {
  const named = result.rows.findIndex((r) => rowName(r) === result.baseline && r.etImprovement === undefined);
  return named >= 0 ? named : result.rows.findIndex((r) => rowName(r) === result.baseline);
}

const COLUMNS: readonly [string, (r: CompareRow) => string][] = [
  ['Energy (M W·min)', (r) => formatInterval(r.energyWmin, 3, 1e-6)],
  ['Mean tardiness (min)', (r) => formatInterval(r.meanTardinessMin, 2)],
  ['ET', (r) => formatInterval(r.et, 3)],
  ['Energy above lower bound', (r) => formatPercentInterval(r.aboveLowerBound)],
  ['Repartitions', (r) => formatInterval(r.repartitions, 1)],
  ['Draining (GPU·min)', (r) => formatInterval(r.drainingGpuMin, 0)],
];

function searchText(r: CompareRow): string {
  if (r.searchSeeds.length === 0) return 'not searched';
  return `searched on seed${r.searchSeeds.length === 1 ? '' : 's'} ${seedRanges(r.searchSeeds)}`;
}

function tableRow(r: CompareRow, isBaseline: boolean): string {
  const badges = [
    isBaseline ? ' <span class="badge baseline">baseline</span>' : '',
    r.deployable ? '' : ' <span class="badge reference">reference</span>',
  ].join('');
  const setup = `placement ${r.placement} · ${searchText(r)}`;
  const head = `<th scope="row">${escapeHtml(r.controller)}${badges}<div class="setup">${escapeHtml(setup)}</div></th>`;
  const gain = r.etImprovement ? formatPercentInterval(r.etImprovement) : isBaseline ? 'baseline' : MISSING;
  const cells = [...COLUMNS.map(([, f]) => f(r)), gain].map((c) => `<td>${escapeHtml(c)}</td>`);
  const cls = r.deployable ? '' : ' class="reference"';
  return `<tr${cls}>${head}${cells.join('')}</tr>`;
}

function compareTable(result: CompareResult, baseline: number): string {
  const headers = ['Controller', ...COLUMNS.map(([h]) => h), 'ET gain vs baseline'];
  const head = headers.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('');
  const body = result.rows.map((r, i) => tableRow(r, i === baseline)).join('');
  return `<div class="table-wrap"><table class="summary"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}

function section(id: string, heading: string, caption: string, ...body: string[]): string {
  return `<section id="${id}"><h2>${escapeHtml(heading)}</h2><p class="caption">${escapeHtml(caption)}</p>${body.join('')}</section>`;
}

function seedsCaption(result: CompareResult, baseline: number): string {
  const searched = [...new Set(result.rows.flatMap((r) => r.searchSeeds))].sort((a, b) => a - b);
  const n = result.evalSeeds.length;
  const base = baseline >= 0 ? result.baseline : `${result.baseline} (not among the rows)`;
  return (
    `Baseline: ${base}. Evaluation seeds: ${seedRanges(result.evalSeeds)} (${n} day${n === 1 ? '' : 's'}); ` +
    `search seeds: ${seedRanges(searched)}. Controllers are searched or tuned on the search seeds and scored ` +
    'only on the evaluation seeds. Rows marked reference cannot be deployed (hindsight searches each evaluation ' +
    'day itself) and bound what a controller could reach.'
  );
}

const TABLE_NOTE =
  'Each cell is the mean over the evaluation seeds ± the half-width of its 95 % interval (Student’s t; ± 0 ' +
  'with a single seed). ET = (a·e + t)/(a + 1) with e the energy in W·min and t the mean tardiness in minutes; ' +
  'lower is better. Energy above lower bound compares with the least energy the same jobs could use. ET gain ' +
  'is paired: 1 − ET/ET of the baseline on the same seed, so higher is better.';

function foundLines(r: CompareRow): string {
  const lines = [`<p class="found">Found: <span class="what">${escapeHtml(r.found)}</span></p>`];
  const day = r.days[0];
  if (day?.found !== undefined) {
    lines.push(
      `<p class="found">On its first evaluation day (seed ${escapeHtml(String(day.seed))}): <span class="what">${escapeHtml(day.found)}</span></p>`,
    );
  }
  return lines.join('');
}

function layoutSection(result: CompareResult, opts: CompareReportOptions): string {
  const firstDays = result.rows.map((r) => r.days[0]);
  const times = firstDays.flatMap((d) => (d ? d.changes.map((c) => c.t) : []));
  const endMin = chartEndMin(opts.horizonMin, times);
  const lanes = result.rows.map((r, i) => {
    const day = firstDays[i];
    return day ? laneSegments(r.initialLayouts, day.changes, endMin) : [];
  });
  const colours = layoutColours(lanes.flat());
  const end =
    opts.horizonMin === undefined
      ? `${hoursText(endMin)} (${times.length === 0 ? 'no layout changed' : 'the hour after the last change'})`
      : hoursText(endMin);
  const caption =
    'The first evaluation day of each row: one lane per GPU, coloured by the layout it held (named by its ' +
    `compute instances); a new segment starts where the controller started a layout change. Time runs from 0 ` +
    `to ${end}. Hover a segment for its GPU, layout and times.`;
  const blocks = result.rows.map((r, i) => {
    const day = firstDays[i];
    const name = `${r.controller} × ${r.placement}`;
    const heading = `<h3>${escapeHtml(name)}${r.deployable ? '' : ' <span class="badge reference">reference</span>'}</h3>`;
    if (!day) return `${heading}${foundLines(r)}<p class="empty">No evaluation day.</p>`;
    const changes = day.changes.length;
    const laneList = lanes[i] as LaneSegment[][];
    const gpus = laneList.length;
    const chart = layoutLaneChart({
      title: `Layouts of ${gpus} GPU${gpus === 1 ? '' : 's'} under ${name}, seed ${day.seed}: ${changes} change${changes === 1 ? '' : 's'}`,
      lanes: laneList,
      endMin,
      colourOf: colours.colourOf,
    });
    return `${heading}${foundLines(r)}<div class="chart-wrap">${chart}</div>`;
  });
  return section(
    'layouts',
    'Layouts over the day per controller',
    caption,
    legend(colours.items.map((c) => ({ label: c.label, colour: c.colour }))),
    ...blocks,
  );
}

function header(opts: CompareReportOptions): string {
  return (
    '<header><h1>smartmig compare</h1>' +
    `<p class="subtitle">${escapeHtml(opts.describe)}</p>` +
    `<p class="meta">Command: <code>${escapeHtml(opts.command)}</code></p></header>`
  );
}

function body(result: CompareResult, opts: CompareReportOptions): string[] {
  if (result.rows.length === 0) return [section('comparison', 'Comparison', 'No rows to report.')];
  const baseline = baselineIndex(result);
  return [
    section(
      'comparison',
      'Comparison',
      seedsCaption(result, baseline),
      compareTable(result, baseline),
      `<p class="note">${escapeHtml(TABLE_NOTE)}</p>`,
    ),
    layoutSection(result, opts),
  ];
}

export function renderCompareReport(result: CompareResult, opts: CompareReportOptions): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>smartmig compare</title>',
    `<style>${REPORT_CSS}${COMPARE_CSS}</style>`,
    '</head>',
    '<body>',
    '<main>',
    header(opts),
    ...body(result, opts),
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
