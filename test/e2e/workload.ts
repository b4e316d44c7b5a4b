// The paper's workload (policy/workload/paper-generator.ts) as GPU pods, time-compressed for an end-to-end run:
// release times, work and deadlines are divided by one time scale, so every component (extender, operator,
// fake-gpu) sees the same, faster clock. Each pod asks for the slice a user would pick: the smallest profile
// whose run time meets the deadline, else the largest.
import type { V1Affinity, V1Pod } from '@kubernetes/client-node';
import { computeProfiles, type GpuModel, type MigProfile } from '../../policy/mig/catalog.js';
import { PAPER_PROFILES, generatePaperWorkload, speedupOn, type Job } from '../../policy/workload/index.js';

export interface WorkloadOptions {
  readonly seed: number;
  readonly count: number;
  /** Simulated minutes per real minute. */
  readonly timeScale: number;
  readonly model: GpuModel;
  readonly schedulerName: string;
  /** The nodes the pods may run on (node affinity on kubernetes.io/hostname). */
  readonly nodeNames: readonly string[];
  /** Hour of the paper's day the workload starts at (busier hours give more jobs per minute). */
  readonly startHour?: number;
  /** Added to every pod, to find them again. */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface PlannedPod {
  readonly job: Job;
  readonly profile: MigProfile;
  /** When to create the pod, real milliseconds after the first one. */
  readonly atMs: number;
  readonly pod: V1Pod;
}

/** The smallest compute profile on which the job finishes by its deadline, else the largest one. */
export function profileFor(job: Job, model: GpuModel): MigProfile {
  const speedups = PAPER_PROFILES.find((p) => p.name === job.profile);
  if (!speedups) throw new Error(`job ${job.id}: unknown speed-up profile ${job.profile}`);
  const bySize = [...computeProfiles(model)].sort(
    (a, b) => a.computeSlices - b.computeSlices || a.memorySlices - b.memorySlices,
  );
  const fits = bySize.find((p) => job.work / speedupOn(speedups, p.computeSlices) <= job.deadline - job.release);
  return fits ?? (bySize[bySize.length - 1] as MigProfile);
}

/** Required node affinity to exactly these nodes (by `kubernetes.io/hostname`). */
export function onNodes(nodeNames: readonly string[]): V1Affinity {
  return {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [
          { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [...nodeNames] }] },
        ],
      },
    },
  };
}

/** A number as the annotations take it: plain decimals, never exponent notation. */
const decimal = (x: number, digits: number): string => x.toFixed(digits).replace(/\.?0+$/, '');

/** The first `count` jobs of the paper workload as pods, with their creation times. */
export function paperPods(o: WorkloadOptions): PlannedPod[] {
  // Six hours at the paper's 20× rate hold far more than a few hundred jobs.
  const jobs = generatePaperWorkload({ seed: o.seed, hours: 6, startHour: o.startHour ?? 9 }).slice(0, o.count);
  if (jobs.length < o.count) throw new Error(`the paper generator gave ${jobs.length} jobs, wanted ${o.count}`);
  const first = jobs[0]?.release ?? 0;
  return jobs.map((job) => {
    const profile = profileFor(job, o.model);
    const slackSeconds = ((job.deadline - job.release) * 60) / o.timeScale;
    const pod: V1Pod = {
      metadata: {
        name: `job-${String(job.id).padStart(4, '0')}`,
        labels: { ...o.labels, 'smartmig.io/kind': job.kind },
        annotations: {
          'smartmig.io/deadline': `${decimal(Math.max(slackSeconds, 0.001), 3)}s`,
          'smartmig.io/workload': job.profile,
          'smartmig.io/work': decimal(Math.max(job.work / o.timeScale, 1e-5), 5),
        },
      },
      spec: {
        schedulerName: o.schedulerName,
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 0,
        affinity: onNodes(o.nodeNames),
        containers: [
          {
            name: 'job',
            image: 'registry.invalid/smartmig-e2e/job:1',
            resources: { limits: { [profile.resource]: '1' } },
          },
        ],
      },
    };
    return { job, profile, atMs: ((job.release - first) * 60_000) / o.timeScale, pod };
  });
}
