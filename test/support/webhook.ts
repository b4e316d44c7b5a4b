// The extender's admission webhook as the real API server calls it in tests: over HTTPS with a throw-away CA,
// registered for the pods of one namespace.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AdmissionregistrationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { ignoreNotFound, statusCode, waitFor } from './cluster.js';

/** Writes a self-signed CA (`ca.crt`) and a serving certificate for 127.0.0.1 (`tls.crt`, `tls.key`) to `dir`. */
export function makeServingCerts(dir: string): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = ['-newkey', 'rsa:2048', '-nodes'];
  ssl('req', '-x509', ...key, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=smartmig-test-ca');
  ssl('req', ...key, '-keyout', 'tls.key', '-out', 'tls.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  const ca = ['-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-extfile', 'san.cnf'];
  ssl('x509', '-req', '-in', 'tls.csr', ...ca, '-out', 'tls.crt', '-days', '1');
}

export interface PodWebhook {
  /** The MutatingWebhookConfiguration's name (cluster-scoped: unique per test run). */
  readonly name: string;
  /** The webhook's URL, e.g. `https://127.0.0.1:PORT/mutate`. */
  readonly url: string;
  /** The directory of `makeServingCerts`. */
  readonly certDir: string;
  readonly namespace: string;
}

/**
 * Registers the webhook for pod creations in its namespace (failurePolicy Fail), then waits until the API
 * server calls it, which it starts doing asynchronously: `denied` must try a creation the webhook refuses.
 * Returns what removes the registration again.
 */
export async function registerPodWebhook(
  kc: KubeConfig,
  hook: PodWebhook,
  denied: () => Promise<unknown>,
): Promise<() => Promise<unknown>> {
  const hooks = kc.makeApiClient(AdmissionregistrationV1Api);
  await hooks.createMutatingWebhookConfiguration({
    body: {
      metadata: { name: hook.name },
      webhooks: [
        {
          name: 'mold.smartmig.io',
          admissionReviewVersions: ['v1'],
          sideEffects: 'NoneOnDryRun',
          failurePolicy: 'Fail',
          timeoutSeconds: 10,
          clientConfig: {
            url: hook.url,
            caBundle: readFileSync(join(hook.certDir, 'ca.crt')).toString('base64'),
          },
          rules: [
            { operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' },
          ],
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': hook.namespace } },
        },
      ],
    },
  });
  const remove = () => ignoreNotFound(hooks.deleteMutatingWebhookConfiguration({ name: hook.name }));
  await waitFor(
    async () => {
      try {
        await denied();
        return false;
      } catch (err) {
        return statusCode(err) === 400;
      }
    },
    { description: 'the webhook to be active', timeoutMs: 60_000, intervalMs: 500 },
  ).catch(async (err: unknown) => {
    await remove();
    throw err;
  });
  return remove;
}
