// What fake-gpu knows about one emulated node: its devices, the config mig-manager last applied, and the
// node's labels as last seen, which the mig-manager and kubelet emulations share. A DRA node also has the MIG
// instances its prepared claims created.
import type { V1Node } from '@kubernetes/client-node';
import type { GpuModel } from '../policy/mig/catalog.js';
import type { BaseResources, NodeSpec } from './node-builder.js';
import { DEFAULT_BASE_RESOURCES, gfdLabels, nodeResources } from './node-builder.js';
import { GpuBoard } from './devices.js';
import { DynamicBoard } from './dynamic-board.js';
import { MIG_CONFIG_LABEL } from './labels.js';

export class NodeAgent {
  readonly name: string;
  readonly model: GpuModel;
  readonly base: BaseResources;
  /** The device plugin's devices (none on a DRA node). */
  readonly board: GpuBoard;
  /** On a DRA node: the instances of prepared claims; undefined on a device-plugin node. */
  readonly dynamic: DynamicBoard | undefined;
  /** A DRA node's mig.config label was reported as ignored (once per node). */
  migConfigIgnored = false;
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

  constructor(spec: NodeSpec, labels: Record<string, string>) {
    const { model, gpus } = spec;
    this.name = spec.name;
    this.model = model;
    this.base = spec.base ?? DEFAULT_BASE_RESOURCES;
    this.board = new GpuBoard(model, gpus);
    this.dynamic = spec.allocationMode === 'dra' ? new DynamicBoard(model, gpus.length) : undefined;
    this.appliedConfig = spec.config;
    this.labels = { ...labels };
    this.writtenGfd = gfdLabels(model, gpus);
    this.writtenResources = nodeResources(model, gpus, this.base);
  }

  /** Compute slices in use per GPU, whichever way the node hands out devices. */
  busyCompute(): number[] {
    return this.dynamic?.busyCompute() ?? this.board.busyCompute();
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
