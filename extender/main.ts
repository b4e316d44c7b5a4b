// The running service: kubeconfig → informers → app → listen. The only place that opens a socket.
import type { Server as HttpsServer } from 'node:https';
import { CoreV1Api, ResourceV1Api } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { loadKubeConfig } from '../kube/config.js';
import { ProfileBook } from '../policy/workload/job.js';
import { buildExtender } from './app.js';
import { KubeBinder } from './binder.js';
import { ClusterCache } from './cache.js';
import { KubeClaimTemplates } from './claim-templates.js';
import { resolveConfig, type ExtenderConfig } from './config.js';
import { startInformers, type Informers } from './informers.js';
import { limitHeapGrowth } from './heap.js';
import { createMetrics } from './metrics.js';
import { PartitionPolicies } from './partitions.js';
import { readTls, reloadTls, serverTlsOptions } from './tls.js';

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
  const files =
    config.tlsCert && config.tlsKey
      ? { cert: config.tlsCert, key: config.tlsKey, clientCa: config.tlsClientCa }
      : undefined;
  const tls = files ? readTls(files) : undefined;
  const https = tls ? serverTlsOptions(tls) : undefined;
  const informers = startInformers({ kc, core, cache, policies, clock: Date.now, log, metrics });
  const app = buildExtender({
    cache,
    binder: new KubeBinder(core),
    claimTemplates: new KubeClaimTemplates(kc.makeApiClient(ResourceV1Api)),
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
  log.info({ address, heuristic: config.heuristic, mutualTls: !!config.tlsClientCa }, 'smartmig extender listening');
  const stopReload =
    files && tls ? reloadTls(app.server as HttpsServer, files, tls, log, config.tlsReloadMs) : () => undefined;
  return {
    app,
    informers,
    url: address,
    close: async () => {
      stopReload();
      informers.stop();
      await app.close();
    },
  };
}
