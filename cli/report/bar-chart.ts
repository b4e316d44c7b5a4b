// Small multiples of horizontal bars: one row per run, one panel per measure, run labels shared on the left.
import { labelColumnWidth, rowLabels, xAxis } from './axes.js';
import { formatShort } from './format.js';
import type { RunStyle } from './palette.js';
import { linearScale, niceTicks } from './scale.js';
import { el, line, rect, svgRoot, text, title } from './svg.js';

export interface BarRow {
  readonly label: string;
  readonly style: RunStyle;
}

export interface BarPanel {
  readonly title: string;
  /** One value per row. */
  readonly values: readonly number[];
  /** An optional reference per row (e.g. the energy lower bound), drawn as a tick across the bar. */
  readonly markers?: readonly number[];
  readonly markerLabel?: string;
}

export interface BarChartOptions {
  readonly title: string;
  readonly rows: readonly BarRow[];
  readonly panels: readonly BarPanel[];
  readonly width?: number;
}

const ROW = 28;
const BAR = 16;
const TOP = 28;
const BOTTOM = 28;
const GAP = 28;

function finiteMax(values: readonly number[]): number {
  return Math.max(0, ...values.filter((v) => Number.isFinite(v)));
}

interface PanelFrame {
  readonly left: number;
  readonly right: number;
  readonly bottom: number;
}

function barRow(panel: BarPanel, i: number, row: BarRow, x: (v: number) => number, left: number): string {
  const value = panel.values[i] ?? Number.NaN;
  const yMid = TOP + i * ROW + ROW / 2;
  const shown = Number.isFinite(value) ? value : 0;
  const end = x(shown);
  const marker = panel.markers?.[i];
  const parts = [
    rect(
      left,
      yMid - BAR / 2,
      end - left,
      BAR,
      { fill: row.style.colour, class: 'bar' },
      title(`${row.label}: ${formatShort(value)}`),
    ),
    text(end + 4, yMid + 4, formatShort(value), { class: 'value' }),
  ];
  if (marker !== undefined && Number.isFinite(marker)) {
    const label = `${panel.markerLabel ?? 'reference'}: ${formatShort(marker)}`;
    parts.push(
      el('g', { class: 'marker' }, title(label), line(x(marker), yMid - BAR / 2 - 3, x(marker), yMid + BAR / 2 + 3)),
    );
  }
  return parts.join('');
}

function drawPanel(panel: BarPanel, rows: readonly BarRow[], frame: PanelFrame): string {
  const all = [...panel.values, ...(panel.markers ?? [])];
  const ticks = niceTicks(0, finiteMax(all), 3);
  // Room on the right for the value printed after the longest bar.
  const x = linearScale(0, ticks.max, frame.left, frame.right - 40);
  const box = { left: frame.left, top: TOP, right: frame.right - 40, bottom: frame.bottom };
  return el(
    'g',
    { class: 'panel' },
    text(frame.left, TOP - 10, panel.title, { class: 'panel-title' }),
    xAxis(ticks, x, box, ''),
    ...rows.map((row, i) => barRow(panel, i, row, x, frame.left)),
  );
}

export function barChart(opts: BarChartOptions): string {
  const width = opts.width ?? 800;
  const labelWidth = labelColumnWidth(opts.rows.map((r) => r.label));
  const bottom = TOP + opts.rows.length * ROW;
  const height = bottom + BOTTOM;
  const panelWidth = (width - labelWidth - GAP * (opts.panels.length - 1)) / Math.max(1, opts.panels.length);
  const labels = rowLabels(
    opts.rows.map((r) => r.label),
    labelWidth,
    TOP,
    ROW,
  );
  const panels = opts.panels.map((panel, p) => {
    const left = labelWidth + p * (panelWidth + GAP);
    return drawPanel(panel, opts.rows, { left, right: left + panelWidth, bottom });
  });
  return svgRoot(width, height, opts.title, labels, ...panels);
}
