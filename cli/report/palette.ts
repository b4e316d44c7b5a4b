// Colour-blind-friendly colours. Runs use the Okabe–Ito palette (without its yellow, too pale on white) and
// also differ in dash pattern, so lines stay apart in greyscale; layouts use Paul Tol's "muted" scheme.

const RUN_COLOURS = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#000000'] as const;
const RUN_DASHES = ['', '6 3', '2 3', '8 3 2 3', '12 4', '2 6'] as const;

export interface RunStyle {
  readonly colour: string;
  /** An SVG stroke-dasharray; empty for a solid line. */
  readonly dash: string;
}

/** The style of the `index`-th run; colour and dash cycle at different periods so pairs repeat late. */
export function runStyle(index: number): RunStyle {
  return {
    colour: RUN_COLOURS[index % RUN_COLOURS.length] as string,
    dash: RUN_DASHES[index % RUN_DASHES.length] as string,
  };
}

export const LAYOUT_COLOURS = [
  '#332288',
  '#88CCEE',
  '#44AA99',
  '#117733',
  '#999933',
  '#DDCC77',
  '#CC6677',
  '#882255',
  '#AA4499',
] as const;

/** For the layouts beyond the palette, lumped together as "other". */
export const OTHER_COLOUR = '#BBBBBB';

/** Whether white text reads better than black on `hex` (#RRGGBB), by relative luminance. */
export function needsLightText(hex: string): boolean {
  const channel = (i: number): number => {
    const c = parseInt(hex.slice(1 + 2 * i, 3 + 2 * i), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2);
  // The luminance where contrast with black equals contrast with white.
  return luminance <= 0.179;
}
