// smartmig fake-gpu against the real local control plane: nodes with GFD labels and MIG capacity, mig-manager's
// pending → success | failed dance on a mig-parted ConfigMap, and the kubelet emulation running bound pods,
// also ones the real default kube-scheduler binds.
import { get } from 'node:http';
import { CoordinationV1Api, CoreV1Api, Watch, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, checkConfig, type FakeGpuConfig } from '../../fake-gpu/config.js';
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

const MIG_1G = 'nvidia.com/mig-1g.5gb';
const STATE = 'nvidia.com/mig.config.state';
const DEVICE_PLUGIN = 'nvidia.com/gpu.deploy.device-plugin';
/** 600 simulated minutes per real minute: 10 minutes of work on 1g take one real second. */
const TIME_SCALE = 600;

const admin = loadKubeConfig('admin');
const core = admin.makeApiClient(CoreV1Api);

interface Seen {
  readonly state: string | undefined;
  readonly devicePlugin: string | undefined;
  readonly allocatable: Record<string, string>;
}

/** Records every version of a node the API server sends, to check the order of mig-manager's steps. */
async function recordNode(name: string): Promise<{ seen: Seen[]; stop: () => void }> {
  const seen: Seen[] = [];
  const abort = await new Watch(admin).watch(
    '/api/v1/nodes',
    { fieldSelector: `metadata.name=${name}` },
    (_type, obj: V1Node) => {
      const labels = obj.metadata?.labels ?? {};
      seen.push({
        state: labels[STATE],
        devicePlugin: labels[DEVICE_PLUGIN],
        allocatable: obj.status?.allocatable ?? {},
      });
    },
    () => undefined,
  );
  return { seen, stop: () => abort.abort() };
}

const readNode = (name: string): Promise<V1Node> => core.readNode({ name });
const migDevices = (r: Record<string, string> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(r ?? {}).filter(([k]) => k.startsWith('nvidia.com/')));

function metricsText(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

function metricValue(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').pop()) : NaN;
}

function gpuPod(name: string, resource: string, opts: { node?: string; work?: string; hostname?: string }): V1Pod {
  return {
    metadata: { name, annotations: opts.work ? { 'smartmig.io/work': opts.work } : {} },
    spec: {
      nodeName: opts.node,
      schedulerName: DEFAULT_SCHEDULER,
      nodeSelector: opts.hostname ? { 'kubernetes.io/hostname': opts.hostname } : undefined,
      containers: [{ name: 'job', image: 'registry.invalid/job:1', resources: { limits: { [resource]: '1' } } }],
    },
  };
}

/** fake-gpu in this process, all-1g.5gb at TIME_SCALE, fast heartbeats, metrics on a free port. */
async function startTestFake(overrides: Partial<FakeGpuConfig>): Promise<FakeGpu> {
  const checked = checkConfig({
    ...DEFAULT_CONFIG,
    layout: 'all-1g.5gb',
    timeScale: TIME_SCALE,
    metricsPort: 0,
    heartbeatSeconds: 1,
    cleanup: true,
    ...overrides,
  });
  if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
  return startFakeGpu({
    config: checked.config,
    kc: admin,
    log: pino({ level: process.env['SMARTMIG_TEST_LOG'] ?? 'silent' }),
    metricsHost: '127.0.0.1',
  });
}

describe('smartmig fake-gpu against the local control plane', () => {
  let namespace: string;
  let fake: FakeGpu;
  let node0: string;
  let node1: string;
  const configMapName = 'mig-parted-config';

  async function writeMigConfigs(configs: Record<string, unknown>): Promise<void> {
    const body = {
      metadata: { name: configMapName, namespace },
      data: { 'config.yaml': stringify({ version: 'v1', 'mig-configs': configs }) },
    };
    const existing = await ignoreNotFound(core.readNamespacedConfigMap({ name: configMapName, namespace }));
    if (existing) await core.replaceNamespacedConfigMap({ name: configMapName, namespace, body });
    else await core.createNamespacedConfigMap({ namespace, body });
  }

  const setConfigLabel = (node: string, config: string): Promise<V1Node> =>
    core.patchNode({
      name: node,
      body: [{ op: 'replace', path: '/metadata/labels/nvidia.com~1mig.config', value: config }],
    });

  const podStatus = async (name: string): Promise<V1Pod> => core.readNamespacedPod({ name, namespace });

  beforeAll(async () => {
    namespace = await createTestNamespace(admin, 'fake-gpu');
    fake = await startTestFake({
      nodes: 2,
      gpusPerNode: 2,
      reconfigureSeconds: 1,
      configMap: `${namespace}/${configMapName}`,
      nodePrefix: `${uniqueName('fgpu')}-`,
    });
    [node0 = '', node1 = ''] = fake.nodeNames;
  });

  afterAll(async () => {
    await fake?.stop();
    if (namespace) await deleteTestNamespace(admin, namespace);
  });

  it('creates Ready nodes with GPU feature discovery labels and the MIG devices of their layout', async () => {
    const node = await readNode(node0);
    expect(node.metadata?.labels).toMatchObject({
      'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-40GB',
      'nvidia.com/gpu.count': '2',
      'nvidia.com/mig.strategy': 'mixed',
      'nvidia.com/mig-1g.5gb.count': '14',
      'nvidia.com/mig.config': 'all-1g.5gb',
      [STATE]: 'success',
      [DEVICE_PLUGIN]: 'true',
    });
    expect(node.status?.capacity).toMatchObject({ [MIG_1G]: '14', pods: '250' });
    expect(node.status?.allocatable?.[MIG_1G]).toBe('14');
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(node.spec?.taints ?? []).toEqual([]);
    const slices = JSON.parse(node.metadata?.annotations?.['smartmig.io/gpu-slices'] ?? '[]') as unknown[];
    expect(slices).toHaveLength(2);
  });

  it('keeps a Lease in kube-node-lease renewed for every node', async () => {
    const leases = admin.makeApiClient(CoordinationV1Api);
    const read = async () => (await leases.readNamespacedLease({ name: node1, namespace: 'kube-node-lease' })).spec;
    const first = await waitFor(read, { description: 'the node lease' });
    expect(first.holderIdentity).toBe(node1);
    const renewed = await waitFor(
      async () => {
        const now = await read();
        return String(now?.renewTime) !== String(first.renewTime) && now;
      },
      { description: 'a lease renewal', timeoutMs: 10_000 },
    );
    expect(new Date(String(renewed.renewTime)).getTime()).toBeGreaterThan(new Date(String(first.renewTime)).getTime());
  });

  it('applies a mig-parted config like mig-manager: pending with operands paused, then success with new devices', async () => {
    await writeMigConfigs({
      'whole-and-balanced': [
        { devices: [0], 'mig-enabled': true, 'mig-devices': { '7g.40gb': 1 } },
        { devices: [1], 'mig-enabled': true, 'mig-devices': { '1g.5gb': 2, '2g.10gb': 1, '3g.20gb': 1 } },
      ],
    });
    const recorder = await recordNode(node0);
    try {
      await setConfigLabel(node0, 'whole-and-balanced');
      // Waits on the recorder's own watch, not a read: the read can see success before the watch delivers it.
      const { seen } = recorder;
      await waitFor(async () => seen.some((s) => s.state === 'pending') && seen.at(-1)?.state === 'success', {
        description: 'state success seen by the recorder',
      });
    } finally {
      recorder.stop();
    }
    // Labels first (state, operands paused), then the device plugin's resources drop to zero: two writes.
    const pending = recorder.seen.filter((s) => s.state === 'pending');
    expect(pending.every((s) => s.devicePlugin === 'paused-for-mig-change')).toBe(true);
    expect(pending.some((s) => s.allocatable[MIG_1G] === '0')).toBe(true);
    const states = recorder.seen.map((s) => s.state).filter((s, i, all) => s !== all[i - 1]);
    expect(states.slice(-2)).toEqual(['pending', 'success']);
    const node = await readNode(node0);
    const want = {
      'nvidia.com/mig-1g.5gb': '2',
      'nvidia.com/mig-2g.10gb': '1',
      'nvidia.com/mig-3g.20gb': '1',
      'nvidia.com/mig-7g.40gb': '1',
    };
    expect(migDevices(node.status?.capacity)).toEqual(want);
    expect(migDevices(node.status?.allocatable)).toEqual(want);
    expect(node.metadata?.labels).toMatchObject({
      [DEVICE_PLUGIN]: 'true',
      'nvidia.com/mig-7g.40gb.count': '1',
      'nvidia.com/mig-1g.5gb.count': '2',
    });
  });

  it('fails a config whose devices cannot be placed, with the reason in an annotation and an event', async () => {
    await writeMigConfigs({
      impossible: [{ devices: 'all', 'mig-enabled': true, 'mig-devices': { '4g.20gb': 1, '3g.20gb': 2 } }],
    });
    const before = migDevices((await readNode(node0)).status?.capacity);
    await setConfigLabel(node0, 'impossible');
    const node = await waitFor(
      async () => {
        const n = await readNode(node0);
        return n.metadata?.labels?.[STATE] === 'failed' && n;
      },
      { description: 'state failed' },
    );
    expect(node.metadata?.annotations?.['smartmig.io/mig-config-failure']).toMatch(
      /impossible: GPU 0: .*cannot be placed/,
    );
    expect(node.metadata?.labels?.[DEVICE_PLUGIN]).toBe('true');
    expect(migDevices(node.status?.allocatable)).toEqual(before);
    const events = await waitFor(
      async () => {
        const list = await core.listNamespacedEvent({
          namespace: 'default',
          fieldSelector: `involvedObject.name=${node0}`,
        });
        return list.items.find((e) => e.reason === 'MigConfigFailed');
      },
      { description: 'a MigConfigFailed event' },
    );
    expect(events.type).toBe('Warning');
  });

  it('fails a config name the ConfigMap lacks without going through pending', async () => {
    const recorder = await recordNode(node0);
    try {
      await setConfigLabel(node0, 'no-such-config');
      await waitFor(
        async () =>
          (await readNode(node0)).metadata?.annotations?.['smartmig.io/mig-config-failure']?.includes('no-such-config'),
        { description: 'the failure of no-such-config' },
      );
    } finally {
      recorder.stop();
    }
    expect((await readNode(node0)).metadata?.annotations?.['smartmig.io/mig-config-failure']).toBe(
      'no-such-config: mig-configs has no config "no-such-config"',
    );
    expect(recorder.seen.map((s) => s.state)).not.toContain('pending');
    expect(recorder.seen.at(-1)?.state).toBe('failed');
  });

  it('runs a bound pod on a concrete slice and completes it after the scaled run time', async () => {
    await core.createNamespacedPod({ namespace, body: gpuPod('short', MIG_1G, { node: node1, work: '10' }) });
    const running = await waitFor(
      async () => {
        const p = await podStatus('short');
        return p.status?.phase === 'Running' && p;
      },
      { description: 'pod short Running', intervalMs: 50 },
    );
    const runningAt = Date.now();
    expect(running.metadata?.annotations?.['smartmig.io/gpu']).toMatch(/^[01]$/);
    expect(running.metadata?.annotations?.['smartmig.io/slice']).toMatch(/^1g\.5gb@\d$/);
    expect(running.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(fake.board(node1)?.devicesOf(`${namespace}/short`)).toHaveLength(1);
    const done = await waitFor(
      async () => {
        const p = await podStatus('short');
        return p.status?.phase === 'Succeeded' && p;
      },
      { description: 'pod short Succeeded', intervalMs: 50 },
    );
    // 10 minutes on 1g at 600× is one second (the API server keeps times to the second).
    expect(Date.now() - runningAt).toBeGreaterThan(700);
    const terminated = done.status?.containerStatuses?.[0]?.state?.terminated;
    expect(terminated?.reason).toBe('Completed');
    expect(fake.board(node1)?.devicesOf(`${namespace}/short`)).toEqual([]);
    await waitFor(
      async () => !(await readNode(node1)).metadata?.annotations?.['smartmig.io/gpu-slices']?.includes('/short"'),
      {
        description: 'the slice to be free in the node annotation',
      },
    );
  });

  it('runs a pod that the real default kube-scheduler binds by its MIG resource', async () => {
    await core.createNamespacedPod({
      namespace,
      body: gpuPod('scheduled', 'nvidia.com/mig-7g.40gb', { hostname: node0, work: '7' }),
    });
    const done = await waitFor(
      async () => {
        const p = await podStatus('scheduled');
        return p.status?.phase === 'Succeeded' && p;
      },
      { description: 'pod scheduled to run and succeed', timeoutMs: 20_000 },
    );
    expect(done.spec?.nodeName).toBe(node0);
    expect(done.metadata?.annotations?.['smartmig.io/slice']).toBe('7g.40gb@0');
  });

  it('fails a pod whose device is not free with OutOf<resource>, like kubelet', async () => {
    await core.createNamespacedPod({ namespace, body: gpuPod('no-room', 'nvidia.com/mig-3g.20gb', { node: node1 }) });
    const failed = await waitFor(
      async () => {
        const p = await podStatus('no-room');
        return p.status?.phase === 'Failed' && p;
      },
      { description: 'pod no-room Failed' },
    );
    expect(failed.status?.reason).toBe('OutOfnvidia.com/mig-3g.20gb');
    expect(failed.status?.message).toMatch(/requested: 1, used: 0, capacity: 0/);
  });

  it('honours deletion: a deleted running pod is gone at once and frees its slice', async () => {
    await core.createNamespacedPod({ namespace, body: gpuPod('long', MIG_1G, { node: node1, work: '10h' }) });
    await waitFor(async () => (await podStatus('long')).status?.phase === 'Running', {
      description: 'pod long Running',
    });
    expect(fake.board(node1)?.devicesOf(`${namespace}/long`)).toHaveLength(1);
    await core.deleteNamespacedPod({ name: 'long', namespace });
    await waitFor(async () => (await ignoreNotFound(podStatus('long'))) === undefined, {
      description: 'pod long to be deleted',
      timeoutMs: 10_000,
    });
    expect(fake.board(node1)?.devicesOf(`${namespace}/long`)).toEqual([]);
  });

  it('records and reports reconfiguring a GPU that still runs a pod', async () => {
    const port = fake.metricsPort as number;
    expect(metricValue(await metricsText(port), 'smartmig_fake_gpu_busy_reconfigurations_total')).toBe(0);
    await core.createNamespacedPod({ namespace, body: gpuPod('victim', MIG_1G, { node: node1, work: '10h' }) });
    await waitFor(async () => (await podStatus('victim')).status?.phase === 'Running', {
      description: 'pod victim Running',
    });
    await setConfigLabel(node1, 'all-7g.40gb');
    const killed = await waitFor(
      async () => {
        const p = await podStatus('victim');
        return p.status?.phase === 'Failed' && p;
      },
      { description: 'pod victim to fail' },
    );
    expect(killed.status?.reason).toBe('MigReconfigured');
    const text = await metricsText(port);
    expect(metricValue(text, 'smartmig_fake_gpu_busy_reconfigurations_total')).toBe(1);
    expect(text).toMatch(/smartmig_fake_gpu_reconfigurations_total\{result="failed"\} 2/);
    expect(text).toMatch(/smartmig_fake_gpu_slices\{resource="nvidia.com\/mig-7g.40gb",state="free"\} [1-9]/);
    expect(fake.busyReconfigurations()).toMatchObject([
      { node: node1, config: 'all-7g.40gb', pods: [`${namespace}/victim`] },
    ]);
  });
});

// A pod that ends while mig-manager is still applying a change was torn down by it all the same: the record
// must come from the moment the state goes pending, not from whoever is left when the layout lands.
describe('smartmig fake-gpu: a pod that ends during a reconfiguration', () => {
  let namespace: string;
  let fake: FakeGpu;
  let node: string;

  beforeAll(async () => {
    namespace = await createTestNamespace(admin, 'fake-gpu-leaver');
    fake = await startTestFake({
      nodes: 1,
      gpusPerNode: 1,
      // Long enough to delete the pod while the state is pending.
      reconfigureSeconds: 6,
      configMap: `${namespace}/mig-parted-config`,
      nodePrefix: `${uniqueName('fgpl')}-`,
    });
    [node = ''] = fake.nodeNames;
  });

  afterAll(async () => {
    await fake?.stop();
    if (namespace) await deleteTestNamespace(admin, namespace);
  });

  it('records the GPU as reconfigured while busy although the pod was gone when the layout landed', async () => {
    await core.createNamespacedPod({ namespace, body: gpuPod('leaver', MIG_1G, { node, work: '10h' }) });
    await waitFor(
      async () => (await core.readNamespacedPod({ name: 'leaver', namespace })).status?.phase === 'Running',
      { description: 'pod leaver Running' },
    );
    await core.patchNode({
      name: node,
      body: [{ op: 'replace', path: '/metadata/labels/nvidia.com~1mig.config', value: 'all-7g.40gb' }],
    });
    await waitFor(async () => (await readNode(node)).metadata?.labels?.[STATE] === 'pending', {
      description: 'state pending',
      intervalMs: 50,
    });
    await core.deleteNamespacedPod({ name: 'leaver', namespace, gracePeriodSeconds: 0 });
    await waitFor(async () => fake.board(node)?.devicesOf(`${namespace}/leaver`).length === 0, {
      description: 'pod leaver to release its device',
      intervalMs: 50,
    });
    // Still pending: the pod really was gone before the layout landed.
    expect((await readNode(node)).metadata?.labels?.[STATE]).toBe('pending');
    await waitFor(async () => (await readNode(node)).metadata?.labels?.[STATE] === 'success', {
      description: 'state success',
    });
    expect(fake.busyReconfigurations()).toMatchObject([{ node, config: 'all-7g.40gb', pods: [`${namespace}/leaver`] }]);
    const text = await metricsText(fake.metricsPort as number);
    expect(metricValue(text, 'smartmig_fake_gpu_busy_reconfigurations_total')).toBe(1);
  });
});
