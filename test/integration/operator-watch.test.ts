// The operator's informers recover when the connection to the apiserver breaks: a TCP relay between client
// and the real kube-apiserver cuts every connection and refuses new ones for a while; the informer backs
// off, comes back, and catches up with what changed meanwhile. Also: a list that RBAC refuses is retried
// until access is granted.
import { CoreV1Api, RbacAuthorizationV1Api, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Informer } from '../../operator/informers.js';
import { createTestNamespace, deleteTestNamespace, loadKubeConfig, waitFor } from '../support/cluster.js';
import { Cuttable } from './relay.js';

let admin: KubeConfig;
let ns: string;
let relay: Cuttable;

function configMapInformer(kc: KubeConfig, restarts: { n: number }): Informer<V1ConfigMap> {
  const core = kc.makeApiClient(CoreV1Api);
  return new Informer<V1ConfigMap>({
    name: 'configmaps',
    kc,
    path: `/api/v1/namespaces/${ns}/configmaps`,
    list: () => core.listNamespacedConfigMap({ namespace: ns }),
    log: pino({ level: 'silent' }),
    onChange: () => undefined,
    onRestart: () => restarts.n++,
    minBackoffMs: 100,
    maxBackoffMs: 1000,
  });
}

const names = (inf: Informer<V1ConfigMap>): string[] =>
  inf
    .list()
    .map((c) => c.metadata?.name ?? '')
    .filter((n) => n.startsWith('cm-'))
    .sort();

beforeAll(async () => {
  admin = loadKubeConfig('admin');
  ns = await createTestNamespace(admin, 'watch');
  relay = new Cuttable(new URL(admin.getCurrentCluster()?.server ?? ''));
  await relay.start();
});

afterAll(async () => {
  await relay?.cut();
  if (ns) await deleteTestNamespace(admin, ns);
});

describe('informers recover from errors', () => {
  it('reconnects after the connection drops and sees what changed while it was down', async () => {
    const core = admin.makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'cm-1' } } });
    const restarts = { n: 0 };
    const inf = configMapInformer(relay.kubeConfig('admin'), restarts);
    await inf.start();
    expect(names(inf)).toEqual(['cm-1']);
    await relay.cut();
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'cm-2' } } });
    await core.deleteNamespacedConfigMap({ name: 'cm-1', namespace: ns });
    await new Promise((r) => setTimeout(r, 1500));
    expect(names(inf)).toEqual(['cm-1']);
    await relay.start();
    await waitFor(() => JSON.stringify(names(inf)) === JSON.stringify(['cm-2']), {
      description: 'the informer to catch up',
      timeoutMs: 15_000,
    });
    expect(restarts.n).toBeGreaterThan(0);
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'cm-3' } } });
    await waitFor(() => names(inf).includes('cm-3'), { description: 'events after recovery' });
    await inf.stop();
  });

  it('keeps retrying a list that RBAC refuses, and syncs once access is granted', async () => {
    const inf = configMapInformer(relay.kubeConfig('unprivileged'), { n: 0 });
    const started = inf.start();
    await new Promise((r) => setTimeout(r, 800));
    expect(inf.hasSynced).toBe(false);
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: ns,
      body: {
        metadata: { name: 'read-configmaps' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'read-configmaps' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-configmaps' },
        subjects: [{ kind: 'User', name: 'smartmig-unprivileged', apiGroup: 'rbac.authorization.k8s.io' }],
      },
    });
    await started;
    expect(inf.hasSynced).toBe(true);
    expect(names(inf)).toContain('cm-2');
    await inf.stop();
  });
});
