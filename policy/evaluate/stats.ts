// Means with 95 % confidence intervals over seeds (Student's t), and paired differences against a baseline:
// the same seeds under two controllers see the same arrivals, so pairing removes the day-to-day variance.

/** Two-sided 97.5 % quantiles of Student's t for 1..30 degrees of freedom; beyond, the normal's 1.96. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

export interface Interval {
  readonly mean: number;
  /** Half-width of the 95 % interval (0 with a single value). */
  readonly half: number;
  readonly n: number;
}

export function meanInterval(values: readonly number[]): Interval {
  const n = values.length;
  if (n === 0) return { mean: NaN, half: NaN, n };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, half: 0, n };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  const t = T975[n - 2] ?? 1.96;
  return { mean, half: (t * Math.sqrt(variance)) / Math.sqrt(n), n };
}

/** Per-seed improvement 1 − value/baseline (ET improvement when the values are ETs), as an interval. */
export function pairedImprovement(values: readonly number[], baseline: readonly number[]): Interval {
  if (values.length !== baseline.length) throw new Error('pairedImprovement: seeds differ');
  return meanInterval(values.map((v, i) => 1 - v / (baseline[i] as number)));
}
