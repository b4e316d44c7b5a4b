// Writes to the Node objects: label and annotation merge patches, status patches, the debounced slice
// occupancy annotation, and events. API errors are logged and counted, never thrown: an emulated node keeps
// going when one write fails, as kubelet does.
import type { Logger } from 'pino';
import type { Kube, EventTarget } from './kube.js';
import { MERGE_PATCH, STRATEGIC_PATCH, errorText, makeEvent, statusCode } from './kube.js';
import { GPU_SLICES_ANNOTATION } from './labels.js';
import type { FakeGpuMetrics } from './metrics.js';
import type { NodeAgent } from './node-agent.js';

/** Coalesces bursts of pod starts and ends into one annotation write per node. */
const SLICES_DEBOUNCE_MS = 50;

export class NodeWriter {
  private readonly pendingSlices = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly kube: Kube,
    private readonly log: Logger,
    private readonly metrics: FakeGpuMetrics,
    private readonly now: () => Date,
  ) {}

  private failed(operation: string, err: unknown, fields: Record<string, unknown>): false {
    this.metrics.apiErrors.inc({ operation });
    this.log.warn({ ...fields, operation, err: errorText(err) }, 'API call failed');
    return false;
  }

  /** Merge-patches labels and annotations (null removes a key). */
  async metadata(
    agent: NodeAgent,
    patch: { labels?: Record<string, string | null>; annotations?: Record<string, string | null> },
  ): Promise<boolean> {
    if (!agent.present || this.stopped) return false;
    try {
      const node = await this.kube.core.patchNode({ name: agent.name, body: { metadata: patch } }, MERGE_PATCH);
      agent.observe(node);
      return true;
    } catch (err) {
      if (statusCode(err) === 404) agent.present = false;
      return this.failed('patch-node', err, { node: agent.name });
    }
  }

  /** Strategic-merge-patches the status subresource (capacity keys set to null are removed). */
  async status(agent: NodeAgent, status: Record<string, unknown>): Promise<boolean> {
    if (!agent.present || this.stopped) return false;
    try {
      await this.kube.core.patchNodeStatus({ name: agent.name, body: { status } }, STRATEGIC_PATCH);
      return true;
    } catch (err) {
      if (statusCode(err) === 404) agent.present = false;
      return this.failed('patch-node-status', err, { node: agent.name });
    }
  }

  /** The `smartmig.io/gpu-slices` value of a node now. */
  static slicesText(agent: NodeAgent): string {
    return JSON.stringify(agent.dynamic?.view() ?? agent.board.view());
  }

  /** Writes the slice occupancy annotation soon, once for a burst of changes. */
  scheduleSlices(agent: NodeAgent): void {
    if (this.pendingSlices.has(agent.name)) return;
    const timer = setTimeout(() => {
      this.pendingSlices.delete(agent.name);
      void this.metadata(agent, { annotations: { [GPU_SLICES_ANNOTATION]: NodeWriter.slicesText(agent) } });
    }, SLICES_DEBOUNCE_MS);
    this.pendingSlices.set(agent.name, timer);
  }

  /** Drops pending writes and makes every later one a no-op. */
  stop(): void {
    this.stopped = true;
    for (const t of this.pendingSlices.values()) clearTimeout(t);
    this.pendingSlices.clear();
  }

  async event(target: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    if (this.stopped) return;
    const body = makeEvent(target, type, reason, message, this.now());
    try {
      await this.kube.core.createNamespacedEvent({ namespace: body.metadata.namespace ?? 'default', body });
    } catch (err) {
      this.failed('create-event', err, { target: target.name, reason });
    }
  }
}
