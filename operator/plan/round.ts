// One decision round over a snapshot of the cluster: which policy owns which node, what each node should
// become, and what to write (ConfigMap entries, node labels/annotations/taints, statuses, events). Pure: the
// reconciler builds the snapshot and commits the plan.
import { findGpuModel, type GpuModel } from '../../policy/mig/catalog.js';
import type { ControllerTraits, Repartitioner } from '../../policy/repartition/controller.js';
import type { MigPartition, MigPartitionStatus } from '../../api/types.js';
import { timeMs, type NodeFacts, type PodFacts } from '../facts.js';
import {
  DESIRED_LAYOUTS_ANNOTATION,
  DRAIN_SINCE_ANNOTATION,
  DRAINING_ANNOTATION,
  FAILURES_ANNOTATION,
  LAYOUTS_ANNOTATION,
  OWNER_ANNOTATION,
  RETRY_AFTER_ANNOTATION,
} from '../../api/labels.js';
import { layoutsOfConfig, type GpuTarget, type MigConfigEntry, type MigPartedConfig } from '../migparted.js';
import { resolvePolicy, selects, staticTargets, type ResolvedPolicy, type SpecIssue } from '../policy.js';
import { decideDynamic, pendingDemands } from './dynamic.js';
import {
  stepNode,
  type NodePatch,
  type PlanEvent,
  type Repartition,
  type StepContext,
  type TargetsOf,
} from './node-step.js';
import { buildNodeView, configEntries, type NodeView } from './node-view.js';
import { buildDraNodeView, draFuture, stepDraNode } from './dra.js';
import type { GpuTarget as DraGpuTarget } from '../../dra/steering.js';
import { buildStatus, type NodeReport } from './status.js';

export interface Snapshot {
  /** Wall-clock ms. */
  readonly now: number;
  readonly nodes: readonly NodeFacts[];
  /** Pods that hold devices, by node name. */
  readonly podsByNode: ReadonlyMap<string, readonly PodFacts[]>;
  readonly pending: readonly PodFacts[];
  /** The ConfigMap's config, or why it cannot be read (the operator then changes nothing). */
  readonly config: { ok: true; value: MigPartedConfig } | { ok: false; error: string };
  /** When each config name was first seen in the ConfigMap (ms). */
  readonly seenAt: ReadonlyMap<string, number>;
  readonly partitions: readonly MigPartition[];
}

export interface PlanOptions {
  /** The repartitioner for a Dynamic policy, or undefined when none has the policy's controller name. */
  readonly controllerFor: (policy: ResolvedPolicy) => Repartitioner | undefined;
  /** Every controller name a policy may give, with what it takes. */
  readonly controllers: ReadonlyMap<string, ControllerTraits>;
  readonly settleMs: number;
  readonly backoff: (failures: number) => number;
  /** Most nodes listed in a status. */
  readonly statusNodeLimit: number;
  /** Why a Dynamic policy's model cannot drive these GPU models (undefined: it can, or it takes none). */
  readonly modelProblem?: (policy: ResolvedPolicy, gpuModels: readonly GpuModel[]) => string | undefined;
}

export interface ManagedNode {
  readonly partition: string;
  readonly model: GpuModel | undefined;
}

/** What a DRA node's steering rules should say (docs/adr/0003-mig-on-dra.md). */
export interface DraNodeTargets {
  readonly model: GpuModel;
  /** Per GPU index the policy manages; GPUs left out get no rules (the allocator may use all their devices). */
  readonly targets: ReadonlyMap<number, DraGpuTarget>;
}

export interface Plan {
  readonly configAdds: Map<string, readonly MigConfigEntry[]>;
  /** Config names some node uses or wants; the operator's other configs can go. */
  readonly configInUse: Set<string>;
  readonly nodePatches: NodePatch[];
  readonly statuses: { name: string; status: MigPartitionStatus }[];
  readonly events: PlanEvent[];
  readonly repartitions: Repartition[];
  readonly decisions: { partition: string; changes: number }[];
  /**
   * Per node that a policy manages (selected, not refused for a conflict): the policy, and the GPU model the
   * planner uses for it (the policy's spec.gpuModel, else the detected one; undefined when neither is known).
   * The metrics follow the same model, and drop nodes that leave this map.
   */
  readonly managed: Map<string, ManagedNode>;
  /**
   * Per DRA node the planner worked on, the GPU targets its DeviceTaintRules follow. The rules of DRA nodes
   * that no policy manages go; those of managed nodes left out here (unknown model) stay as they are.
   */
  readonly draTargets: Map<string, DraNodeTargets>;
  /** Ms until the next round is needed even without an event (Infinity: none). */
  readonly wakeAt: number;
}

const created = (p: MigPartition): number => timeMs(p.metadata?.creationTimestamp) ?? 0;
const byAge = (a: MigPartition, b: MigPartition): number =>
  created(a) - created(b) || ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1);

const hasGpus = (n: NodeFacts): boolean => n.gpuCount !== undefined || n.product !== undefined;

interface RoundState {
  readonly snap: Snapshot;
  readonly opts: PlanOptions;
  readonly plan: Plan;
  readonly observed: ReadonlyMap<string, readonly MigConfigEntry[]>;
  wakeAt: number;
}

export function planRound(snap: Snapshot, opts: PlanOptions): Plan {
  const plan: Plan = {
    configAdds: new Map(),
    configInUse: new Set(),
    nodePatches: [],
    statuses: [],
    events: [],
    repartitions: [],
    decisions: [],
    managed: new Map(),
    draTargets: new Map(),
    wakeAt: Infinity,
  };
  const observed = new Map(Object.entries(snap.config.ok ? snap.config.value['mig-configs'] : {}));
  const st: RoundState = { snap, opts, plan, observed, wakeAt: Infinity };
  for (const n of snap.nodes) {
    for (const name of [n.migConfig, n.desired]) if (name !== undefined) plan.configInUse.add(name);
  }
  for (const mp of [...snap.partitions].sort(byAge)) planPartition(st, mp);
  releaseNodes(st);
  return { ...plan, wakeAt: st.wakeAt };
}

/** Nodes that carry our marks but belong to no policy now: unmark them so pods can use them. */
function releaseNodes(st: RoundState): void {
  for (const n of st.snap.nodes) {
    const draMarked = n.layouts.size > 0 || n.desiredLayouts !== undefined;
    if (
      st.plan.managed.has(n.name) ||
      (n.owner === undefined && n.draining === undefined && !n.tainted && !draMarked)
    ) {
      continue;
    }
    const annotations: Record<string, string | null> = {};
    // Its rules go too (the reconciler deletes the rules of unmanaged nodes): no layout is kept any more.
    if (draMarked) for (const key of [LAYOUTS_ANNOTATION, DESIRED_LAYOUTS_ANNOTATION]) annotations[key] = null;
    for (const key of [
      OWNER_ANNOTATION,
      DRAINING_ANNOTATION,
      DRAIN_SINCE_ANNOTATION,
      FAILURES_ANNOTATION,
      RETRY_AFTER_ANNOTATION,
    ]) {
      annotations[key] = null;
    }
    st.plan.nodePatches.push({
      node: n.name,
      resourceVersion: n.resourceVersion,
      labels: {},
      annotations,
      taint: n.tainted ? 'remove' : undefined,
    });
  }
}

/** What a named config gives the node's GPUs (undefined: the ConfigMap does not hold it). */
function futureOf(config: MigPartedConfig | undefined, v: NodeView, name: string | undefined) {
  if (v.facts.dra) return draFuture(v);
  const entries = configEntries(config, name);
  return entries ? layoutsOfConfig(entries, v.model, v.gpuCount) : undefined;
}

function modelOf(policy: ResolvedPolicy, n: NodeFacts): GpuModel | undefined {
  return policy.gpuModel ?? n.detectedModel ?? (n.product === undefined ? undefined : findGpuModel(n.product));
}

function planPartition(st: RoundState, mp: MigPartition): void {
  const { snap, opts } = st;
  const policy = resolvePolicy(mp, opts.controllers);
  const selected = snap.nodes.filter((n) => hasGpus(n) && selects(policy.selector, n.labels));
  const taken = selected.filter((n) => st.plan.managed.has(n.name));
  const status = (
    reports: NodeReport[],
    issues: readonly SpecIssue[],
    conflict?: string,
    lastDecision?: number,
    configError?: string,
  ) => {
    const models = [
      ...new Set(reports.map((r): string | undefined => r.view?.model.name).filter((m): m is string => !!m)),
    ].sort();
    st.plan.statuses.push({
      name: policy.name,
      status: buildStatus({
        now: snap.now,
        generation: policy.generation,
        previous: mp.status,
        issues,
        conflict,
        configError,
        nodes: reports,
        models: models.length > 0 ? models : policy.gpuModel ? [policy.gpuModel.name] : [],
        lastDecision: lastDecision ?? timeMs(mp.status?.lastDecisionTime),
        nodeLimit: opts.statusNodeLimit,
      }),
    });
  };
  if (taken.length > 0) {
    const holders = [...new Set(taken.map((n) => st.plan.managed.get(n.name)?.partition))].join(', ');
    const names = taken.slice(0, 5).map((n) => n.name);
    const more = taken.length > names.length ? ` and ${taken.length - names.length} more` : '';
    const conflict = `node(s) ${names.join(', ')}${more} are already partitioned by the older MigPartition ${holders}`;
    conflictEvent(st, mp, conflict);
    status([], [], conflict);
    return;
  }
  for (const n of selected) st.plan.managed.set(n.name, { partition: policy.name, model: modelOf(policy, n) });
  if (!snap.config.ok) {
    configUnavailableEvent(st, mp, snap.config.error);
    status(selected.map(unknownReport('mig-parted ConfigMap unreadable')), [], undefined, undefined, snap.config.error);
    return;
  }
  const { reports, lastDecision, issues, unplanned } = planNodes(st, policy, selected);
  invalidSpecEvent(st, mp, issues);
  unplannedEvents(st, mp, unplanned);
  status(reports, issues, undefined, lastDecision);
}

const unknownReport =
  (message: string) =>
  (n: NodeFacts): NodeReport => ({ name: n.name, state: 'Unknown', message, view: undefined, targets: undefined });

const readyReason = (mp: MigPartition): string | undefined =>
  mp.status?.conditions?.find((c) => c.type === 'Ready')?.reason;

function conflictEvent(st: RoundState, mp: MigPartition, message: string): void {
  if (readyReason(mp) !== 'Conflict') {
    st.plan.events.push({ partition: mp.metadata?.name ?? '', type: 'Warning', reason: 'Conflict', message });
  }
}

/** Once per outage of the ConfigMap (while the Ready reason says so, no new event). */
function configUnavailableEvent(st: RoundState, mp: MigPartition, message: string): void {
  if (readyReason(mp) !== 'ConfigMapUnavailable') {
    const partition = mp.metadata?.name ?? '';
    st.plan.events.push({ partition, type: 'Warning', reason: 'ConfigMapUnavailable', message });
  }
}

/** A selected node the planner cannot work on, and why (the reason of its event). */
interface Unplanned {
  readonly node: string;
  readonly reason: 'UnknownGpuModel' | 'NoGpuCount';
  readonly message: string;
}

/**
 * One Warning per reason for the nodes that newly cannot be planned. "Newly" is read from the previous
 * status, as for the other events: a node it lists as Unknown with the same message was reported already.
 * A node it does not list while it omitted some was perhaps reported too: no event, rather than one every
 * round (nodes the planner cannot use are listed before converged ones, so this takes hundreds of them).
 */
function unplannedEvents(st: RoundState, mp: MigPartition, unplanned: readonly Unplanned[]): void {
  const prev = mp.status;
  const listed = new Map((prev?.nodes ?? []).map((n) => [n.name, n]));
  const fresh = unplanned.filter((u) => {
    const p = listed.get(u.node);
    if (p) return p.state !== 'Unknown' || p.message !== u.message;
    return !prev || (prev.nodesOmitted ?? 0) === 0;
  });
  for (const reason of ['UnknownGpuModel', 'NoGpuCount'] as const) {
    const these = fresh.filter((u) => u.reason === reason);
    if (these.length === 0) continue;
    const shown = these.slice(0, 5).map((u) => `${u.node}: ${u.message}`);
    const more = these.length > shown.length ? `; and ${these.length - shown.length} more` : '';
    const hint = reason === 'UnknownGpuModel' ? 'set spec.gpuModel or check' : 'check';
    const message = `${shown.join('; ')}${more} (${hint} GPU feature discovery)`;
    st.plan.events.push({ partition: mp.metadata?.name ?? '', type: 'Warning', reason, message });
  }
}

function invalidSpecEvent(st: RoundState, mp: MigPartition, issues: readonly SpecIssue[]): void {
  const prev = mp.status?.conditions?.find((c) => c.type === 'Ready');
  const first = issues[0];
  if (first && (prev?.reason !== first.code || prev.observedGeneration !== mp.metadata?.generation)) {
    const message = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
    st.plan.events.push({ partition: mp.metadata?.name ?? '', type: 'Warning', reason: first.code, message });
  }
}

function planNodes(
  st: RoundState,
  policy: ResolvedPolicy,
  selected: readonly NodeFacts[],
): { reports: NodeReport[]; lastDecision: number | undefined; issues: SpecIssue[]; unplanned: Unplanned[] } {
  const { snap } = st;
  const config = snap.config.ok ? snap.config.value : undefined;
  const reports: NodeReport[] = [];
  const views: NodeView[] = [];
  const unplanned: Unplanned[] = [];
  for (const n of selected) {
    const model = st.plan.managed.get(n.name)?.model;
    if (!model || n.gpuCount === undefined) {
      const u: Unplanned = !model
        ? {
            node: n.name,
            reason: 'UnknownGpuModel',
            message: `unknown GPU model ${n.product ?? '(no nvidia.com/gpu.product label)'}`,
          }
        : { node: n.name, reason: 'NoGpuCount', message: 'no nvidia.com/gpu.count label' };
      unplanned.push(u);
      reports.push(unknownReport(u.message)(n));
      continue;
    }
    const pods = snap.podsByNode.get(n.name) ?? [];
    views.push(
      n.dra ? buildDraNodeView(n, model, n.gpuCount, pods) : buildNodeView(n, model, n.gpuCount, config, pods),
    );
  }
  const issues = [...policy.issues];
  const modelProblem =
    issues.length === 0
      ? st.opts.modelProblem?.(
          policy,
          views.map((v) => v.model),
        )
      : undefined;
  if (modelProblem) issues.push({ code: 'ModelUnavailable', path: 'spec.dynamic.model', message: modelProblem });
  const inFlight = views.filter((v) => v.holdsSlot).length;
  let slots = Math.max(0, policy.maxNodesReconfiguring - inFlight);
  const ctx: StepContext = {
    now: snap.now,
    policy,
    observed: st.observed,
    seenAt: snap.seenAt,
    settleMs: st.opts.settleMs,
    backoff: st.opts.backoff,
    takeSlot: () => (slots > 0 ? (slots--, true) : false),
    configAdds: st.plan.configAdds,
    events: st.plan.events,
    repartitions: st.plan.repartitions,
  };
  const perNode = nodeTargets(st, policy, views, issues, slots);
  for (const [i, v] of views.entries()) {
    if (v.facts.dra) {
      const followRecorded = issues.length === 0;
      const step = stepDraNode(ctx, { view: v, targets: perNode.targets.get(i), followRecorded });
      if (step.patch) st.plan.nodePatches.push(step.patch);
      st.plan.draTargets.set(v.facts.name, { model: v.model, targets: step.gpuTargets });
      st.wakeAt = Math.min(st.wakeAt, step.wakeAt);
      reports.push({ name: v.facts.name, state: step.state, message: step.message, view: v, targets: step.targets });
      continue;
    }
    // With an invalid spec, changes already launched are followed to their end; nothing new starts.
    const targetsOf: TargetsOf = issues.length > 0 ? () => undefined : (name) => futureOf(config, v, name);
    const step = stepNode(ctx, { view: v, targets: perNode.targets.get(i), targetsOf });
    if (step.patch) st.plan.nodePatches.push(step.patch);
    st.wakeAt = Math.min(st.wakeAt, step.wakeAt);
    reports.push({ name: v.facts.name, state: step.state, message: step.message, view: v, targets: step.targets });
  }
  if (perNode.decided) {
    st.plan.decisions.push({ partition: policy.name, changes: perNode.changes });
    st.wakeAt = Math.min(st.wakeAt, snap.now + policy.decisionIntervalMs);
  }
  return { reports, lastDecision: perNode.decided ? snap.now : undefined, issues, unplanned };
}

interface NodeTargets {
  readonly targets: Map<number, readonly (GpuTarget | undefined)[]>;
  readonly decided: boolean;
  readonly changes: number;
}

function nodeTargets(
  st: RoundState,
  policy: ResolvedPolicy,
  views: readonly NodeView[],
  issues: SpecIssue[],
  slots: number,
): NodeTargets {
  const targets = new Map<number, readonly (GpuTarget | undefined)[]>();
  if (issues.length > 0) return { targets, decided: false, changes: 0 };
  if (policy.mode === 'Static') {
    views.forEach((v, i) => {
      const r = staticTargets(policy.staticEntries, v.model, v.gpuCount, v.current);
      if (r.ok) targets.set(i, r.targets);
      else for (const issue of r.issues) if (!issues.some((x) => x.message === issue.message)) issues.push(issue);
    });
    return { targets, decided: false, changes: 0 };
  }
  return dynamicTargets(st, policy, views, slots);
}

function dynamicTargets(
  st: RoundState,
  policy: ResolvedPolicy,
  views: readonly NodeView[],
  slots: number,
): NodeTargets {
  const { snap } = st;
  const none: NodeTargets = { targets: new Map(), decided: false, changes: 0 };
  const mp = st.snap.partitions.find((p) => p.metadata?.name === policy.name);
  const last = timeMs(mp?.status?.lastDecisionTime);
  const generationSeen = mp?.status?.observedGeneration === policy.generation;
  if (last !== undefined && generationSeen && snap.now - last < policy.decisionIntervalMs) {
    st.wakeAt = Math.min(st.wakeAt, last + policy.decisionIntervalMs);
    return none;
  }
  const controller = st.opts.controllerFor(policy);
  if (!controller) return none;
  const config = snap.config.ok ? snap.config.value : undefined;
  const pending = pendingDemands(snap.pending, views);
  // Nothing may change, or nothing waits for a controller that acts on demand only: it is not asked (and the
  // status is not touched). A timetable acts on the clock.
  const onTime = st.opts.controllers.get(policy.controller)?.actsOnTime === true;
  if (slots <= 0 || (pending.length === 0 && !onTime)) return none;
  const d = decideDynamic(controller, views, pending, snap.now, slots, (v) => futureOf(config, v, v.facts.desired));
  return { targets: d.targets, decided: true, changes: d.changes };
}
