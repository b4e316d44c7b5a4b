// Dynamic mode: the policy's nodes as the repartitioning controller's ClusterView, and its answer as per-node
// targets, within the limit of nodes that may change at once.
import type {
  ClusterView,
  GpuState,
  LayoutChange,
  PendingDemand,
  Repartitioner,
} from '../../policy/repartition/controller.js';
import type { PodFacts } from '../facts.js';
import type { GpuTarget } from '../migparted.js';
import type { NodeView } from './node-view.js';

const MINUTE = 60_000;
const EMPTY: GpuTarget = { layout: { slices: [] }, migEnabled: true };

interface GpuRef {
  readonly node: number;
  readonly gpu: number;
}

/** What an in-flight node's GPUs are moving to. */
export type FutureOf = (v: NodeView) => readonly (GpuTarget | undefined)[] | undefined;

function gpuStates(
  views: readonly NodeView[],
  now: number,
  futureOf: FutureOf,
  locked: ReadonlySet<number>,
): { gpus: GpuState[]; refs: GpuRef[] } {
  const gpus: GpuState[] = [];
  const refs: GpuRef[] = [];
  views.forEach((v, n) => {
    const future = v.inFlight ? futureOf(v) : undefined;
    for (let g = 0; g < v.gpuCount; g++) {
      const id = gpus.length;
      refs.push({ node: n, gpu: g });
      if (v.inFlight) {
        // On its way to the recorded target: its slices are supply to come, and it may not change again now.
        const t = future?.[g] ?? v.current[g];
        gpus.push({
          id,
          node: n,
          index: g,
          model: v.model,
          layout: t?.layout ?? EMPTY.layout,
          busy: [],
          reconfiguring: true,
          lastChange: now / MINUTE,
        });
        continue;
      }
      const cur = v.current[g];
      const last = v.facts.lastChange.get(g);
      gpus.push({
        id,
        node: n,
        index: g,
        model: v.model,
        layout: cur?.layout ?? EMPTY.layout,
        busy: v.busySlices[g] ?? [],
        reconfiguring: false,
        lastChange: last === undefined ? -Infinity : last / MINUTE,
        // A busy GPU whose layout we cannot read has no slice to mark busy: lock it instead.
        locked: locked.has(n) || (v.busy[g] === true && !(v.busySlices[g] ?? []).some(Boolean)),
      });
    }
  });
  return { gpus, refs };
}

/**
 * Pending pods as demands for profiles that some node of the policy can give them; deadlines in minutes. A
 * pod asking through ResourceClaims can only get a slice on a DRA node, one asking for `nvidia.com/mig-*` only
 * on a device-plugin node: neither is demand for the other kind, or a policy would drain GPUs for pods that
 * cannot land there.
 */
export function pendingDemands(pending: readonly PodFacts[], views: readonly NodeView[]): PendingDemand[] {
  const offered = { dra: new Set<string>(), plugin: new Set<string>() };
  for (const v of views) {
    const kind = v.facts.dra ? offered.dra : offered.plugin;
    for (const p of v.model.profiles) kind.add(p.name);
  }
  const out: PendingDemand[] = [];
  for (const pod of pending) {
    const served = pod.viaClaims ? offered.dra : offered.plugin;
    for (const [profile, n] of pod.slices) {
      if (!served.has(profile)) continue;
      const deadline = pod.deadline === undefined ? Infinity : pod.deadline / MINUTE;
      for (let i = 0; i < n; i++) out.push({ profile, deadline });
    }
  }
  return out;
}

export interface DynamicDecision {
  /** Per node index, the targets of the nodes that change. */
  readonly targets: Map<number, (GpuTarget | undefined)[]>;
  readonly changes: number;
}

/**
 * Asks the controller, then keeps the changes on the first `slots` nodes it names; when that drops changes,
 * asks once more with only the kept nodes' GPUs open, so their other idle GPUs can still help.
 */
export function decideDynamic(
  controller: Repartitioner,
  views: readonly NodeView[],
  pending: readonly PendingDemand[],
  now: number,
  slots: number,
  futureOf: FutureOf,
): DynamicDecision {
  const targets = new Map<number, (GpuTarget | undefined)[]>();
  if (slots <= 0) return { targets, changes: 0 };
  const first = gpuStates(views, now, futureOf, new Set());
  const view: ClusterView = { now: now / MINUTE, gpus: first.gpus, pending };
  let changes = accept(controller.decide(view), first.refs, slots, views, targets);
  const kept = new Set(targets.keys());
  if (changes.dropped > 0 && kept.size > 0) {
    const others = new Set(views.map((_, n) => n).filter((n) => !kept.has(n)));
    const second = gpuStates(views, now, futureOf, others);
    // GPUs already given a new layout count as reconfiguring towards it.
    const gpus = second.gpus.map((g) => {
      const ref = second.refs[g.id] as GpuRef;
      const t = targets.get(ref.node)?.[ref.gpu];
      const changed = t !== undefined && t !== views[ref.node]?.current[ref.gpu];
      return changed ? { ...g, layout: t.layout, busy: [], reconfiguring: true } : g;
    });
    changes = accept(controller.decide({ now: now / MINUTE, gpus, pending }), second.refs, 0, views, targets, changes);
  }
  return { targets, changes: changes.accepted };
}

interface Tally {
  accepted: number;
  dropped: number;
}

function accept(
  list: readonly LayoutChange[],
  refs: readonly GpuRef[],
  slots: number,
  views: readonly NodeView[],
  targets: Map<number, (GpuTarget | undefined)[]>,
  tally: Tally = { accepted: 0, dropped: 0 },
): Tally {
  for (const c of list) {
    const ref = refs[c.gpu];
    if (!ref) continue;
    let t = targets.get(ref.node);
    if (!t) {
      if (targets.size >= slots) {
        tally.dropped++;
        continue;
      }
      t = [...(views[ref.node]?.current ?? [])];
      targets.set(ref.node, t);
    }
    t[ref.gpu] = { layout: c.layout, migEnabled: true };
    tally.accepted++;
  }
  return tally;
}
