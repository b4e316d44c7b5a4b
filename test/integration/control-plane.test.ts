// The local control plane (hack/local-up.sh) is a real Kubernetes: RBAC enforced, the real
// kube-scheduler binds pods by extended resources, CRDs are served, kube-controller-manager finalises
// namespaces, and the smartmig-scheduler's extender manages every MIG resource of the catalog.
import { readFileSync } from 'node:fs';
import { get } from 'node:https';
import { join } from 'node:path';
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1CustomResourceDefinition,
  type V1Pod,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GPU_MODELS, findGpuModel } from '../../policy/mig/catalog.js';
import {
  DEFAULT_SCHEDULER,
  SMARTMIG_SCHEDULER,
  createTestNamespace,
  deleteTestNamespace,
  fakeNode,
  ignoreNotFound,
  kubectl,
  loadKubeConfig,
  readLocalCluster,
  statusCode,
  uniqueName,
  waitFor,
} from '../support/cluster.js';

const MIG_1G = 'nvidia.com/mig-1g.5gb';

/** GET over TLS that trusts the cluster CA and sends no credentials; resolves status and body. */
function anonymousGet(kc: KubeConfig, path: string, rejectUnauthorized = true): Promise<[number, string]> {
  const cluster = kc.getCurrentCluster();
  if (!cluster?.caData) throw new Error('the kubeconfig has no certificate-authority-data');
  const ca = Buffer.from(cluster.caData, 'base64');
  return httpsGet(new URL(path, cluster.server), { ca, rejectUnauthorized });
}

function httpsGet(url: URL, tls: { ca?: Buffer; rejectUnauthorized: boolean }): Promise<[number, string]> {
  return new Promise((resolvePromise, reject) => {
    get(url, tls, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolvePromise([res.statusCode ?? 0, body]));
    }).on('error', reject);
  });
}

function gpuPod(name: string, schedulerName: string, count: number, nodeSelector: Record<string, string>): V1Pod {
  return {
    metadata: { name },
    spec: {
      schedulerName,
      nodeSelector,
      containers: [
        { name: 'job', image: 'registry.invalid/job:1', resources: { limits: { [MIG_1G]: String(count) } } },
      ],
    },
  };
}

describe('local control plane', () => {
  const admin = loadKubeConfig('admin');
  const core = admin.makeApiClient(CoreV1Api);
  let namespace: string;

  beforeAll(async () => {
    namespace = await createTestNamespace(admin, 'control-plane');
  });

  afterAll(async () => {
    await deleteTestNamespace(admin, namespace);
  });

  it('serves /readyz to an admin and to anonymous probes, and reports the pinned version', async () => {
    const cluster = readLocalCluster();
    const { stdout } = await kubectl(['get', '--raw', '/readyz']);
    expect(stdout.trim()).toBe('ok');
    expect(await anonymousGet(admin, '/readyz')).toEqual([200, 'ok']);
    const version = JSON.parse((await kubectl(['get', '--raw', '/version'])).stdout) as { gitVersion: string };
    expect(version.gitVersion).toBe(cluster.kubernetesVersion);
  });

  it('enforces RBAC: an identity without bindings is forbidden, the admin is not', async () => {
    const nobody = loadKubeConfig('unprivileged').makeApiClient(CoreV1Api);
    const denied = await nobody.listNamespacedPod({ namespace }).then(
      () => undefined,
      (error: unknown) => statusCode(error),
    );
    expect(denied).toBe(403);
    const canI = await kubectl(['auth', 'can-i', 'create', 'pods', '-n', namespace], {
      identity: 'unprivileged',
      allowFailure: true,
    });
    expect(canI.stdout.trim()).toBe('no');
    expect((await core.listNamespacedPod({ namespace })).items).toEqual([]);
  });

  describe('kube-scheduler with fake nodes', () => {
    const label = { 'smartmig.io/test-pool': uniqueName('pool') };
    const gpuNode = uniqueName('gpu-node');
    const cpuNode = uniqueName('cpu-node');

    beforeAll(async () => {
      await core.createNode({ body: fakeNode({ name: gpuNode, labels: label, capacity: { [MIG_1G]: '2' } }) });
      await core.createNode({ body: fakeNode({ name: cpuNode, labels: label }) });
    });

    afterAll(async () => {
      // No kubelet confirms graceful deletion of a bound pod.
      await core.deleteCollectionNamespacedPod({ namespace, gracePeriodSeconds: 0 });
      await ignoreNotFound(core.deleteNode({ name: gpuNode }));
      await ignoreNotFound(core.deleteNode({ name: cpuNode }));
    });

    it('binds a default-scheduler pod to the only node with the MIG resource', async () => {
      await core.createNamespacedPod({ namespace, body: gpuPod('fits', DEFAULT_SCHEDULER, 1, label) });
      const nodeName = await waitFor(
        async () => (await core.readNamespacedPod({ name: 'fits', namespace })).spec?.nodeName,
        { description: 'pod fits to be bound' },
      );
      expect(nodeName).toBe(gpuNode);
    });

    it('leaves a pod asking for more slices than any node has unschedulable', async () => {
      await core.createNamespacedPod({ namespace, body: gpuPod('too-big', DEFAULT_SCHEDULER, 3, label) });
      const condition = await waitFor(
        async () =>
          (await core.readNamespacedPod({ name: 'too-big', namespace })).status?.conditions?.find(
            (c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable',
          ),
        { description: 'pod too-big to be marked unschedulable' },
      );
      expect(condition.message).toContain(`Insufficient ${MIG_1G}`);
    });
  });

  it('creates a CRD and serves its objects', async () => {
    const group = `${uniqueName('crd')}.test.smartmig.io`;
    const crdApi = admin.makeApiClient(ApiextensionsV1Api);
    const crd: V1CustomResourceDefinition = {
      metadata: { name: `widgets.${group}` },
      spec: {
        group,
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: { spec: { type: 'object', properties: { size: { type: 'integer', minimum: 1 } } } },
              },
            },
          },
        ],
      },
    };
    await crdApi.createCustomResourceDefinition({ body: crd });
    try {
      await waitFor(
        async () =>
          (await crdApi.readCustomResourceDefinition({ name: crd.metadata!.name! })).status?.conditions?.some(
            (c) => c.type === 'Established' && c.status === 'True',
          ),
        { description: 'the CRD to be established' },
      );
      const objects = admin.makeApiClient(CustomObjectsApi);
      const ref = { group, version: 'v1', namespace, plural: 'widgets' };
      await objects.createNamespacedCustomObject({
        ...ref,
        body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'w' }, spec: { size: 3 } },
      });
      const got = (await objects.getNamespacedCustomObject({ ...ref, name: 'w' })) as { spec: { size: number } };
      expect(got.spec.size).toBe(3);
      const invalid = await objects
        .createNamespacedCustomObject({
          ...ref,
          body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'bad' }, spec: { size: 0 } },
        })
        .then(
          () => undefined,
          (error: unknown) => statusCode(error),
        );
      expect(invalid).toBe(422);
    } finally {
      await ignoreNotFound(crdApi.deleteCustomResourceDefinition({ name: crd.metadata!.name! }));
    }
  });

  it('runs kube-controller-manager: a deleted namespace is finalised', async () => {
    const name = await createTestNamespace(admin, 'finalised');
    await core.deleteNamespace({ name });
    await waitFor(async () => (await ignoreNotFound(core.readNamespace({ name }))) === undefined, {
      description: `namespace ${name} to disappear`,
      timeoutMs: 60_000,
    });
  });

  it('runs both schedulers; the smartmig one sends every MIG resource of the catalog to the extender', async () => {
    const cluster = readLocalCluster();
    for (const port of [cluster.ports.scheduler, cluster.ports.smartmigScheduler, cluster.ports.controllerManager]) {
      const [status, body] = await httpsGet(new URL(`https://127.0.0.1:${port}/healthz`), {
        rejectUnauthorized: false,
      });
      expect([status, body]).toEqual([200, 'ok']);
    }
    const catalog = new Set(GPU_MODELS.flatMap((name) => findGpuModel(name)?.profiles.map((p) => p.resource) ?? []));
    expect(new Set(cluster.extender.managedResources)).toEqual(catalog);
    const config = readFileSync(join(cluster.localDir, `${SMARTMIG_SCHEDULER}.yaml`), 'utf8');
    expect(config).toContain(`schedulerName: ${SMARTMIG_SCHEDULER}`);
    expect(config).toContain(`urlPrefix: ${cluster.extender.url}`);
    expect(config).toContain('bindVerb: bind');
    expect(config).toContain('ignorable: false');
  });
});
