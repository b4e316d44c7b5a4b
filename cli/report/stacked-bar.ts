// Horizontal stacked bars: one bar per run, one segment per category, in the same category order on every bar.
import { labelColumnWidth, rowLabels, xAxis } from './axes.js';
import { formatShort } from './format.js';
import { needsLightText } from './palette.js';
import { linearScale, niceTicks } from './scale.js';
import { el, rect, svgRoot, text, textWidth, title } from './svg.js';

export interface StackCategory {
  readonly key: string;
  readonly label: string;
  readonly colour: string;
}

export interface StackRow {
  readonly label: string;
  /** Amount per category key; missing keys are zero. */
  readonly amounts: ReadonlyMap<string, number>;
}

export interface StackedBarOptions {
  readonly title: string;
  readonly categories: readonly StackCategory[];
  readonly rows: readonly StackRow[];
  /** Unit for tooltips and the axis, e.g. "GPU-hours". */
  readonly unit: string;
  readonly width?: number;
}

const ROW = 34;
const BAR = 22;
const TOP = 8;
const BOTTOM = 44;
const FONT = 12;

function rowTotal(row: StackRow): number {
  let total = 0;
  for (const v of row.amounts.values()) if (Number.isFinite(v) && v > 0) total += v;
  return total;
}

function drawRow(row: StackRow, i: number, opts: StackedBarOptions, x: (v: number) => number): string {
  const y = TOP + i * ROW + (ROW - BAR) / 2;
  const total = rowTotal(row);
  let at = 0;
  const parts: string[] = [];
  for (const c of opts.categories) {
    const amount = row.amounts.get(c.key) ?? 0;
    if (!(amount > 0)) continue;
    const x0 = x(at);
    const w = x(at + amount) - x0;
    at += amount;
    const share = total > 0 ? ` (${formatShort((100 * amount) / total)} %)` : '';
    const tip = title(`${row.label} — ${c.label}: ${formatShort(amount)} ${opts.unit}${share}`);
    parts.push(el('g', { class: 'segment' }, tip, rect(x0, y, w, BAR, { fill: c.colour })));
    // Name the segment inside the bar when it fits, so the legend is needed less.
    if (textWidth(c.label, FONT) + 8 <= w) {
      parts.push(
        text(x0 + w / 2, y + BAR / 2 + 4, c.label, {
          class: needsLightText(c.colour) ? 'in-bar on-dark' : 'in-bar',
          'text-anchor': 'middle',
        }),
      );
    }
  }
  parts.push(text(x(at) + 4, y + BAR / 2 + 4, formatShort(total), { class: 'value' }));
  return parts.join('');
}

export function stackedBarChart(opts: StackedBarOptions): string {
  const width = opts.width ?? 800;
  const labelWidth = labelColumnWidth(opts.rows.map((r) => r.label));
  const bottom = TOP + opts.rows.length * ROW;
  const box = { left: labelWidth, top: TOP, right: width - 48, bottom };
  const ticks = niceTicks(0, Math.max(0, ...opts.rows.map(rowTotal)), 6);
  const x = linearScale(0, ticks.max, box.left, box.right);
  const labels = rowLabels(
    opts.rows.map((r) => r.label),
    labelWidth,
    TOP,
    ROW,
  );
  return svgRoot(
    width,
    bottom + BOTTOM,
    opts.title,
    xAxis(ticks, x, box, opts.unit),
    labels,
    ...opts.rows.map((row, i) => drawRow(row, i, opts, x)),
  );
}
