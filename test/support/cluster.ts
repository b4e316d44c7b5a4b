// Helpers for tests that run against the local control plane that hack/local-up.sh starts
// (test/support/global-setup.ts starts it before integration and e2e tests; docs/control-plane.md).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, CustomObjectsApi, KubeConfig, type V1Node } from '@kubernetes/client-node';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Who a test acts as. RBAC of `extender` and `operator` comes from charts/smartmig/templates. */
export type Identity = 'admin' | 'extender' | 'operator' | 'unprivileged';

/** The environment variable that overrides each identity's kubeconfig path. */
export const KUBECONFIG_ENV: Readonly<Record<Identity, string>> = {
  admin: 'SMARTMIG_KUBECONFIG',
  extender: 'SMARTMIG_EXTENDER_KUBECONFIG',
  operator: 'SMARTMIG_OPERATOR_KUBECONFIG',
  unprivileged: 'SMARTMIG_UNPRIVILEGED_KUBECONFIG',
};

/** What hack/local-up.sh writes to .local/cluster.json. */
export interface LocalCluster {
  readonly server: string;
  readonly kubernetesVersion: string;
  readonly etcdVersion: string;
  readonly helmVersion: string;
  readonly localDir: string;
  readonly kubeconfigs: Readonly<Record<Identity, string>>;
  readonly bin: {
    readonly kubectl: string;
    readonly helm: string;
    readonly kubeApiserver: string;
    readonly kubeScheduler: string;
    readonly etcd: string;
  };
  readonly extender: {
    readonly url: string;
    readonly nodeCacheCapable: boolean;
    readonly managedResources: readonly string[];
  };
  readonly ports: Readonly<
    Record<'etcd' | 'apiserver' | 'controllerManager' | 'scheduler' | 'smartmigScheduler', number>
  >;
}

/** The scheduler names the local control plane serves. */
export const DEFAULT_SCHEDULER = 'default-scheduler';
export const SMARTMIG_SCHEDULER = 'smartmig-scheduler';

/** The state directory of hack/local-up.sh (`SMARTMIG_LOCAL_DIR`, default `<repo>/.local`). */
export function localDir(): string {
  return resolve(process.env['SMARTMIG_LOCAL_DIR'] ?? join(REPO_ROOT, '.local'));
}

/** Reads .local/cluster.json; throws with a hint when the control plane was never started. */
export function readLocalCluster(): LocalCluster {
  const file = join(localDir(), 'cluster.json');
  if (!existsSync(file)) {
    throw new Error(`${file} is missing: start the control plane with hack/local-up.sh (vitest's global setup does)`);
  }
  return JSON.parse(readFileSync(file, 'utf8')) as LocalCluster;
}

/** The kubeconfig file of an identity; the `SMARTMIG_*KUBECONFIG` variables override it. */
export function kubeconfigPath(identity: Identity = 'admin'): string {
  return process.env[KUBECONFIG_ENV[identity]] ?? readLocalCluster().kubeconfigs[identity];
}

/** A ready KubeConfig (client-node 1.x) for an identity. */
export function loadKubeConfig(identity: Identity = 'admin'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath(identity));
  return kc;
}

export interface KubectlOptions {
  readonly identity?: Identity;
  /** Written to kubectl's stdin (e.g. a manifest for `apply -f -`). */
  readonly input?: string;
  /** Resolve with the exit code instead of throwing when kubectl fails. */
  readonly allowFailure?: boolean;
  readonly timeoutMs?: number;
}

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built kubectl against the local control plane. */
export function kubectl(args: readonly string[], options: KubectlOptions = {}): Promise<KubectlResult> {
  const binary = kubectlBinary();
  const env = { ...process.env, KUBECONFIG: kubeconfigPath(options.identity ?? 'admin') };
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      binary,
      [...args],
      { env, timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        if (code !== 0 && !options.allowFailure) {
          reject(new Error(`kubectl ${args.join(' ')} exited ${code}: ${stderr.trim() || error?.message}`));
          return;
        }
        resolvePromise({ code, stdout, stderr });
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}

function kubectlBinary(): string {
  try {
    return readLocalCluster().bin.kubectl;
  } catch {
    return 'kubectl';
  }
}

export interface WaitOptions {
  /** What is awaited, for the timeout message. */
  readonly description: string;
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
}

/**
 * Polls `probe` until it returns a value other than undefined, null or false, and returns that value.
 * A probe that throws is retried; on timeout the last error is part of the message.
 */
export async function waitFor<T>(
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  options: WaitOptions,
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 200;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.description}${cause}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A DNS-1123 name unique to this run: `<prefix>-<8 hex>`, so tests never collide. */
export function uniqueName(prefix: string): string {
  const base = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 50);
  return `${base}-${randomBytes(4).toString('hex')}`;
}

/** Creates a namespace named after `prefix` (unique) and returns its name. */
export async function createTestNamespace(kc: KubeConfig, prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await kc.makeApiClient(CoreV1Api).createNamespace({
    body: { metadata: { name, labels: { 'smartmig.io/test': 'true' } } },
  });
  return name;
}

/**
 * Deletes a test namespace. Its pods are force-deleted first: without kubelets nobody confirms a
 * graceful deletion of a bound pod, and the namespace would stay Terminating.
 */
export async function deleteTestNamespace(kc: KubeConfig, name: string): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await ignoreNotFound(core.deleteCollectionNamespacedPod({ namespace: name, gracePeriodSeconds: 0 }));
  await ignoreNotFound(core.deleteNamespace({ name }));
}

export interface FakeNodeSpec {
  readonly name: string;
  /** Extended and standard resources; `pods`, `cpu` and `memory` get defaults when absent. */
  readonly capacity?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
}

/** A Node object without a kubelet behind it: capacity and allocatable as given, condition Ready. */
export function fakeNode(spec: FakeNodeSpec): V1Node {
  const capacity = { cpu: '64', memory: '512Gi', pods: '110', ...spec.capacity };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: spec.name,
      labels: { 'kubernetes.io/hostname': spec.name, 'smartmig.io/test': 'true', ...spec.labels },
    },
    status: {
      capacity,
      allocatable: capacity,
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'FakeNode',
          message: 'emulated by a test',
          lastHeartbeatTime: new Date(),
          lastTransitionTime: new Date(),
        },
      ],
    },
  };
}

/** Resolves to undefined when the call failed with 404. */
export async function ignoreNotFound<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (statusCode(error) === 404) return undefined;
    throw error;
  }
}

/** The HTTP status of a client-node ApiException (undefined for other errors). */
export function statusCode(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'number') {
    return error.code;
  }
  return undefined;
}

/** What a whole-loop test put into the cluster, to take out again. */
export interface TestRun {
  readonly children: readonly { stop(): Promise<void> }[];
  /** Name of the cluster-scoped MigPartition. */
  readonly partition: string;
  readonly namespace: string;
  readonly nodeNames: readonly string[];
  readonly rbac: readonly { remove(): Promise<void> }[];
}

/** Stops the processes (last started first), then deletes the MigPartition, namespace, nodes and RBAC. */
export async function tearDownRun(kc: KubeConfig, run: TestRun): Promise<void> {
  for (const c of [...run.children].reverse()) await c.stop();
  await ignoreNotFound(
    kc.makeApiClient(CustomObjectsApi).deleteClusterCustomObject({
      group: 'smartmig.io',
      version: 'v1alpha1',
      plural: 'migpartitions',
      name: run.partition,
    }),
  );
  if (run.namespace) await deleteTestNamespace(kc, run.namespace);
  const core = kc.makeApiClient(CoreV1Api);
  for (const n of run.nodeNames) await ignoreNotFound(core.deleteNode({ name: n }));
  for (const r of run.rbac) await r.remove();
}
