// The extender's list/watch loops against the real API server through a TCP relay: when every
// connection drops and new ones are refused for a while, they back off, come back, and catch up with
// what changed meanwhile; pods that finish leave the cache through the watch's field selector.
import { CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterCache } from '../../extender/cache.js';
import { startInformers, type Informers } from '../../extender/informers.js';
import { createMetrics } from '../../extender/metrics.js';
import { PartitionPolicies } from '../../extender/partitions.js';
import { ProfileBook } from '../../policy/workload/job.js';
import { grantExtenderRbac } from './extender-cluster.js';
import { Cuttable } from './relay.js';
import {
  createTestNamespace,
  deleteTestNamespace,
  fakeNode,
  ignoreNotFound,
  loadKubeConfig,
  uniqueName,
  waitFor,
} from '../support/cluster.js';

const admin = loadKubeConfig('admin');
const core = admin.makeApiClient(CoreV1Api);
const run = uniqueName('inf');
const MIG = 'nvidia.com/mig-1g.5gb';
let relay: Cuttable;
let namespace = '';
let informers: Informers | undefined;
const book = new ProfileBook();
const cache = new ClusterCache(book);
const metrics = createMetrics();
const silent = pino({ level: 'silent' });
const nodes: string[] = [];

async function addNode(suffix: string): Promise<string> {
  const name = `${run}-${suffix}`;
  await core.createNode({
    body: fakeNode({ name, capacity: { [MIG]: '7' }, labels: { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-40GB' } }),
  });
  nodes.push(name);
  return name;
}

const restarts = async (): Promise<number> =>
  (await metrics.informerRestarts.get()).values.reduce((a, v) => a + v.value, 0);

beforeAll(async () => {
  await grantExtenderRbac();
  relay = new Cuttable(new URL(admin.getCurrentCluster()?.server ?? ''));
  await relay.start();
  namespace = await createTestNamespace(admin, 'informers');
  const kc = relay.kubeConfig('extender');
  informers = startInformers({
    kc,
    core: kc.makeApiClient(CoreV1Api),
    cache,
    policies: new PartitionPolicies(book, cache, silent),
    clock: Date.now,
    log: silent,
    metrics,
    backoff: { minMs: 100, maxMs: 1000 },
  });
  await waitFor(() => informers?.synced(), { description: 'informers synced' });
}, 60_000);

afterAll(async () => {
  informers?.stop();
  await relay?.cut();
  if (namespace) await deleteTestNamespace(admin, namespace);
  for (const n of nodes) await ignoreNotFound(core.deleteNode({ name: n }));
}, 60_000);

describe('extender informers', () => {
  it('follow nodes and the slices pods hold, and drop pods that finish', async () => {
    const node = await addNode('a');
    await waitFor(() => cache.nodeState(node), { description: 'node in cache' });
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'job' },
        spec: {
          nodeName: node,
          containers: [{ name: 'c', image: 'registry.invalid/x:1', resources: { limits: { [MIG]: '2' } } }],
        },
      },
    });
    await waitFor(() => cache.nodeState(node)?.used.get('1g.5gb') === 2, { description: 'pod slices counted' });
    await core.patchNamespacedPodStatus(
      { name: 'job', namespace, body: { status: { phase: 'Succeeded' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await waitFor(() => (cache.nodeState(node)?.used.get('1g.5gb') ?? 0) === 0, {
      description: 'finished pod dropped',
    });
  });

  it('become ready without the MigPartition CRD (404), keep the built-in profiles and count no restarts', async () => {
    const ownBook = new ProfileBook();
    const ownCache = new ClusterCache(ownBook);
    const ownMetrics = createMetrics();
    const kc = relay.kubeConfig('extender');
    const noCrd = startInformers({
      kc,
      core: kc.makeApiClient(CoreV1Api),
      cache: ownCache,
      policies: new PartitionPolicies(ownBook, ownCache, silent),
      clock: Date.now,
      log: silent,
      metrics: ownMetrics,
      backoff: { minMs: 100, maxMs: 200 },
      // A version of the group the API server does not serve answers 404, as a cluster without the CRD does.
      partitionResource: { group: 'smartmig.io', version: 'v0absent', plural: 'migpartitions' },
    });
    try {
      await waitFor(() => noCrd.synced(), { description: 'ready without the CRD' });
      const partitions = noCrd.reflectors.find((r) => r.resource === 'migpartitions');
      expect(partitions?.synced).toBe(false);
      // Several quiet retries later it is still ready, and none of them counted as a restart.
      await new Promise((r) => setTimeout(r, 1000));
      expect(noCrd.synced()).toBe(true);
      const counted = (await ownMetrics.informerRestarts.get()).values.filter(
        (v) => v.labels.resource === 'migpartitions',
      );
      expect(counted.reduce((a, v) => a + v.value, 0)).toBe(0);
      expect(ownBook.has('bert-training')).toBe(true);
    } finally {
      noCrd.stop();
    }
  });

  it('back off while the API server is unreachable and catch up when it returns', async () => {
    const before = await restarts();
    const gone = await addNode('gone');
    await waitFor(() => cache.nodeState(gone), { description: 'node in cache' });
    await relay.cut();
    await core.deleteNode({ name: gone });
    const added = await addNode('added');
    // Let the loops fail a few times against the closed port.
    await waitFor(async () => (await restarts()) >= before + 2, {
      description: 'informer restarts',
      timeoutMs: 20_000,
    });
    expect(informers?.synced()).toBe(true);
    expect(cache.nodeState(added)).toBeUndefined();
    await relay.start();
    await waitFor(() => cache.nodeState(added) && !cache.nodeState(gone), {
      description: 'the cache to catch up after the outage',
      timeoutMs: 30_000,
    });
  }, 60_000);
});
