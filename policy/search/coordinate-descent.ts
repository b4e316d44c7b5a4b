// Coordinate descent over discrete choices: change one coordinate at a time to whichever option lowers the
// cost most, until a whole pass improves nothing. Deterministic: coordinates and options in index order,
// ties keep the incumbent.

export interface DescentProblem {
  readonly initial: readonly number[];
  /** Options of coordinate i: 0..options(i)−1. */
  options(i: number): number;
  cost(x: readonly number[]): number;
  readonly maxPasses?: number;
  /** Called after every cost evaluation, for progress bars. */
  readonly onEvaluate?: () => void;
}

export interface DescentResult {
  readonly x: number[];
  readonly cost: number;
  readonly evaluations: number;
}

export function coordinateDescent(p: DescentProblem): DescentResult {
  const memo = new Map<string, number>();
  let evaluations = 0;
  const cost = (x: readonly number[]): number => {
    const key = x.join(',');
    let c = memo.get(key);
    if (c === undefined) {
      c = p.cost(x);
      evaluations++;
      memo.set(key, c);
      p.onEvaluate?.();
    }
    return c;
  };
  const x = [...p.initial];
  let best = cost(x);
  const passes = p.maxPasses ?? 3;
  for (let pass = 0; pass < passes; pass++) {
    let improved = false;
    for (let i = 0; i < x.length; i++) {
      const keep = x[i] as number;
      let bestOption = keep;
      for (let o = 0; o < p.options(i); o++) {
        if (o === keep) continue;
        x[i] = o;
        const c = cost(x);
        if (c < best) {
          best = c;
          bestOption = o;
        }
      }
      x[i] = bestOption;
      if (bestOption !== keep) improved = true;
    }
    if (!improved) break;
  }
  return { x, cost: best, evaluations };
}

/** How many evaluations a descent may make at most, for sizing progress bars. */
export function descentBudget(dims: readonly number[], maxPasses: number): number {
  return 1 + maxPasses * dims.reduce((s, n) => s + Math.max(0, n - 1), 0);
}
