// Jobs and speed-up profiles (docs/model.md §2). Times are minutes from the start of the workload.

export type JobKind = 'training' | 'inference';

/** How much faster a job runs on a slice of k compute slices than on one (1 → 1). */
export interface SpeedupProfile {
  readonly name: string;
  readonly kind: JobKind;
  /** Speed-up by compute slices; sizes not listed are interpolated by `speedupOn`. */
  readonly speedup: Readonly<Record<number, number>>;
}

export interface Job {
  readonly id: number;
  /** Release (arrival) time, minutes. */
  readonly release: number;
  /** Soft deadline, minutes. */
  readonly deadline: number;
  /** Processing time on a 1g slice, minutes. */
  readonly work: number;
  /** Name of its speed-up profile. */
  readonly profile: string;
  readonly kind: JobKind;
  /** Smallest slice (compute slices) the job fits on, e.g. for its memory; absent means any. */
  readonly minCompute?: number;
  /** Where the job came from, e.g. a trace's pod name; for reports only. */
  readonly name?: string;
}

/** The paper's measured speed-ups over 1g for 2g / 3g / 4g / 7g. */
export const PAPER_PROFILES: readonly SpeedupProfile[] = [
  { name: 'bert-training', kind: 'training', speedup: { 1: 1, 2: 1.864, 3: 2.636, 4: 3.227, 7: 4.773 } },
  { name: 'resnet-training', kind: 'training', speedup: { 1: 1, 2: 1.765, 3: 2.309, 4: 2.471, 7: 2.868 } },
  { name: 'bert-inference', kind: 'inference', speedup: { 1: 1, 2: 2, 3: 3, 4: 4, 7: 7 } },
  { name: 'resnet-inference', kind: 'inference', speedup: { 1: 1, 2: 2, 3: 3, 4: 3.906, 7: 5.75 } },
];

/** Speed-up on k compute slices; between listed sizes it is linear, beyond them flat. */
export function speedupOn(profile: SpeedupProfile, k: number): number {
  const exact = profile.speedup[k];
  if (exact !== undefined) return exact;
  const sizes = Object.keys(profile.speedup)
    .map(Number)
    .sort((a, b) => a - b);
  let lo = sizes[0] ?? 1;
  for (const s of sizes) {
    if (s > k) {
      const a = profile.speedup[lo] ?? 1;
      const b = profile.speedup[s] ?? a;
      return a + ((b - a) * (k - lo)) / (s - lo);
    }
    lo = s;
  }
  return profile.speedup[lo] ?? 1;
}

/**
 * `speedupOn` for 0..maxK compute slices, indexed by k: the simulator asks for a job's speed-up on every
 * free size at every event, and a table read returns the very same numbers without the profile lookup.
 */
export function speedupTable(profile: SpeedupProfile, maxK: number): Float64Array {
  const table = new Float64Array(maxK + 1);
  for (let k = 0; k <= maxK; k++) table[k] = speedupOn(profile, k);
  return table;
}

export class ProfileBook {
  private readonly byName = new Map<string, SpeedupProfile>();
  constructor(profiles: readonly SpeedupProfile[] = PAPER_PROFILES) {
    this.replace(profiles);
  }
  /** Replaces every profile (the extender follows the MigPartitions' workloads); holders see the new set. */
  replace(profiles: readonly SpeedupProfile[]): void {
    this.byName.clear();
    for (const p of profiles) this.byName.set(p.name, p);
  }
  get(name: string): SpeedupProfile {
    const p = this.byName.get(name);
    if (!p) throw new Error(`unknown speed-up profile "${name}"`);
    return p;
  }
  has(name: string): boolean {
    return this.byName.has(name);
  }
  /** Minutes a job takes on a slice of k compute slices. */
  duration(job: Job, k: number): number {
    return job.work / speedupOn(this.get(job.profile), k);
  }
}
