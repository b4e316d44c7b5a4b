// What the chart tells a user: the NOTES printed after `helm install` (next steps that name real objects
// and real files) and the README that `helm show readme` prints. The real helm of the local control plane.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, kubeconfigPath, readLocalCluster } from '../support/cluster.js';

const CHART = join(REPO_ROOT, 'charts', 'smartmig');

function helm(args: readonly string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolvePromise) => {
    execFile(
      readLocalCluster().bin.helm,
      [...args],
      { env: { ...process.env, KUBECONFIG: kubeconfigPath('admin') }, timeout: 60_000 },
      (error, stdout, stderr) => resolvePromise({ code: error ? 1 : 0, out: `${stdout}${stderr}` }),
    );
  });
}

/** The NOTES of a client-side dry-run install. */
async function notes(release: string, namespace: string, set: readonly string[] = []): Promise<string> {
  const r = await helm([
    'install',
    release,
    CHART,
    '--dry-run=client',
    '-n',
    namespace,
    ...set.flatMap((s) => ['--set', s]),
  ]);
  expect(r.code, r.out).toBe(0);
  const at = r.out.indexOf('NOTES:');
  expect(at, 'helm install prints NOTES').toBeGreaterThan(0);
  return r.out.slice(at);
}

describe('chart NOTES.txt and README', () => {
  it('tells how to check the pods, apply an example policy and open the dashboard', async () => {
    const text = await notes('demo', 'gpu-sched');
    expect(text).toContain('kubectl get pods -n gpu-sched -l app.kubernetes.io/instance=demo');
    expect(text).toContain('deploy/demo-smartmig-operator');
    expect(text).toContain('migManager.config.name=smartmig-mig-parted-config');
    expect(text).toContain('spec.schedulerName: smartmig-scheduler');
    // Every file it names is in the repository.
    const files = [...text.matchAll(/\b(?:examples|charts)\/[\w./-]+\.(?:yaml|json)/g)].map((m) => m[0]);
    expect(files).toContain('examples/migpartition-dynamic.yaml');
    for (const f of files) expect(existsSync(join(REPO_ROOT, f)), f).toBe(true);
    expect(text).toContain('ConfigMap demo-smartmig-dashboard');
    // No monitoring.coreos.com on a client dry-run: the alerts are said to be missing.
    expect(text).toContain('No PrometheusRule was rendered');
  });

  it('follows the values: no operator step without the operator, the dashboard by hand without its ConfigMap', async () => {
    const text = await notes('smartmig', 'smartmig-system', [
      'operator.enabled=false',
      'monitoring.grafanaDashboard.enabled=false',
      'schedulerName=gpu-batch',
    ]);
    expect(text).not.toContain('migManager.config.name');
    expect(text).not.toContain('smartmig-dashboard');
    expect(text).toContain('import\n   charts/smartmig/dashboards/smartmig.json');
    expect(text).toContain('spec.schedulerName: gpu-batch');
  });

  it('helm show readme prints the generated README', async () => {
    const r = await helm(['show', 'readme', CHART]);
    expect(r.code).toBe(0);
    expect(r.out.trimEnd()).toBe(readFileSync(join(CHART, 'README.md'), 'utf8').trimEnd());
    expect(r.out).toContain('| `operator.migConfigMap` |');
  });
});
