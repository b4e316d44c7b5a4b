// What one node looks like to the planner: its GPUs' layouts now, which GPUs may run pods, and where it is
// in the change lifecycle. Built from the node's labels and annotations, the mig-parted config and the pods
// bound to it — nothing kept in memory, so a restarted operator sees the same thing.
import type { GpuModel } from '../../policy/mig/catalog.js';
import type { NodeFacts, PodFacts } from '../facts.js';
import { holdsDevices } from '../facts.js';
import { labelledLayouts, type GpuTarget, type MigPartedConfig } from '../migparted.js';

/**
 * - `settled`: mig-manager reported success for the labelled config (or nothing is labelled yet).
 * - `applying`: the operator launched a config and mig-manager has not finished it.
 * - `failed`: mig-manager reported failure for the labelled config.
 */
export type NodePhase = 'settled' | 'applying' | 'failed';

export interface NodeView {
  readonly facts: NodeFacts;
  readonly model: GpuModel;
  readonly gpuCount: number;
  readonly phase: NodePhase;
  /** Per GPU, its layout now; undefined when unknown (no config we can read, or mid-change). */
  readonly current: readonly (GpuTarget | undefined)[];
  /** Per GPU, whether a pod may run on it (conservative when pods do not say which GPU they use). */
  readonly busy: readonly boolean[];
  /** Per GPU and slice of `current`, whether a pod may use the slice (for the controller's supply count). */
  readonly busySlices: readonly (readonly boolean[])[];
  /** A change that the operator recorded and has not completed: draining, applying, or failed. */
  readonly inFlight: boolean;
  /**
   * Whether the change counts against maxNodesReconfiguring. A failed or timed-out attempt whose drain marks
   * were cleared holds no slot while it backs off; its retry takes one like any new change.
   */
  readonly holdsSlot: boolean;
}

export function configEntries(config: MigPartedConfig | undefined, name: string | undefined) {
  return name === undefined ? undefined : config?.['mig-configs'][name];
}

function phaseOf(f: NodeFacts): NodePhase {
  if (f.migState === 'failed') return 'failed';
  if (f.migState === 'pending' || f.migState === 'rebooting') return 'applying';
  return 'settled';
}

/** Marks, per GPU, the pods that may run there; slices get one mark per pod and profile. */
function attribute(
  pods: readonly PodFacts[],
  current: readonly (GpuTarget | undefined)[],
): { busy: boolean[]; busySlices: boolean[][] } {
  const n = current.length;
  const busy = new Array<boolean>(n).fill(false);
  const busySlices = current.map((t) => new Array<boolean>(t?.layout.slices.length ?? 0).fill(false));
  const markSlice = (g: number, profile: string): void => {
    const slices = current[g]?.layout.slices ?? [];
    const i = slices.findIndex((s, k) => s.profile === profile && !busySlices[g]?.[k]);
    if (i >= 0) (busySlices[g] as boolean[])[i] = true;
  };
  for (const pod of pods) {
    if (!holdsDevices(pod)) continue;
    // A whole-GPU pod could be on any GPU.
    if (pod.wholeGpus > 0) busy.fill(true);
    for (const profile of pod.slices.keys()) {
      if (pod.gpu !== undefined && pod.gpu < n) {
        busy[pod.gpu] = true;
        markSlice(pod.gpu, profile);
        continue;
      }
      // Unknown GPU: every GPU that has (or may have) this profile may host the pod.
      for (let g = 0; g < n; g++) {
        const t = current[g];
        if (t && !t.layout.slices.some((s) => s.profile === profile)) continue;
        busy[g] = true;
        markSlice(g, profile);
      }
    }
  }
  return { busy, busySlices };
}

/** mig-manager failed, or the operator stopped waiting for it (applyTimeout): the change backs off. */
function givenUp(f: NodeFacts, phase: NodePhase): boolean {
  return phase === 'failed' || (phase === 'applying' && f.appliedAt === undefined && f.retryAfter !== undefined);
}

export function buildNodeView(
  f: NodeFacts,
  model: GpuModel,
  gpuCount: number,
  config: MigPartedConfig | undefined,
  pods: readonly PodFacts[],
): NodeView {
  const phase = phaseOf(f);
  const known = phase === 'settled' ? labelledLayouts(config, f.migConfig, model, gpuCount) : undefined;
  const current = known ?? new Array<undefined>(gpuCount).fill(undefined);
  const { busy, busySlices } = attribute(pods, current);
  const launchedPending = f.desired !== undefined && f.desired === f.migConfig && phase !== 'settled';
  const waiting = f.desired !== undefined && f.desired !== f.migConfig;
  const inFlight = launchedPending || waiting || f.draining !== undefined;
  return {
    facts: f,
    model,
    gpuCount,
    phase,
    current,
    busy,
    busySlices,
    inFlight,
    holdsSlot: inFlight && !(givenUp(f, phase) && f.draining === undefined),
  };
}
