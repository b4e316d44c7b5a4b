// The reconcile loop as named phases: snapshot (from the informer caches) → decide (operator/plan, pure) →
// commit (ConfigMap, nodes, statuses, events) → requeue. Each phase is timed and logged. Writes are followed
// by "expectations": the next round waits until the caches show them, so it never acts on its own old state.
import type { ResourceV1ResourceClaim, V1ConfigMap, V1Node, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Repartitioner } from '../policy/repartition/controller.js';
import { loadActor } from '../model-store/actor-files.js';
import { useBestBackend } from '../model-store/backend.js';
import { ActorShelf } from './actors.js';
import type { MigPartition } from '../api/types.js';
import type { OperatorConfig } from './config.js';
import { CONTROLLERS, controllerCache } from './controllers.js';
import {
  cachedNodeFacts,
  cachedPodFacts,
  holdsDevices,
  isPendingDemand,
  podFacts,
  timeMs,
  withClaims,
  type PodFacts,
} from './facts.js';
import type { Informer } from './informers.js';
import {
  CONFIG_KEY,
  createSteeringRule,
  deleteSteeringRule,
  describeError,
  listSteeringRules,
  patchNode,
  patchStatus,
  recordEvent,
  statusOf,
  updateConfigMap,
  type Clients,
} from './kube.js';
import type { OperatorMetrics } from './metrics.js';
import { mergeConfigs, parseMigPartedConfig, renderMigPartedConfig } from './migparted.js';
import { observe } from './observe.js';
import { WriteBackoff } from './write-backoff.js';
import type { PlanEvent } from './plan/node-step.js';
import { planRound, type Plan, type Snapshot } from './plan/round.js';
import { RULE_NODE_LABEL, ruleChanges, steeringRules, type DeviceTaintRule } from '../dra/steering.js';

export interface Caches {
  readonly nodes: Informer<V1Node>;
  readonly pods: Informer<V1Pod>;
  readonly partitions: Informer<MigPartition & { metadata?: { name?: string } }>;
  readonly configMap: Informer<V1ConfigMap>;
  /** resource.k8s.io/v1 ResourceClaims: what claim pods ask for and which driver devices they hold. */
  readonly claims: Informer<ResourceV1ResourceClaim>;
}

export interface ReconcilerDeps {
  readonly clients: Clients;
  readonly caches: Caches;
  readonly config: OperatorConfig;
  readonly metrics: OperatorMetrics;
  readonly log: Logger;
  readonly now?: () => number;
  /** Whether this replica may write now (it holds the lease); absent: always. */
  readonly mayWrite?: () => boolean;
  /** Jitter of the write back-off (tests fix it). */
  readonly random?: () => number;
}

export interface RoundSummary {
  readonly nodePatches: number;
  readonly statusUpdates: number;
  readonly events: number;
  readonly configWritten: boolean;
  /** DeviceTaintRules created and deleted on DRA nodes. */
  readonly ruleWrites: number;
  readonly errors: number;
  readonly ms: { snapshot: number; decide: number; commit: number };
}

/** Waits for the informers to show the resource versions our writes produced. */
class Expectations {
  private readonly pending = new Map<string, string>();
  /** The watch may deliver a write before its response arrives: remember what each key showed last. */
  private readonly lastSeen = new Map<string, string>();
  expect(key: string, rv: string | undefined): void {
    if (rv && this.lastSeen.get(key) !== rv) this.pending.set(key, rv);
  }
  observed(key: string, rv: string | undefined): void {
    if (rv === undefined) return;
    this.lastSeen.set(key, rv);
    if (this.pending.get(key) === rv) this.pending.delete(key);
  }
  async settle(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.pending.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    this.pending.clear();
  }
}

type GpuLabels = { node: string; gpu: string; model: string };

interface FailedWrite {
  readonly op: string;
  readonly key: string;
  readonly partitions: readonly string[];
  readonly status: number;
  readonly message: string;
  /** The object's first failure since it was last written, or another status than before. */
  readonly fresh: boolean;
}

const CONCURRENCY = 16;

async function inBatches<T>(items: readonly T[], run: (t: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += CONCURRENCY) await Promise.all(items.slice(i, i + CONCURRENCY).map(run));
}

/** The models Dynamic policies name. */
function modelNames(partitions: readonly MigPartition[]): string[] {
  return partitions.flatMap((p) => (p.spec.mode === 'Dynamic' && p.spec.dynamic?.model ? [p.spec.dynamic.model] : []));
}

export class Reconciler {
  private readonly seenAt = new Map<string, number>();
  private readonly expectations = new Expectations();
  /** Per `node|gpu`: the last power and when, for the energy counter, and the labels of its series. */
  private readonly energyAt = new Map<string, { watts: number; at: number; labels: GpuLabels }>();
  /** Objects whose last write failed: when to try again, and the status each failure is reported once for. */
  private readonly backoff: WriteBackoff;
  private readonly controllerFor;
  private readonly actors: ActorShelf;
  private readonly now: () => number;
  private running = false;
  /** Set by stop(): a round still in flight writes no more. */
  private stopped = false;
  private busy: Promise<unknown> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private again = false;
  private roundsRun = 0;
  private writesDone = 0;
  private readonly finished = new Set<string>();
  private parsed: { key: string; value: Snapshot['config'] } | undefined;

  constructor(private readonly deps: ReconcilerDeps) {
    this.now = deps.now ?? Date.now;
    this.backoff = new WriteBackoff(deps.random);
    const wrap = (r: Repartitioner): Repartitioner => ({
      name: r.name,
      decide: (view) => {
        const end = deps.metrics.decisionLatency.startTimer({ controller: r.name });
        try {
          return r.decide(view);
        } finally {
          end();
        }
      },
    });
    this.actors = new ActorShelf(deps.config.modelsDirs, async (path) => {
      await useBestBackend();
      return loadActor(path);
    });
    this.controllerFor = controllerCache(CONTROLLERS, wrap, (name) => this.actors.actor(name));
  }

  get rounds(): number {
    return this.roundsRun;
  }

  /** Writes to the apiserver so far (node patches, status updates, events, ConfigMap writes). */
  get writes(): number {
    return this.writesDone;
  }

  /** Feeds informer events in: records expectations met, counts finished pods, and asks for a round. */
  onNode(n: V1Node): void {
    this.expectations.observed(`node/${n.metadata?.name ?? ''}`, n.metadata?.resourceVersion);
    this.trigger();
  }
  onPartition(p: MigPartition): void {
    this.expectations.observed(`mp/${p.metadata?.name ?? ''}`, p.metadata?.resourceVersion);
    this.trigger();
  }
  onConfigMap(cm: V1ConfigMap): void {
    this.expectations.observed('configmap', cm.metadata?.resourceVersion);
    this.trigger();
  }
  /** An allocation or a new claim changes which GPUs are busy and what is pending. */
  onClaim(): void {
    this.trigger();
  }
  onPod(pod: V1Pod, old: V1Pod | undefined): void {
    if (this.running) this.countFinished(pod, old);
    this.trigger();
  }

  /**
   * Tardiness of pods with a deadline, counted once, when they are seen turning Succeeded or Failed. A failed
   * pod finished too: it counts at the time its last container ended (on time if that was before the
   * deadline), so that failures never vanish from the late count.
   */
  private countFinished(pod: V1Pod, old: V1Pod | undefined): void {
    const uid = pod.metadata?.uid ?? '';
    if (!isFinished(pod) || !old || isFinished(old) || this.finished.has(uid)) return;
    const facts = podFacts(pod);
    if (facts.deadline === undefined) return;
    this.finished.add(uid);
    if (this.finished.size > 100_000) this.finished.clear();
    const ends = (pod.status?.containerStatuses ?? [])
      .map((c) => timeMs(c.state?.terminated?.finishedAt))
      .filter((t): t is number => t !== undefined);
    const done = ends.length > 0 ? Math.max(...ends) : this.now();
    const late = Math.max(0, (done - facts.deadline) / 60_000);
    this.deps.metrics.tardiness.observe(late);
    this.deps.metrics.completions.inc({ outcome: late > 0 ? 'late' : 'on_time' });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopped = false;
    this.deps.metrics.leader.set(1);
    this.trigger(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopped = true;
    clearTimeout(this.timer);
    this.deps.metrics.leader.set(0);
    await this.busy;
    this.dropClusterSeries();
  }

  /** Asks for a round after the debounce (or `delayMs`); rounds never overlap. */
  trigger(delayMs = this.deps.config.debounceMs): void {
    if (!this.running) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.runRound(), delayMs);
  }

  private runRound(): void {
    if (!this.running || this.busy) return;
    this.again = false;
    this.busy = this.round()
      .then((s) => s.wakeAt)
      .catch((err: unknown) => {
        this.deps.log.error({ err: describeError(err) }, 'round failed');
        return this.now() + 1000;
      })
      .then((wakeAt) => {
        this.busy = undefined;
        if (!this.running) return;
        const resync = this.now() + this.deps.config.resyncMs;
        const next = Math.min(wakeAt, resync);
        this.trigger(
          this.again ? this.deps.config.debounceMs : Math.max(this.deps.config.debounceMs, next - this.now()),
        );
      });
  }

  /** Builds the snapshot the planner decides on, from the informer caches. */
  snapshot(): Snapshot {
    const { caches, config } = this.deps;
    const now = this.now();
    const cm = caches.configMap.get(config.migConfigMap.name, config.migConfigMap.namespace);
    const parsed = this.parsedConfig(cm);
    if (parsed.ok) {
      for (const name of Object.keys(parsed.value['mig-configs']))
        if (!this.seenAt.has(name)) this.seenAt.set(name, now);
    }
    const podsByNode = new Map<string, PodFacts[]>();
    const pending: PodFacts[] = [];
    for (const pod of caches.pods.list()) {
      // Claims change apart from their pods (allocation), so their part of the facts is never cached.
      const ns = pod.metadata?.namespace;
      const f = withClaims(cachedPodFacts(pod), pod, (name) => caches.claims.get(name, ns));
      if (holdsDevices(f)) {
        const list = podsByNode.get(f.node as string);
        if (list) list.push(f);
        else podsByNode.set(f.node as string, [f]);
      } else if (isPendingDemand(f)) pending.push(f);
    }
    const nodes = caches.nodes
      .list()
      .map(cachedNodeFacts)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return {
      now,
      nodes,
      podsByNode,
      pending,
      config: parsed,
      seenAt: this.seenAt,
      partitions: caches.partitions.list(),
    };
  }

  /** The ConfigMap's config, parsed once per version (later lookups by identity stay cached too). */
  private parsedConfig(cm: V1ConfigMap | undefined): Snapshot['config'] {
    const key = `${cm?.metadata?.uid ?? ''}/${cm?.metadata?.resourceVersion ?? ''}`;
    if (this.parsed?.key !== key) {
      const value = parseMigPartedConfig(cm?.data?.[CONFIG_KEY]);
      const { namespace, name } = this.deps.config.migConfigMap;
      this.parsed = {
        key,
        value: value.ok ? value : { ok: false, error: `mig-parted ConfigMap ${namespace}/${name}: ${value.error}` },
      };
    }
    return this.parsed.value;
  }

  decide(snap: Snapshot): Plan {
    const c = this.deps.config;
    return planRound(snap, {
      controllerFor: this.controllerFor,
      controllers: CONTROLLERS,
      settleMs: c.configSettleMs,
      backoff: (n) => Math.min(c.backoffMaxMs, c.backoffBaseMs * 2 ** Math.max(0, n - 1)),
      statusNodeLimit: c.statusNodeLimit,
      modelProblem: (policy, models) =>
        this.actors.problemFor(policy, models, CONTROLLERS.get(policy.controller)?.takesModel === true),
    });
  }

  /** One full round; exposed for tests and benchmarks. */
  async round(): Promise<RoundSummary & { wakeAt: number }> {
    await this.expectations.settle(2000);
    const t0 = performance.now();
    const snap = this.snapshot();
    await this.actors.refresh(modelNames(snap.partitions));
    const t1 = performance.now();
    const plan = this.decide(snap);
    const t2 = performance.now();
    const result = await this.commit(snap, plan);
    const t3 = performance.now();
    this.record(snap, plan);
    const ms = { snapshot: t1 - t0, decide: t2 - t1, commit: t3 - t2 };
    const m = this.deps.metrics.roundPhase;
    m.observe({ phase: 'snapshot' }, ms.snapshot / 1000);
    m.observe({ phase: 'decide' }, ms.decide / 1000);
    m.observe({ phase: 'commit' }, ms.commit / 1000);
    this.roundsRun++;
    this.writesDone +=
      result.nodePatches + result.statusUpdates + result.events + result.ruleWrites + (result.configWritten ? 1 : 0);
    const summary = { ...result, ms, wakeAt: Math.min(plan.wakeAt, this.backoff.nextAt()) };
    const level = result.nodePatches + result.statusUpdates + result.events + result.ruleWrites > 0 ? 'info' : 'debug';
    this.deps.log[level]({ round: this.roundsRun, ...result, ms: roundMs(ms) }, 'round');
    return summary;
  }

  private async commit(snap: Snapshot, plan: Plan): Promise<Omit<RoundSummary, 'ms'>> {
    const { clients, config, log, metrics } = this.deps;
    const failures: FailedWrite[] = [];
    // Checked before each write: a replica that stopped leading (or cannot renew) mid-round writes no more.
    let cut = false;
    const mayWrite = (): boolean => {
      if (cut) return false;
      cut = this.stopped || !(this.deps.mayWrite?.() ?? true);
      if (cut) log.warn({ round: this.roundsRun + 1 }, 'lease not held: the rest of this round is not written');
      return !cut;
    };
    /** `key` names the object written; `partitions` are the policies the failure holds up. */
    const fail = (op: string, key: string, partitions: readonly string[], err: unknown): void => {
      metrics.apiErrors.inc({ op });
      const fresh = this.backoff.failed(key, err, this.now());
      log.warn({ op, object: key, err: describeError(err) }, 'write failed; retried after a back-off');
      failures.push({ op, key, partitions, status: statusOf(err), message: describeError(err), fresh });
    };
    const succeeded = (key: string): void => this.backoff.succeeded(key);
    /** A write whose object is backing off waits for a later round (the round wakes in time for it). */
    const due = (key: string): boolean => this.backoff.due(key, this.now());
    let configWritten = false;
    const { namespace, name } = config.migConfigMap;
    if (snap.config.ok && mayWrite()) {
      const merged = mergeConfigs(snap.config.value, plan.configAdds, plan.configInUse);
      const key = `configmap/${namespace}/${name}`;
      if (merged.changed && due(key)) {
        try {
          // Merged again against the stored text: someone may have edited the ConfigMap since the snapshot.
          const rv = await updateConfigMap(clients, namespace, name, (text) => {
            const cur = parseMigPartedConfig(text);
            if (!cur.ok) return undefined;
            const next = mergeConfigs(cur.value, plan.configAdds, plan.configInUse);
            return next.changed ? renderMigPartedConfig(next.config) : undefined;
          });
          configWritten = rv !== undefined;
          this.expectations.expect('configmap', rv);
          succeeded(key);
        } catch (err) {
          const owners = [...new Set([...plan.managed.values()].map((m) => m.partition))].sort();
          fail('configmap', key, owners, err);
        }
      }
    }
    // Steering rules before node patches: the allocator is kept off a GPU before the node says it changed.
    const ruleWrites = await this.commitRules(snap, plan, mayWrite, fail, succeeded, due);
    const nodes = new Map(this.deps.caches.nodes.list().map((n) => [n.metadata?.name ?? '', n]));
    let nodePatches = 0;
    await inBatches(plan.nodePatches, async (p) => {
      const key = `node/${p.node}`;
      if (!due(key) || !mayWrite()) return;
      nodePatches++;
      try {
        const rv = await patchNode(clients, p, nodes.get(p.node)?.spec?.taints ?? []);
        this.expectations.expect(key, rv);
        succeeded(key);
      } catch (err) {
        // A node no policy manages any more (its marks being removed) has no MigPartition to tell.
        const owner = plan.managed.get(p.node)?.partition;
        fail('node', key, owner === undefined ? [] : [owner], err);
      }
    });
    let statusUpdates = 0;
    const partitions = new Map(snap.partitions.map((p) => [p.metadata?.name ?? '', p]));
    await inBatches(plan.statuses, async ({ name: mp, status }) => {
      const prev = partitions.get(mp)?.status;
      const key = `mp/${mp}`;
      if (canonicalJson(prev ?? {}) === canonicalJson(status) || !due(key) || !mayWrite()) return;
      try {
        this.expectations.expect(key, await patchStatus(clients, mp, status, prev));
        statusUpdates++;
        succeeded(key);
      } catch (err) {
        fail('status', key, [mp], err);
      }
    });
    const events = [...plan.events, ...this.writeFailureEvents(failures)];
    const reporter = { component: 'smartmig-operator', instance: config.identity };
    let eventsSent = 0;
    for (const e of events) {
      if (!mayWrite()) break;
      eventsSent++;
      const target = { name: e.partition, uid: partitions.get(e.partition)?.metadata?.uid };
      try {
        await recordEvent(clients, target, e, reporter, new Date(this.now()));
      } catch (err) {
        // Not reported as an event: that would most likely fail the same way.
        fail('event', `event/${e.reason}`, [], err);
      }
    }
    const errors = failures.length;
    return { nodePatches, statusUpdates, events: eventsSent, configWritten, ruleWrites, errors };
  }

  /**
   * DRA nodes: brings each planned node's DeviceTaintRules to its GPU targets (delete, then create), and
   * deletes the rules of nodes no policy manages (released or deleted nodes). Listed once per round, and only
   * when some node is a DRA node or smartmig planned one, so device-plugin clusters make no call here.
   */
  private async commitRules(
    snap: Snapshot,
    plan: Plan,
    mayWrite: () => boolean,
    fail: (op: string, key: string, partitions: readonly string[], err: unknown) => void,
    succeeded: (key: string) => void,
    due: (key: string) => boolean,
  ): Promise<number> {
    const { clients } = this.deps;
    if (plan.draTargets.size === 0 && !snap.nodes.some((n) => n.dra)) return 0;
    if (!due('devicetaintrules') || !mayWrite()) return 0;
    let existing: DeviceTaintRule[];
    try {
      existing = await listSteeringRules(clients);
      succeeded('devicetaintrules');
    } catch (err) {
      const owners = [...new Set([...plan.draTargets.keys()].map((n) => plan.managed.get(n)?.partition ?? ''))];
      fail('devicetaintrules', 'devicetaintrules', owners.filter((o) => o !== '').sort(), err);
      return 0;
    }
    const byNode = new Map<string, DeviceTaintRule[]>();
    for (const r of existing) {
      const node = r.metadata.labels?.[RULE_NODE_LABEL] ?? '';
      byNode.set(node, [...(byNode.get(node) ?? []), r]);
    }
    const work: { node: string; wanted: DeviceTaintRule[] }[] = [];
    for (const [node, t] of plan.draTargets) work.push({ node, wanted: steeringRules(node, t.model, t.targets) });
    for (const node of byNode.keys()) if (!plan.managed.has(node)) work.push({ node, wanted: [] });
    let writes = 0;
    await inBatches(work, async ({ node, wanted }) => {
      const key = `devicetaintrules/${node}`;
      const { create, remove } = ruleChanges(byNode.get(node) ?? [], wanted);
      if ((create.length === 0 && remove.length === 0) || !due(key)) return;
      const owner = plan.managed.get(node)?.partition;
      try {
        for (const name of remove) {
          if (!mayWrite()) return;
          await deleteSteeringRule(clients, name);
          writes++;
        }
        for (const rule of create) {
          if (!mayWrite()) return;
          await createSteeringRule(clients, rule);
          writes++;
        }
        succeeded(key);
      } catch (err) {
        fail('devicetaintrules', key, owner === undefined ? [] : [owner], err);
      }
    });
    if (writes > 0) this.deps.log.info({ writes }, 'steering rules written');
    return writes;
  }

  /**
   * Warnings `WriteFailed`: one per policy and kind of write, listing the objects whose write newly failed.
   * An object counts once per HTTP status until a write of it succeeds again. The apiserver keeps no trace of
   * a failed write to compare with, so this is remembered in memory (after a restart a failure that persists
   * is reported once more). Conflicts (409) are left out: optimistic concurrency expects them, and the next
   * round redoes the write.
   */
  private writeFailureEvents(failures: readonly FailedWrite[]): PlanEvent[] {
    const fresh = new Map<string, FailedWrite[]>();
    for (const f of failures) {
      if (!f.fresh || f.partitions.length === 0) continue;
      for (const partition of f.partitions) {
        const group = `${partition}|${f.op}`;
        fresh.set(group, [...(fresh.get(group) ?? []), f]);
      }
    }
    return [...fresh].map(([group, list]) => {
      const [partition = '', op = ''] = group.split('|');
      const shown = list.slice(0, 5).map((f) => `${f.key} (${f.message})`);
      const more = list.length > shown.length ? `, and ${list.length - shown.length} more` : '';
      const message = `${op} write failed: ${shown.join(', ')}${more}; the operator retries after a back-off`;
      return { partition, type: 'Warning', reason: 'WriteFailed', message };
    });
  }

  /** Metrics that follow from the round: repartitions, power and energy, slices, pending demand. */
  private record(snap: Snapshot, plan: Plan): void {
    const m = this.deps.metrics;
    for (const r of plan.repartitions) {
      m.repartitions.inc({ result: r.result });
      m.repartitionDuration.observe({ result: r.result }, r.seconds);
    }
    // The nodes the policies manage, each with the GPU model the planner used for it.
    const obs = observe(snap, (n) => plan.managed.get(n.name)?.model);
    const seen = new Set<string>();
    for (const g of obs.gpus) {
      const key = `${g.node}|${g.gpu}`;
      seen.add(key);
      const labels = { node: g.node, gpu: String(g.gpu), model: g.model };
      const prev = this.energyAt.get(key);
      if (prev && prev.labels.model !== g.model) this.dropGpuSeries(prev.labels);
      else if (prev && snap.now > prev.at) m.gpuEnergy.inc(labels, (prev.watts * (snap.now - prev.at)) / 1000);
      this.energyAt.set(key, { watts: g.watts, at: snap.now, labels });
      m.gpuPower.set(labels, g.watts);
    }
    // GPUs of nodes deleted or no longer managed by any policy: their series go, so sums over nodes stay right.
    for (const [key, e] of this.energyAt) {
      if (seen.has(key)) continue;
      this.dropGpuSeries(e.labels);
      this.energyAt.delete(key);
    }
    m.slices.reset();
    for (const [key, n] of obs.slices) {
      const [profile = '', state = ''] = key.split('|');
      m.slices.set({ profile, state }, n);
    }
    m.pendingDemand.reset();
    for (const [profile, n] of obs.pending) m.pendingDemand.set({ profile }, n);
  }

  private dropGpuSeries(labels: GpuLabels): void {
    this.deps.metrics.gpuPower.remove(labels);
    this.deps.metrics.gpuEnergy.remove(labels);
  }

  /** A replica that stops acting stops exporting cluster figures; the new leader exports its own. */
  private dropClusterSeries(): void {
    for (const e of this.energyAt.values()) this.dropGpuSeries(e.labels);
    this.energyAt.clear();
    this.deps.metrics.slices.reset();
    this.deps.metrics.pendingDemand.reset();
  }
}

const isFinished = (pod: V1Pod): boolean => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/** JSON with object keys sorted: the apiserver returns custom resources with sorted keys. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(
          Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : x,
  );
}

function roundMs(ms: RoundSummary['ms']): Record<string, number> {
  return { snapshot: +ms.snapshot.toFixed(1), decide: +ms.decide.toFixed(1), commit: +ms.commit.toFixed(1) };
}
