// The extender's picture of the cluster: nodes' MIG facts and the MIG slices that pods hold, kept small
// (no full objects) so 5,000 nodes and 50,000 pods fit in little memory. Informers feed it; bind adds
// the pods it has just bound before the watch reports them, so the next filter does not count a slice
// twice as free.
import { PLACEMENT_ANNOTATION } from '../api/labels.js';
import type { NodeMigState } from '../policy/placement/node-score.js';
import { durationOn, profileCompute } from '../policy/placement/node-score.js';
import type { ProfileBook } from '../policy/workload/job.js';
import { nodeInfo, parsePlacement, podIntent, podSlices, timeMs, type NodeInfo, type PodIntent } from './kube.js';
import { DraCache } from './dra-cache.js';
import { NameIndex, type NameList } from './node-names.js';
import type { Node, Pod } from './schemas.js';

export interface PodRecord {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly nodeName?: string;
  /** MIG slices by profile name. */
  readonly slices: Readonly<Record<string, number>>;
  readonly intent: PodIntent;
  /** When it started (or was bound), epoch ms. */
  readonly startMs?: number;
  /** Expected finish, epoch ms; undefined when its work is unknown or it has not started. */
  readonly finishMs?: number;
}

interface Usage {
  readonly used: ReadonlyMap<string, number>;
  readonly busyUntilMs?: number;
}

const TERMINAL = new Set(['Succeeded', 'Failed']);
const MS_PER_MIN = 60_000;

export class ClusterCache {
  private readonly nodes = new Map<string, NodeInfo>();
  private readonly pods = new Map<string, PodRecord>();
  private readonly uidByKey = new Map<string, string>();
  private readonly podsOnNode = new Map<string, Set<string>>();
  /** A slot per cached node, found by name or by the bytes of its name (nodeStateAt). */
  private readonly index = new NameIndex();
  /** The NodeInfo of each slot (the same as in `nodes`). */
  private readonly infos: (NodeInfo | undefined)[] = [];
  /** The slot of each name of a list, while the index's generation is the one given. */
  private readonly listSlots = new WeakMap<NameList, { readonly generation: number; readonly slots: Int32Array }>();
  /** NodeMigState per slot, rebuilt lazily after a node or one of its pods changes. */
  private readonly states: (NodeMigState | undefined)[] = [];
  /** Slices in use per node, rebuilt lazily after one of its pods changes. */
  private readonly usage = new Map<string, Usage>();
  /** resourceVersion of each cached node: a request's Node object at the same version is the cached one. */
  private readonly versions = new Map<string, string>();
  /** Objective weight (per W·min) of each MigPartition, for the nodes it manages. */
  private weights: ReadonlyMap<string, number> = new Map();
  /** DRA nodes' devices, taints and allocations, and claims' MIG demands; a change drops the node's state. */
  readonly dra = new DraCache((node) => this.changed(node));

  constructor(private readonly book: ProfileBook) {}

  get nodeCount(): number {
    return this.nodes.size;
  }
  get podCount(): number {
    return this.pods.size;
  }

  upsertNode(node: Node): void {
    const info = nodeInfo(node);
    this.nodes.set(info.name, info);
    const slot = this.index.add(info.name);
    this.infos[slot] = info;
    this.states[slot] = undefined;
    const rv = node.metadata.resourceVersion;
    if (rv) this.versions.set(info.name, rv);
    else this.versions.delete(info.name);
  }

  deleteNode(name: string): void {
    this.nodes.delete(name);
    const slot = this.index.remove(name);
    if (slot !== undefined) this.infos[slot] = this.states[slot] = undefined;
    this.versions.delete(name);
  }

  replaceNodes(nodes: Iterable<Node>): void {
    this.nodes.clear();
    this.index.clear();
    this.infos.length = 0;
    this.states.length = 0;
    this.versions.clear();
    for (const n of nodes) this.upsertNode(n);
  }

  /** Records a pod's MIG slices; pods without any, and finished pods, are dropped. */
  upsertPod(pod: Pod, nowMs: number): void {
    const uid = pod.metadata.uid;
    if (!uid) return;
    const slices = podSlicesOrEmpty(pod);
    if (TERMINAL.has(pod.status?.phase ?? '') || Object.keys(slices).length === 0) {
      this.deletePod(uid);
      return;
    }
    const nodeName = pod.spec.nodeName ?? undefined;
    const placed = parsePlacement(pod.metadata.annotations?.[PLACEMENT_ANNOTATION]);
    const startMs = timeMs(pod.status?.startTime) ?? timeMs(placed?.at) ?? (nodeName ? nowMs : undefined);
    const { intent } = podIntent(pod, this.book, nowMs);
    this.put({
      uid,
      namespace: pod.metadata.namespace ?? 'default',
      name: pod.metadata.name ?? '',
      nodeName,
      slices,
      intent,
      startMs,
      finishMs: finishOf(slices, intent, startMs),
    });
  }

  deletePod(uid: string): void {
    const old = this.pods.get(uid);
    if (!old) return;
    this.pods.delete(uid);
    this.uidByKey.delete(`${old.namespace}/${old.name}`);
    this.unlink(old);
  }

  replacePods(pods: Iterable<Pod>, nowMs: number): void {
    this.pods.clear();
    this.uidByKey.clear();
    this.podsOnNode.clear();
    this.states.fill(undefined);
    this.usage.clear();
    for (const p of pods) this.upsertPod(p, nowMs);
  }

  /**
   * The objective weight of each MigPartition (per W·min); a node managed by one (`smartmig.io/partition`)
   * is scored with it, any other node with the extender's own etWeight.
   */
  setEnergyWeights(weights: ReadonlyMap<string, number>): void {
    const old = this.weights;
    this.weights = weights;
    for (const [name, info] of this.nodes) {
      if (info.partition !== undefined && old.get(info.partition) !== weights.get(info.partition)) {
        this.dropState(name);
      }
    }
  }

  /** Looks up again the speed-up profile of every pod that names a workload, after the profiles changed. */
  refreshProfiles(): void {
    for (const r of [...this.pods.values()]) {
      const name = r.intent.workload;
      if (name === undefined) continue;
      const speedup = this.book.has(name) ? this.book.get(name) : undefined;
      if (speedup === r.intent.speedup) continue;
      const intent = { ...r.intent, speedup };
      this.put({ ...r, intent, finishMs: finishOf(r.slices, intent, r.startMs) });
    }
  }

  /** Marks a pod bound to `nodeName` now, ahead of the watch event that will confirm it. */
  assume(record: PodRecord, nodeName: string, nowMs: number): PodRecord {
    const startMs = record.startMs ?? nowMs;
    const bound = { ...record, nodeName, startMs, finishMs: finishOf(record.slices, record.intent, startMs) };
    this.put(bound);
    return bound;
  }

  /**
   * Puts a record back as it was before `assumed` (after a failed bind), unless the watch has replaced or
   * deleted the assumed record meanwhile: a bind that fails because the pod was deleted must not bring back
   * a pod that no longer exists, whose slices would then count as used for good.
   */
  restore(record: PodRecord, assumed: PodRecord): void {
    if (this.pods.get(record.uid) === assumed) this.put(record);
  }

  pod(uid: string): PodRecord | undefined {
    return this.pods.get(uid);
  }

  podByName(namespace: string, name: string): PodRecord | undefined {
    const uid = this.uidByKey.get(`${namespace}/${name}`);
    return uid === undefined ? undefined : this.pods.get(uid);
  }

  /** The node's MIG state from the cache, or undefined when the cache has never seen it. */
  nodeState(name: string): NodeMigState | undefined {
    const slot = this.index.slotOf(name);
    return slot === undefined ? undefined : this.stateAt(slot);
  }

  /**
   * The state of each node a name list names (node-names.ts), in its order; undefined for a name the cache
   * has never seen. The slots the names were found at are kept with the list until a name comes or goes.
   */
  nodeStatesOf(list: NameList): (NodeMigState | undefined)[] {
    const slots = this.slotsOf(list);
    const out = new Array<NodeMigState | undefined>(list.count);
    for (let i = 0; i < list.count; i++) {
      const slot = slots[i] as number;
      out[i] = slot < 0 ? undefined : this.stateAt(slot);
    }
    return out;
  }

  /**
   * A node as the request describes it (non-cache mode), with the slices the cache knows are in use. The
   * scheduler's Node objects usually match the cache's version, and then the cached state is reused.
   */
  nodeStateFrom(node: Node): NodeMigState {
    const name = node.metadata.name;
    const rv = node.metadata.resourceVersion;
    if (rv && this.versions.get(name) === rv) return this.nodeState(name) as NodeMigState;
    return this.withUsage(nodeInfo(node));
  }

  /** nodeStateFrom for a node whose facts have been read already (a Node item seen before). */
  nodeStateOf(info: NodeInfo, resourceVersion: string | undefined): NodeMigState {
    if (resourceVersion && this.versions.get(info.name) === resourceVersion) {
      return this.nodeState(info.name) as NodeMigState;
    }
    return this.withUsage(info);
  }

  allNodeStates(): NodeMigState[] {
    return [...this.nodes.keys()].map((n) => this.nodeState(n) as NodeMigState);
  }

  private slotsOf(list: NameList): Int32Array {
    const generation = this.index.generation;
    const kept = this.listSlots.get(list);
    if (kept?.generation === generation) return kept.slots;
    const { bytes, at, count } = list;
    const slots = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      slots[i] = this.index.find(bytes, at[3 * i] as number, at[3 * i + 1] as number, at[3 * i + 2] as number);
    }
    this.listSlots.set(list, { generation, slots });
    return slots;
  }

  private stateAt(slot: number): NodeMigState {
    let s = this.states[slot];
    if (!s) this.states[slot] = s = this.withUsage(this.infos[slot] as NodeInfo);
    return s;
  }

  private dropState(nodeName: string): void {
    const slot = this.index.slotOf(nodeName);
    if (slot !== undefined) this.states[slot] = undefined;
  }

  private withUsage(info: NodeInfo): NodeMigState {
    const { used, busyUntilMs } = this.usageOf(info.name);
    // A DRA node's slices are its pool's untainted placements, in use as far as allocated claims hold them.
    const dra = info.dra && info.model ? this.dra.nodeMig(info.name, info.model) : undefined;
    // Every field by hand, in one order: states built with `{ ...info, … }` got a hidden class each
    // (4,990 for 5,000 nodes), which made every read of a state in the verbs a megamorphic lookup.
    return {
      name: info.name,
      model: info.model,
      gpus: dra ? Math.max(info.gpus, dra.gpus) : info.gpus,
      allocatable: dra?.allocatable ?? info.allocatable,
      used: dra?.used ?? used,
      reconfiguring: info.reconfiguring,
      draining: info.draining,
      cordoned: info.cordoned,
      busyUntil: busyUntilMs === undefined ? undefined : busyUntilMs / MS_PER_MIN,
      etWeight: info.partition === undefined ? undefined : this.weights.get(info.partition),
    };
  }

  private usageOf(nodeName: string): Usage {
    let u = this.usage.get(nodeName);
    if (u) return u;
    const used = new Map<string, number>();
    let busyUntilMs: number | undefined;
    for (const uid of this.podsOnNode.get(nodeName) ?? []) {
      const p = this.pods.get(uid) as PodRecord;
      for (const [profile, n] of Object.entries(p.slices)) used.set(profile, (used.get(profile) ?? 0) + n);
      if (p.finishMs !== undefined) busyUntilMs = Math.max(busyUntilMs ?? -Infinity, p.finishMs);
    }
    this.usage.set(nodeName, (u = { used, busyUntilMs }));
    return u;
  }

  private changed(nodeName: string): void {
    this.dropState(nodeName);
    this.usage.delete(nodeName);
  }

  private put(record: PodRecord): void {
    const old = this.pods.get(record.uid);
    if (old) this.unlink(old);
    this.pods.set(record.uid, record);
    this.uidByKey.set(`${record.namespace}/${record.name}`, record.uid);
    if (record.nodeName) {
      let set = this.podsOnNode.get(record.nodeName);
      if (!set) this.podsOnNode.set(record.nodeName, (set = new Set()));
      set.add(record.uid);
      this.changed(record.nodeName);
    }
  }

  private unlink(record: PodRecord): void {
    if (!record.nodeName) return;
    const set = this.podsOnNode.get(record.nodeName);
    set?.delete(record.uid);
    if (set?.size === 0) this.podsOnNode.delete(record.nodeName);
    this.changed(record.nodeName);
  }
}

/** A pod from the API server whose quantity is malformed still holds whatever it holds: count nothing. */
function podSlicesOrEmpty(pod: Pod): Record<string, number> {
  try {
    return podSlices(pod);
  } catch {
    return {};
  }
}

function finishOf(
  slices: Readonly<Record<string, number>>,
  intent: PodIntent,
  startMs: number | undefined,
): number | undefined {
  if (startMs === undefined) return undefined;
  const k = Math.max(0, ...Object.keys(slices).map((p) => profileCompute(p) ?? 0));
  const d = durationOn({ slices, work: intent.workMin, speedup: intent.speedup }, k);
  return d === undefined ? undefined : startMs + d * MS_PER_MIN;
}
