// Axes shared by the charts: gridlines with tick labels, and axis titles.
import { formatNumber } from './format.js';
import type { Ticks } from './scale.js';
import { el, fitText, line, text, textWidth, title } from './svg.js';

export interface Box {
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
}

/** Horizontal gridlines at each tick with labels on the left; the title runs up the left edge. */
export function yAxis(ticks: Ticks, y: (v: number) => number, box: Box, label: string): string {
  const parts = ticks.values.map(
    (v) =>
      line(box.left, y(v), box.right, y(v), { class: v === 0 ? 'axis' : 'grid' }) +
      text(box.left - 6, y(v) + 4, formatNumber(v, ticks.decimals), { class: 'tick', 'text-anchor': 'end' }),
  );
  const middle = (box.top + box.bottom) / 2;
  parts.push(
    text(14, middle, label, { class: 'axis-title', 'text-anchor': 'middle', transform: `rotate(-90 14 ${middle})` }),
  );
  return parts.join('');
}

/** Vertical gridlines at each tick with labels below the plot; the title sits under the labels. */
export function xAxis(ticks: Ticks, x: (v: number) => number, box: Box, label: string): string {
  const parts = ticks.values.map(
    (v) =>
      line(x(v), box.top, x(v), box.bottom, { class: v === 0 ? 'axis' : 'grid' }) +
      text(x(v), box.bottom + 16, formatNumber(v, ticks.decimals), { class: 'tick', 'text-anchor': 'middle' }),
  );
  if (label !== '') {
    parts.push(
      text((box.left + box.right) / 2, box.bottom + 36, label, { class: 'axis-title', 'text-anchor': 'middle' }),
    );
  }
  return parts.join('');
}

const LABEL_FONT = 12;

/** Width of the left column that names the rows of a bar chart: the longest label, within limits. */
export function labelColumnWidth(labels: readonly string[]): number {
  const longest = Math.max(0, ...labels.map((l) => textWidth(l, LABEL_FONT)));
  return Math.min(180, Math.max(60, longest + 8));
}

/** Row names right-aligned in the label column, cut to fit, each with its full text as a tooltip. */
export function rowLabels(labels: readonly string[], columnWidth: number, top: number, rowHeight: number): string {
  return labels
    .map((label, i) =>
      el(
        'g',
        {},
        title(label),
        text(columnWidth - 8, top + i * rowHeight + rowHeight / 2 + 4, fitText(label, columnWidth - 8, LABEL_FONT), {
          class: 'row-label',
          'text-anchor': 'end',
        }),
      ),
    )
    .join('');
}
