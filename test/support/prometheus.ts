// A real Prometheus (the Debian package `prometheus`) scraping smartmig's endpoints in end-to-end tests: a
// generated configuration with one job per endpoint, a throw-away TSDB, listening on a free loopback port.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort, startChild, waitHealthy, type Child } from './processes.js';

export interface PrometheusOptions {
  /** Job name → `host:port` of a plain-HTTP /metrics endpoint. */
  readonly targets: Readonly<Record<string, string>>;
  readonly scrapeIntervalSeconds?: number;
  /** Labels put on every scraped series, as a ServiceMonitor adds `namespace` in a cluster. */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface InstantSample {
  readonly metric: Record<string, string>;
  readonly value: number;
}

export interface RunningPrometheus {
  readonly url: string;
  readonly child: Child;
  /** An instant query through the HTTP API (`/api/v1/query`); throws on an error status. */
  query(promql: string): Promise<InstantSample[]>;
  stop(): Promise<void>;
}

/** The binary: `$PROMETHEUS`, else `prometheus` on PATH. Throws a message saying how to install it. */
export function prometheusBinary(): string {
  const binary = process.env['PROMETHEUS'] ?? 'prometheus';
  try {
    execFileSync(binary, ['--version'], { stdio: 'pipe' });
  } catch {
    throw new Error(
      `the prometheus binary ("${binary}") is missing: install the Debian package (apt-get install prometheus; ` +
        '.ci/run does) or point $PROMETHEUS at a Prometheus 2.x binary',
    );
  }
  return binary;
}

export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  const binary = prometheusBinary();
  const dir = mkdtempSync(join(tmpdir(), 'smartmig-prometheus-'));
  const interval = `${options.scrapeIntervalSeconds ?? 1}s`;
  const config = {
    global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
    scrape_configs: Object.entries(options.targets).map(([job, target]) => ({
      job_name: job,
      static_configs: [{ targets: [target], labels: options.labels ?? {} }],
    })),
  };
  writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
  const port = await freePort();
  const child = startChild(
    binary,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
      '--log.level=warn',
    ],
    { name: 'e2e-prometheus' },
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    await child.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitHealthy(child, `${url}/-/ready`, 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    child,
    stop,
    async query(promql) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await res.json()) as {
        status: string;
        error?: string;
        data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
      };
      if (body.status !== 'success' || !body.data) throw new Error(`query ${promql}: ${body.error ?? res.status}`);
      if (body.data.resultType !== 'vector') throw new Error(`query ${promql}: got a ${body.data.resultType}`);
      return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
  };
}
