// The running service: kubeconfig → informers → app → listen. The only place that opens a socket.
import { readFileSync } from 'node:fs';
import { CoreV1Api } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { loadKubeConfig } from '../kube/config.js';
import { ProfileBook } from '../policy/workload/job.js';
import { buildExtender } from './app.js';
import { KubeBinder } from './binder.js';
import { ClusterCache } from './cache.js';
import { resolveConfig, type ExtenderConfig } from './config.js';
import { startInformers, type Informers } from './informers.js';
import { limitHeapGrowth } from './heap.js';
import { createMetrics } from './metrics.js';
import { PartitionPolicies } from './partitions.js';

export interface RunningExtender {
  readonly app: FastifyInstance;
  readonly informers: Informers;
  /** The address it listens on, e.g. http://127.0.0.1:8888. */
  readonly url: string;
  close(): Promise<void>;
}

export async function startExtender(partial: Partial<ExtenderConfig>): Promise<RunningExtender> {
  const config = resolveConfig(partial);
  limitHeapGrowth();
  const log = pino({ level: config.logLevel, base: { component: 'extender' } });
  const kc = loadKubeConfig(config.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const book = new ProfileBook();
  const cache = new ClusterCache(book);
  const metrics = createMetrics({ processMetrics: true });
  const policies = new PartitionPolicies(book, cache, log);
  // Read before the informers start: a bad file must end the process, not leave watches running.
  const https =
    config.tlsCert && config.tlsKey
      ? { cert: readPem('--tls-cert', config.tlsCert), key: readPem('--tls-key', config.tlsKey) }
      : undefined;
  const informers = startInformers({ kc, core, cache, policies, clock: Date.now, log, metrics });
  const app = buildExtender({
    cache,
    binder: new KubeBinder(core),
    config,
    book,
    metrics,
    ready: informers.synced,
    logger: log,
    https,
  });
  let address: string;
  try {
    address = await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    informers.stop();
    throw err;
  }
  log.info({ address, heuristic: config.heuristic }, 'smartmig extender listening');
  return {
    app,
    informers,
    url: address,
    close: async () => {
      informers.stop();
      await app.close();
    },
  };
}

function readPem(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new RangeError(`${flag}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, {
      cause: err,
    });
  }
}
