// mig-manager, emulated: on a new nvidia.com/mig.config value it reads the mig-parted ConfigMap, resolves the
// named config for the node's GPUs, sets the state to pending and pauses the GPU operator's operands (the
// device plugin's resources drop to zero meanwhile), waits the reconfiguration delay, then publishes the new
// devices, GFD labels and state success, or state failed with the reason in an annotation and an event.
// Like the real one it does not check whether a GPU still runs pods: it records and reports it instead.
import type { V1Node } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { AgentDeps } from './agent-deps.js';
import { errorText, statusCode } from './kube.js';
import {
  MIG_FAILURE_ANNOTATION,
  MIG_STATE_LABEL,
  PAUSED_DEPLOY_LABELS,
  GPU_SLICES_ANNOTATION,
  pausedValue,
  restoredValue,
} from './labels.js';
import type { MigPartedConfigs, Resolution } from './mig-parted.js';
import { parseMigPartedConfig, resolveConfig } from './mig-parted.js';
import type { ReconfigurationResult } from './metrics.js';
import type { NodeAgent } from './node-agent.js';
import { gfdLabelPatch, gfdLabels, nodeResources, resourcePatch, withoutDevices } from './node-builder.js';
import { NodeWriter } from './node-writer.js';

/** A GPU that was reconfigured while pods held its devices. */
export interface BusyReconfiguration {
  readonly node: string;
  readonly gpu: number;
  readonly config: string;
  readonly pods: readonly string[];
  readonly at: Date;
}

export interface MigManagerDeps extends AgentDeps {
  readonly sleep: (ms: number) => Promise<void>;
  /** Called when pods lost their devices to a reconfiguration. */
  readonly onPodsLostDevices: (agent: NodeAgent, pods: readonly string[], message: string) => void;
  /** Called when a node's reconfiguration is over (kubelet then admits the pods it held back). */
  readonly onSettled: (agent: NodeAgent) => void;
}

type ConfigRead = { ok: true; configs: MigPartedConfigs } | { ok: false; error: string };

export class MigManager {
  readonly busy: BusyReconfiguration[] = [];

  constructor(private readonly deps: MigManagerDeps) {}

  /** Looks at a node as the API server has it and starts a reconfiguration when its config label changed. */
  onNode(agent: NodeAgent, node: V1Node): void {
    agent.observe(node);
    if (!agent.reconfiguring && agent.wantedConfig() !== undefined) void this.run(agent);
  }

  private async run(agent: NodeAgent): Promise<void> {
    agent.reconfiguring = true;
    try {
      // A label changed again while applying is picked up right after, as mig-manager's watch loop does.
      for (let name = agent.wantedConfig(); name !== undefined && agent.present; name = agent.wantedConfig()) {
        await this.reconfigure(agent, name);
      }
    } catch (err) {
      this.deps.log.error({ node: agent.name, err: errorText(err) }, 'reconfiguration crashed');
    } finally {
      agent.reconfiguring = false;
      this.deps.onSettled(agent);
    }
  }

  private async readConfigs(): Promise<ConfigRead> {
    const { configMapNamespace: namespace, configMapName: name, configMapKey: key } = this.deps.config;
    try {
      const cm = await this.deps.kube.core.readNamespacedConfigMap({ name, namespace });
      const text = cm.data?.[key];
      if (text === undefined) return { ok: true, configs: new Map() };
      const parsed = parseMigPartedConfig(text);
      return parsed.ok
        ? { ok: true, configs: parsed.value }
        : { ok: false, error: `${namespace}/${name}: ${parsed.error}` };
    } catch (err) {
      // Without the ConfigMap only the standard configs exist, as in a GPU operator's default one.
      if (statusCode(err) === 404) return { ok: true, configs: new Map() };
      return { ok: false, error: `cannot read ConfigMap ${namespace}/${name}: ${errorText(err)}` };
    }
  }

  private async reconfigure(agent: NodeAgent, name: string): Promise<void> {
    const started = this.deps.now();
    const log = this.deps.log.child({ node: agent.name, config: name });
    const deploy = Object.fromEntries(PAUSED_DEPLOY_LABELS.map((k) => [k, agent.labels[k]]));
    // Taken before the wait: a label written meanwhile starts the next round, not this one.
    agent.appliedConfig = name;
    const read = await this.readConfigs();
    const resolution: Resolution = read.ok
      ? resolveConfig(read.configs, name, agent.model, agent.board.gpus.length)
      : { ok: false, stage: 'config', error: read.error };
    if (!resolution.ok && resolution.stage === 'config')
      return this.fail(agent, log, deploy, resolution.error, started);
    if (resolution.ok && agent.board.changes(resolution.targets).length === 0) {
      log.info('config already applied');
      await this.publish(agent, deploy, 'unchanged', started);
      return;
    }
    // Pods on a changing GPU when the change starts count as well as those still there when it lands: a pod
    // that ends during the reconfiguration delay was still torn down by a real mig-manager.
    const heldAtStart = resolution.ok ? agent.board.busyAmong(agent.board.changes(resolution.targets)) : new Map();
    log.info('reconfiguring: state pending, GPU operands paused');
    const paused = Object.fromEntries(PAUSED_DEPLOY_LABELS.map((k) => [k, pausedValue(deploy[k])]));
    await this.deps.writer.metadata(agent, { labels: { ...paused, [MIG_STATE_LABEL]: 'pending' } });
    const idle = withoutDevices(agent.writtenResources);
    await this.deps.writer.status(agent, { capacity: agent.writtenResources, allocatable: idle });
    await this.deps.sleep(this.deps.config.reconfigureSeconds * 1000);
    if (!resolution.ok) return this.fail(agent, log, deploy, resolution.error, started);
    const result = agent.board.reconfigure(resolution.targets);
    for (const [gpu, pods] of result.busy)
      heldAtStart.set(gpu, [...new Set([...(heldAtStart.get(gpu) ?? []), ...pods])]);
    for (const [gpu, pods] of heldAtStart) this.recordBusy(agent, gpu, name, pods, result.busy.get(gpu) ?? []);
    log.info({ gpus: result.changed }, 'new MIG layout applied');
    await this.publish(agent, deploy, 'success', started);
  }

  /** `lost`: the pods that still held devices when the layout landed (the others ended meanwhile). */
  private recordBusy(
    agent: NodeAgent,
    gpu: number,
    config: string,
    pods: readonly string[],
    lost: readonly string[],
  ): void {
    this.busy.push({ node: agent.name, gpu, config, pods, at: this.deps.now() });
    this.deps.metrics.busyReconfigurations.inc();
    const message = `GPU ${gpu} was reconfigured to ${config} while pods held its devices: ${pods.join(', ')}`;
    this.deps.log.error({ node: agent.name, gpu, config, pods }, 'busy GPU reconfigured (safety invariant broken)');
    void this.deps.writer.event(
      { kind: 'Node', name: agent.name, uid: agent.uid },
      'Warning',
      'BusyGpuReconfigured',
      message,
    );
    if (lost.length > 0) this.deps.onPodsLostDevices(agent, lost, `MIG device removed: ${message}`);
  }

  /** Devices, GFD labels, restored operands and state success, in that order: success means all is in place. */
  private async publish(
    agent: NodeAgent,
    deploy: Record<string, string | undefined>,
    result: ReconfigurationResult,
    started: Date,
  ): Promise<void> {
    const resources = nodeResources(agent.model, agent.board.gpus, agent.base);
    await this.deps.writer.status(agent, {
      capacity: resourcePatch(agent.writtenResources, resources),
      allocatable: resourcePatch(agent.writtenResources, resources),
    });
    agent.writtenResources = resources;
    const gfd = gfdLabels(agent.model, agent.board.gpus);
    const restored = Object.fromEntries(PAUSED_DEPLOY_LABELS.map((k) => [k, restoredValue(deploy[k])]));
    await this.deps.writer.metadata(agent, {
      labels: { ...gfdLabelPatch(agent.writtenGfd, gfd), ...restored, [MIG_STATE_LABEL]: 'success' },
      annotations: { [MIG_FAILURE_ANNOTATION]: null, [GPU_SLICES_ANNOTATION]: NodeWriter.slicesText(agent) },
    });
    agent.writtenGfd = gfd;
    this.finish(result, started);
  }

  private async fail(
    agent: NodeAgent,
    log: Logger,
    deploy: Record<string, string | undefined>,
    reason: string,
    started: Date,
  ): Promise<void> {
    log.warn({ reason }, 'reconfiguration failed');
    // Devices are as before: the paused device plugin comes back with the same ones.
    await this.deps.writer.status(agent, { capacity: agent.writtenResources, allocatable: agent.writtenResources });
    const restored = Object.fromEntries(PAUSED_DEPLOY_LABELS.map((k) => [k, restoredValue(deploy[k])]));
    await this.deps.writer.metadata(agent, {
      labels: { ...restored, [MIG_STATE_LABEL]: 'failed' },
      annotations: { [MIG_FAILURE_ANNOTATION]: `${agent.appliedConfig}: ${reason}` },
    });
    const message = `mig-parted config ${agent.appliedConfig} failed: ${reason}`;
    await this.deps.writer.event(
      { kind: 'Node', name: agent.name, uid: agent.uid },
      'Warning',
      'MigConfigFailed',
      message,
    );
    this.finish('failed', started);
  }

  private finish(result: ReconfigurationResult, started: Date): void {
    this.deps.metrics.reconfigurations.inc({ result });
    this.deps.metrics.reconfigurationSeconds.observe((this.deps.now().getTime() - started.getTime()) / 1000);
  }
}
