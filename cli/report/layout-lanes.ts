// Layouts over a day: one horizontal lane per GPU, time in hours along the x axis, each stretch of the lane
// coloured by the layout the GPU held. Pure functions of their input, so a report renders the same every time.
import type { LayoutEvent } from '../../policy/sim/controller-hook.js';
import { xAxis } from './axes.js';
import { formatNumber } from './format.js';
import { layoutLabel } from './layout-label.js';
import { LAYOUT_COLOURS, needsLightText, OTHER_COLOUR } from './palette.js';
import { linearScale, type Ticks } from './scale.js';
import { el, rect, svgRoot, text, textWidth, title } from './svg.js';

/**
 * A layout as compute sizes, the simulator's key: "4g.20gb+3g.20gb" → "4+3", "4+3" stays, "1g.5gb+me" → "1".
 * A profile name begins with its compute slices; a "+me" suffix (media extensions) is part of the name, not
 * an instance. No instances at all is "none", as the simulator writes it.
 */
export function computeKey(layout: string): string {
  const sizes: string[] = [];
  for (const token of layout.split('+')) {
    const t = token.trim();
    if (/^\d+$/.test(t)) sizes.push(t);
    else {
      const m = /^(\d+)g(?:\.|$)/.exec(t);
      if (m) sizes.push(m[1] as string);
    }
  }
  return sizes.length === 0
    ? layout.trim() === '' || layout.trim() === 'none'
      ? 'none'
      : layout.trim()
    : sizes.join('+');
}

/** A stretch of one GPU's lane in one layout, minutes. */
export interface LaneSegment {
  readonly from: number;
  readonly to: number;
  /** Compute sizes, e.g. "4+3". */
  readonly key: string;
}

/**
 * Each GPU's segments over [0, endMin]: its initial layout from 0, then a new segment at every change (a
 * change to the layout it already held still starts one: the GPU was reconfigured). Changes are taken in time
 * order (stable for equal times); those at or past `endMin` are left out. GPUs a change names beyond
 * `initial` start in an "unknown" layout.
 */
export function laneSegments(
  initial: readonly string[],
  changes: readonly LayoutEvent[],
  endMin: number,
): LaneSegment[][] {
  const gpus = Math.max(initial.length, ...changes.map((c) => c.gpu + 1));
  const current = Array.from({ length: gpus }, (_, g) => ({
    from: 0,
    key: g < initial.length ? computeKey(initial[g] as string) : 'unknown',
  }));
  const lanes: LaneSegment[][] = Array.from({ length: gpus }, () => []);
  const ordered = changes
    .map((c, i) => ({ c, i }))
    .sort((a, b) => a.c.t - b.c.t || a.i - b.i)
    .map(({ c }) => c);
  for (const c of ordered) {
    if (!(c.t < endMin) || c.gpu < 0) continue;
    const cur = current[c.gpu] as { from: number; key: string };
    const t = Math.max(0, c.t);
    if (t > cur.from) (lanes[c.gpu] as LaneSegment[]).push({ from: cur.from, to: t, key: cur.key });
    cur.from = t;
    cur.key = computeKey(c.layout);
  }
  current.forEach((cur, g) => {
    if (endMin > cur.from) (lanes[g] as LaneSegment[]).push({ from: cur.from, to: endMin, key: cur.key });
  });
  return lanes;
}

export interface LayoutColour {
  readonly key: string;
  readonly label: string;
  readonly colour: string;
}

export interface LayoutColours {
  /** The legend: named layouts by GPU-minutes, most first, then "other" when the palette ran out. */
  readonly items: readonly LayoutColour[];
  colourOf(key: string): string;
}

/**
 * One colour per layout, shared by every chart: layouts by total GPU-minutes over all `lanes` (ties by key);
 * past the palette, the least used share the grey of "other".
 */
export function layoutColours(lanes: readonly (readonly LaneSegment[])[]): LayoutColours {
  const totals = new Map<string, number>();
  for (const lane of lanes) for (const s of lane) totals.set(s.key, (totals.get(s.key) ?? 0) + (s.to - s.from));
  const ordered = [...totals.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const keep = ordered.length <= LAYOUT_COLOURS.length ? ordered.length : LAYOUT_COLOURS.length - 1;
  const named = ordered.slice(0, keep).map(([key], i) => ({
    key,
    label: layoutLabel(key),
    colour: LAYOUT_COLOURS[i] as string,
  }));
  const colours = new Map(named.map((c) => [c.key, c.colour]));
  const rest = ordered.length - keep;
  const items =
    rest > 0
      ? [...named, { key: '', label: `other (${rest} layout${rest === 1 ? '' : 's'})`, colour: OTHER_COLOUR }]
      : named;
  return { items, colourOf: (key) => colours.get(key) ?? OTHER_COLOUR };
}

/** "h:mm" for a time in minutes. */
export function clockText(minutes: number): string {
  const whole = Math.round(minutes);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`;
}

const HOUR_STEPS = [0.25, 0.5, 1, 2, 3, 4, 6, 12, 24, 48, 96, 168, 336, 672];

/** Ticks on whole clock steps (…, 1, 2, 3, 4, 6, 12 hours) from 0 to `endH`, at most about twelve. */
export function hourTicks(endH: number): Ticks {
  const end = endH > 0 && Number.isFinite(endH) ? endH : 1;
  const step = HOUR_STEPS.find((s) => end / s <= 12) ?? Math.ceil(end / 12 / 168) * 168;
  const values: number[] = [];
  for (let i = 0; i * step <= end + 1e-9; i++) values.push(Number((i * step).toPrecision(12)));
  return { min: 0, max: end, values, decimals: step < 0.5 ? 2 : step < 1 ? 1 : 0 };
}

export interface LaneChartOptions {
  readonly title: string;
  readonly lanes: readonly (readonly LaneSegment[])[];
  readonly endMin: number;
  readonly colourOf: (key: string) => string;
  readonly width?: number;
}

/** The tallest the lanes of one chart get, px; with many GPUs the lanes thin to fit. */
export const MAX_PLOT_HEIGHT = 360;
const MAX_LANE = 20;
const TOP = 8;
const BOTTOM = 44;
const LABEL_WIDTH = 64;
const FONT = 11;
const LABEL_SPACING = 12;

/** Lane height in px: up to 20, thinner for many GPUs so the plot stays within MAX_PLOT_HEIGHT. */
export function laneHeight(gpus: number): number {
  return Math.min(MAX_LANE, MAX_PLOT_HEIGHT / Math.max(1, gpus));
}

export function layoutLaneChart(opts: LaneChartOptions): string {
  const width = opts.width ?? 800;
  const gpus = opts.lanes.length;
  const lane = laneHeight(gpus);
  // A gap between lanes only where they are tall enough to spare it.
  const gap = lane >= 8 ? 2 : 0;
  const bottom = TOP + gpus * lane;
  const box = { left: LABEL_WIDTH, top: TOP, right: width - 24, bottom };
  const endH = opts.endMin / 60;
  const x = linearScale(0, endH, box.left, box.right);
  const every = Math.ceil(LABEL_SPACING / lane);
  const parts: string[] = [xAxis(hourTicks(endH), x, box, 'Hour of the day')];
  opts.lanes.forEach((segments, g) => {
    const y = TOP + g * lane + gap / 2;
    const h = lane - gap;
    if (g % every === 0) {
      parts.push(
        text(LABEL_WIDTH - 8, TOP + g * lane + lane / 2 + 4, `GPU ${g}`, { class: 'tick', 'text-anchor': 'end' }),
      );
    }
    const drawn = segments.map((s) => {
      const x0 = x(s.from / 60);
      const w = x(s.to / 60) - x0;
      const colour = opts.colourOf(s.key);
      const label = layoutLabel(s.key);
      const tip = title(`GPU ${g}: ${label}, ${clockText(s.from)}–${clockText(s.to)}`);
      const bar = rect(x0, y, w, h, { class: 'lane-seg', fill: colour, 'data-gpu': String(g) }, tip);
      const fits = h >= 14 && textWidth(label, FONT) + 8 <= w;
      return fits
        ? bar +
            text(x0 + w / 2, y + h / 2 + 4, label, {
              class: needsLightText(colour) ? 'in-bar on-dark' : 'in-bar',
              'text-anchor': 'middle',
            })
        : bar;
    });
    parts.push(el('g', { class: 'lane' }, ...drawn));
  });
  return svgRoot(width, bottom + BOTTOM, opts.title, ...parts);
}

/** Where the lane chart's axis ends: the horizon if known, else the hour after the last change (a day if none). */
export function chartEndMin(horizonMin: number | undefined, changeTimes: readonly number[]): number {
  const last = Math.max(0, ...changeTimes.filter((t) => Number.isFinite(t)));
  if (horizonMin !== undefined && Number.isFinite(horizonMin) && horizonMin > 0) {
    return last < horizonMin ? horizonMin : Math.ceil((last + 1e-9) / 60) * 60;
  }
  if (changeTimes.length === 0) return 24 * 60;
  return Math.max(60, Math.ceil((last + 1e-9) / 60) * 60);
}

/** The axis end as text for captions: "24 h", "1.5 h". */
export function hoursText(minutes: number): string {
  const h = minutes / 60;
  const shown = Number.isInteger(h) ? formatNumber(h, 0) : formatNumber(h, 2).replace(/\.?0+$/, '');
  return `${shown} h`;
}
