// Minimal SVG element builders. Every builder returns markup with its text escaped and its coordinates
// rounded, so charts are plain string composition and render identically on every machine.
import { coord, escapeHtml } from './format.js';

export type Attrs = Readonly<Record<string, string | number | undefined>>;

function attributes(attrs: Attrs): string {
  return Object.entries(attrs)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined && entry[1] !== '')
    .map(([name, value]) => ` ${name}="${typeof value === 'number' ? coord(value) : escapeHtml(value)}"`)
    .join('');
}

/** An element with children (already markup), or self-closed when there are none. */
export function el(name: string, attrs: Attrs, ...children: string[]): string {
  const body = children.join('');
  return body === '' ? `<${name}${attributes(attrs)}/>` : `<${name}${attributes(attrs)}>${body}</${name}>`;
}

/** A text element; `text` is escaped. */
export function text(x: number, y: number, content: string, attrs: Attrs = {}): string {
  return `<text${attributes({ x, y, ...attrs })}>${escapeHtml(content)}</text>`;
}

/** A tooltip for the enclosing element (shown on hover, read by screen readers). */
export function title(content: string): string {
  return `<title>${escapeHtml(content)}</title>`;
}

export function line(x1: number, y1: number, x2: number, y2: number, attrs: Attrs = {}): string {
  return el('line', { x1, y1, x2, y2, ...attrs });
}

export function rect(
  x: number,
  y: number,
  width: number,
  height: number,
  attrs: Attrs = {},
  ...children: string[]
): string {
  return el('rect', { x, y, width: Math.max(0, width), height: Math.max(0, height), ...attrs }, ...children);
}

export function polyline(points: readonly (readonly [number, number])[], attrs: Attrs = {}): string {
  const list = points.map(([x, y]) => `${coord(x)},${coord(y)}`).join(' ');
  return el('polyline', { points: list, fill: 'none', ...attrs });
}

/**
 * A responsive chart root: it scales to the width of its container, keeping its aspect ratio; `label`
 * names the chart for assistive technology.
 */
export function svgRoot(width: number, height: number, label: string, ...children: string[]): string {
  return el(
    'svg',
    {
      // No xmlns: the HTML parser puts inline <svg> in the SVG namespace by itself.
      viewBox: `0 0 ${coord(width)} ${coord(height)}`,
      role: 'img',
      'aria-label': label,
      class: 'chart',
    },
    title(label),
    ...children,
  );
}

/** Rough width of `content` in a sans-serif font of `size` px, for layout before the browser measures. */
export function textWidth(content: string, size: number): number {
  return content.length * size * 0.58;
}

/** `content` cut to about `width` px with an ellipsis; the caller keeps the full text in a title. */
export function fitText(content: string, width: number, size: number): string {
  const max = Math.floor(width / (size * 0.58));
  return content.length <= max ? content : `${content.slice(0, Math.max(1, max - 1))}…`;
}
