// Steering Kubernetes' DRA allocator onto target layouts (docs/adr/0003-mig-on-dra.md): the taint rules that
// dra/steering.ts computes, written to the real API server, decide which MIG devices kube-scheduler 1.37
// allocates on a fake-gpu DRA node; changing the rules (ruleChanges) changes what it may allocate.
import { CoreV1Api, CustomObjectsApi, ResourceV1Api, type V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ruleChanges, steeringRules, type DeviceTaintRule, type GpuTarget } from '../../dra/steering.js';
import { DEFAULT_CONFIG, checkConfig } from '../../fake-gpu/config.js';
import { startFakeGpu, type FakeGpu } from '../../fake-gpu/main.js';
import { findGpuModel, type GpuModel } from '../../policy/mig/catalog.js';
import {
  DEFAULT_SCHEDULER,
  createTestNamespace,
  deleteTestNamespace,
  loadKubeConfig,
  uniqueName,
  waitFor,
} from '../support/cluster.js';

const admin = loadKubeConfig('admin');
const core = admin.makeApiClient(CoreV1Api);
const resource = admin.makeApiClient(ResourceV1Api);
const objects = admin.makeApiClient(CustomObjectsApi);
const A100 = findGpuModel('A100-40GB') as GpuModel;
const RULES = { group: 'resource.k8s.io', version: 'v1', plural: 'devicetaintrules' };
const profileIs = (profile: string) => ({
  deviceClassName: 'mig.nvidia.com',
  selectors: [{ cel: { expression: `device.attributes['gpu.nvidia.com'].profile == '${profile}'` } }],
});

describe('steering the DRA allocator with DeviceTaintRules', () => {
  let namespace: string;
  let fake: FakeGpu;
  let node: string;
  let written: DeviceTaintRule[] = [];

  /** Makes the node's rules those of `targets`: deletes what is no longer wanted, then creates the rest. */
  async function steer(targets: Map<number, GpuTarget>): Promise<{ created: number; removed: number }> {
    const wanted = steeringRules(node, A100, targets);
    const { create, remove } = ruleChanges(written, wanted);
    for (const name of remove) await objects.deleteClusterCustomObject({ ...RULES, name });
    for (const body of create) await objects.createClusterCustomObject({ ...RULES, body });
    written = wanted;
    return { created: create.length, removed: remove.length };
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

  async function allocated(pod: string): Promise<string | false> {
    const p = await core.readNamespacedPod({ name: pod, namespace });
    const claim = p.status?.resourceClaimStatuses?.[0]?.resourceClaimName;
    if (p.status?.phase !== 'Running' || !claim) return false;
    const c = await resource.readNamespacedResourceClaim({ name: claim, namespace });
    const r = c.status?.allocation?.devices?.results?.[0];
    return r ? `${r.request} ${r.device}` : false;
  }

  async function unschedulable(pod: string): Promise<string | false> {
    const p = await core.readNamespacedPod({ name: pod, namespace });
    const c = p.status?.conditions?.find((x) => x.type === 'PodScheduled');
    return c?.status === 'False' && c.reason === 'Unschedulable' && (c.message ?? '');
  }

  beforeAll(async () => {
    namespace = await createTestNamespace(admin, 'dra-steering');
    const checked = checkConfig({
      ...DEFAULT_CONFIG,
      allocationMode: 'dra',
      nodes: 1,
      gpusPerNode: 2,
      timeScale: 600,
      heartbeatSeconds: 1,
      cleanup: true,
      nodePrefix: `${uniqueName('steer')}-`,
    });
    if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
    fake = await startFakeGpu({ config: checked.config, kc: admin, log: pino({ level: 'silent' }) });
    [node = ''] = fake.nodeNames;
    const template = async (name: string, request: Record<string, unknown>) =>
      resource.createNamespacedResourceClaimTemplate({
        namespace,
        body: { metadata: { name }, spec: { spec: { devices: { requests: [{ name: 'gpu', ...request }] } } } },
      });
    await template('small-else-medium', {
      firstAvailable: [
        { name: 'small', ...profileIs('1g.5gb') },
        { name: 'medium', ...profileIs('2g.10gb') },
      ],
    });
    await template('whole-mig', { exactly: profileIs('7g.40gb') });
  });

  afterAll(async () => {
    if (node) await steer(new Map()).catch(() => undefined);
    await fake?.stop();
    if (namespace) await deleteTestNamespace(admin, namespace);
  });

  it('allocates only devices of the target layout, and nothing on a draining GPU', async () => {
    // GPU 0 holds 2g.10gb, 2g.10gb, 3g.20gb; GPU 1 drains.
    const layout = {
      slices: [
        { profile: '2g.10gb', start: 0 },
        { profile: '2g.10gb', start: 2 },
        { profile: '3g.20gb', start: 4 },
      ],
    };
    const { created } = await steer(
      new Map<number, GpuTarget>([
        [0, { kind: 'layout', layout }],
        [1, { kind: 'drain' }],
      ]),
    );
    expect(created).toBe(26 - 3 + 26);
    // The claim prefers a 1g.5gb, but every 1g.5gb is tainted: the allocator falls back to a 2g.10gb of GPU 0.
    await core.createNamespacedPod({ namespace, body: claimPod('prefers-small', 'small-else-medium') });
    const got = await waitFor(() => allocated('prefers-small'), { description: 'prefers-small allocated' });
    expect(got).toMatch(/^gpu\/medium gpu-0-mig-2g10gb-14-[02]$/);
    // No 7g.40gb outside the layouts: the pod waits.
    await core.createNamespacedPod({ namespace, body: claimPod('whole', 'whole-mig') });
    const why = await waitFor(() => unschedulable('whole'), { description: 'whole Unschedulable' });
    expect(why).toMatch(/cannot allocate all claims/);
  });

  it('lets the allocator use a GPU once its rules change to the new layout', async () => {
    const layout = { slices: [{ profile: '7g.40gb', start: 0 }] };
    const { created, removed } = await steer(
      new Map<number, GpuTarget>([
        [
          0,
          {
            kind: 'layout',
            layout: {
              slices: [
                { profile: '2g.10gb', start: 0 },
                { profile: '2g.10gb', start: 2 },
                { profile: '3g.20gb', start: 4 },
              ],
            },
          },
        ],
        [1, { kind: 'layout', layout }],
      ]),
    );
    expect({ created, removed }).toEqual({ created: 0, removed: 1 });
    const got = await waitFor(() => allocated('whole'), { description: 'whole allocated', timeoutMs: 30_000 });
    expect(got).toBe('gpu gpu-1-mig-7g40gb-0-0');
  });
});
