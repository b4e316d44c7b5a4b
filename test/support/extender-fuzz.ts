// Hostile requests for every route of the extender and its webhook, as fast-check arbitraries: random JSON,
// valid bodies with one field replaced, garbage text, deep nesting, odd annotations and quantities, full Node
// lists edited as text. Shared by the seeded unit test (test/unit/extender/fuzz.test.ts) and `npm run fuzz`.
import fc from 'fast-check';
import { buildExtender } from '../../extender/app.js';
import type { Binder } from '../../extender/binder.js';
import { ClusterCache } from '../../extender/cache.js';
import { ProfileBook } from '../../policy/workload/job.js';
import { minutes, node, pod } from '../unit/extender/builders.js';

/** A binder that answers like an API server that lost the pod: fuzzing must not depend on a cluster. */
const goneBinder: Binder = {
  bind: async (a) => ({ outcome: 'not_found', message: `pod ${a.PodNamespace}/${a.PodName} not found` }),
  readPod: async () => undefined,
};

const cache = new ClusterCache(new ProfileBook());
for (let i = 0; i < 20; i++) {
  cache.upsertNode(
    node(`n${i}`, {
      gpus: 2,
      mig: { 'nvidia.com/mig-1g.5gb': 7, 'nvidia.com/mig-3g.20gb': 2, 'nvidia.com/mig-7g.40gb': 1 },
      labels: i % 5 === 0 ? { 'nvidia.com/mig.config.state': 'pending' } : {},
    }),
  );
  cache.upsertPod(pod(`busy${i}`, { nodeName: `n${i}`, mig: { 'nvidia.com/mig-1g.5gb': i % 7 } }), minutes(0));
}
export const app = buildExtender({
  cache,
  binder: goneBinder,
  clock: () => minutes(30),
  config: { bodyLimit: 256 * 1024 },
});

export const ROUTES = ['/scheduler/filter', '/scheduler/prioritize', '/scheduler/bind', '/mutate'] as const;
const ANNOTATIONS = [
  'smartmig.io/deadline',
  'smartmig.io/work',
  'smartmig.io/workload',
  'smartmig.io/profiles',
  'smartmig.io/placement',
];
const NAMES = Array.from({ length: 20 }, (_, i) => `n${i}`);

const validPod = pod('p', {
  annotations: { 'smartmig.io/deadline': '45m', 'smartmig.io/work': '30', 'smartmig.io/workload': 'bert-training' },
});
export const VALID: Record<(typeof ROUTES)[number], unknown> = {
  '/scheduler/filter': { Pod: validPod, Nodes: null, NodeNames: NAMES },
  '/scheduler/prioritize': { Pod: validPod, Nodes: { metadata: {}, items: [node('n1'), node('n2')] }, NodeNames: null },
  '/scheduler/bind': { PodName: 'p', PodNamespace: 'jobs', PodUID: 'uid-p', Node: 'n1' },
  '/mutate': {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'u',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      operation: 'CREATE',
      object: {
        ...validPod,
        metadata: { ...validPod.metadata, annotations: { 'smartmig.io/profiles': '1g.5gb,3g.20gb' } },
      },
    },
  },
};

/** Every path to a value inside `v`, e.g. ['Pod', 'spec', 'containers', 0]. */
function paths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (v && typeof v === 'object') {
    for (const [k, child] of Object.entries(v)) paths(child, [...prefix, Array.isArray(v) ? Number(k) : k], out);
  }
  return out;
}

function replaceAt(v: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  const copy = (Array.isArray(v) ? [...(v as unknown[])] : { ...(v as object) }) as Record<string | number, unknown>;
  copy[head] = replaceAt(copy[head], rest, value);
  return copy;
}

export interface Request {
  url: string;
  payload: string;
  contentType: string;
}

const route = fc.constantFrom(...ROUTES);
export const json = (url: string, body: unknown): Request => ({
  url,
  payload: JSON.stringify(body) ?? 'null',
  contentType: 'application/json',
});

const anyJson = fc.tuple(route, fc.jsonValue({ maxDepth: 6 })).map(([url, body]) => json(url, body));

const mutated = fc
  .tuple(route, fc.nat(), fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant(undefined)))
  .map(([url, pick, value]) => {
    const valid = VALID[url];
    const all = paths(valid);
    return json(url, replaceAt(valid, all[pick % all.length] as (string | number)[], value));
  });

const garbage = fc
  .tuple(
    route,
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.constantFrom(
      'application/json',
      'text/plain',
      'application/json; charset=utf-8',
      'application/octet-stream',
      '',
    ),
  )
  .map(([url, payload, contentType]) => ({ url, payload, contentType }));

const deep = fc
  .tuple(route, fc.integer({ min: 1, max: 400 }), fc.constantFrom('[', '{"a":'))
  .map(([url, depth, open]) => {
    const close = open === '[' ? ']' : '}';
    return { url, payload: `${open.repeat(depth)}1${close.repeat(depth)}`, contentType: 'application/json' };
  });

const oddPods = fc
  .tuple(
    route,
    fc.dictionary(
      fc.constantFrom(...ANNOTATIONS),
      fc.oneof(
        fc.string({ maxLength: 40 }),
        fc.constantFrom('45m', '1h', '2026-01-01T00:00:00Z', '1g.5gb,2g.10gb', '-1', '1e308', 'bert-training'),
      ),
    ),
    fc.dictionary(
      fc.constantFrom(
        'nvidia.com/mig-1g.5gb',
        'nvidia.com/mig-3g.20gb',
        'nvidia.com/mig-9g.9gb',
        'nvidia.com/mig-',
        'cpu',
      ),
      fc.oneof(fc.string({ maxLength: 12 }), fc.double(), fc.integer(), fc.constantFrom('1', '0', '1k', '500m', '1e3')),
    ),
  )
  .map(([url, annotations, limits]) => {
    const p = {
      ...validPod,
      metadata: { ...validPod.metadata, annotations },
      spec: { containers: [{ name: 'c', resources: { limits } }] },
    };
    if (url === '/mutate') return json(url, replaceAt(VALID['/mutate'], ['request', 'object'], p));
    if (url === '/scheduler/bind') return json(url, VALID[url]);
    return json(url, { Pod: p, NodeNames: NAMES });
  });

/**
 * Full Node lists edited as text, near brackets and quotes: the extender skips parsing items it has seen
 * before (node-items.ts), and what surrounds them must still be read as strictly as ever.
 */
const editedLists = fc
  .tuple(
    fc.constantFrom('/scheduler/filter', '/scheduler/prioritize'),
    fc.array(
      fc.tuple(
        fc.nat(),
        fc.nat({ max: 4 }),
        fc.oneof(
          fc.constantFrom(',', ']', '}', '{', '"', '\\', ' ', ':', '{}', '"__proto__":1,'),
          fc.string({ maxLength: 6 }),
        ),
      ),
      { minLength: 1, maxLength: 3 },
    ),
  )
  .map(([url, edits]) => {
    let text = JSON.stringify(VALID['/scheduler/prioritize']);
    for (const [at, remove, insert] of edits) {
      const i = at % (text.length + 1);
      text = text.slice(0, i) + insert + text.slice(i + remove);
    }
    return { url, payload: text, contentType: 'application/json' };
  });

/** Every kind of hostile request, mixed. */
export const hostileRequest = fc.oneof(anyJson, mutated, garbage, deep, oddPods, editedLists);

export async function send(r: Request) {
  const headers: Record<string, string> = r.contentType ? { 'content-type': r.contentType } : {};
  return app.inject({ method: 'POST', url: r.url, payload: r.payload, headers });
}
