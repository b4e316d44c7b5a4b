// The mutating admission webhook: moldable pods get the heuristic's slice as a JSON Patch; invalid
// smartmig.io annotations are refused with the reason; everything else passes untouched.
import { describe, expect, it } from 'vitest';
import { buildExtender } from '../../../extender/app.js';
import { ClusterCache } from '../../../extender/cache.js';
import { moldPatch, pointer, type PatchOp } from '../../../extender/mold.js';
import type { AdmissionResponse, Node, Pod } from '../../../extender/schemas.js';
import { ProfileBook } from '../../../policy/workload/job.js';
import { minutes, noBinder, node, pod } from './builders.js';

function app(
  nodes: Node[] = [
    node('n', {
      gpus: 4,
      mig: {
        'nvidia.com/mig-1g.5gb': 7,
        'nvidia.com/mig-2g.10gb': 3,
        'nvidia.com/mig-3g.20gb': 2,
        'nvidia.com/mig-7g.40gb': 1,
      },
    }),
  ],
) {
  const cache = new ClusterCache(new ProfileBook());
  for (const n of nodes) cache.upsertNode(n);
  return buildExtender({ cache, binder: noBinder, clock: () => minutes(0) });
}

const review = (object: unknown, operation = 'CREATE', kind = 'Pod') => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid: '7f0b2c1e-0000-4000-8000-000000000001',
    kind: { group: '', version: 'v1', kind },
    resource: { group: '', version: 'v1', resource: 'pods' },
    operation,
    namespace: 'jobs',
    object,
    dryRun: false,
  },
});

async function mutate(object: unknown, operation?: string, kind?: string) {
  const res = await app().inject({ method: 'POST', url: '/mutate', payload: review(object, operation, kind) });
  expect(res.statusCode).toBe(200);
  const body = res.json<{ apiVersion: string; kind: string; response: AdmissionResponse }>();
  expect(body.apiVersion).toBe('admission.k8s.io/v1');
  expect(body.kind).toBe('AdmissionReview');
  expect(body.response.uid).toBe('7f0b2c1e-0000-4000-8000-000000000001');
  const patch = body.response.patch
    ? (JSON.parse(Buffer.from(body.response.patch, 'base64').toString()) as PatchOp[])
    : undefined;
  return { response: body.response, patch };
}

const moldable = (annotations: Record<string, string>, mig?: Record<string, number>) =>
  pod('m', {
    mig: mig ?? { 'nvidia.com/mig-1g.5gb': 1 },
    annotations: { 'smartmig.io/workload': 'bert-inference', ...annotations },
  });

describe('mutate', () => {
  it.each([
    [
      'a loose deadline gets the slowest slice',
      { 'smartmig.io/deadline': '2h', 'smartmig.io/work': '60' },
      'nvidia.com/mig-1g.5gb',
    ],
    [
      'a tight deadline gets a faster one',
      { 'smartmig.io/deadline': '25m', 'smartmig.io/work': '60' },
      'nvidia.com/mig-3g.20gb',
    ],
  ])('%s', async (_name, annotations, resource) => {
    const { response, patch } = await mutate(
      moldable(
        { ...annotations, 'smartmig.io/profiles': '1g.5gb,2g.10gb,3g.20gb,7g.40gb' },
        { 'nvidia.com/mig-7g.40gb': 1 },
      ),
    );
    expect(response.allowed).toBe(true);
    expect(response.patchType).toBe('JSONPatch');
    const escaped = resource.replace('/', '~1');
    expect(patch).toEqual([
      { op: 'remove', path: '/spec/containers/0/resources/limits/nvidia.com~1mig-7g.40gb' },
      { op: 'add', path: `/spec/containers/0/resources/limits/${escaped}`, value: '1' },
      { op: 'remove', path: '/spec/containers/0/resources/requests/nvidia.com~1mig-7g.40gb' },
      { op: 'add', path: `/spec/containers/0/resources/requests/${escaped}`, value: '1' },
    ]);
  });

  it('denies invalid smartmig.io annotations, naming each', async () => {
    const { response, patch } = await mutate(
      moldable({ 'smartmig.io/deadline': 'soon', 'smartmig.io/profiles': '1g.5gb,8g.80gb' }),
    );
    expect(response.allowed).toBe(false);
    expect(patch).toBeUndefined();
    expect(response.status?.code).toBe(400);
    expect(response.status?.message).toMatch(
      /smartmig\.io\/deadline: "soon" is neither.*; smartmig\.io\/profiles: has unknown MIG profiles 8g\.80gb/,
    );
  });

  it.each([
    ['a pod without smartmig.io/profiles', pod('plain'), 'CREATE', 'Pod'],
    ['an UPDATE', moldable({ 'smartmig.io/profiles': '1g.5gb,2g.10gb' }), 'UPDATE', 'Pod'],
    ['another kind', { metadata: { name: 'cm' } }, 'CREATE', 'ConfigMap'],
    ['a DELETE without an object', null, 'DELETE', 'Pod'],
  ])('allows %s untouched', async (_name, object, operation, kind) => {
    const { response, patch } = await mutate(object, operation, kind);
    expect(response.allowed).toBe(true);
    expect(patch).toBeUndefined();
  });

  it('allows without a patch when the pod already asks for the chosen slice', async () => {
    const { response, patch } = await mutate(moldable({ 'smartmig.io/profiles': '1g.5gb,2g.10gb' }));
    expect(response.allowed).toBe(true);
    expect(patch).toBeUndefined();
  });

  it.each([
    [
      'no request object',
      { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' },
      /required property 'request'/,
    ],
    [
      'the wrong apiVersion',
      { ...review(pod('p')), apiVersion: 'admission.k8s.io/v1beta1' },
      /apiVersion must be equal to constant/,
    ],
    [
      'a Pod that is not one',
      review({ metadata: {}, spec: { containers: 'x' } }),
      /request\.object\.spec\.containers: Expected array/,
    ],
  ])('answers 400 to %s', async (_name, payload, message) => {
    const res = await app().inject({ method: 'POST', url: '/mutate', payload });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ message: string }>().message).toMatch(message);
  });
});

describe('moldPatch', () => {
  const R = 'nvidia.com/mig-2g.10gb';
  const withSpec = (containers: Pod['spec']['containers']): Pod => ({ metadata: {}, spec: { containers } });
  const cases: { name: string; pod: Pod; ops: PatchOp[] }[] = [
    {
      name: 'no resources: adds limits to the first container',
      pod: withSpec([{ name: 'a' }, { name: 'b' }]),
      ops: [{ op: 'add', path: '/spec/containers/0/resources', value: { limits: { [R]: '1' } } }],
    },
    {
      name: 'requests only: adds a limits map',
      pod: withSpec([{ resources: { requests: { cpu: '1' } } }]),
      ops: [{ op: 'add', path: '/spec/containers/0/resources/limits', value: { [R]: '1' } }],
    },
    {
      name: 'limits without MIG: adds the key',
      pod: withSpec([{ resources: { limits: { cpu: '1' } } }]),
      ops: [{ op: 'add', path: pointer('spec', 'containers', 0, 'resources', 'limits', R), value: '1' }],
    },
    {
      name: 'a placeholder in the second container keeps its count',
      pod: withSpec([{ name: 'sidecar' }, { resources: { limits: { 'nvidia.com/mig-1g.5gb': '2' } } }]),
      ops: [
        { op: 'remove', path: '/spec/containers/1/resources/limits/nvidia.com~1mig-1g.5gb' },
        { op: 'add', path: '/spec/containers/1/resources/limits/nvidia.com~1mig-2g.10gb', value: '2' },
      ],
    },
    { name: 'no containers: nothing to do', pod: withSpec([]), ops: [] },
  ];
  it.each(cases)('$name', ({ pod: p, ops }) => expect(moldPatch(p, R)).toEqual(ops));

  it('escapes ~ and / in JSON pointers', () => expect(pointer('a/b', 'c~d', 0)).toBe('/a~1b/c~0d/0'));
});
