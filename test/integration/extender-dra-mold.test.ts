// Moldable pods on DRA against the real control plane: the API server calls the extender's webhook over HTTPS,
// the webhook creates (or reuses) a ResourceClaimTemplate with the chart's extender RBAC and gives the pod a
// claim from it, and the stock kube-scheduler 1.37 allocates that claim on a fake-gpu DRA node, taking the
// first firstAvailable subrequest that fits: smartmig's choice, or the next once the choice's devices are
// tainted away.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, ResourceV1Api, type V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subrequestName } from '../../dra/claim-templates.js';
import { DRIVER, deviceName } from '../../dra/devices.js';
import { STEERING_TAINT, type DeviceTaintRule } from '../../dra/steering.js';
import { preferenceOrder } from '../../extender/dra-mold.js';
import { startExtender } from '../../extender/main.js';
import { DEFAULT_CONFIG, checkConfig } from '../../fake-gpu/config.js';
import { startFakeGpu, type FakeGpu } from '../../fake-gpu/main.js';
import { findGpuModel, findProfile, type GpuModel, type MigProfile } from '../../policy/mig/catalog.js';
import { grantExtenderRbac } from './extender-cluster.js';
import {
  DEFAULT_SCHEDULER,
  createTestNamespace,
  deleteTestNamespace,
  ignoreNotFound,
  kubeconfigPath,
  loadKubeConfig,
  statusCode,
  uniqueName,
  waitFor,
} from '../support/cluster.js';
import { makeServingCerts, registerPodWebhook } from '../support/webhook.js';

const admin = loadKubeConfig('admin');
const core = admin.makeApiClient(CoreV1Api);
const resource = admin.makeApiClient(ResourceV1Api);
const objects = admin.makeApiClient(CustomObjectsApi);
const A100 = findGpuModel('A100-40GB') as GpuModel;
const RULES = { group: 'resource.k8s.io', version: 'v1', plural: 'devicetaintrules' };
const ACCEPTED = ['1g.5gb', '2g.10gb', '3g.20gb'];
const run = uniqueName('dramold');

describe('DRA moldable pods: webhook, claim template and the real allocator', () => {
  let namespace = '';
  let node = '';
  let fake: FakeGpu | undefined;
  const cleanups: (() => Promise<unknown>)[] = [];
  const rules: string[] = [];

  function moldablePod(name: string, annotations: Record<string, string> = {}): V1Pod {
    return {
      metadata: {
        name,
        annotations: {
          'smartmig.io/allocation': 'dra',
          'smartmig.io/profiles': ACCEPTED.join(','),
          'smartmig.io/work': '10h',
          ...annotations,
        },
      },
      spec: {
        schedulerName: DEFAULT_SCHEDULER,
        nodeSelector: { 'kubernetes.io/hostname': node },
        containers: [
          {
            name: 'job',
            image: 'registry.invalid/job:1',
            resources: { limits: { cpu: '100m', 'nvidia.com/mig-1g.5gb': '1' } },
          },
        ],
      },
    };
  }

  /** The profiles of the pod's template, in firstAvailable order. */
  async function templateOrder(pod: V1Pod): Promise<{ name: string; profiles: string[] }> {
    const entry = pod.spec?.resourceClaims?.find((c) => c.name === 'smartmig-mig');
    const name = entry?.resourceClaimTemplateName ?? '';
    const t = await resource.readNamespacedResourceClaimTemplate({ name, namespace });
    const subs = t.spec.spec.devices?.requests?.[0]?.firstAvailable ?? [];
    const profiles = subs.map((s) => /profile == '([^']+)'$/.exec(s.selectors?.[0]?.cel?.expression ?? '')?.[1] ?? '');
    expect(subs.map((s) => s.deviceClassName)).toEqual(profiles.map(() => 'mig.nvidia.com'));
    expect(subs.map((s) => s.name)).toEqual(profiles.map(subrequestName));
    return { name, profiles };
  }

  /** `<request>/<subrequest> <device>` of the pod's allocated claim once it runs. */
  async function allocated(name: string): Promise<{ request: string; device: string } | false> {
    const p = await core.readNamespacedPod({ name, namespace });
    const claim = p.status?.resourceClaimStatuses?.find((s) => s.name === 'smartmig-mig')?.resourceClaimName;
    if (p.status?.phase !== 'Running' || !claim) return false;
    const c = await resource.readNamespacedResourceClaim({ name: claim, namespace });
    const r = c.status?.allocation?.devices?.results?.[0];
    return r ? { request: r.request, device: r.device } : false;
  }

  /** NoSchedule on every placement of `profile` on the node's GPU: the allocator can no longer pick it. */
  async function taintProfile(profile: MigProfile): Promise<void> {
    for (const start of profile.starts) {
      const body: DeviceTaintRule = {
        apiVersion: 'resource.k8s.io/v1',
        kind: 'DeviceTaintRule',
        metadata: { name: `${run}-${subrequestName(profile.name)}-${start}` },
        spec: {
          deviceSelector: {
            driver: DRIVER,
            pool: node,
            device: deviceName(A100, { kind: 'mig', gpu: 0, profile, start }),
          },
          taint: STEERING_TAINT,
        },
      };
      await objects.createClusterCustomObject({ ...RULES, body });
      rules.push(body.metadata.name);
    }
  }

  beforeAll(async () => {
    await grantExtenderRbac();
    namespace = await createTestNamespace(admin, 'dra-mold');
    const checked = checkConfig({
      ...DEFAULT_CONFIG,
      allocationMode: 'dra',
      nodes: 1,
      gpusPerNode: 1,
      timeScale: 600,
      heartbeatSeconds: 1,
      cleanup: true,
      nodePrefix: `${run}-`,
    });
    if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
    fake = await startFakeGpu({ config: checked.config, kc: admin, log: pino({ level: 'silent' }) });
    [node = ''] = fake.nodeNames;

    const dir = mkdtempSync(join(tmpdir(), 'smartmig-dra-webhook-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    makeServingCerts(dir);
    const ext = await startExtender({
      host: '127.0.0.1',
      port: 0,
      kubeconfig: kubeconfigPath('extender'),
      tlsCert: join(dir, 'tls.crt'),
      tlsKey: join(dir, 'tls.key'),
      logLevel: 'warn',
    });
    cleanups.push(() => ext.close());
    const hook = { name: `${run}.smartmig.io`, url: `${ext.url}/mutate`, certDir: dir, namespace };
    // A pod whose allocation the webhook cannot read is refused: once it is, the API server calls the extender.
    const remove = await registerPodWebhook(admin, hook, () =>
      core.createNamespacedPod({
        namespace,
        dryRun: 'All',
        body: moldablePod('probe', { 'smartmig.io/allocation': 'never' }),
      }),
    );
    cleanups.push(remove);
  }, 120_000);

  afterAll(async () => {
    for (const name of rules) await ignoreNotFound(objects.deleteClusterCustomObject({ ...RULES, name }));
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await fake?.stop();
    if (namespace) await deleteTestNamespace(admin, namespace);
  }, 120_000);

  let first: { name: string; profiles: string[] } = { name: '', profiles: [] };

  it("gives the pod a claim whose template lists the accepted profiles, smartmig's choice first", async () => {
    const created = await core.createNamespacedPod({ namespace, body: moldablePod('first') });
    expect(created.spec?.containers[0]?.resources?.limits).toEqual({ cpu: '100m' });
    expect(created.spec?.containers[0]?.resources?.claims).toEqual([{ name: 'smartmig-mig' }]);
    first = await templateOrder(created);
    expect(first.name).toMatch(/^smartmig-mig-[0-9a-f]{10}$/);
    // The choice depends on the whole cluster's free slices (other tests' nodes); the rest follows from it.
    expect(ACCEPTED).toContain(first.profiles[0]);
    expect(first.profiles).toEqual(preferenceOrder(first.profiles[0] as string, ACCEPTED));
    const got = await waitFor(() => allocated('first'), { description: 'pod first Running with its claim' });
    const sub = subrequestName(first.profiles[0] as string);
    expect(got.request).toBe(`mig/${sub}`);
    expect(got.device).toMatch(new RegExp(`^gpu-0-mig-${sub}-\\d+-\\d$`));
  });

  it('takes the next subrequest once every placement of the first choice is tainted', async () => {
    const [choice, next] = first.profiles;
    await taintProfile(findProfile(A100, choice as string) as MigProfile);
    const created = await core.createNamespacedPod({ namespace, body: moldablePod('second') });
    const second = await templateOrder(created);
    if (second.profiles[0] === choice) expect(second.name).toBe(first.name); // reused, not created again
    const got = await waitFor(() => allocated('second'), { description: 'pod second Running with its claim' });
    const expected = second.profiles.find((p) => p !== choice) as string;
    if (second.profiles[0] === choice) expect(expected).toBe(next);
    expect(got.request).toBe(`mig/${subrequestName(expected)}`);
    expect(got.device).toMatch(new RegExp(`^gpu-0-mig-${subrequestName(expected)}-\\d+-\\d$`));
  });

  it('creates nothing on a dry run', async () => {
    const body = moldablePod('dry', { 'smartmig.io/profiles': '4g.20gb,7g.40gb' });
    const created = await core.createNamespacedPod({ namespace, body, dryRun: 'All' });
    const name = created.spec?.resourceClaims?.[0]?.resourceClaimTemplateName ?? '';
    expect(name).toMatch(/^smartmig-mig-/);
    expect(await ignoreNotFound(resource.readNamespacedResourceClaimTemplate({ name, namespace }))).toBeUndefined();
  });

  it('refuses an unknown profile with the reason', async () => {
    const body = moldablePod('bad', { 'smartmig.io/profiles': '1g.5gb,9g.99gb' });
    const err = await core.createNamespacedPod({ namespace, body }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(statusCode(err)).toBe(400);
    expect(String((err as { body?: unknown }).body)).toContain(
      'smartmig.io/profiles: has unknown MIG profiles 9g.99gb',
    );
  });
});
