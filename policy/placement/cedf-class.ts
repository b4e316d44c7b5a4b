// Categorical EDF's job classes (docs/model.md §5): how much a job gains from big slices.
import { speedupOn, type SpeedupProfile } from '../workload/job.js';

export type CedfClass = 1 | 2 | 3 | 4;

/** Sizes compared against the full GPU, largest first; class 4 means even 1g is within 80 % of it. */
const CLASS_SIZES = [4, 2, 1] as const;
const CLOSE_TO_FULL = 0.8;

/** Class 1 jobs scale well and want big slices; class 4 jobs run nearly as fast on the smallest. */
export function cedfClass(profile: SpeedupProfile, fullGpuCompute = 7): CedfClass {
  const full = speedupOn(profile, fullGpuCompute);
  for (let i = 0; i < CLASS_SIZES.length; i++) {
    const k = CLASS_SIZES[i] as number;
    if (speedupOn(profile, k) < CLOSE_TO_FULL * full) return (i + 1) as CedfClass;
  }
  return 4;
}
