// `smartmig fake-gpu`: emulated GPU nodes (device plugin or DRA driver, GFD labels, mig-manager, kubelet) against
// a cluster.
import { pino } from 'pino';
import { numberFlag, oneOf, parseFlags, stringFlag, type Parsed } from '../args.js';
import type { Command } from '../command.js';
import { KUBECONFIG_ORDER, kubeConfigFlag, untilSignal } from '../serve.js';
import { UsageError } from '../usage-error.js';
import { DEFAULT_CONFIG, checkConfig, type FakeGpuConfig, type ResolvedConfig } from '../../fake-gpu/config.js';
import { ALLOCATION_MODES } from '../../fake-gpu/labels.js';
import { startFakeGpu } from '../../fake-gpu/main.js';
import { GPU_MODELS } from '../../policy/mig/catalog.js';

const D = DEFAULT_CONFIG;
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

const help = `Usage: smartmig fake-gpu [--nodes N] [--gpus-per-node N] [--gpu MODEL] [--layout NAME]
                         [--reconfigure-seconds S] [--time-scale X] [--default-work MIN] [--kubeconfig FILE]
                         [--config-map NS/NAME] [--metrics-port P] [--node-prefix PREFIX]
                         [--heartbeat-seconds S] [--allocation-mode MODE] [--cleanup] [--log-level LEVEL]

Emulates GPU nodes against a Kubernetes cluster (docs/fake-gpu.md): creates Node objects with GPU feature
discovery labels and the MIG devices of their layouts, answers nvidia.com/mig.config changes like the GPU
operator's mig-manager, and runs the pods bound to them like a kubelet, for the time the simulator's
throughput model gives them. With --allocation-mode dra the nodes instead publish the ResourceSlices and
DeviceClasses of NVIDIA's DRA driver with DynamicMIG, and a pod's allocated claims get their MIG instances
while it runs. Runs until SIGINT or SIGTERM.

Flags:
  --nodes N                 nodes to emulate; default ${D.nodes}
  --gpus-per-node N         GPUs per node; default ${D.gpusPerNode}
  --gpu MODEL               GPU model (${GPU_MODELS.join(', ')}); default ${D.gpu}
  --layout NAME             initial layout of every GPU: all-disabled, all-enabled, all-<profile> (e.g.
                            all-1g.5gb, all-3g.20gb), all-balanced, or a paper configuration 1..12;
                            default ${D.layout}
  --reconfigure-seconds S   how long applying a MIG config takes; default ${D.reconfigureSeconds}
  --time-scale X            simulated minutes per real minute for pod run times; default ${D.timeScale}
                            (one simulated minute per real second)
  --default-work MIN        work of pods without smartmig.io/work, minutes on a 1g slice; default ${D.defaultWorkMinutes}
  --kubeconfig FILE         cluster credentials; default ${KUBECONFIG_ORDER}
  --config-map NS/NAME      the mig-parted ConfigMap (key config.yaml); default ${D.configMap}
  --metrics-port P          serve /metrics and /healthz on this port (0: any free port); default: none
  --node-prefix PREFIX      node names are PREFIX0, PREFIX1, ...; default ${D.nodePrefix}
  --heartbeat-seconds S     node lease renewal interval; default ${D.heartbeatSeconds}
  --allocation-mode MODE    ${ALLOCATION_MODES.join(' or ')}: device-plugin capacity and mig-manager, or NVIDIA's
                            DRA driver (gpu.nvidia.com) with DynamicMIG; default ${D.allocationMode}
  --cleanup                 delete the nodes on exit
  --log-level LEVEL         ${LOG_LEVELS.join(', ')}; default info`;

const FLAGS = {
  nodes: { type: 'string' },
  'gpus-per-node': { type: 'string' },
  gpu: { type: 'string' },
  layout: { type: 'string' },
  'reconfigure-seconds': { type: 'string' },
  'time-scale': { type: 'string' },
  'default-work': { type: 'string' },
  kubeconfig: { type: 'string' },
  'config-map': { type: 'string' },
  'metrics-port': { type: 'string' },
  'node-prefix': { type: 'string' },
  'heartbeat-seconds': { type: 'string' },
  'allocation-mode': { type: 'string' },
  cleanup: { type: 'boolean' },
  'log-level': { type: 'string' },
} as const;

/** Flags → a checked configuration; the first problem becomes a UsageError naming its flag. */
export function configFromFlags(p: Parsed): ResolvedConfig {
  const metricsPort = p.values['metrics-port'];
  const config: FakeGpuConfig = {
    ...D,
    nodes: numberFlag(p, 'nodes', D.nodes, { integer: true, min: 1 }),
    gpusPerNode: numberFlag(p, 'gpus-per-node', D.gpusPerNode, { integer: true, min: 1 }),
    gpu: stringFlag(p, 'gpu', D.gpu),
    layout: stringFlag(p, 'layout', D.layout),
    reconfigureSeconds: numberFlag(p, 'reconfigure-seconds', D.reconfigureSeconds, { min: 0 }),
    timeScale: numberFlag(p, 'time-scale', D.timeScale),
    defaultWorkMinutes: numberFlag(p, 'default-work', D.defaultWorkMinutes, { min: 0 }),
    configMap: stringFlag(p, 'config-map', D.configMap),
    metricsPort: metricsPort === undefined ? undefined : numberFlag(p, 'metrics-port', 0, { integer: true, min: 0 }),
    nodePrefix: stringFlag(p, 'node-prefix', D.nodePrefix),
    heartbeatSeconds: numberFlag(p, 'heartbeat-seconds', D.heartbeatSeconds),
    allocationMode: stringFlag(p, 'allocation-mode', D.allocationMode),
    cleanup: p.values.cleanup === true,
  };
  const checked = checkConfig(config);
  if (!checked.ok) {
    const first = checked.issues[0];
    throw new UsageError(first ? `--${first.flag}: ${first.message}` : 'invalid configuration');
  }
  return checked.config;
}

async function run(argv: string[]): Promise<number> {
  const p = parseFlags(argv, FLAGS);
  const config = configFromFlags(p);
  const level = oneOf('log-level', stringFlag(p, 'log-level', 'info'), LOG_LEVELS);
  const kc = kubeConfigFlag(stringFlag(p, 'kubeconfig'));
  const log = pino({ name: 'fake-gpu', level });
  const fake = await startFakeGpu({ config, kc, log });
  log.info({ signal: await untilSignal() }, 'shutting down');
  await fake.stop();
  return 0;
}

export const command: Command = {
  name: 'fake-gpu',
  help,
  flags: FLAGS,
  run,
};
