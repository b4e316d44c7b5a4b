// Asks the repartitioning controller for layouts and applies what the cluster's rules allow.
import { computeProfiles, type GpuModel } from '../mig/catalog.js';
import type { ClusterView, PendingDemand, Repartitioner } from '../repartition/controller.js';
import type { Job, ProfileBook } from '../workload/job.js';
import type { SimCluster } from './sim-cluster.js';

/** The profile a waiting job would ask for: the smallest that meets its deadline, else the largest. */
export function demandProfile(model: GpuModel, job: Job, profiles: ProfileBook, now: number): string {
  const options = smallestProfilePerSize(model);
  const min = job.minCompute ?? 0;
  let last = options[options.length - 1] as { k: number; name: string };
  for (const o of options) {
    if (o.k < min) continue;
    last = o;
    if (now + profiles.duration(job, o.k) <= job.deadline) return o.name;
  }
  return last.name;
}

const PER_SIZE = new WeakMap<GpuModel, { k: number; name: string }[]>();

function smallestProfilePerSize(model: GpuModel): { k: number; name: string }[] {
  let list = PER_SIZE.get(model);
  if (!list) {
    const bySize = new Map<number, { k: number; name: string; mem: number }>();
    for (const p of computeProfiles(model)) {
      const cur = bySize.get(p.computeSlices);
      if (!cur || p.memorySlices < cur.mem)
        bySize.set(p.computeSlices, { k: p.computeSlices, name: p.name, mem: p.memorySlices });
    }
    list = [...bySize.values()].sort((a, b) => a.k - b.k).map(({ k, name }) => ({ k, name }));
    PER_SIZE.set(model, list);
  }
  return list;
}

export interface HookOutcome {
  applied: number[];
  refused: number;
}

/**
 * Builds the controller's view, asks it, and starts the reconfigurations it may do: only idle GPUs that
 * are not already reconfiguring change, so a running job is never disturbed.
 */
export function consultController(
  controller: Repartitioner,
  cluster: SimCluster,
  waiting: readonly Job[],
  profiles: ProfileBook,
  now: number,
): HookOutcome {
  const gpus = Array.from({ length: cluster.gpuCount }, (_, g) => cluster.gpuState(g));
  const model = cluster.models[0] as GpuModel;
  const pending: PendingDemand[] = waiting.map((j) => ({
    profile: demandProfile(model, j, profiles, now),
    deadline: j.deadline,
  }));
  const view: ClusterView = { now, gpus, pending };
  const applied: number[] = [];
  let refused = 0;
  for (const change of controller.decide(view)) {
    const g = change.gpu;
    if (g < 0 || g >= cluster.gpuCount || !cluster.available[g] || !cluster.isIdle(g) || applied.includes(g)) {
      refused++;
      continue;
    }
    cluster.beginReconfigure(g, change.layout, now);
    applied.push(g);
  }
  return { applied, refused };
}
