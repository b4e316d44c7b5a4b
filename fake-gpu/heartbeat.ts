// Node heartbeats: kubelet renews a Lease per node in kube-node-lease, and node-lifecycle-controller (where
// kube-controller-manager runs it) marks a node NotReady and taints it when the lease goes stale. fake-gpu
// renews the leases of all its nodes on one timer.
import type { V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Kube } from './kube.js';
import { MERGE_PATCH, errorText, statusCode } from './kube.js';
import type { FakeGpuMetrics } from './metrics.js';
import type { NodeAgent } from './node-agent.js';

export const LEASE_NAMESPACE = 'kube-node-lease';

/** Lease times are MicroTime: RFC 3339 with exactly six fractional digits. */
export const microTime = (d: Date): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export function leaseFor(agent: NodeAgent, durationSeconds: number, now: Date): V1Lease {
  return {
    metadata: {
      name: agent.name,
      namespace: LEASE_NAMESPACE,
      // Owned by the node, so garbage collection removes the lease with it.
      ownerReferences: agent.uid ? [{ apiVersion: 'v1', kind: 'Node', name: agent.name, uid: agent.uid }] : undefined,
    },
    spec: {
      holderIdentity: agent.name,
      leaseDurationSeconds: durationSeconds,
      renewTime: microTime(now) as unknown as Date,
    },
  };
}

export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly kube: Kube,
    private readonly agents: () => Iterable<NodeAgent>,
    private readonly intervalSeconds: number,
    private readonly log: Logger,
    private readonly metrics: FakeGpuMetrics,
    private readonly now: () => Date,
  ) {}

  /** Renews every lease now (creating missing ones), then every interval. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => {
      this.running = this.running.then(() => this.beat());
    }, this.intervalSeconds * 1000);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private async beat(): Promise<void> {
    const agents = [...this.agents()].filter((a) => a.present);
    await Promise.all(agents.map((a) => this.renew(a)));
  }

  private async renew(agent: NodeAgent): Promise<void> {
    // kubelet's lease lasts four renewal intervals.
    const duration = Math.max(1, Math.round(this.intervalSeconds * 4));
    const lease = leaseFor(agent, duration, this.now());
    try {
      await this.kube.coordination.patchNamespacedLease(
        { name: agent.name, namespace: LEASE_NAMESPACE, body: { spec: lease.spec } },
        MERGE_PATCH,
      );
    } catch (err) {
      if (statusCode(err) !== 404) return this.failed(agent, err);
      try {
        await this.kube.coordination.createNamespacedLease({ namespace: LEASE_NAMESPACE, body: lease });
      } catch (createErr) {
        if (statusCode(createErr) !== 409) this.failed(agent, createErr);
      }
    }
  }

  private failed(agent: NodeAgent, err: unknown): void {
    this.metrics.apiErrors.inc({ operation: 'renew-lease' });
    this.log.warn({ node: agent.name, err: errorText(err) }, 'lease renewal failed');
  }
}
