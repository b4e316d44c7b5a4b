// A feasible reference schedule for the bounds tests: preemptive EDF on m identical machines, each job at
// rate 1 on one machine at a time. Any bound must be at or below what this schedule achieves.

export interface RefJob {
  readonly release: number;
  readonly p: number;
  readonly deadline: number;
}

export interface RefSchedule {
  readonly completion: number[];
  readonly makespan: number;
  readonly meanTardiness: number;
  /** Machine-minutes busy, equal to Σp. */
  readonly busy: number;
}

const DONE = 1e-12;

export function preemptiveEdf(jobs: readonly RefJob[], m: number): RefSchedule {
  const left = jobs.map((j) => j.p);
  const completion = jobs.map((j) => (j.p <= DONE ? j.release : Infinity));
  let t = Math.min(...jobs.map((j) => j.release));
  let busy = 0;
  for (;;) {
    const ready = jobs
      .map((j, i) => i)
      .filter((i) => jobs[i]!.release <= t && left[i]! > DONE)
      .sort((a, b) => jobs[a]!.deadline - jobs[b]!.deadline || a - b);
    const future = jobs.filter((j, i) => j.release > t && left[i]! > DONE).map((j) => j.release);
    if (ready.length === 0 && future.length === 0) break;
    const running = ready.slice(0, m);
    const next = Math.min(...future, ...running.map((i) => t + left[i]!));
    for (const i of running) {
      left[i] = left[i]! - (next - t);
      busy += next - t;
      if (left[i]! <= DONE) completion[i] = next;
    }
    t = next;
  }
  const makespan = Math.max(...completion);
  const meanTardiness = jobs.reduce((s, j, i) => s + Math.max(0, completion[i]! - j.deadline), 0) / jobs.length;
  return { completion, makespan, meanTardiness, busy };
}
