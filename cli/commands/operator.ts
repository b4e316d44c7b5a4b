// `smartmig operator`: run the MigPartition controller (docs/operator.md).
import { pino } from 'pino';
import { numberFlag, oneOf, parseFlags, stringFlag, type Parsed } from '../args.js';
import type { Command } from '../command.js';
import { KUBECONFIG_ORDER, kubeConfigFlag, untilSignal } from '../serve.js';
import { UsageError } from '../usage-error.js';
import {
  ConfigError,
  DEFAULT_CONFIG,
  parseConfigMapRef,
  resolveConfig,
  type OperatorConfig,
} from '../../operator/config.js';
import { serveProbes } from '../../operator/http.js';
import { createMetrics } from '../../operator/metrics.js';
import { setupControllers } from '../../operator/setup.js';

const D = DEFAULT_CONFIG;
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
const cmRef = `${D.migConfigMap.namespace}/${D.migConfigMap.name}`;

const help = `Usage: smartmig operator [--kubeconfig FILE] [--metrics-port 8080] [--leader-elect] [--mig-config-map NS/NAME]
                         [--lease-namespace NS] [--identity NAME] [--resync S]
                         [--config-settle S] [--log-level LEVEL]

Runs the controller that applies MigPartition policies (smartmig.io/v1alpha1) to GPU nodes: it writes each
node's layout as a named config into the mig-parted ConfigMap that the GPU operator's mig-manager reads, sets
nvidia.com/mig.config, follows nvidia.com/mig.config.state, and never reconfigures a GPU that runs a pod.
Serves /metrics, /healthz and /readyz. Runs until SIGINT or SIGTERM.

Flags:
  --kubeconfig FILE        cluster credentials; default ${KUBECONFIG_ORDER}
  --metrics-port P         port of /metrics, /healthz, /readyz (0: any free port); default ${D.metricsPort}
  --leader-elect           campaign for the lease; only the leader acts (run two replicas for failover)
  --mig-config-map NS/NAME the mig-parted ConfigMap (key config.yaml); default ${cmRef}
  --lease-namespace NS     namespace of the leader lease; default ${D.leaseNamespace} ($POD_NAMESPACE)
  --identity NAME          this replica's name in the lease; default $POD_NAME, else HOSTNAME-PID
  --resync S               full round at least every S seconds; default ${D.resyncMs / 1000}
  --config-settle S        seconds a new config sits in the ConfigMap before a node uses it (time for the
                           kubelet to refresh mig-manager's mounted copy); default ${D.configSettleMs / 1000}
  --models-dir DIR[:DIR]   trained models, one directory per name a MigPartition's dynamic.model gives,
                           searched in order; default the models the image ships (policy/models)
  --log-level LEVEL        ${LOG_LEVELS.join(', ')}; default info`;

export const FLAGS = {
  kubeconfig: { type: 'string' },
  'metrics-port': { type: 'string' },
  'leader-elect': { type: 'boolean' },
  'mig-config-map': { type: 'string' },
  'lease-namespace': { type: 'string' },
  identity: { type: 'string' },
  resync: { type: 'string' },
  'config-settle': { type: 'string' },
  'log-level': { type: 'string' },
  'models-dir': { type: 'string' },
} as const;

function modelsDirsFlag(text: string | undefined): string[] {
  if (text === undefined) return [...D.modelsDirs];
  const dirs = text.split(':').filter((d) => d !== '');
  if (dirs.length === 0) throw new UsageError('--models-dir: expected DIR or DIR:DIR…');
  return dirs;
}

/** Flags → a checked configuration; problems become UsageErrors naming the flag. */
export function operatorConfigFromFlags(p: Parsed): OperatorConfig {
  const cm = stringFlag(p, 'mig-config-map');
  try {
    return resolveConfig({
      kubeconfig: stringFlag(p, 'kubeconfig'),
      metricsPort: numberFlag(p, 'metrics-port', D.metricsPort, { integer: true, min: 0 }),
      leaderElect: p.values['leader-elect'] === true,
      migConfigMap: cm === undefined ? D.migConfigMap : parseConfigMapRef(cm),
      leaseNamespace: stringFlag(p, 'lease-namespace', D.leaseNamespace),
      identity: stringFlag(p, 'identity', D.identity),
      resyncMs: numberFlag(p, 'resync', D.resyncMs / 1000, { min: 1 }) * 1000,
      configSettleMs: numberFlag(p, 'config-settle', D.configSettleMs / 1000, { min: 0 }) * 1000,
      modelsDirs: modelsDirsFlag(stringFlag(p, 'models-dir')),
    });
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
}

async function run(argv: string[]): Promise<number> {
  const p = parseFlags(argv, FLAGS);
  const config = operatorConfigFromFlags(p);
  const level = oneOf('log-level', stringFlag(p, 'log-level', 'info'), LOG_LEVELS);
  const kc = kubeConfigFlag(config.kubeconfig);
  const log = pino({ level, base: { component: 'operator', identity: config.identity } });
  const metrics = createMetrics({ defaultMetrics: true });
  const operator = setupControllers({ kc, config, log, metrics });
  const probes = await serveProbes(metrics.registry, config.metricsHost, config.metricsPort, operator.ready);
  log.info({ port: probes.port, configMap: config.migConfigMap, leaderElect: config.leaderElect }, 'operator starting');
  const signal = untilSignal();
  await Promise.race([operator.start(), signal]);
  log.info({ signal: await signal }, 'shutting down');
  await operator.stop({ release: true });
  await probes.close();
  return 0;
}

export const command: Command = {
  name: 'operator',
  help,
  flags: FLAGS,
  run,
};
