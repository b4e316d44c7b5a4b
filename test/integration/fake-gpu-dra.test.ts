// smartmig fake-gpu in DRA mode against the real local control plane: it publishes NVIDIA's DRA driver objects
// (DeviceClasses, a node's ResourceSlices with DynamicMIG counters), the stock kube-scheduler 1.37 allocates
// claims from them, and the emulated kubelet plugin prepares the allocated MIG devices while the pods run.
import { CoreV1Api, ResourceV1Api, type V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, checkConfig } from '../../fake-gpu/config.js';
import { startFakeGpu, type FakeGpu } from '../../fake-gpu/main.js';
import {
  DEFAULT_SCHEDULER,
  createTestNamespace,
  deleteTestNamespace,
  ignoreNotFound,
  loadKubeConfig,
  uniqueName,
  waitFor,
} from '../support/cluster.js';

const admin = loadKubeConfig('admin');
const core = admin.makeApiClient(CoreV1Api);
const resource = admin.makeApiClient(ResourceV1Api);
/** 600 simulated minutes per real minute: 10 minutes of work on 1g take one real second. */
const TIME_SCALE = 600;
const MEMORY_SLICES = Array.from({ length: 8 }, (_, i) => `memory-slice-${i}`);
const profileIs = (profile: string) => ({
  deviceClassName: 'mig.nvidia.com',
  selectors: [{ cel: { expression: `device.attributes['gpu.nvidia.com'].profile == '${profile}'` } }],
});

describe('smartmig fake-gpu --allocation-mode dra against kube-scheduler', () => {
  let namespace: string;
  let fake: FakeGpu;
  let node: string;

  const readPod = (name: string): Promise<V1Pod> => core.readNamespacedPod({ name, namespace });
  const phase = async (name: string, want: string): Promise<V1Pod | false> => {
    const p = await readPod(name);
    return p.status?.phase === want && p;
  };

  /** A pod with one claim from `template`, for kube-scheduler to place on the node (or bound by hand). */
  function claimPod(name: string, template: string, work: string, boundTo?: string): V1Pod {
    return {
      metadata: { name, annotations: { 'smartmig.io/work': work } },
      spec: {
        schedulerName: DEFAULT_SCHEDULER,
        nodeName: boundTo,
        nodeSelector: { 'kubernetes.io/hostname': node },
        resourceClaims: [{ name: 'gpu', resourceClaimTemplateName: template }],
        containers: [{ name: 'job', image: 'registry.invalid/job:1', resources: { claims: [{ name: 'gpu' }] } }],
      },
    };
  }

  async function template(name: string, request: Record<string, unknown>): Promise<void> {
    await resource.createNamespacedResourceClaimTemplate({
      namespace,
      body: { metadata: { name }, spec: { spec: { devices: { requests: [{ name: 'gpu', ...request }] } } } },
    });
  }

  /** The node's ResourceSlices by name. */
  async function nodeSlices() {
    const slices = (await resource.listResourceSlice({ fieldSelector: `spec.nodeName=${node}` })).items;
    return slices.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  }

  /** The ResourceClaim generated for the pod's `gpu` claim, while it exists. */
  async function podClaim(pod: V1Pod) {
    const name = pod.status?.resourceClaimStatuses?.find((s) => s.name === 'gpu')?.resourceClaimName;
    if (!name) throw new Error(`pod ${pod.metadata?.name} has no generated claim`);
    return { name, claim: await resource.readNamespacedResourceClaim({ name, namespace }) };
  }

  beforeAll(async () => {
    namespace = await createTestNamespace(admin, 'fake-gpu-dra');
    const checked = checkConfig({
      ...DEFAULT_CONFIG,
      allocationMode: 'dra',
      nodes: 1,
      gpusPerNode: 2,
      timeScale: TIME_SCALE,
      heartbeatSeconds: 1,
      cleanup: true,
      nodePrefix: `${uniqueName('fdra')}-`,
    });
    if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
    fake = await startFakeGpu({
      config: checked.config,
      kc: admin,
      log: pino({ level: process.env['SMARTMIG_TEST_LOG'] ?? 'silent' }),
    });
    [node = ''] = fake.nodeNames;
    await template('small-else-medium', {
      firstAvailable: [
        { name: 'small', ...profileIs('1g.5gb') },
        { name: 'medium', ...profileIs('2g.10gb') },
      ],
    });
    await template('whole-mig', { exactly: profileIs('7g.40gb') });
    await template('small', { exactly: profileIs('1g.5gb') });
  });

  afterAll(async () => {
    await fake?.stop();
    if (namespace) await deleteTestNamespace(admin, namespace);
  });

  it("installs the driver's DeviceClasses, selecting on the device type", async () => {
    const classes = await Promise.all(
      ['gpu.nvidia.com', 'mig.nvidia.com'].map((name) => resource.readDeviceClass({ name })),
    );
    expect(classes.map((c) => c.spec.selectors?.[0]?.cel?.expression)).toEqual([
      "device.driver == 'gpu.nvidia.com' && device.attributes['gpu.nvidia.com'].type == 'gpu'",
      "device.driver == 'gpu.nvidia.com' && device.attributes['gpu.nvidia.com'].type == 'mig'",
    ]);
  });

  it("publishes the node's pool as the driver does: a slice of counter sets, then a slice per GPU", async () => {
    const slices = await nodeSlices();
    expect(slices.map((s) => s.metadata?.name)).toEqual([0, 1, 2].map((k) => `${node}-gpu.nvidia.com-${k}`));
    for (const s of slices) {
      expect(s.spec).toMatchObject({ driver: 'gpu.nvidia.com', pool: { name: node, resourceSliceCount: 3 } });
      expect(s.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Node', name: node });
    }
    const counters = slices[0]?.spec;
    expect(counters?.devices ?? []).toEqual([]);
    expect(counters?.sharedCounters?.map((c) => c.name)).toEqual(['gpu-0-counter-set', 'gpu-1-counter-set']);
    const set = counters?.sharedCounters?.[0]?.counters ?? {};
    expect(Object.keys(set).sort()).toEqual(['memory', 'multiprocessors', ...MEMORY_SLICES].sort());
    expect(set['multiprocessors']?.value).toBe('98');
    expect(slices.slice(1).map((s) => s.spec.devices?.length)).toEqual([26, 26]);
  });

  it("names and describes each GPU's devices as the driver does", async () => {
    const slices = await nodeSlices();
    for (const i of [0, 1]) {
      const devices = slices[i + 1]?.spec.devices ?? [];
      expect(devices.map((d) => d.name)).toContain(`gpu-${i}-mig-1g5gb-19-6`);
      expect(devices.find((d) => d.name === `gpu-${i}`)?.attributes?.['type']?.string).toBe('gpu');
      const mig = devices.find((d) => d.name === `gpu-${i}-mig-3g20gb-9-4`);
      expect(Object.keys(mig?.attributes ?? {}).sort()).toEqual(['parentUUID', 'productName', 'profile', 'type']);
      expect(mig?.attributes?.['profile']?.string).toBe('3g.20gb');
      expect(Object.keys(mig?.capacity ?? {}).sort()).toEqual(['memory', 'multiprocessors']);
      const consumed = mig?.consumesCounters?.[0];
      expect(consumed?.counterSet).toBe(`gpu-${i}-counter-set`);
      expect(Object.keys(consumed?.counters ?? {}).sort()).toEqual(
        ['memory', 'multiprocessors', ...MEMORY_SLICES.slice(4)].sort(),
      );
    }
  });

  it('labels the node for DRA and advertises no device-plugin capacity', async () => {
    const n = await core.readNode({ name: node });
    expect(n.metadata?.labels?.['nvidia.com/gpu-operator.resource-allocation.mode']).toBe('dra');
    expect(n.metadata?.labels?.['nvidia.com/mig.config']).toBeUndefined();
    expect(Object.keys(n.status?.capacity ?? {}).filter((k) => k.startsWith('nvidia.com/'))).toEqual([]);
  });

  it('runs a pod whose prioritized claim the real allocator gave its first choice, then frees the claim', async () => {
    await core.createNamespacedPod({ namespace, body: claimPod('first-choice', 'small-else-medium', '15') });
    const running = await waitFor(() => phase('first-choice', 'Running'), {
      description: 'pod first-choice Running',
      intervalMs: 50,
    });
    expect(running.spec?.nodeName).toBe(node);
    const { name: claimName, claim } = await podClaim(running);
    const results = claim.status?.allocation?.devices?.results ?? [];
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ driver: 'gpu.nvidia.com', pool: node, request: 'gpu/small' });
    const gpu = running.metadata?.annotations?.['smartmig.io/gpu'];
    expect(results[0]?.device).toMatch(new RegExp(`^gpu-${gpu}-mig-1g5gb-19-\\d$`));
    const start = results[0]?.device.split('-').at(-1);
    expect(running.metadata?.annotations?.['smartmig.io/slice']).toBe(`1g.5gb@${start}`);
    await waitFor(() => phase('first-choice', 'Succeeded'), { description: 'pod first-choice Succeeded' });
    // The resource claim controller deletes a generated claim once its pod is done.
    await waitFor(
      async () =>
        (await ignoreNotFound(resource.readNamespacedResourceClaim({ name: claimName, namespace }))) === undefined,
      { description: `claim ${claimName} deleted`, timeoutMs: 15_000 },
    );
    // Unprepared: the instance is gone from the node's occupancy annotation.
    await waitFor(
      async () => {
        const text = (await core.readNode({ name: node })).metadata?.annotations?.['smartmig.io/gpu-slices'];
        const view = JSON.parse(text ?? '[]') as { slices: unknown[] }[];
        return view.every((g) => g.slices.length === 0);
      },
      { description: 'no MIG instance left on the node' },
    );
  });

  it('keeps a 1g pod pending while 7g claims hold both GPUs, and schedules it when one ends', async () => {
    // 280 minutes on 7 compute slices at 600× is 4 s; the other runs until the namespace goes.
    await core.createNamespacedPod({ namespace, body: claimPod('whole-a', 'whole-mig', '280') });
    await core.createNamespacedPod({ namespace, body: claimPod('whole-b', 'whole-mig', '10h') });
    const [a, b] = await Promise.all(
      ['whole-a', 'whole-b'].map((n) => waitFor(() => phase(n, 'Running'), { description: `pod ${n} Running` })),
    );
    const gpuA = a?.metadata?.annotations?.['smartmig.io/gpu'];
    expect(a?.metadata?.annotations?.['smartmig.io/slice']).toBe('7g.40gb@0');
    expect([gpuA, b?.metadata?.annotations?.['smartmig.io/gpu']].sort()).toEqual(['0', '1']);
    expect((await podClaim(a as V1Pod)).claim.status?.allocation?.devices?.results?.[0]?.device).toBe(
      `gpu-${gpuA}-mig-7g40gb-0-0`,
    );
    await core.createNamespacedPod({ namespace, body: claimPod('small', 'small', '10') });
    const pending = await waitFor(
      async () => {
        const p = await readPod('small');
        const scheduled = p.status?.conditions?.find((c) => c.type === 'PodScheduled');
        return scheduled?.status === 'False' && scheduled.reason === 'Unschedulable' && p;
      },
      { description: 'pod small Unschedulable', intervalMs: 50 },
    );
    expect(pending.spec?.nodeName).toBeUndefined();
    const why = pending.status?.conditions?.find((c) => c.type === 'PodScheduled')?.message;
    expect(why).toMatch(/cannot allocate all claims/);
    expect((await readPod('whole-a')).status?.phase).toBe('Running');
    const done = await waitFor(() => phase('small', 'Succeeded'), {
      description: 'pod small Succeeded once whole-a ended',
      timeoutMs: 25_000,
    });
    expect((await readPod('whole-a')).status?.phase).toBe('Succeeded');
    expect(done.spec?.nodeName).toBe(node);
    expect(done.metadata?.annotations?.['smartmig.io/gpu']).toBe(gpuA);
  });

  it('fails a pod bound by hand whose claim nobody allocated, after retrying for a few seconds', async () => {
    await core.createNamespacedPod({ namespace, body: claimPod('by-hand', 'small', '10', node) });
    const failed = await waitFor(() => phase('by-hand', 'Failed'), { description: 'pod by-hand Failed' });
    expect(failed.status?.reason).toBe('FailedPrepareDynamicResources');
    // The resource claim controller creates the claim; with no scheduler involved nobody allocates it.
    expect(failed.status?.message).toMatch(
      /^Pod was rejected: failed to prepare dynamic resources: claim \S+\/by-hand-gpu-\w+ is not allocated$/,
    );
  });
});
