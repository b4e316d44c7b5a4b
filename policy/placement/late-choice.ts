// What a job asks for when no slice it accepts finishes it on time. The fastest slice saves it a little
// tardiness and costs a whole GPU of throughput: with the paper's deadlines (1 to 1.5 times the 7g run
// time) every waiting job would ask for 7g, and a controller that carves what is asked for turns the
// cluster into whole GPUs (no-MIG results). So a late job asks for the smallest size that runs it at least
// half as fast as the fastest size it accepts. The simulator's pending demand and the admission webhook
// share this rule, so a controller sees the same demand in both.

export const LATE_SPEED_FRACTION = 0.5;

export interface SizedOption {
  readonly compute: number;
  /** Minutes on this size; undefined when the work is unknown. */
  readonly duration?: number;
}

export function lateChoice<T extends SizedOption>(options: readonly T[]): T | undefined {
  let fastest: T | undefined;
  for (const o of options) if (!fastest || o.compute > fastest.compute) fastest = o;
  if (fastest?.duration === undefined) return fastest;
  let best: T | undefined;
  for (const o of options) {
    if (o.duration === undefined || o.duration * LATE_SPEED_FRACTION > fastest.duration) continue;
    if (!best || o.compute < best.compute) best = o;
  }
  return best ?? fastest;
}
