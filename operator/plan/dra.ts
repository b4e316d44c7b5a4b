// DRA nodes (docs/adr/0003-mig-on-dra.md): the same targets as on device-plugin nodes, reached by steering
// Kubernetes' allocator instead of labelling mig-manager. A GPU's layout is what the operator's
// DeviceTaintRules leave the allocator; it is recorded in `smartmig.io/layouts` and changes at once, as soon
// as no pod may hold the GPU. Until then the GPU drains: every device of it is tainted, and the
// `smartmig.io/draining` annotation keeps the extender away. Pure, like the rest of the planner.
import type { GpuModel } from '../../policy/mig/catalog.js';
import { layoutKey, type Layout, type Slice } from '../../policy/mig/layout.js';
import { parseDeviceName, type GpuDevice } from '../../dra/devices.js';
import type { GpuTarget as DraGpuTarget } from '../../dra/steering.js';
import {
  DESIRED_LAYOUTS_ANNOTATION,
  DRAIN_SINCE_ANNOTATION,
  DRAINING_ANNOTATION,
  LAST_CHANGE_ANNOTATION,
  LAYOUTS_ANNOTATION,
  OWNER_ANNOTATION,
  RETRY_AFTER_ANNOTATION,
} from '../../api/labels.js';
import { holdsDevices, isoTime, renderLastChange, renderLayouts, type NodeFacts, type PodFacts } from '../facts.js';
import type { GpuTarget } from '../migparted.js';
import {
  clearChange,
  event,
  gpuList,
  PatchBuilder,
  type NodeState,
  type NodeStep,
  type StepContext,
} from './node-step.js';
import type { NodeView } from './node-view.js';

/** The layout text of `smartmig.io/layouts` for a whole GPU (MIG off). */
export const WHOLE_GPU_TEXT = 'disabled';

/** A target as `smartmig.io/layouts` writes it: the layout key, or `disabled`. */
export function layoutText(t: GpuTarget): string {
  return t.migEnabled ? layoutKey(t.layout) : WHOLE_GPU_TEXT;
}

/** The target a layout text stands for on `model`; undefined when the text names no valid placements. */
export function parseLayoutText(model: GpuModel, text: string): GpuTarget | undefined {
  if (text === WHOLE_GPU_TEXT) return { layout: { slices: [] }, migEnabled: false };
  if (text === '') return { layout: { slices: [] }, migEnabled: true };
  const slices: { profile: string; start: number }[] = [];
  for (const part of text.split(',')) {
    const at = part.lastIndexOf('@');
    const profile = part.slice(0, at);
    const start = Number(part.slice(at + 1));
    const p = model.profiles.find((x) => x.name === profile);
    if (at <= 0 || !p || !Number.isInteger(start) || !p.starts.includes(start)) return undefined;
    slices.push({ profile, start });
  }
  const layout: Layout = { slices: slices.sort((a, b) => a.start - b.start) };
  return { layout, migEnabled: true };
}

/** Per GPU, the targets a layouts map gives (undefined where absent or unreadable). */
export function targetsOfLayouts(
  model: GpuModel,
  gpuCount: number,
  layouts: ReadonlyMap<number, string>,
): (GpuTarget | undefined)[] {
  return Array.from({ length: gpuCount }, (_, g) => {
    const text = layouts.get(g);
    return text === undefined ? undefined : parseLayoutText(model, text);
  });
}

/** Equal as the allocator sees them: the same placements (not only the same counts), or both whole. */
export function sameDraTarget(a: GpuTarget, b: GpuTarget): boolean {
  if (a === b) return true;
  if (a.migEnabled !== b.migEnabled) return false;
  return !a.migEnabled || layoutKey(a.layout) === layoutKey(b.layout);
}

/** What the steering rules of one GPU should say for a layout target. */
export function draTarget(t: GpuTarget): DraGpuTarget {
  return t.migEnabled ? { kind: 'layout', layout: t.layout } : { kind: 'whole' };
}

/**
 * Per GPU, whether a pod may hold it. A pod whose claims are all allocated holds exactly their devices (a MIG
 * device marks its slice, by placement; a whole-GPU device the GPU). Otherwise a pod with `smartmig.io/gpu`
 * holds that GPU, and any other pod that holds devices on the node may hold every GPU of it.
 */
function attributeDra(
  model: GpuModel,
  pods: readonly PodFacts[],
  current: readonly (GpuTarget | undefined)[],
): { busy: boolean[]; busySlices: boolean[][] } {
  const n = current.length;
  const busy = new Array<boolean>(n).fill(false);
  const busySlices = current.map((t) => new Array<boolean>(t?.layout.slices.length ?? 0).fill(false));
  const mark = (g: number, profile: string | undefined, start?: number): void => {
    const slices = current[g]?.layout.slices ?? [];
    const used = busySlices[g] as boolean[];
    const free = (s: Slice, k: number) => !used[k] && (profile === undefined || s.profile === profile);
    // The device's own placement first; one allocated before the recorded layout still takes a slice of its profile.
    let i = start === undefined ? -1 : slices.findIndex((s, k) => free(s, k) && s.start === start);
    if (i < 0) i = slices.findIndex(free);
    if (i >= 0) used[i] = true;
  };
  for (const pod of pods) {
    if (!holdsDevices(pod)) continue;
    const held = heldDevices(model, pod.claimDevices, n);
    if (held !== undefined && pod.wholeGpus === 0) {
      for (const d of held) {
        busy[d.gpu] = true;
        if (d.kind === 'mig') mark(d.gpu, d.profile.name, d.start);
        else (busySlices[d.gpu] as boolean[]).fill(true);
      }
      continue;
    }
    if (pod.gpu === undefined || pod.gpu >= n || pod.wholeGpus > 0) {
      busy.fill(true);
      continue;
    }
    busy[pod.gpu] = true;
    for (const [profile, count] of pod.slices) for (let k = 0; k < count; k++) mark(pod.gpu, profile);
    // A claim whose demand is unknown names no profile: it takes one instance of the GPU for the supply count.
    if (pod.slices.size === 0) for (let k = 0; k < pod.claims; k++) mark(pod.gpu, undefined);
  }
  return { busy, busySlices };
}

/** The driver's devices a pod holds, or undefined when unknown or when a name is not a device of this node. */
function heldDevices(model: GpuModel, names: readonly string[] | undefined, gpuCount: number): GpuDevice[] | undefined {
  if (names === undefined) return undefined;
  const out: GpuDevice[] = [];
  for (const name of names) {
    const d = parseDeviceName(model, name);
    if (d === undefined || d.gpu >= gpuCount) return undefined;
    out.push(d);
  }
  return out;
}

/** A DRA node as the planner sees it: layouts from `smartmig.io/layouts`, never waiting for mig-manager. */
export function buildDraNodeView(f: NodeFacts, model: GpuModel, gpuCount: number, pods: readonly PodFacts[]): NodeView {
  const current = targetsOfLayouts(model, gpuCount, f.layouts);
  const { busy, busySlices } = attributeDra(model, pods, current);
  const inFlight = f.desiredLayouts !== undefined || f.draining !== undefined;
  const givenUp = f.retryAfter !== undefined && f.draining === undefined;
  return {
    facts: f,
    model,
    gpuCount,
    phase: 'settled',
    current,
    busy,
    busySlices,
    inFlight,
    holdsSlot: inFlight && !givenUp,
  };
}

/** What a DRA node in flight moves to (its recorded desired layouts), for the dynamic controllers. */
export function draFuture(v: NodeView): readonly (GpuTarget | undefined)[] | undefined {
  const d = v.facts.desiredLayouts;
  return d === undefined ? undefined : targetsOfLayouts(v.model, v.gpuCount, d);
}

export interface DraStepInput {
  readonly view: NodeView;
  /** Per GPU, the layout the policy wants (undefined: leave the GPU alone); undefined: no new opinion. */
  readonly targets: readonly (GpuTarget | undefined)[] | undefined;
  /** Whether a recorded change may go on without a new opinion (false while the spec is invalid). */
  readonly followRecorded: boolean;
}

export interface DraStep extends NodeStep {
  /** Per GPU index that the operator manages, what its steering rules should give the allocator. */
  readonly gpuTargets: Map<number, DraGpuTarget>;
}

function rulesOf(
  current: readonly (GpuTarget | undefined)[],
  draining: readonly number[] = [],
): Map<number, DraGpuTarget> {
  const out = new Map<number, DraGpuTarget>();
  current.forEach((t, g) => {
    if (t) out.set(g, draTarget(t));
  });
  for (const g of draining) out.set(g, { kind: 'drain' });
  return out;
}

function layoutsMap(targets: readonly (GpuTarget | undefined)[]): Map<number, string> {
  const m = new Map<number, string>();
  targets.forEach((t, g) => {
    if (t) m.set(g, layoutText(t));
  });
  return m;
}

const renderOrUndefined = (m: ReadonlyMap<number, string> | undefined): string | undefined =>
  m === undefined ? undefined : renderLayouts(m);

export function stepDraNode(ctx: StepContext, input: DraStepInput): DraStep {
  const { view } = input;
  const f = view.facts;
  const b = new PatchBuilder(view);
  b.annotate(OWNER_ANNOTATION, ctx.policy.name, f.owner);
  const recorded = input.followRecorded ? draFuture(view) : undefined;
  const targets = input.targets ?? recorded;
  const affected: number[] = [];
  targets?.forEach((t, g) => {
    const cur = view.current[g];
    if (t && (!cur || !sameDraTarget(cur, t))) affected.push(g);
  });
  if (!targets || affected.length === 0) return settleDra(ctx, view, b);

  const { policy, now } = ctx;
  const step = (state: NodeState, message: string, rules: Map<number, DraGpuTarget>, wakeAt = Infinity): DraStep => ({
    patch: b.result(),
    state,
    message,
    targets,
    wakeAt,
    gpuTargets: rules,
  });
  if (!view.inFlight && f.retryAfter !== undefined && now < f.retryAfter) {
    return step('Failed', `backing off until ${isoTime(f.retryAfter)}`, rulesOf(view.current), f.retryAfter);
  }
  if (!view.holdsSlot && !ctx.takeSlot()) {
    const message = `waiting for a slot: at most ${policy.maxNodesReconfiguring} node(s) change at once`;
    return step('Waiting', message, rulesOf(view.current));
  }
  b.annotate(DESIRED_LAYOUTS_ANNOTATION, renderLayouts(layoutsMap(targets)), renderOrUndefined(f.desiredLayouts));

  // First the drain marks and rules, so that nothing new lands on the GPUs; the change waits for a round.
  const untainted = policy.drain === 'Cordon' && !f.tainted;
  if (untainted) b.patch.taint = 'add';
  const marked = f.draining !== undefined && gpuList(f.draining) === gpuList(affected);
  if (!marked || untainted) {
    b.annotate(DRAINING_ANNOTATION, gpuList(affected), f.draining === undefined ? undefined : gpuList(f.draining));
    if (f.drainingSince === undefined) b.annotate(DRAIN_SINCE_ANNOTATION, isoTime(now), undefined);
    if (f.draining === undefined) {
      event(ctx, 'Normal', 'Draining', `node ${f.name}: GPU(s) ${gpuList(affected)} to change (${policy.drain})`);
    }
    return step('Draining', `marking GPU(s) ${gpuList(affected)} for reconfiguration`, rulesOf(view.current, affected));
  }

  // Marked: every idle GPU takes its target now; busy ones keep draining.
  const busy = affected.filter((g) => view.busy[g]);
  const next = applyIdle(ctx, view, b, targets, affected);
  if (busy.length === 0) {
    clearChange(b, view, false);
    b.annotate(DESIRED_LAYOUTS_ANNOTATION, null, renderOrUndefined(f.desiredLayouts));
    return step('Converged', '', rulesOf(next));
  }
  const since = f.drainingSince ?? now;
  if (policy.drainTimeoutMs !== undefined && now - since > policy.drainTimeoutMs) {
    const retryAfter = now + ctx.backoff(f.failures + 1);
    clearChange(b, view, true);
    b.annotate(DESIRED_LAYOUTS_ANNOTATION, null, renderOrUndefined(f.desiredLayouts));
    b.annotate(RETRY_AFTER_ANNOTATION, isoTime(retryAfter), undefined);
    const message = `GPU(s) ${gpuList(busy)} still busy after the drain timeout; retry after ${isoTime(retryAfter)}`;
    event(ctx, 'Warning', 'DrainTimeout', `node ${f.name}: ${message}`);
    return { ...step('Failed', message, rulesOf(next), retryAfter), targets: undefined };
  }
  b.annotate(DRAINING_ANNOTATION, gpuList(busy), gpuList(f.draining ?? []));
  const wake = policy.drainTimeoutMs === undefined ? Infinity : since + policy.drainTimeoutMs;
  return step('Draining', `waiting for pods to leave GPU(s) ${gpuList(busy)}`, rulesOf(next, busy), wake);
}

/** The idle GPUs among `affected` take their targets: layouts and last-change annotations. Returns the new layouts. */
function applyIdle(
  ctx: StepContext,
  view: NodeView,
  b: PatchBuilder,
  targets: readonly (GpuTarget | undefined)[],
  affected: readonly number[],
): (GpuTarget | undefined)[] {
  const f = view.facts;
  const next = [...view.current];
  const idle = affected.filter((g) => !view.busy[g]);
  if (idle.length === 0) return next;
  const lastChange = new Map(f.lastChange);
  for (const g of idle) {
    next[g] = targets[g];
    lastChange.set(g, ctx.now);
  }
  b.annotate(LAYOUTS_ANNOTATION, renderLayouts(layoutsMap(next)), renderLayouts(f.layouts));
  b.annotate(LAST_CHANGE_ANNOTATION, renderLastChange(lastChange), 'x');
  const since = f.drainingSince ?? ctx.now;
  // No mig-manager round trip: the change takes the time its GPUs drained.
  ctx.repartitions.push({ result: 'success', seconds: Math.max(0, (ctx.now - since) / 1000) });
  event(ctx, 'Normal', 'Reconfigured', `node ${f.name}: GPU(s) ${gpuList(idle)} steered to their new layout`);
  return next;
}

/** Nothing to change: clear what a finished or cancelled change left behind. */
function settleDra(ctx: StepContext, view: NodeView, b: PatchBuilder): DraStep {
  const f = view.facts;
  if (f.desiredLayouts !== undefined || f.draining !== undefined || f.tainted) {
    clearChange(b, view, f.retryAfter !== undefined && ctx.now < f.retryAfter);
    b.annotate(DESIRED_LAYOUTS_ANNOTATION, null, renderOrUndefined(f.desiredLayouts));
    if (f.draining !== undefined)
      event(ctx, 'Normal', 'ChangeCancelled', `node ${f.name}: the change is no longer wanted`);
  }
  const known = view.current.some((t) => t !== undefined);
  const state: NodeState = known || view.gpuCount === 0 ? 'Converged' : 'Unknown';
  const message = state === 'Unknown' ? 'no layout set by smartmig yet (DRA node)' : '';
  return { patch: b.result(), state, message, targets: undefined, wakeAt: Infinity, gpuTargets: rulesOf(view.current) };
}
