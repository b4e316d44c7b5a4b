// The operator on a DRA node (docs/adr/0003-mig-on-dra.md, docs/operator.md "DRA nodes") against the real
// control plane: a fake-gpu node in DRA mode publishes NVIDIA's driver objects, the operator runs in-process
// under the chart's RBAC, a Static MigPartition becomes the node's DeviceTaintRules, and the stock
// kube-scheduler 1.37 allocates a claim only a device of the target layout.
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  ResourceV1Api,
  setHeaderOptions,
  type KubeConfig,
  type V1Pod,
} from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRAINING_ANNOTATION, GPU_ANNOTATION, LAYOUTS_ANNOTATION, MIG_CONFIG_LABEL } from '../../api/labels.js';
import { RULE_NODE_LABEL, type DeviceTaintRule } from '../../dra/steering.js';
import { DEFAULT_CONFIG, checkConfig } from '../../fake-gpu/config.js';
import { startFakeGpu, type FakeGpu } from '../../fake-gpu/main.js';
import { resolveConfig } from '../../operator/config.js';
import { setupControllers, type Operator } from '../../operator/setup.js';
import {
  DEFAULT_SCHEDULER,
  createTestNamespace,
  deleteTestNamespace,
  ignoreNotFound,
  kubectl,
  loadKubeConfig,
  uniqueName,
  waitFor,
} from '../support/cluster.js';
import { bindOperatorRbac, ensureCrd, getPartition, nodeOf, waitReady } from './operator-cluster.js';

const CM = 'mig-parted-config';
const RULES = { group: 'resource.k8s.io', version: 'v1', plural: 'devicetaintrules' };
const run = uniqueName('opdra');
const partitionName = `${run}-static`;
const profileIs = (profile: string) => ({
  deviceClassName: 'mig.nvidia.com',
  selectors: [{ cel: { expression: `device.attributes['gpu.nvidia.com'].profile == '${profile}'` } }],
});

let admin: KubeConfig;
let ns: string;
let fake: FakeGpu;
let node: string;
let operator: Operator;

async function applyPartition(spec: Record<string, unknown>): Promise<void> {
  const doc = { apiVersion: 'smartmig.io/v1alpha1', kind: 'MigPartition', metadata: { name: partitionName }, spec };
  await kubectl(['apply', '-f', '-'], { input: JSON.stringify(doc) });
}

async function nodeRules(): Promise<DeviceTaintRule[]> {
  const out = (await admin.makeApiClient(CustomObjectsApi).listClusterCustomObject({
    ...RULES,
    labelSelector: `${RULE_NODE_LABEL}=${node}`,
  })) as { items?: DeviceTaintRule[] };
  return out.items ?? [];
}

function claimPod(name: string, template: string): V1Pod {
  return {
    metadata: { name, annotations: { 'smartmig.io/work': '10h' } },
    spec: {
      schedulerName: DEFAULT_SCHEDULER,
      nodeSelector: { 'kubernetes.io/hostname': node },
      resourceClaims: [{ name: 'gpu', resourceClaimTemplateName: template }],
      containers: [{ name: 'job', image: 'registry.invalid/job:1', resources: { claims: [{ name: 'gpu' }] } }],
    },
  };
}

/** `request device` of the pod's allocated claim once it runs. */
async function allocated(pod: string): Promise<string | false> {
  const p = await admin.makeApiClient(CoreV1Api).readNamespacedPod({ name: pod, namespace: ns });
  const claim = p.status?.resourceClaimStatuses?.[0]?.resourceClaimName;
  if (p.status?.phase !== 'Running' || !claim) return false;
  const c = await admin.makeApiClient(ResourceV1Api).readNamespacedResourceClaim({ name: claim, namespace: ns });
  const r = c.status?.allocation?.devices?.results?.[0];
  return r ? `${r.request} ${r.device}` : false;
}

beforeAll(async () => {
  admin = loadKubeConfig('admin');
  await ensureCrd();
  ns = await createTestNamespace(admin, 'operator-dra');
  await bindOperatorRbac(admin, ns, CM);
  const checked = checkConfig({
    ...DEFAULT_CONFIG,
    allocationMode: 'dra',
    nodes: 1,
    gpusPerNode: 2,
    timeScale: 600,
    heartbeatSeconds: 1,
    cleanup: true,
    nodePrefix: `${run}-`,
  });
  if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
  fake = await startFakeGpu({ config: checked.config, kc: admin, log: pino({ level: 'silent' }) });
  [node = ''] = fake.nodeNames;
  await admin.makeApiClient(ResourceV1Api).createNamespacedResourceClaimTemplate({
    namespace: ns,
    body: {
      metadata: { name: 'small-else-medium' },
      spec: {
        spec: {
          devices: {
            requests: [
              {
                name: 'gpu',
                firstAvailable: [
                  { name: 'small', ...profileIs('1g.5gb') },
                  { name: 'medium', ...profileIs('3g.20gb') },
                ],
              },
            ],
          },
        },
      },
    },
  });
  const config = resolveConfig({
    migConfigMap: { namespace: ns, name: CM },
    leaseNamespace: ns,
    identity: 'test-operator-dra',
    resyncMs: 2000,
    debounceMs: 50,
    backoffBaseMs: 1000,
    backoffMaxMs: 2000,
  });
  const log = pino({ level: process.env['SMARTMIG_TEST_LOG'] ?? 'silent' });
  operator = setupControllers({ kc: loadKubeConfig('operator'), config, log });
  await operator.start();
}, 120_000);

afterAll(async () => {
  await operator?.stop();
  await ignoreNotFound(
    admin.makeApiClient(CustomObjectsApi).deleteClusterCustomObject({
      group: 'smartmig.io',
      version: 'v1alpha1',
      plural: 'migpartitions',
      name: partitionName,
    }),
  );
  const objects = admin.makeApiClient(CustomObjectsApi);
  if (node)
    for (const r of await nodeRules())
      await ignoreNotFound(objects.deleteClusterCustomObject({ ...RULES, name: r.metadata.name }));
  await fake?.stop();
  if (ns) await deleteTestNamespace(admin, ns);
});

describe('operator on a DRA node', () => {
  it('steers the allocator to a Static layout with DeviceTaintRules, without mig-manager', async () => {
    await applyPartition({
      nodeSelector: { matchLabels: { 'kubernetes.io/hostname': node } },
      mode: 'Static',
      static: { layouts: [{ layout: 'all-3g.20gb' }] },
    });
    await waitReady(admin, partitionName, 'Converged', 60_000);
    // Per GPU: the whole GPU and every MIG placement but the two 3g.20gb ones (26 devices, 2 left open).
    const rules = await waitFor(async () => ((await nodeRules()).length === 48 ? nodeRules() : false), {
      description: 'the node has its 48 steering rules',
    });
    const names = rules.map((r) => r.spec.deviceSelector.device);
    expect(names).toContain('gpu-0');
    expect(names).toContain('gpu-1-mig-1g5gb-19-0');
    expect(names).not.toContain('gpu-0-mig-3g20gb-9-0');
    expect(names).not.toContain('gpu-1-mig-3g20gb-9-4');
    expect(rules.every((r) => r.spec.deviceSelector.pool === node && r.spec.taint.effect === 'NoSchedule')).toBe(true);
    const n = await nodeOf(admin, node);
    expect(JSON.parse(n.metadata?.annotations?.[LAYOUTS_ANNOTATION] ?? '{}')).toEqual({
      '0': '3g.20gb@0,3g.20gb@4',
      '1': '3g.20gb@0,3g.20gb@4',
    });
    expect(n.metadata?.annotations?.[DRAINING_ANNOTATION]).toBeUndefined();
    // No mig-manager round trip: no label of the operator's configs, and no mig-parted ConfigMap written.
    expect(n.metadata?.labels?.[MIG_CONFIG_LABEL] ?? '').not.toMatch(/^smartmig-/);
    const cm = admin.makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: CM, namespace: ns });
    await expect(cm).rejects.toMatchObject({ code: 404 });
    expect((await getPartition(admin, partitionName)).status).toMatchObject({ nodesSelected: 1, nodesConverged: 1 });

    // The claim prefers 1g.5gb, but only the layout's 3g.20gb placements are untainted.
    await admin
      .makeApiClient(CoreV1Api)
      .createNamespacedPod({ namespace: ns, body: claimPod('job', 'small-else-medium') });
    const got = await waitFor(() => allocated('job'), { description: 'job allocated', timeoutMs: 60_000 });
    expect(got).toMatch(/^gpu\/medium gpu-[01]-mig-3g20gb-9-[04]$/);
  });

  it('drains the GPU that runs a pod, known from its claim allocation, and changes it once the pod is gone', async () => {
    const core = admin.makeApiClient(CoreV1Api);
    const pod = await waitFor(
      async () => {
        const p = await core.readNamespacedPod({ name: 'job', namespace: ns });
        return p.metadata?.annotations?.[GPU_ANNOTATION] !== undefined && p;
      },
      { description: 'fake-gpu annotated the pod' },
    );
    const busy = Number(pod.metadata?.annotations?.[GPU_ANNOTATION]);
    expect([0, 1]).toContain(busy);
    const idle = 1 - busy;
    // NVIDIA's driver writes no GPU annotation: without fake-gpu's, only the claim's allocation says which
    // GPU the pod holds (a pod the operator could not place would hold both GPUs, and the idle one would wait).
    await core.patchNamespacedPod(
      { name: 'job', namespace: ns, body: { metadata: { annotations: { [GPU_ANNOTATION]: null } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await applyPartition({
      nodeSelector: { matchLabels: { 'kubernetes.io/hostname': node } },
      mode: 'Static',
      static: { layouts: [{ layout: 'all-1g.5gb' }] },
    });
    const layouts = async () =>
      JSON.parse((await nodeOf(admin, node)).metadata?.annotations?.[LAYOUTS_ANNOTATION] ?? '{}') as Record<
        string,
        string
      >;
    const ONE_G = [0, 1, 2, 3, 4, 5, 6].map((i) => `1g.5gb@${i}`).join(',');
    await waitFor(async () => (await layouts())[String(idle)] === ONE_G, { description: 'idle GPU on 1g.5gb' });
    // The busy GPU keeps its layout and drains: every one of its 26 devices is tainted.
    const draining = await waitFor(
      async () => {
        const rules = (await nodeRules()).filter((r) => r.spec.deviceSelector.device?.startsWith(`gpu-${busy}`));
        return rules.length === 26 && rules;
      },
      { description: 'busy GPU drained' },
    );
    expect(draining.map((r) => r.spec.deviceSelector.device)).toContain(`gpu-${busy}-mig-3g20gb-9-0`);
    expect((await layouts())[String(busy)]).toBe('3g.20gb@0,3g.20gb@4');
    expect((await nodeOf(admin, node)).metadata?.annotations?.[DRAINING_ANNOTATION]).toBe(String(busy));
    await core.deleteNamespacedPod({ name: 'job', namespace: ns, gracePeriodSeconds: 0 });
    await waitFor(async () => (await layouts())[String(busy)] === ONE_G, {
      description: 'busy GPU on 1g.5gb once its pod is gone',
      timeoutMs: 60_000,
    });
    await waitReady(admin, partitionName, 'Converged', 30_000);
    // 1g.5gb everywhere: per GPU, the whole GPU and the 18 other placements are tainted.
    await waitFor(async () => (await nodeRules()).length === 38, { description: '38 rules' });
  });

  it('deletes its rules when the MigPartition goes', async () => {
    await admin.makeApiClient(CustomObjectsApi).deleteClusterCustomObject({
      group: 'smartmig.io',
      version: 'v1alpha1',
      plural: 'migpartitions',
      name: partitionName,
    });
    await waitFor(async () => (await nodeRules()).length === 0, { description: 'rules deleted', timeoutMs: 30_000 });
    const n = await waitFor(
      async () => {
        const x = await nodeOf(admin, node);
        return x.metadata?.annotations?.[LAYOUTS_ANNOTATION] === undefined && x;
      },
      { description: 'layouts annotation removed' },
    );
    expect(n.metadata?.annotations?.['smartmig.io/partition']).toBeUndefined();
  });
});
