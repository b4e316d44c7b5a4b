// A line chart of per-hour values: one line per series, a gap where a series has no value for an hour.
import { yAxis, xAxis, type Box } from './axes.js';
import type { RunStyle } from './palette.js';
import { linearScale, niceTicks, type Ticks } from './scale.js';
import { el, polyline, svgRoot, title } from './svg.js';

export interface LineSeries {
  readonly label: string;
  /** Value of hour i, drawn at the middle of the hour; null leaves a gap. */
  readonly values: readonly (number | null)[];
  readonly style: RunStyle;
}

export interface LineChartOptions {
  /** What the chart shows, for assistive technology. */
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly LineSeries[];
  readonly width?: number;
  readonly height?: number;
}

/** Maximal runs of consecutive hours with a finite value, as [hour, value] pairs. */
export function segments(values: readonly (number | null)[]): [number, number][][] {
  const out: [number, number][][] = [];
  let current: [number, number][] = [];
  values.forEach((v, i) => {
    if (v !== null && Number.isFinite(v)) {
      current.push([i, v]);
    } else if (current.length > 0) {
      out.push(current);
      current = [];
    }
  });
  if (current.length > 0) out.push(current);
  return out;
}

// Steps that divide a day evenly, so ticks fall on familiar hours (0, 3, 6, …).
const HOUR_STEPS = [1, 2, 3, 4, 6, 12, 24];

/** Whole-hour ticks over [0, hours], at most about a dozen. */
export function hourTicks(hours: number): Ticks {
  const step = HOUR_STEPS.find((s) => hours / s <= 12) ?? 24 * Math.ceil(hours / 24 / 12);
  const values = Array.from({ length: Math.floor(hours / step) + 1 }, (_, i) => i * step);
  return { min: 0, max: hours, values, decimals: 0 };
}

function drawSeries(s: LineSeries, x: (v: number) => number, y: (v: number) => number): string {
  const stroke = { stroke: s.style.colour, 'stroke-dasharray': s.style.dash };
  const marks = segments(s.values).map((seg) => {
    const points = seg.map(([h, v]): [number, number] => [x(h + 0.5), y(v)]);
    const [only] = points;
    // A lone hour has no line to draw; a dot keeps it visible.
    if (points.length === 1 && only) return el('circle', { cx: only[0], cy: only[1], r: 3, fill: s.style.colour });
    return polyline(points, { class: 'series', 'stroke-width': 2, ...stroke });
  });
  return el('g', { class: 'line' }, title(s.label), ...marks);
}

export function lineChart(opts: LineChartOptions): string {
  const width = opts.width ?? 800;
  const height = opts.height ?? 300;
  const box: Box = { left: 64, top: 12, right: width - 16, bottom: height - 48 };
  const hours = Math.max(1, ...opts.series.map((s) => s.values.length));
  const finite = opts.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const yTicks = niceTicks(0, Math.max(0, ...finite), 5);
  const xTicks = hourTicks(hours);
  const x = linearScale(0, hours, box.left, box.right);
  const y = linearScale(yTicks.min, yTicks.max, box.bottom, box.top);
  return svgRoot(
    width,
    height,
    opts.title,
    xAxis(xTicks, x, box, opts.xLabel),
    yAxis(yTicks, y, box, opts.yLabel),
    ...opts.series.map((s) => drawSeries(s, x, y)),
  );
}
