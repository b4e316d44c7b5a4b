// vitest global setup of the `cluster` project (test/integration, test/e2e): builds the control plane's
// binaries when they are not cached (hack/build-k8s.sh; 10-30 minutes the first time, a second after)
// and starts the local control plane (hack/local-up.sh; idempotent).
//
// It never stops the control plane: several test runs (and people) share one, and starting it costs
// 10-20 s. .ci/run tears it down at the end; locally, run hack/local-down.sh.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { KUBECONFIG_ENV, REPO_ROOT, localDir, readLocalCluster, type Identity } from './cluster.js';

function runScript(script: string, logName: string): Promise<void> {
  const logDir = join(localDir(), 'logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, logName);
  const log = createWriteStream(logFile, { flags: 'a' });
  return new Promise((resolvePromise, reject) => {
    const child = spawn('bash', [join(REPO_ROOT, script)], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on('error', reject);
    child.on('close', (code) => {
      log.end();
      if (code === 0) resolvePromise();
      else reject(new Error(`${script} exited ${code}; see ${logFile}`));
    });
  });
}

export default async function setup(): Promise<void> {
  const started = Date.now();
  console.log('[cluster] hack/build-k8s.sh (cached after the first build; log: .local/logs/build-k8s.log)');
  await runScript('hack/build-k8s.sh', 'build-k8s.log');
  await runScript('hack/local-up.sh', 'local-up.log');
  const cluster = readLocalCluster();
  for (const identity of Object.keys(KUBECONFIG_ENV) as Identity[]) {
    process.env[KUBECONFIG_ENV[identity]] ??= cluster.kubeconfigs[identity];
  }
  process.env['SMARTMIG_APISERVER_URL'] ??= cluster.server;
  console.log(
    `[cluster] ${cluster.server} (Kubernetes ${cluster.kubernetesVersion}) ready in ${Date.now() - started} ms`,
  );
}
