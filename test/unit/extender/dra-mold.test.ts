// Moldable pods on DRA (smartmig.io/allocation: dra): the order of preference, the ResourceClaimTemplate whose
// firstAvailable lists it, the JSON Patch that gives the pod a claim from it, and the webhook's answers.
import type { V1ResourceClaimTemplate } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  migClaimTemplate,
  migClaimTemplateSpec,
  profileSelector,
  subrequestName,
} from '../../../dra/claim-templates.js';
import { buildExtender } from '../../../extender/app.js';
import { ClusterCache } from '../../../extender/cache.js';
import type { ClaimTemplates } from '../../../extender/claim-templates.js';
import {
  allocationMode,
  draMoldPatch,
  draMoldTarget,
  preferenceOrder,
  type DraMold,
} from '../../../extender/dra-mold.js';
import type { PatchOp } from '../../../extender/mold.js';
import type { AdmissionResponse, Pod } from '../../../extender/schemas.js';
import { ProfileBook } from '../../../policy/workload/job.js';
import { minutes, noBinder, node, pod } from './builders.js';

/** RFC 6902 add and remove, enough to check what a patch does to a pod. */
function applyPatch<T>(doc: T, ops: readonly PatchOp[]): T {
  const out = JSON.parse(JSON.stringify(doc)) as unknown; // JSON, as the API server has it: no shared objects
  for (const op of ops) {
    const parts = op.path
      .slice(1)
      .split('/')
      .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
    const last = parts.pop() as string;
    let parent = out as Record<string, unknown>;
    for (const p of parts) parent = parent[p] as Record<string, unknown>;
    if (op.op === 'remove') {
      if (!(last in parent)) throw new Error(`remove of a missing ${op.path}`);
      delete parent[last];
    } else if (Array.isArray(parent) && last === '-') (parent as unknown[]).push(op.value);
    else parent[last] = op.value;
  }
  return out as T;
}

describe('preferenceOrder', () => {
  it.each([
    [
      'the choice, then larger ones nearest first, then smaller ones nearest first',
      '2g.10gb',
      ['1g.5gb', '7g.40gb', '2g.10gb', '4g.20gb', '3g.20gb'],
      ['2g.10gb', '3g.20gb', '4g.20gb', '7g.40gb', '1g.5gb'],
    ],
    [
      'memory breaks ties of compute, media extensions come after',
      '3g.20gb',
      ['1g.5gb', '1g.10gb', '1g.5gb+me', '2g.10gb', '3g.20gb', '7g.40gb'],
      ['3g.20gb', '7g.40gb', '2g.10gb', '1g.10gb', '1g.5gb+me', '1g.5gb'],
    ],
    [
      'the smallest chosen: only larger ones follow',
      '1g.5gb',
      ['3g.20gb', '1g.5gb', '2g.10gb'],
      ['1g.5gb', '2g.10gb', '3g.20gb'],
    ],
    [
      'the largest chosen: only smaller ones follow',
      '7g.40gb',
      ['1g.5gb', '7g.40gb', '4g.20gb'],
      ['7g.40gb', '4g.20gb', '1g.5gb'],
    ],
    ['one profile, listed twice', '1g.5gb', ['1g.5gb', '1g.5gb'], ['1g.5gb']],
  ])('%s', (_name, choice, accepted, order) => expect(preferenceOrder(choice, accepted)).toEqual(order));
});

describe('migClaimTemplate', () => {
  const cel = (p: string) => [{ cel: { expression: `device.attributes['gpu.nvidia.com'].profile == '${p}'` } }];

  it('lists the profiles as firstAvailable subrequests of the MIG class, selected by profile', () => {
    const t = migClaimTemplate('jobs', ['2g.10gb', '3g.20gb', '1g.5gb+me']);
    expect(t.spec).toEqual({
      spec: {
        devices: {
          requests: [
            {
              name: 'mig',
              firstAvailable: [
                { name: '2g10gb', deviceClassName: 'mig.nvidia.com', selectors: cel('2g.10gb') },
                { name: '3g20gb', deviceClassName: 'mig.nvidia.com', selectors: cel('3g.20gb') },
                { name: '1g5gb-me', deviceClassName: 'mig.nvidia.com', selectors: cel('1g.5gb+me') },
              ],
            },
          ],
        },
      },
    });
    expect(t.metadata).toMatchObject({
      namespace: 'jobs',
      labels: { 'app.kubernetes.io/managed-by': 'smartmig' },
      annotations: { 'smartmig.io/profiles': '2g.10gb,3g.20gb,1g.5gb+me' },
    });
    expect(t.metadata?.name).toMatch(/^smartmig-mig-[0-9a-f]{10}$/);
    expect(t.metadata?.annotations?.['smartmig.io/claim-spec-hash']).toMatch(
      new RegExp(`^${(t.metadata?.name ?? '').slice('smartmig-mig-'.length)}[0-9a-f]{54}$`),
    );
  });

  it('is named by its content: the same order and count give the same name in every namespace', () => {
    const name = (ns: string, order: string[], count?: number) => migClaimTemplate(ns, order, count).metadata?.name;
    expect(name('a', ['1g.5gb', '2g.10gb'])).toBe(name('b', ['1g.5gb', '2g.10gb']));
    expect(name('a', ['1g.5gb', '2g.10gb'])).not.toBe(name('a', ['2g.10gb', '1g.5gb']));
    expect(name('a', ['1g.5gb'])).not.toBe(name('a', ['1g.5gb'], 2));
  });

  it('asks for an exact count of more than one device', () => {
    const sub = migClaimTemplateSpec(['1g.5gb'], 2).spec.devices?.requests?.[0]?.firstAvailable?.[0];
    expect(sub).toMatchObject({ allocationMode: 'ExactCount', count: 2 });
  });

  it('refuses an empty list, a zero count and profiles that repeat', () => {
    expect(() => migClaimTemplateSpec([])).toThrow(/at least one profile/);
    expect(() => migClaimTemplateSpec(['1g.5gb'], 0)).toThrow(/1 or more devices/);
    expect(() => migClaimTemplateSpec(['1g.5gb', '1g.5gb'])).toThrow(/repeat/);
  });

  it('names subrequests as DNS labels and selects on the driver attribute', () => {
    expect(subrequestName('1g.5gb+me')).toBe('1g5gb-me');
    expect(profileSelector('4g.20gb')).toBe("device.attributes['gpu.nvidia.com'].profile == '4g.20gb'");
  });
});

const withAnnotations = (p: Pod, annotations: Record<string, string>): Pod => ({
  ...p,
  metadata: { ...p.metadata, annotations },
});

describe('allocationMode', () => {
  it.each([
    [{}, 'device-plugin', []],
    [{ 'smartmig.io/allocation': 'device-plugin' }, 'device-plugin', []],
    [{ 'smartmig.io/allocation': ' dra ', 'smartmig.io/profiles': '1g.5gb' }, 'dra', []],
    [{ 'smartmig.io/allocation': 'dra' }, 'dra', [/"dra" needs smartmig\.io\/profiles/]],
    [{ 'smartmig.io/allocation': 'DRA!' }, 'device-plugin', [/"DRA!" is neither "dra" nor "device-plugin"/]],
  ])('%j → %s', (annotations, mode, messages) => {
    const got = allocationMode(withAnnotations(pod('p'), annotations));
    expect(got.mode).toBe(mode);
    expect(got.issues.map((i) => i.annotation)).toEqual(messages.map(() => 'smartmig.io/allocation'));
    got.issues.forEach((i, k) => expect(i.message).toMatch(messages[k] as RegExp));
  });
});

describe('draMoldTarget and draMoldPatch', () => {
  const spec = (s: Record<string, unknown>): Pod => ({ metadata: { name: 'p' }, spec: s as Pod['spec'] });

  it('moves the MIG request of the asking container to the claim, keeping its count', () => {
    const p = spec({
      containers: [
        { name: 'sidecar' },
        {
          name: 'job',
          resources: {
            limits: { cpu: '1', 'nvidia.com/mig-1g.5gb': '2' },
            requests: { 'nvidia.com/mig-1g.5gb': '2' },
          },
        },
      ],
    });
    const target = draMoldTarget(p) as DraMold;
    expect(target).toEqual({ count: 2, container: 1 });
    const ops = draMoldPatch(p, target, 'smartmig-mig-0123456789');
    expect(ops).toEqual([
      {
        op: 'add',
        path: '/spec/resourceClaims',
        value: [{ name: 'smartmig-mig', resourceClaimTemplateName: 'smartmig-mig-0123456789' }],
      },
      { op: 'remove', path: '/spec/containers/1/resources/limits/nvidia.com~1mig-1g.5gb' },
      { op: 'remove', path: '/spec/containers/1/resources/requests/nvidia.com~1mig-1g.5gb' },
      { op: 'add', path: '/spec/containers/1/resources/claims', value: [{ name: 'smartmig-mig' }] },
    ]);
    expect(applyPatch(p, ops).spec).toEqual({
      containers: [
        { name: 'sidecar' },
        { name: 'job', resources: { limits: { cpu: '1' }, requests: {}, claims: [{ name: 'smartmig-mig' }] } },
      ],
      resourceClaims: [{ name: 'smartmig-mig', resourceClaimTemplateName: 'smartmig-mig-0123456789' }],
    });
  });

  it('gives the first container one device when no container asks, appending to existing claims', () => {
    const p = spec({
      resourceClaims: [{ name: 'scratch', resourceClaimName: 'scratch' }],
      containers: [{ name: 'a', resources: { claims: [{ name: 'scratch' }] } }, { name: 'b' }],
    });
    const target = draMoldTarget(p) as DraMold;
    expect(target).toEqual({ count: 1, container: 0 });
    const patched = applyPatch(p, draMoldPatch(p, target, 't')).spec as Record<string, unknown>;
    expect(patched['resourceClaims']).toEqual([
      { name: 'scratch', resourceClaimName: 'scratch' },
      { name: 'smartmig-mig', resourceClaimTemplateName: 't' },
    ]);
    expect(patched['containers']).toEqual([
      { name: 'a', resources: { claims: [{ name: 'scratch' }, { name: 'smartmig-mig' }] } },
      { name: 'b' },
    ]);
  });

  it('adds resources to a container that has none', () => {
    const p = spec({ containers: [{ name: 'a' }] });
    expect(draMoldPatch(p, { count: 1, container: 0 }, 't').at(-1)).toEqual({
      op: 'add',
      path: '/spec/containers/0/resources',
      value: { claims: [{ name: 'smartmig-mig' }] },
    });
  });

  it.each([
    ['no container', spec({ containers: [] }), /no container/],
    [
      'two containers asking',
      spec({
        containers: [
          { resources: { limits: { 'nvidia.com/mig-1g.5gb': '1' } } },
          { resources: { requests: { 'nvidia.com/mig-2g.10gb': '1' } } },
        ],
      }),
      /containers 0, 1 ask for nvidia\.com\/mig-\* resources/,
    ],
    [
      'an init container asking',
      spec({ containers: [{}], initContainers: [{ resources: { limits: { 'nvidia.com/mig-1g.5gb': '1' } } }] }),
      /init containers ask/,
    ],
    [
      'a claim of the same name',
      spec({ containers: [{}], resourceClaims: [{ name: 'smartmig-mig', resourceClaimName: 'x' }] }),
      /already has an entry named "smartmig-mig"/,
    ],
  ])('refuses %s', (_name, p, message) => {
    const got = draMoldTarget(p);
    expect('issue' in got && got.issue).toMatch(message);
  });
});

describe('mutate with smartmig.io/allocation: dra', () => {
  class FakeTemplates implements ClaimTemplates {
    readonly seen: { template: V1ResourceClaimTemplate; dryRun: boolean }[] = [];
    constructor(private readonly fail?: string) {}
    ensure(template: V1ResourceClaimTemplate, dryRun: boolean) {
      this.seen.push({ template, dryRun });
      return this.fail ? Promise.reject(new Error(this.fail)) : Promise.resolve('created' as const);
    }
  }

  function app(claimTemplates?: ClaimTemplates) {
    const cache = new ClusterCache(new ProfileBook());
    cache.upsertNode(
      node('n', {
        gpus: 4,
        mig: {
          'nvidia.com/mig-1g.5gb': 7,
          'nvidia.com/mig-2g.10gb': 3,
          'nvidia.com/mig-3g.20gb': 2,
          'nvidia.com/mig-7g.40gb': 1,
        },
      }),
    );
    return buildExtender({ cache, binder: noBinder, clock: () => minutes(0), claimTemplates });
  }

  async function mutate(object: unknown, claimTemplates?: ClaimTemplates, dryRun = false) {
    const payload = {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'u-1',
        kind: { group: '', version: 'v1', kind: 'Pod' },
        operation: 'CREATE',
        namespace: 'jobs',
        object,
        dryRun,
      },
    };
    const res = await app(claimTemplates).inject({ method: 'POST', url: '/mutate', payload });
    expect(res.statusCode).toBe(200);
    const response = res.json<{ response: AdmissionResponse }>().response;
    const patch = response.patch
      ? (JSON.parse(Buffer.from(response.patch, 'base64').toString()) as PatchOp[])
      : undefined;
    return { response, patch };
  }

  const draPod = (annotations: Record<string, string>) =>
    pod('m', {
      mig: { 'nvidia.com/mig-7g.40gb': 1 },
      annotations: {
        'smartmig.io/workload': 'bert-inference',
        'smartmig.io/work': '60',
        'smartmig.io/allocation': 'dra',
        'smartmig.io/profiles': '1g.5gb,2g.10gb,3g.20gb,7g.40gb',
        ...annotations,
      },
    });

  it.each([
    ['a loose deadline', '2h', ['1g.5gb', '2g.10gb', '3g.20gb', '7g.40gb']],
    ['a tight deadline', '25m', ['3g.20gb', '7g.40gb', '2g.10gb', '1g.5gb']],
  ])("%s: the webhook's choice first in the template, the pod's claim from it", async (_name, deadline, order) => {
    const templates = new FakeTemplates();
    const { response, patch } = await mutate(draPod({ 'smartmig.io/deadline': deadline }), templates);
    expect(response.allowed).toBe(true);
    expect(templates.seen).toHaveLength(1);
    const { template, dryRun } = templates.seen[0] as { template: V1ResourceClaimTemplate; dryRun: boolean };
    expect(dryRun).toBe(false);
    expect(template).toEqual(migClaimTemplate('jobs', order));
    const patched = applyPatch(draPod({}), patch ?? []);
    expect((patched.spec as Record<string, unknown>)['resourceClaims']).toEqual([
      { name: 'smartmig-mig', resourceClaimTemplateName: template.metadata?.name },
    ]);
    expect(patched.spec.containers[0]?.resources).toEqual({
      limits: {},
      requests: {},
      claims: [{ name: 'smartmig-mig' }],
    });
  });

  it('passes a dry run on to the template store', async () => {
    const templates = new FakeTemplates();
    const { response } = await mutate(draPod({}), templates, true);
    expect(response.allowed).toBe(true);
    expect(templates.seen[0]?.dryRun).toBe(true);
  });

  it.each([
    [
      'an unknown profile',
      { 'smartmig.io/profiles': '1g.5gb,9g.99gb' },
      /smartmig\.io\/profiles: has unknown MIG profiles 9g\.99gb/,
    ],
    ['an empty list', { 'smartmig.io/profiles': ' , ' }, /smartmig\.io\/profiles: lists no profile/],
    ['a bad allocation', { 'smartmig.io/allocation': 'claims' }, /smartmig\.io\/allocation: "claims" is neither/],
  ])('refuses %s with code 400 and writes no template', async (_name, annotations, message) => {
    const templates = new FakeTemplates();
    const { response, patch } = await mutate(draPod(annotations), templates);
    expect(response.allowed).toBe(false);
    expect(response.status).toMatchObject({ code: 400, reason: 'BadRequest' });
    expect(response.status?.message).toMatch(message);
    expect(patch).toBeUndefined();
    expect(templates.seen).toHaveLength(0);
  });

  it('refuses a pod whose two containers ask for slices', async () => {
    const p = draPod({});
    p.spec.containers.push({ name: 'second', resources: { limits: { 'nvidia.com/mig-1g.5gb': '1' } } });
    const { response } = await mutate(p, new FakeTemplates());
    expect(response.status).toMatchObject({ code: 400 });
    expect(response.status?.message).toMatch(/^smartmig\.io\/allocation: dra: containers 0, 1 ask/);
  });

  it('refuses with code 500 when the template cannot be written, or nothing writes templates', async () => {
    const failed = await mutate(draPod({}), new FakeTemplates('cannot create ResourceClaimTemplate jobs/x: forbidden'));
    expect(failed.response.allowed).toBe(false);
    expect(failed.response.status).toMatchObject({ code: 500, reason: 'InternalError' });
    expect(failed.response.status?.message).toBe(
      'smartmig.io/allocation: dra: cannot create ResourceClaimTemplate jobs/x: forbidden',
    );
    const none = await mutate(draPod({}));
    expect(none.response.status).toMatchObject({ code: 500 });
    expect(none.response.status?.message).toMatch(/writes no claim templates/);
  });

  it('keeps the device-plugin path for smartmig.io/allocation: device-plugin', async () => {
    const templates = new FakeTemplates();
    const { patch } = await mutate(
      draPod({ 'smartmig.io/allocation': 'device-plugin', 'smartmig.io/deadline': '2h' }),
      templates,
    );
    expect(templates.seen).toHaveLength(0);
    expect(patch?.map((op) => op.path)).toEqual([
      '/spec/containers/0/resources/limits/nvidia.com~1mig-7g.40gb',
      '/spec/containers/0/resources/limits/nvidia.com~1mig-1g.5gb',
      '/spec/containers/0/resources/requests/nvidia.com~1mig-7g.40gb',
      '/spec/containers/0/resources/requests/nvidia.com~1mig-1g.5gb',
    ]);
  });
});
