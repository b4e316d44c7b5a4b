// Minimum preemptive makespan on m identical machines with release dates (P|pmtn,r_j|Cmax), in closed form.

/** A job reduced to what the bounds need: release time and processing time on one whole machine. */
export interface LinearJob {
  readonly release: number;
  readonly p: number;
}

/**
 * The least C such that all jobs can finish by C on `m` identical machines, when jobs may be preempted and
 * moved between machines but run on one machine at a time and not before their release.
 *
 *   C* = max over u of  u + W(u)/m,   W(u) = Σ_j max(0, p_j − max(0, u − r_j)),   u ≤ max_j (r_j + p_j)
 *
 * W(u) is the work still left at time u if every job had run alone from its release; no schedule can have
 * less left, and m machines need W(u)/m more time to do it. That the condition is also sufficient comes from
 * the flow network jobs → time intervals → sink (x_{j,i} ≤ len_i, Σ_j x_{j,i} ≤ m·len_i): after reversing
 * time, every job is available on a prefix of [0, C], the availability sets are nested, and so the minimum
 * cut always removes a suffix [u, C] of time; the cut at u is exactly W(u) ≤ m·(C − u). u = max_j (r_j + p_j)
 * gives C ≥ r_j + p_j. The function is piecewise linear with slope 1 − (#jobs with r_j ≤ u < r_j + p_j)/m,
 * so its maximum is at a breakpoint r_j or r_j + p_j: one sort and one sweep, O(n log n).
 */
export function minPreemptiveMakespan(jobs: readonly LinearJob[], m: number): number {
  if (!(m > 0) || !Number.isFinite(m)) throw new RangeError(`machines must be a positive number, got ${m}`);
  if (jobs.length === 0) return 0;
  const events: Array<[time: number, delta: number]> = [];
  let left = 0;
  for (const j of jobs) {
    if (!Number.isFinite(j.release) || !Number.isFinite(j.p) || j.p < 0) {
      throw new RangeError(`job needs a finite release and a finite p ≥ 0, got release ${j.release}, p ${j.p}`);
    }
    left += j.p;
    events.push([j.release, +1], [j.release + j.p, -1]);
  }
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);

  let active = 0;
  let prev = events[0]![0];
  let best = -Infinity;
  for (const [time, delta] of events) {
    // W falls at the rate of the jobs running alone since the previous breakpoint.
    left = Math.max(0, left - active * (time - prev));
    best = Math.max(best, time + left / m);
    active += delta;
    prev = time;
  }
  return best;
}
