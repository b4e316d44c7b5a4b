// What the metrics report about the cluster, computed from a snapshot: modelled power per GPU, slices per
// profile and state, pending demand per profile. Unlike the planner's safety view (which assumes the worst
// about pods that do not say which GPU they use), this is a best guess: each pod counts once, on the first
// GPU with a free slice of its profile. Which nodes count, and with which GPU model, the caller says: the
// reconciler passes the nodes its policies manage with the model the planner used (spec.gpuModel first).
import { powerModel, type PowerModel } from '../policy/energy/power.js';
import type { GpuModel } from '../policy/mig/catalog.js';
import { findProfile } from '../policy/mig/catalog.js';
import { holdsDevices, type NodeFacts } from './facts.js';
import { labelledLayouts, type GpuTarget } from './migparted.js';
import type { Snapshot } from './plan/round.js';

export interface GpuObservation {
  readonly node: string;
  readonly gpu: number;
  readonly model: string;
  readonly watts: number;
}

export interface Observation {
  readonly gpus: GpuObservation[];
  /** `profile|state` → count. */
  readonly slices: Map<string, number>;
  readonly pending: Map<string, number>;
}

const POWER = new Map<string, PowerModel>();
function power(model: GpuModel): PowerModel {
  let p = POWER.get(model.name);
  if (!p) {
    p = powerModel(model);
    POWER.set(model.name, p);
  }
  return p;
}

function add(m: Map<string, number>, key: string, n = 1): void {
  m.set(key, (m.get(key) ?? 0) + n);
}

/** The GPU model to observe a node with; undefined leaves the node out. */
export type ModelOf = (n: NodeFacts) => GpuModel | undefined;

/** Without `modelOf`, every node whose GPU feature discovery labels name a known model. */
export function observe(snap: Snapshot, modelOf: ModelOf = (n) => n.detectedModel): Observation {
  const gpus: GpuObservation[] = [];
  const slices = new Map<string, number>();
  const pending = new Map<string, number>();
  const config = snap.config.ok ? snap.config.value : undefined;
  for (const n of snap.nodes) {
    const model = modelOf(n);
    if (!model || n.gpuCount === undefined) continue;
    const layouts: readonly (GpuTarget | undefined)[] =
      labelledLayouts(config, n.migConfig, model, n.gpuCount) ?? new Array<undefined>(n.gpuCount).fill(undefined);
    const reconfiguring = n.migState === 'pending' || n.migState === 'rebooting';
    const used = layouts.map((t) => new Array<boolean>(t?.layout.slices.length ?? 0).fill(false));
    const busyCompute = new Array<number>(n.gpuCount).fill(0);
    for (const pod of snap.podsByNode.get(n.name) ?? []) {
      if (!holdsDevices(pod)) continue;
      for (const [profile, count] of pod.slices) {
        for (let k = 0; k < count; k++) place(model, layouts, used, busyCompute, profile, pod.gpu);
      }
      for (let k = 0, g = 0; k < pod.wholeGpus && g < n.gpuCount; g++) {
        if (busyCompute[g] === 0) {
          busyCompute[g] = model.computeSlices;
          k++;
        }
      }
    }
    layouts.forEach((t, g) => {
      t?.layout.slices.forEach((s, i) =>
        add(slices, `${s.profile}|${reconfiguring ? 'reconfiguring' : used[g]?.[i] ? 'busy' : 'free'}`),
      );
      const busy = Math.min(model.computeSlices, busyCompute[g] ?? 0);
      gpus.push({ node: n.name, gpu: g, model: model.name, watts: power(model).watts(busy) });
    });
  }
  for (const pod of snap.pending) for (const [profile, count] of pod.slices) add(pending, profile, count);
  return { gpus, slices, pending };
}

function place(
  model: GpuModel,
  layouts: readonly (GpuTarget | undefined)[],
  used: boolean[][],
  busyCompute: number[],
  profile: string,
  gpu: number | undefined,
): void {
  const compute = findProfile(model, profile)?.computeSlices ?? 0;
  const order = gpu !== undefined && gpu < layouts.length ? [gpu] : layouts.map((_, g) => g);
  for (const g of order) {
    const i = (layouts[g]?.layout.slices ?? []).findIndex((s, k) => s.profile === profile && !used[g]?.[k]);
    if (i < 0) continue;
    (used[g] as boolean[])[i] = true;
    busyCompute[g] = (busyCompute[g] ?? 0) + compute;
    return;
  }
  // No matching free slice (layout unknown): still count the work on the named or first GPU.
  const g = order[0];
  if (g !== undefined) busyCompute[g] = (busyCompute[g] ?? 0) + compute;
}
