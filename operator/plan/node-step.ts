// One node's change lifecycle, decided from what the cluster says now (docs/operator.md, "Lifecycle"):
//   Converged → Draining (mark the GPUs; WaitIdle: annotation, Cordon: taint) → Applying (ConfigMap entry,
//   nvidia.com/mig.config=<name>, state pending) → Converged (mig-manager: success) or Failed (failed; back off,
//   then retry under a new name so mig-manager sees a changed label).
// Safety: the config label is set only when no GPU to change may run a pod, and only after the drain marker
// was seen on the node, so that the extender and scheduler had the chance to stop placing there.
import type { NodeStatus } from '../../api/types.js';
import { isoTime, renderLastChange } from '../facts.js';
import {
  APPLIED_AT_ANNOTATION,
  DESIRED_ANNOTATION,
  DRAIN_SINCE_ANNOTATION,
  DRAINING_ANNOTATION,
  FAILURES_ANNOTATION,
  LAST_CHANGE_ANNOTATION,
  MIG_CONFIG_LABEL,
  MIG_STATE_LABEL,
  OWNER_ANNOTATION,
  RETRY_AFTER_ANNOTATION,
} from '../../api/labels.js';
import { configName, nodeConfigEntries, type GpuTarget, type MigConfigEntry } from '../migparted.js';
import { targetsEqual, type ResolvedPolicy } from '../policy.js';
import type { NodeView } from './node-view.js';

export type NodeState = NodeStatus['state'];

export interface NodePatch {
  readonly node: string;
  /** Optimistic concurrency for taint changes (the taint list is replaced as a whole). */
  resourceVersion: string | undefined;
  readonly labels: Record<string, string | null>;
  readonly annotations: Record<string, string | null>;
  taint: 'add' | 'remove' | undefined;
}

export interface PlanEvent {
  readonly partition: string;
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

export interface Repartition {
  /** timeout: mig-manager stayed pending or rebooting past the policy's applyTimeout. */
  readonly result: 'success' | 'failed' | 'timeout';
  readonly seconds: number;
}

export interface StepContext {
  readonly now: number;
  readonly policy: ResolvedPolicy;
  /** The config names as the ConfigMap holds them now, with the time each was first seen there. */
  readonly observed: ReadonlyMap<string, readonly MigConfigEntry[]>;
  readonly seenAt: ReadonlyMap<string, number>;
  readonly settleMs: number;
  readonly backoff: (failures: number) => number;
  /** Takes a slot for a node that starts a change; false when the limit is reached. */
  readonly takeSlot: () => boolean;
  readonly configAdds: Map<string, readonly MigConfigEntry[]>;
  readonly events: PlanEvent[];
  readonly repartitions: Repartition[];
}

export interface NodeStep {
  readonly patch: NodePatch | undefined;
  readonly state: NodeState;
  readonly message: string;
  /** Per GPU, what the node is moving to (undefined: no change). */
  readonly targets: readonly (GpuTarget | undefined)[] | undefined;
  /** When to look again, ms (Infinity: on the next event). */
  readonly wakeAt: number;
}

export class PatchBuilder {
  readonly patch: NodePatch;
  constructor(view: NodeView) {
    this.patch = {
      node: view.facts.name,
      resourceVersion: view.facts.resourceVersion,
      labels: {},
      annotations: {},
      taint: undefined,
    };
  }
  annotate(key: string, value: string | null, have: string | undefined): void {
    if ((value ?? undefined) !== have) this.patch.annotations[key] = value;
  }
  result(): NodePatch | undefined {
    const p = this.patch;
    const empty = Object.keys(p.labels).length === 0 && Object.keys(p.annotations).length === 0 && !p.taint;
    return empty ? undefined : p;
  }
}

export const gpuList = (gpus: readonly number[]): string => gpus.join(',');

export function event(ctx: StepContext, type: PlanEvent['type'], reason: string, message: string): void {
  ctx.events.push({ partition: ctx.policy.name, type, reason, message });
}

/** Removes drain markers, in-flight records and failure counts: the node has nothing under way. */
export function clearChange(b: PatchBuilder, view: NodeView, keepFailures: boolean): void {
  const f = view.facts;
  b.annotate(DRAINING_ANNOTATION, null, f.draining === undefined ? undefined : gpuList(f.draining));
  b.annotate(DRAIN_SINCE_ANNOTATION, null, f.drainingSince === undefined ? undefined : 'x');
  b.annotate(APPLIED_AT_ANNOTATION, null, f.appliedAt === undefined ? undefined : 'x');
  if (!keepFailures) {
    b.annotate(FAILURES_ANNOTATION, null, f.failures > 0 ? String(f.failures) : undefined);
    b.annotate(RETRY_AFTER_ANNOTATION, null, f.retryAfter === undefined ? undefined : 'x');
  }
  if (f.tainted) b.patch.taint = 'remove';
}

/** GPUs whose target differs from what they have (an unknown layout always differs). */
function affectedGpus(view: NodeView, targets: readonly (GpuTarget | undefined)[]): number[] {
  const out: number[] = [];
  targets.forEach((t, g) => {
    const cur = view.current[g];
    if (t && (!cur || !targetsEqual(cur, t))) out.push(g);
  });
  return out;
}

/** The targets of a config that the ConfigMap holds, for a node still on its way there. */
export type TargetsOf = (name: string | undefined) => readonly (GpuTarget | undefined)[] | undefined;

/** Follows a launched change: mig-manager's state label says how it went. */
function followLaunched(ctx: StepContext, view: NodeView, b: PatchBuilder): NodeStep | undefined {
  const f = view.facts;
  if (f.desired === undefined || f.desired !== f.migConfig) return undefined;
  const took = f.appliedAt === undefined ? 0 : Math.max(0, (ctx.now - f.appliedAt) / 1000);
  if (view.phase === 'applying') return followApplying(ctx, view, b, took);
  if (view.phase === 'failed') {
    let failures = f.failures;
    let retryAfter = f.retryAfter ?? ctx.now;
    if (f.appliedAt !== undefined) {
      // First sight of this failure: count it, back off, and let the GPUs be used meanwhile.
      failures += 1;
      retryAfter = ctx.now + ctx.backoff(failures);
      clearChange(b, view, true);
      b.annotate(FAILURES_ANNOTATION, String(failures), String(f.failures));
      b.annotate(RETRY_AFTER_ANNOTATION, isoTime(retryAfter), undefined);
      ctx.repartitions.push({ result: 'failed', seconds: took });
      event(
        ctx,
        'Warning',
        'ReconfigureFailed',
        `node ${f.name}: mig-manager failed to apply ${f.desired} (attempt ${failures}); retry at ${isoTime(retryAfter)}`,
      );
    }
    if (ctx.now < retryAfter) {
      const message = `mig-manager failed to apply ${f.desired} (${failures} attempt(s)); retry at ${isoTime(retryAfter)}`;
      return { patch: b.result(), state: 'Failed', message, targets: undefined, wakeAt: retryAfter };
    }
    return undefined;
  }
  if (f.appliedAt !== undefined || f.draining !== undefined || f.tainted || f.failures > 0) {
    clearChange(b, view, false);
    if (f.appliedAt !== undefined) {
      ctx.repartitions.push({ result: 'success', seconds: took });
      event(ctx, 'Normal', 'Reconfigured', `node ${f.name}: ${f.desired} applied in ${took.toFixed(1)} s`);
    }
  }
  return undefined;
}

/**
 * mig-manager has not answered yet. Past the policy's applyTimeout the operator stops waiting: the attempt
 * counts as a failure (event, metric, back-off), the node frees its reconfiguration slot and shows Failed
 * until mig-manager says how it ended. It is not relaunched meanwhile: mig-manager may still be at work.
 */
function followApplying(ctx: StepContext, view: NodeView, b: PatchBuilder, took: number): NodeStep {
  const f = view.facts;
  const state = f.migState ?? 'no state yet';
  if (f.appliedAt === undefined && f.retryAfter !== undefined) {
    const message = `mig-manager has not finished ${String(f.desired)} (${state}) and smartmig stopped waiting (${f.failures} attempt(s)); the node frees its slot until mig-manager reports success or failure`;
    return { patch: b.result(), state: 'Failed', message, targets: undefined, wakeAt: Infinity };
  }
  const deadline = f.appliedAt === undefined ? Infinity : f.appliedAt + ctx.policy.applyTimeoutMs;
  if (ctx.now < deadline) {
    const message = `mig-manager is applying ${String(f.desired)} (${state})`;
    return { patch: b.result(), state: 'Applying', message, targets: undefined, wakeAt: deadline };
  }
  const failures = f.failures + 1;
  const retryAfter = ctx.now + ctx.backoff(failures);
  clearChange(b, view, true);
  b.annotate(FAILURES_ANNOTATION, String(failures), String(f.failures));
  b.annotate(RETRY_AFTER_ANNOTATION, isoTime(retryAfter), undefined);
  ctx.repartitions.push({ result: 'timeout', seconds: took });
  const message = `mig-manager still reports ${state} for ${String(f.desired)} after ${took.toFixed(0)} s (applyTimeout); smartmig stopped waiting and freed the node's slot`;
  event(ctx, 'Warning', 'ReconfigureTimedOut', `node ${f.name}: ${message}`);
  return { patch: b.result(), state: 'Failed', message, targets: undefined, wakeAt: Infinity };
}

export interface StepInput {
  readonly view: NodeView;
  /** Per GPU, the layout the policy wants (undefined: leave the GPU alone); undefined: no new opinion. */
  readonly targets: readonly (GpuTarget | undefined)[] | undefined;
  readonly targetsOf: TargetsOf;
}

export function stepNode(ctx: StepContext, input: StepInput): NodeStep {
  const { view } = input;
  const f = view.facts;
  const b = new PatchBuilder(view);
  b.annotate(OWNER_ANNOTATION, ctx.policy.name, f.owner);
  const followed = followLaunched(ctx, view, b);
  if (followed) return followed;

  // A recorded desire that was not launched yet stands unless the policy now wants something else.
  const waiting = f.desired !== undefined && f.desired !== f.migConfig;
  const retrying = view.phase === 'failed';
  const targets = input.targets ?? (waiting || retrying ? input.targetsOf(f.desired) : undefined);
  const affected = targets ? affectedGpus(view, targets) : [];
  if (!targets || affected.length === 0) return settle(ctx, view, b, waiting);
  return change(ctx, view, b, targets, affected);
}

/** Nothing to change: clear what a cancelled change left behind and report the node as it is. */
function settle(ctx: StepContext, view: NodeView, b: PatchBuilder, waiting: boolean): NodeStep {
  const f = view.facts;
  if (waiting || f.draining !== undefined || f.tainted) {
    clearChange(b, view, view.phase === 'failed');
    b.annotate(DESIRED_ANNOTATION, f.migConfig ?? null, f.desired);
    if (waiting) event(ctx, 'Normal', 'ChangeCancelled', `node ${f.name}: ${String(f.desired)} is no longer wanted`);
  }
  const known = view.current.some((t) => t !== undefined);
  const state: NodeState = view.phase === 'failed' ? 'Failed' : known || view.gpuCount === 0 ? 'Converged' : 'Unknown';
  const message =
    state === 'Unknown'
      ? `no readable mig-parted config for ${f.migConfig ?? '(no nvidia.com/mig.config label)'}`
      : state === 'Failed'
        ? `mig-manager failed to apply ${String(f.migConfig)}`
        : '';
  return { patch: b.result(), state, message, targets: undefined, wakeAt: Infinity };
}

function change(
  ctx: StepContext,
  view: NodeView,
  b: PatchBuilder,
  targets: readonly (GpuTarget | undefined)[],
  affected: number[],
): NodeStep {
  const f = view.facts;
  const { policy, now } = ctx;
  const entries = nodeConfigEntries(targets);
  // The same content as a failed attempt gets a new name, so that mig-manager sees a changed label.
  const sameAsFailed = view.phase === 'failed' && configName(entries) === configName(entriesOfName(ctx, f.desired));
  const name = configName(entries, sameAsFailed ? f.failures : 0);
  const busyAffected = affected.filter((g) => view.busy[g]);
  const step = (state: NodeState, message: string, wakeAt = Infinity): NodeStep => ({
    patch: b.result(),
    state,
    message,
    targets,
    wakeAt,
  });

  if (!view.inFlight && f.retryAfter !== undefined && now < f.retryAfter) {
    return step('Failed', `backing off until ${isoTime(f.retryAfter)}`, f.retryAfter);
  }
  if (!view.holdsSlot && !ctx.takeSlot()) {
    return step('Waiting', `waiting for a slot: at most ${policy.maxNodesReconfiguring} node(s) change at once`);
  }
  ctx.configAdds.set(name, entries);
  b.annotate(DESIRED_ANNOTATION, name, f.desired);
  const since = f.drainingSince ?? now;
  if (markDrain(ctx, view, b, affected)) {
    // Launch on a later round, once the marker is visible to the extender and scheduler.
    return step('Draining', `marking GPU(s) ${gpuList(affected)} for reconfiguration`);
  }
  if (busyAffected.length > 0) {
    if (policy.drainTimeoutMs !== undefined && now - since > policy.drainTimeoutMs) {
      return giveUp(ctx, view, b, busyAffected);
    }
    const wake = policy.drainTimeoutMs === undefined ? Infinity : since + policy.drainTimeoutMs;
    return step('Draining', `waiting for pods to leave GPU(s) ${gpuList(busyAffected)}`, wake);
  }
  const seen = ctx.seenAt.get(name);
  const held = ctx.observed.get(name);
  if (!held || JSON.stringify(held) !== JSON.stringify(entries) || seen === undefined) {
    return step('Draining', `writing ${name} to the mig-parted ConfigMap`);
  }
  if (now < seen + ctx.settleMs) return step('Draining', `letting ${name} reach mig-manager`, seen + ctx.settleMs);
  return launch(ctx, view, b, name, affected, targets);
}

/** Puts the drain marks on the node; true when they were missing or stale (so the change must wait). */
function markDrain(ctx: StepContext, view: NodeView, b: PatchBuilder, affected: readonly number[]): boolean {
  const f = view.facts;
  const untainted = ctx.policy.drain === 'Cordon' && !f.tainted;
  if (untainted) b.patch.taint = 'add';
  if (f.draining !== undefined && gpuList(f.draining) === gpuList(affected)) return untainted;
  b.annotate(DRAINING_ANNOTATION, gpuList(affected), f.draining === undefined ? undefined : gpuList(f.draining));
  if (f.drainingSince === undefined) b.annotate(DRAIN_SINCE_ANNOTATION, isoTime(ctx.now), undefined);
  if (f.draining === undefined) {
    event(ctx, 'Normal', 'Draining', `node ${f.name}: GPU(s) ${gpuList(affected)} to change (${ctx.policy.drain})`);
  }
  return true;
}

function entriesOfName(ctx: StepContext, name: string | undefined): readonly MigConfigEntry[] {
  return (name === undefined ? undefined : ctx.observed.get(name)) ?? [];
}

function launch(
  ctx: StepContext,
  view: NodeView,
  b: PatchBuilder,
  name: string,
  affected: number[],
  targets: readonly (GpuTarget | undefined)[],
): NodeStep {
  const f = view.facts;
  const lastChange = new Map(f.lastChange);
  for (const g of affected) lastChange.set(g, ctx.now);
  b.patch.labels[MIG_CONFIG_LABEL] = name;
  // mig-manager overwrites this; setting it now keeps an old `success` from reading as this change's result.
  b.patch.labels[MIG_STATE_LABEL] = 'pending';
  b.annotate(APPLIED_AT_ANNOTATION, isoTime(ctx.now), undefined);
  b.annotate(LAST_CHANGE_ANNOTATION, renderLastChange(lastChange), 'x');
  b.annotate(RETRY_AFTER_ANNOTATION, null, f.retryAfter === undefined ? undefined : 'x');
  event(ctx, 'Normal', 'Reconfiguring', `node ${f.name}: applying ${name} to GPU(s) ${gpuList(affected)}`);
  return { patch: b.result(), state: 'Applying', message: `applying ${name}`, targets, wakeAt: Infinity };
}

/** The GPUs stayed busy past the drain timeout: drop the change, unmark the node, and back off. */
function giveUp(ctx: StepContext, view: NodeView, b: PatchBuilder, busy: number[]): NodeStep {
  const f = view.facts;
  const retryAfter = ctx.now + ctx.backoff(f.failures + 1);
  clearChange(b, view, true);
  b.annotate(DESIRED_ANNOTATION, f.migConfig ?? null, f.desired);
  b.annotate(RETRY_AFTER_ANNOTATION, isoTime(retryAfter), undefined);
  const message = `GPU(s) ${gpuList(busy)} still busy after the drain timeout; retry after ${isoTime(retryAfter)}`;
  event(ctx, 'Warning', 'DrainTimeout', `node ${f.name}: ${message}`);
  return { patch: b.result(), state: 'Failed', message, targets: undefined, wakeAt: retryAfter };
}
