// What the emulated kubelet and mig-manager both act through.
import type { Logger } from 'pino';
import type { ResolvedConfig } from './config.js';
import type { Kube } from './kube.js';
import type { FakeGpuMetrics } from './metrics.js';
import type { NodeWriter } from './node-writer.js';

export interface AgentDeps {
  readonly config: ResolvedConfig;
  readonly kube: Kube;
  readonly writer: NodeWriter;
  readonly log: Logger;
  readonly metrics: FakeGpuMetrics;
  readonly now: () => Date;
}
