// kubelet, emulated: runs the pods bound to the emulated nodes. A pod gets concrete devices (a MIG instance
// on a particular GPU), runs for the time the throughput model gives it, then succeeds; a pod whose devices
// are not free fails at admission with OutOf<resource>; a deleted pod frees its devices at once (there are
// no containers to stop, so a graceful deletion is confirmed with grace period 0). On a DRA node a pod with
// resource claims has them prepared instead, as NVIDIA's DRA kubelet plugin does: the MIG instances of the
// allocated devices are created, and destroyed again when the pod ends.
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Pod } from '@kubernetes/client-node';
import { computeSlicesOf, deviceName as draDeviceName, type GpuDevice } from '../dra/devices.js';
import type { AgentDeps } from './agent-deps.js';
import { hasResourceClaims, readClaimDevices } from './claims.js';
import type { Device, Preference } from './devices.js';
import { deviceName } from './devices.js';
import type { DynamicBoard } from './dynamic-board.js';
import { MERGE_PATCH, STRATEGIC_PATCH, errorText, ignoreNotFound, statusCode } from './kube.js';
import {
  PLACEMENT_ANNOTATION,
  POD_GPU_ANNOTATION,
  POD_SLICE_ANNOTATION,
  PREPARE_FAILED_REASON,
  RECONFIGURED_REASON,
  WORK_ANNOTATION,
} from './labels.js';
import type { PodOutcome } from './metrics.js';
import type { NodeAgent } from './node-agent.js';
import type { StatusPatch } from './pod-status.js';
import { killedPatch, rejectedPatch, runningPatch, succeededPatch } from './pod-status.js';
import { gpuRequests, runPlan } from './runtime.js';

export interface KubeletDeps extends AgentDeps {
  readonly agent: (node: string) => NodeAgent | undefined;
}

interface Tracked {
  readonly key: string;
  readonly uid: string;
  readonly node: string;
  pod: V1Pod;
  /** Held back while the node reconfigures; admitted when it is done. */
  queued: boolean;
  started: Date;
  timer: NodeJS.Timeout | undefined;
  /** Writes for this pod, in order. */
  chain: Promise<void>;
}

/** A device a pod runs on, as annotations and logs show it: GPU, profile (none for a whole GPU), start. */
type Placed = Pick<Device, 'gpu' | 'profile' | 'start' | 'compute'>;

const keyOf = (pod: V1Pod): string => `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;

function timeOf(v: unknown): Date | undefined {
  const d = v instanceof Date ? v : typeof v === 'string' ? new Date(v) : undefined;
  return d && Number.isFinite(d.getTime()) ? d : undefined;
}

/** Where the pod should go: its own record (after a restart of fake-gpu), else the extender's placement. */
export function preferenceOf(pod: V1Pod): Preference | undefined {
  const ann = pod.metadata?.annotations ?? {};
  const own = Number(ann[POD_GPU_ANNOTATION]);
  if (ann[POD_GPU_ANNOTATION] !== undefined && Number.isInteger(own) && own >= 0) {
    return { gpu: own, device: ann[POD_SLICE_ANNOTATION] };
  }
  const text = ann[PLACEMENT_ANNOTATION];
  if (!text || text.length > 8192) return undefined;
  try {
    const v = JSON.parse(text) as { gpu?: unknown } | null;
    return v && Number.isInteger(v.gpu) && (v.gpu as number) >= 0 ? { gpu: v.gpu as number } : undefined;
  } catch {
    return undefined;
  }
}

export class Kubelet {
  private readonly pods = new Map<string, Tracked>();
  /**
   * Pods fake-gpu finished (succeeded, rejected, killed) whose final status it has not seen yet: older events
   * still arriving for them must not start them again.
   */
  private readonly finished = new Set<string>();
  private stopped = false;
  /** Cuts short the waits between reads of claims that are not ready yet. */
  private readonly stopping = new AbortController();

  constructor(private readonly deps: KubeletDeps) {}

  /** Pods running (admitted and not finished). */
  running(): number {
    let n = 0;
    for (const t of this.pods.values()) if (!t.queued) n++;
    return n;
  }

  /** The full list of bound, unfinished pods (after a relist). Pods that vanished meanwhile are forgotten. */
  onList(pods: readonly V1Pod[]): void {
    const seen = new Set(pods.map((p) => p.metadata?.uid));
    for (const t of [...this.pods.values()]) if (!seen.has(t.uid)) this.forget(t, 'deleted');
    for (const uid of [...this.finished]) if (!seen.has(uid)) this.finished.delete(uid);
    for (const p of pods) this.onPod('ADDED', p);
  }

  onPod(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: V1Pod): void {
    if (this.stopped) return;
    const node = pod.spec?.nodeName;
    const agent = node ? this.deps.agent(node) : undefined;
    if (!node || !agent) return;
    const key = keyOf(pod);
    const uid = pod.metadata?.uid ?? '';
    const phase = pod.status?.phase;
    const final = type === 'DELETED' || phase === 'Succeeded' || phase === 'Failed';
    if (this.finished.has(uid)) {
      if (final) this.finished.delete(uid);
      return;
    }
    let tracked = this.pods.get(key);
    if (tracked && tracked.uid !== uid) {
      this.forget(tracked, 'deleted');
      tracked = undefined;
    }
    if (final) {
      if (tracked) this.forget(tracked, type === 'DELETED' ? 'deleted' : undefined);
      return;
    }
    if (pod.metadata?.deletionTimestamp) {
      if (tracked) this.forget(tracked, 'deleted');
      void this.confirmDeletion(pod, key);
      return;
    }
    if (tracked) {
      tracked.pod = pod;
      return;
    }
    const t: Tracked = {
      key,
      uid,
      node,
      pod,
      queued: true,
      started: this.deps.now(),
      timer: undefined,
      chain: Promise.resolve(),
    };
    this.pods.set(key, t);
    if (!agent.reconfiguring) this.admit(t, agent);
  }

  /** Admits the pods held back while `agent`'s node reconfigured. */
  onNodeSettled(agent: NodeAgent): void {
    for (const t of this.pods.values()) if (t.queued && t.node === agent.name) this.admit(t, agent);
  }

  /** Pods whose devices a reconfiguration took away: their containers fail. */
  killPods(agent: NodeAgent, keys: readonly string[], message: string): void {
    for (const key of keys) {
      const t = this.pods.get(key);
      if (!t) continue;
      this.forget(t, 'killed');
      this.finished.add(t.uid);
      const patch = killedPatch(t.pod, t.started, this.deps.now(), RECONFIGURED_REASON, message);
      this.enqueue(t, () => this.patchStatus(t, patch));
    }
    this.deps.writer.scheduleSlices(agent);
  }

  stop(): void {
    this.stopped = true;
    this.stopping.abort();
    for (const t of this.pods.values()) if (t.timer) clearTimeout(t.timer);
  }

  private admit(t: Tracked, agent: NodeAgent): void {
    t.queued = false;
    if (agent.dynamic && hasResourceClaims(t.pod)) {
      void this.prepare(t, agent, agent.dynamic);
      return;
    }
    const requests = gpuRequests(t.pod);
    const alloc = agent.board.allocate(t.key, requests, preferenceOf(t.pod));
    if (!alloc.ok) {
      const message =
        `Pod was rejected: Node didn't have enough resource: ${alloc.resource}, ` +
        `requested: ${alloc.requested}, used: ${alloc.used}, capacity: ${alloc.capacity}`;
      this.reject(t, `OutOf${alloc.resource}`, message);
      return;
    }
    this.start(t, agent, alloc.devices, requests.size > 0);
  }

  /**
   * The DRA kubelet plugin's NodePrepareResources: reads the pod's allocated claims and creates their MIG
   * instances. A claim that cannot be prepared fails the pod, as a device-plugin pod fails admission.
   */
  private async prepare(t: Tracked, agent: NodeAgent, board: DynamicBoard): Promise<void> {
    const signal = this.stopping.signal;
    // Only stop() (cutting a wait short) or a bug makes the read throw; the pod then fails with the error.
    const read = await readClaimDevices(this.deps.kube, t.pod, agent.name, (ms) =>
      sleep(ms, undefined, { signal }),
    ).catch((err: unknown) => ({ ok: false as const, message: String(err) }));
    // Deleted (or fake-gpu stopped) while the claims were read: nothing to prepare for.
    if (this.stopped || this.pods.get(t.key) !== t) return;
    const prepared = read.ok ? board.prepare(t.key, read.claims) : read;
    if (!prepared.ok) {
      this.reject(
        t,
        PREPARE_FAILED_REASON,
        `Pod was rejected: failed to prepare dynamic resources: ${prepared.message}`,
      );
      return;
    }
    const names = prepared.devices.map((d) => draDeviceName(board.model, d));
    this.deps.log.info({ pod: t.key, node: t.node, devices: names }, 'claims prepared');
    const devices = prepared.devices.map((d) => placed(board, d));
    this.start(t, agent, devices, true);
  }

  /** Runs an admitted pod on `devices`; `gpuPod`: it asked for GPUs, so it ends when its work is done. */
  private start(t: Tracked, agent: NodeAgent, devices: readonly Placed[], gpuPod: boolean): void {
    const resumed = t.pod.status?.phase === 'Running' ? timeOf(t.pod.status.startTime) : undefined;
    t.started = resumed ?? this.deps.now();
    const compute = devices.reduce((sum, d) => sum + d.compute, 0);
    const plan = runPlan(t.pod, compute, this.deps.config);
    const log = this.deps.log.child({ pod: t.key, node: t.node });
    for (const w of plan.warnings) log.warn(w);
    const noEnd = !gpuPod && t.pod.metadata?.annotations?.[WORK_ANNOTATION] === undefined;
    const remaining = Math.max(0, plan.millis - (this.deps.now().getTime() - t.started.getTime()));
    log.info(
      {
        devices: devices.map((d) => `${d.gpu}:${deviceName(d)}`),
        workload: plan.workload,
        runMs: noEnd ? null : Math.round(plan.millis),
      },
      resumed ? 'pod resumed' : 'pod started',
    );
    if (!resumed) this.deps.metrics.pods.inc({ outcome: 'started' });
    this.deps.writer.scheduleSlices(agent);
    if (devices.length > 0) this.enqueue(t, () => this.annotate(t, devices));
    if (!resumed) this.enqueue(t, () => this.patchStatus(t, runningPatch(t.pod, t.started)));
    // A pod without GPUs and without declared work runs until it is deleted, like a service would.
    if (!noEnd) t.timer = setTimeout(() => this.complete(t), remaining);
  }

  private complete(t: Tracked): void {
    if (this.pods.get(t.key) !== t) return;
    this.forget(t, 'succeeded');
    this.finished.add(t.uid);
    const patch = succeededPatch(t.pod, t.started, this.deps.now());
    this.enqueue(t, () => this.patchStatus(t, patch));
  }

  /** Frees the pod's devices (on a DRA node: unprepares the claims no other pod uses) and stops following it. */
  private forget(t: Tracked, outcome: PodOutcome | undefined): void {
    if (t.timer) clearTimeout(t.timer);
    this.pods.delete(t.key);
    const agent = this.deps.agent(t.node);
    const freed = agent?.board.release(t.key) ?? [];
    const unprepared = agent?.dynamic?.release(t.key) ?? [];
    if (agent && freed.length + unprepared.length > 0) this.deps.writer.scheduleSlices(agent);
    if (agent && unprepared.length > 0) {
      const devices = unprepared.map((d) => draDeviceName(agent.model, d));
      this.deps.log.info({ pod: t.key, node: t.node, devices }, 'claims unprepared');
    }
    if (outcome && !t.queued) this.deps.metrics.pods.inc({ outcome });
  }

  /** Fails the pod at admission, as kubelet rejects a pod it cannot give its resources. */
  private reject(t: Tracked, reason: string, message: string): void {
    this.pods.delete(t.key);
    this.finished.add(t.uid);
    this.deps.log.warn({ pod: t.key, node: t.node, reason }, message);
    this.deps.metrics.pods.inc({ outcome: 'rejected' });
    const [namespace, name] = [t.pod.metadata?.namespace, t.pod.metadata?.name];
    this.enqueue(t, async () => {
      await this.patchStatus(t, rejectedPatch(reason, message));
      await this.deps.writer.event(
        { kind: 'Pod', name: name ?? '', namespace, uid: t.uid },
        'Warning',
        reason,
        message,
      );
    });
  }

  private enqueue(t: Tracked, write: () => Promise<void>): void {
    t.chain = t.chain.then(write, write);
  }

  private async annotate(t: Tracked, devices: readonly Placed[]): Promise<void> {
    const first = devices[0] as Placed;
    const annotations = { [POD_GPU_ANNOTATION]: String(first.gpu), [POD_SLICE_ANNOTATION]: deviceName(first) };
    await this.call('patch-pod', t, () =>
      this.deps.kube.core.patchNamespacedPod(
        {
          name: t.pod.metadata?.name ?? '',
          namespace: t.pod.metadata?.namespace ?? '',
          body: { metadata: { annotations } },
        },
        MERGE_PATCH,
      ),
    );
  }

  private async patchStatus(t: Tracked, patch: StatusPatch): Promise<void> {
    await this.call('patch-pod-status', t, () =>
      this.deps.kube.core.patchNamespacedPodStatus(
        { name: t.pod.metadata?.name ?? '', namespace: t.pod.metadata?.namespace ?? '', body: patch },
        STRATEGIC_PATCH,
      ),
    );
  }

  private async call(operation: string, t: Tracked, fn: () => Promise<unknown>): Promise<void> {
    if (this.stopped) return;
    try {
      await fn();
    } catch (err) {
      if (statusCode(err) === 404) return; // deleted meanwhile: nothing left to report on
      this.deps.metrics.apiErrors.inc({ operation });
      this.deps.log.warn({ pod: t.key, operation, err: errorText(err) }, 'API call failed');
    }
  }

  private async confirmDeletion(pod: V1Pod, key: string): Promise<void> {
    const uid = pod.metadata?.uid;
    try {
      await ignoreNotFound(
        this.deps.kube.core.deleteNamespacedPod({
          name: pod.metadata?.name ?? '',
          namespace: pod.metadata?.namespace ?? '',
          gracePeriodSeconds: 0,
          body: { gracePeriodSeconds: 0, preconditions: uid ? { uid } : undefined },
        }),
      );
    } catch (err) {
      // 409: a new pod of the same name took its place; it is not ours to delete.
      if (statusCode(err) !== 409) {
        this.deps.metrics.apiErrors.inc({ operation: 'delete-pod' });
        this.deps.log.warn({ pod: key, err: errorText(err) }, 'could not confirm pod deletion');
      }
    }
  }
}

/** A prepared DRA device as the pod annotations show it (`1g.5gb@3`, or `gpu`). */
function placed(board: DynamicBoard, d: GpuDevice): Placed {
  const compute = computeSlicesOf(board.model, d);
  return d.kind === 'gpu'
    ? { gpu: d.gpu, profile: undefined, start: 0, compute }
    : { gpu: d.gpu, profile: d.profile.name, start: d.start, compute };
}
