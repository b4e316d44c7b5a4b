// Pure: what a pod asks of the node and how long it runs. Run time follows the simulator's throughput model
// (policy/workload): work in minutes on a 1g slice, divided by the speed-up of the pod's workload on the
// compute slices it got, then by the time scale (60: one simulated minute per real second).
import type { V1Pod } from '@kubernetes/client-node';
import type { SpeedupProfile } from '../policy/workload/job.js';
import { PAPER_PROFILES, speedupOn } from '../policy/workload/job.js';
import { WORK_ANNOTATION, WORKLOAD_ANNOTATION } from './labels.js';

const NVIDIA_PREFIX = 'nvidia.com/';

/** Speed-up equal to the compute slices: the default for pods that name no workload. */
export const LINEAR_PROFILE: SpeedupProfile = { name: 'linear', kind: 'inference', speedup: { 1: 1, 8: 8 } };

function quantity(q: unknown): number {
  const n = typeof q === 'number' ? q : typeof q === 'string' && /^\d+$/.test(q.trim()) ? Number(q) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

type Resources = Readonly<Record<string, unknown>> | undefined;

/** nvidia.com/ requests of one container: extended resources may be given as limits only, so the larger. */
function containerRequests(limits: Resources, requests: Resources): Map<string, number> {
  const out = new Map<string, number>();
  for (const src of [limits, requests]) {
    for (const [r, q] of Object.entries(src ?? {})) {
      if (r.startsWith(NVIDIA_PREFIX)) out.set(r, Math.max(out.get(r) ?? 0, quantity(q)));
    }
  }
  return out;
}

/**
 * The GPU devices a pod needs, as kubelet computes a pod's request: the sum over its containers, or the
 * largest init container when that is more (init containers run one at a time, before the others).
 */
export function gpuRequests(pod: V1Pod): Map<string, number> {
  const total = new Map<string, number>();
  for (const c of pod.spec?.containers ?? []) {
    for (const [r, n] of containerRequests(c.resources?.limits, c.resources?.requests)) {
      total.set(r, (total.get(r) ?? 0) + n);
    }
  }
  for (const c of pod.spec?.initContainers ?? []) {
    for (const [r, n] of containerRequests(c.resources?.limits, c.resources?.requests)) {
      total.set(r, Math.max(total.get(r) ?? 0, n));
    }
  }
  for (const [r, n] of total) if (n === 0) total.delete(r);
  return total;
}

const DURATION = /^(?:\d+(?:\.\d+)?(?:h|m|s|ms))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(h|ms|m|s)/g;
const UNIT_MINUTES: Readonly<Record<string, number>> = { h: 60, m: 1, s: 1 / 60, ms: 1 / 60_000 };

/** `smartmig.io/work`: minutes on a 1g slice (`45`, `2.5`) or a duration (`30m`, `1h30m`, `90s`). */
export function parseWork(text: string): { ok: true; minutes: number } | { ok: false; error: string } {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return { ok: true, minutes: Number(t) };
  if (t.length <= 64 && DURATION.test(t)) {
    let minutes = 0;
    for (const m of t.matchAll(DURATION_PART)) minutes += Number(m[1]) * (UNIT_MINUTES[m[2] as string] as number);
    return { ok: true, minutes };
  }
  return { ok: false, error: `${WORK_ANNOTATION}: "${text}" is neither minutes (45) nor a duration (30m, 1h30m)` };
}

export interface RunOptions {
  /** Simulated minutes per real minute. */
  readonly timeScale: number;
  /** Work of a pod without `smartmig.io/work`, minutes on 1g. */
  readonly defaultWorkMinutes: number;
  readonly profiles?: readonly SpeedupProfile[];
}

export interface RunPlan {
  readonly workMinutes: number;
  readonly workload: string;
  readonly speedup: number;
  /** Real milliseconds the pod runs. */
  readonly millis: number;
  /** Annotations that were unreadable and replaced by defaults, for the log. */
  readonly warnings: readonly string[];
}

/** How long `pod` runs on `compute` compute slices. */
export function runPlan(pod: V1Pod, compute: number, opts: RunOptions): RunPlan {
  const ann = pod.metadata?.annotations ?? {};
  const warnings: string[] = [];
  let workMinutes = opts.defaultWorkMinutes;
  const workText = ann[WORK_ANNOTATION];
  if (workText !== undefined) {
    const w = parseWork(workText);
    if (w.ok) workMinutes = w.minutes;
    else warnings.push(`${w.error}; using ${opts.defaultWorkMinutes}`);
  }
  const name = ann[WORKLOAD_ANNOTATION];
  let profile = LINEAR_PROFILE;
  if (name !== undefined) {
    const found = (opts.profiles ?? PAPER_PROFILES).find((p) => p.name === name);
    if (found) profile = found;
    else warnings.push(`${WORKLOAD_ANNOTATION}: unknown workload "${name}"; using linear speed-up`);
  }
  const speedup = speedupOn(profile, Math.max(1, compute));
  const millis = (workMinutes * 60_000) / speedup / opts.timeScale;
  return { workMinutes, workload: profile.name, speedup, millis, warnings };
}
