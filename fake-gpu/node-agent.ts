// What fake-gpu knows about one emulated node: its devices, the config mig-manager last applied, and the
// node's labels as last seen, which the mig-manager and kubelet emulations share.
import type { V1Node } from '@kubernetes/client-node';
import type { GpuModel } from '../policy/mig/catalog.js';
import type { BaseResources, GpuConfig } from './node-builder.js';
import { gfdLabels, nodeResources } from './node-builder.js';
import { GpuBoard } from './devices.js';
import { MIG_CONFIG_LABEL } from './labels.js';

export class NodeAgent {
  readonly board: GpuBoard;
  uid: string | undefined;
  /** False once the Node object was deleted by someone else: nothing is written for it any more. */
  present = true;
  /** The mig-parted config whose outcome (success or failed) the node shows. */
  appliedConfig: string;
  /** True from a new config value until its outcome is published; kubelet admits no pod meanwhile. */
  reconfiguring = false;
  /** Labels as last seen on the API server (or as created). */
  labels: Record<string, string>;
  /** GFD labels and resources as fake-gpu last wrote them, to remove what a new layout no longer has. */
  writtenGfd: Record<string, string>;
  writtenResources: Record<string, string>;

  constructor(
    readonly name: string,
    readonly model: GpuModel,
    gpus: readonly GpuConfig[],
    config: string,
    readonly base: BaseResources,
    labels: Record<string, string>,
  ) {
    this.board = new GpuBoard(model, gpus);
    this.appliedConfig = config;
    this.labels = { ...labels };
    this.writtenGfd = gfdLabels(model, gpus);
    this.writtenResources = nodeResources(model, gpus, base);
  }

  /** Takes in the node as the API server has it. */
  observe(node: V1Node): void {
    this.labels = { ...node.metadata?.labels };
    if (node.metadata?.uid) this.uid = node.metadata.uid;
  }

  /** The config the node's label asks for, when it differs from what was applied last. */
  wantedConfig(): string | undefined {
    const wanted = this.labels[MIG_CONFIG_LABEL];
    return wanted !== undefined && wanted !== this.appliedConfig ? wanted : undefined;
  }
}
