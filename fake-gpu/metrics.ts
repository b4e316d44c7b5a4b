// Every fake-gpu metric in one place, on a registry of its own (tests start several instances in one process),
// and the small HTTP server that serves them.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const RECONFIGURATION_RESULTS = ['success', 'failed', 'unchanged'] as const;
export type ReconfigurationResult = (typeof RECONFIGURATION_RESULTS)[number];
export const POD_OUTCOMES = ['started', 'succeeded', 'rejected', 'killed', 'deleted'] as const;
export type PodOutcome = (typeof POD_OUTCOMES)[number];

/** What the gauges read at scrape time. */
export interface MetricsSource {
  nodes(): number;
  /** Devices per resource, busy and free. */
  usage(): ReadonlyMap<string, { busy: number; free: number }>;
  runningPods(): number;
  /** Modelled power of all GPUs from their busy compute slices (policy/energy). */
  watts(): number;
}

export interface FakeGpuMetrics {
  readonly registry: Registry;
  readonly reconfigurations: Counter<'result'>;
  readonly reconfigurationSeconds: Histogram;
  readonly busyReconfigurations: Counter;
  readonly pods: Counter<'outcome'>;
  readonly apiErrors: Counter<'operation'>;
  readonly watchRestarts: Counter<'resource'>;
}

export function createMetrics(source: MetricsSource): FakeGpuMetrics {
  const registry = new Registry();
  const registers = [registry];
  new Gauge({
    name: 'smartmig_fake_gpu_nodes',
    help: 'Emulated GPU nodes.',
    registers,
    collect() {
      this.set(source.nodes());
    },
  });
  new Gauge({
    name: 'smartmig_fake_gpu_slices',
    help: 'Devices the emulated device plugins advertise (MIG instances, whole GPUs), by resource and state (busy: held by a pod).',
    labelNames: ['resource', 'state'],
    registers,
    collect() {
      this.reset();
      for (const [resource, u] of source.usage()) {
        this.set({ resource, state: 'busy' }, u.busy);
        this.set({ resource, state: 'free' }, u.free);
      }
    },
  });
  new Gauge({
    name: 'smartmig_fake_gpu_running_pods',
    help: 'Pods the emulated kubelets run now.',
    registers,
    collect() {
      this.set(source.runningPods());
    },
  });
  new Gauge({
    name: 'smartmig_fake_gpu_power_watts',
    help: 'Modelled power of all emulated GPUs from their busy compute slices.',
    registers,
    collect() {
      this.set(source.watts());
    },
  });
  return {
    registry,
    reconfigurations: new Counter({
      name: 'smartmig_fake_gpu_reconfigurations_total',
      help: 'nvidia.com/mig.config changes handled, by result (unchanged: the config was already applied).',
      labelNames: ['result'],
      registers,
    }),
    reconfigurationSeconds: new Histogram({
      name: 'smartmig_fake_gpu_reconfiguration_duration_seconds',
      help: 'From a new nvidia.com/mig.config value to state success or failed.',
      buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120],
      registers,
    }),
    busyReconfigurations: new Counter({
      name: 'smartmig_fake_gpu_busy_reconfigurations_total',
      help: 'GPUs reconfigured while a pod still held one of their devices: the safety invariant smartmig must keep at 0.',
      registers,
    }),
    pods: new Counter({
      name: 'smartmig_fake_gpu_pods_total',
      help: 'Pods by what the emulated kubelet did (started, succeeded, rejected: no free device, killed: its GPU was reconfigured, deleted).',
      labelNames: ['outcome'],
      registers,
    }),
    apiErrors: new Counter({
      name: 'smartmig_fake_gpu_api_errors_total',
      help: 'Failed Kubernetes API calls, by operation.',
      labelNames: ['operation'],
      registers,
    }),
    watchRestarts: new Counter({
      name: 'smartmig_fake_gpu_watch_restarts_total',
      help: 'Times a list/watch loop started over after an error, by resource.',
      labelNames: ['resource'],
      registers,
    }),
  };
}

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Serves /metrics and /healthz; `port` 0 picks a free port. */
export async function serveMetrics(registry: Registry, port: number, host = '0.0.0.0'): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(err));
        },
      );
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found: try /metrics');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
