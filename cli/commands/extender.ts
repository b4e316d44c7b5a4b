// `smartmig extender`: serve the kube-scheduler extender and the moldable-pod admission webhook.
import { numberFlag, oneOf, parseFlags, stringFlag, type FlagSpec } from '../args.js';
import type { Command } from '../command.js';
import { KubeConfigError } from '../../kube/config.js';
import { KUBECONFIG_ORDER, untilSignal } from '../serve.js';
import { UsageError } from '../usage-error.js';
import { DEFAULT_CONFIG, LOG_LEVELS, resolveConfig, type ExtenderConfig } from '../../extender/config.js';
import { PLACEMENTS } from '../../policy/placement/heuristics.js';

const help = `Usage: smartmig extender [--port N] [--host ADDR] [--kubeconfig FILE] [--tls-cert FILE --tls-key FILE]
                         [--heuristic NAME] [--et-weight A] [--body-limit BYTES] [--max-depth N] [--log-level LEVEL]

Serves kube-scheduler's extender verbs and the admission webhook (docs/extender.md):
  POST /scheduler/filter, /scheduler/prioritize, /scheduler/bind   kube-scheduler extender protocol
  POST /mutate                                                     AdmissionReview v1 (moldable pods)
  GET  /healthz, /readyz (informers synced), /metrics (Prometheus)

Flags:
  --port N            port to listen on; default ${DEFAULT_CONFIG.port}
  --host ADDR         address to listen on; default ${DEFAULT_CONFIG.host} (reachable by probes)
  --kubeconfig FILE   cluster credentials; default ${KUBECONFIG_ORDER}
  --tls-cert FILE     serve HTTPS with this certificate (PEM); webhooks require HTTPS
  --tls-key FILE      its private key (PEM)
  --tls-client-ca FILE  /scheduler/* then needs a client certificate signed by this CA (mutual TLS)
  --heuristic NAME    placement heuristic (${PLACEMENTS.join(', ')}); default ${DEFAULT_CONFIG.heuristic}
  --et-weight A       energy weight a of ET = (a·e + t)/(a + 1), per W·min; default ${DEFAULT_CONFIG.etWeight}
  --body-limit BYTES  largest request body; default ${DEFAULT_CONFIG.bodyLimit}
  --max-depth N       deepest JSON nesting accepted; default ${DEFAULT_CONFIG.maxDepth}
  --log-level LEVEL   ${LOG_LEVELS.join(', ')}; default ${DEFAULT_CONFIG.logLevel}`;

const FLAGS = {
  port: { type: 'string' },
  host: { type: 'string' },
  kubeconfig: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-client-ca': { type: 'string' },
  heuristic: { type: 'string' },
  'et-weight': { type: 'string' },
  'body-limit': { type: 'string' },
  'max-depth': { type: 'string' },
  'log-level': { type: 'string' },
} satisfies FlagSpec;

export function extenderConfigFromArgs(argv: string[]): ExtenderConfig {
  const p = parseFlags(argv, FLAGS);
  const heuristic = stringFlag(p, 'heuristic');
  const logLevel = stringFlag(p, 'log-level');
  try {
    return resolveConfig({
      port: numberFlag(p, 'port', DEFAULT_CONFIG.port, { integer: true, min: 0 }),
      host: stringFlag(p, 'host'),
      kubeconfig: stringFlag(p, 'kubeconfig'),
      tlsCert: stringFlag(p, 'tls-cert'),
      tlsKey: stringFlag(p, 'tls-key'),
      tlsClientCa: stringFlag(p, 'tls-client-ca'),
      heuristic: heuristic === undefined ? undefined : oneOf('heuristic', heuristic, PLACEMENTS),
      etWeight: numberFlag(p, 'et-weight', DEFAULT_CONFIG.etWeight, { min: 0 }),
      bodyLimit: numberFlag(p, 'body-limit', DEFAULT_CONFIG.bodyLimit, { integer: true, min: 1024 }),
      maxDepth: numberFlag(p, 'max-depth', DEFAULT_CONFIG.maxDepth, { integer: true, min: 8 }),
      logLevel: logLevel === undefined ? undefined : oneOf('log-level', logLevel, LOG_LEVELS),
    });
  } catch (err) {
    if (err instanceof RangeError) throw new UsageError(err.message);
    throw err;
  }
}

export const command: Command = {
  name: 'extender',
  help,
  flags: FLAGS,
  async run(argv) {
    const config = extenderConfigFromArgs(argv);
    const { startExtender } = await import('../../extender/main.js');
    let running;
    try {
      running = await startExtender(config);
    } catch (err) {
      // A missing kubeconfig or a busy port is the caller's to fix: one line, exit 2.
      if (
        err instanceof KubeConfigError ||
        err instanceof RangeError ||
        (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ||
        (err as NodeJS.ErrnoException).code === 'ENOENT'
      ) {
        const flag = err instanceof KubeConfigError ? '--kubeconfig: ' : '';
        throw new UsageError(`${flag}${(err as Error).message}`);
      }
      throw err;
    }
    await untilSignal();
    await running.close();
    return 0;
  },
};
