// HTML legends: they wrap with the page width, unlike text inside an SVG.
import { escapeHtml } from './format.js';
import type { RunStyle } from './palette.js';
import { el, line, rect } from './svg.js';

export interface LegendItem {
  readonly label: string;
  readonly colour: string;
  /** A line sample with this dash pattern; omitted for a filled box. */
  readonly dash?: string;
}

function swatch(item: LegendItem): string {
  const mark =
    item.dash === undefined
      ? rect(1, 1, 14, 14, { fill: item.colour, rx: 2 })
      : line(0, 8, 28, 8, { stroke: item.colour, 'stroke-width': 3, 'stroke-dasharray': item.dash });
  const width = item.dash === undefined ? 16 : 28;
  return el('svg', { class: 'swatch', width, height: 16, viewBox: `0 0 ${width} 16`, 'aria-hidden': 'true' }, mark);
}

export function legend(items: readonly LegendItem[]): string {
  const entries = items.map((item) => `<li>${swatch(item)}<span>${escapeHtml(item.label)}</span></li>`);
  return `<ul class="legend">${entries.join('')}</ul>`;
}

/** Legend entries for runs drawn as lines. */
export function runLegendItems(labels: readonly string[], style: (i: number) => RunStyle): LegendItem[] {
  return labels.map((label, i) => ({ label, colour: style(i).colour, dash: style(i).dash }));
}
