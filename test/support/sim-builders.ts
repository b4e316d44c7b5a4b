// Small builders for simulator and placement tests.
import { powerModel } from '../../policy/energy/power.js';
import { findGpuModel, type GpuModel } from '../../policy/mig/catalog.js';
import { paper12Layout } from '../../policy/mig/paper12.js';
import type { PlacementName } from '../../policy/placement/heuristics.js';
import type { Repartitioner } from '../../policy/repartition/controller.js';
import { staticRepartitioner } from '../../policy/repartition/static.js';
import { PAPER_ET_WEIGHT, type SimConfig, type SimMode } from '../../policy/sim/config.js';
import { ProfileBook, type Job, type JobKind } from '../../policy/workload/job.js';

export const A100 = findGpuModel('A100-40GB') as GpuModel;

export function paperGpus(configs: readonly number[], model: GpuModel = A100) {
  return configs.map((n) => {
    const layout = paper12Layout(model, n);
    if (!layout) throw new Error(`no paper configuration ${n}`);
    return { model, layout };
  });
}

let nextId = 0;
export function job(over: Partial<Job> & { release: number; work: number }): Job {
  const kind: JobKind = over.kind ?? 'inference';
  return { id: nextId++, deadline: over.release + over.work, profile: 'bert-inference', kind, ...over };
}

/** Jobs with ids renumbered 0..n−1 in release order, as the simulator requires. */
export function ordered(jobs: readonly Job[]): Job[] {
  return [...jobs].sort((a, b) => a.release - b.release || a.id - b.id).map((j, id) => ({ ...j, id }));
}

export function simConfig(
  over: Partial<SimConfig> & { jobs: readonly Job[]; gpus: SimConfig['gpus'] },
  mode: SimMode = 'paper',
  placement: PlacementName = 'cedf',
  repartitioner: Repartitioner = staticRepartitioner(),
): SimConfig {
  return {
    profiles: new ProfileBook(),
    mode,
    placement,
    repartitioner,
    seed: 1,
    horizonMin: 0,
    reconfigureMin: 0.5,
    etWeight: PAPER_ET_WEIGHT,
    powerTable: (m) => powerModel(m).table,
    ...over,
  };
}
