// Linear scales and "nice" axis ticks (steps of 1, 2 or 5 times a power of ten).

export interface Ticks {
  /** Axis domain, widened to whole steps. */
  readonly min: number;
  readonly max: number;
  readonly values: readonly number[];
  /** Decimals that show every tick exactly. */
  readonly decimals: number;
}

function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const mantissa = raw / power;
  const nice = mantissa <= 1 ? 1 : mantissa <= 2 ? 2 : mantissa <= 5 ? 5 : 10;
  return nice * power;
}

/** About `count` ticks covering [min, max]; an empty or invalid range becomes [0, 1]. */
export function niceTicks(min: number, max: number, count = 5): Ticks {
  let lo = Number.isFinite(min) ? min : 0;
  let hi = Number.isFinite(max) ? max : 1;
  if (hi <= lo) {
    hi = lo === 0 ? 1 : lo + Math.abs(lo);
    lo = Math.min(lo, 0);
  }
  const step = niceStep(hi - lo, count);
  const start = Math.floor(lo / step) * step;
  const end = Math.ceil(hi / step) * step;
  const n = Math.round((end - start) / step);
  // Multiplying instead of adding keeps float error from accumulating across ticks.
  const values = Array.from({ length: n + 1 }, (_, i) => Number((start + i * step).toPrecision(12)));
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return { min: start, max: end, values, decimals };
}

/** Maps [d0, d1] onto [r0, r1]; a zero-width domain maps everything to r0. */
export function linearScale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const span = d1 - d0;
  return (v) => (span === 0 ? r0 : r0 + ((v - d0) / span) * (r1 - r0));
}
