// bind's decisions without an API server: the Binding written and what a 409 means (pure functions), and
// the verb through inject with a Binder that answers the outcomes given (the placement record, the slice
// counted once and freed on a conflict). KubeBinder itself is tested against a real kube-apiserver in
// test/integration/extender.test.ts (bind, an idempotent repeat, another node, a re-created pod, a
// missing pod).
import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { PLACEMENT_ANNOTATION } from '../../../api/labels.js';
import { buildExtender } from '../../../extender/app.js';
import { apiMessage, bindingFor, conflictOutcome, type Binder, type BindOutcome } from '../../../extender/binder.js';
import { ClusterCache } from '../../../extender/cache.js';
import { parsePlacement } from '../../../extender/kube.js';
import type { ExtenderBindingArgs } from '../../../extender/schemas.js';
import { ProfileBook } from '../../../policy/workload/job.js';
import { counts, minutes, node, pod } from './builders.js';

const ARGS: ExtenderBindingArgs = { PodName: 'p', PodNamespace: 'jobs', PodUID: 'uid-p', Node: 'gpu-1' };

describe('bindingFor', () => {
  it('binds the pod to the node with its UID as a precondition and the annotations to copy', () => {
    expect(bindingFor(ARGS, { [PLACEMENT_ANNOTATION]: '{"node":"gpu-1"}' })).toEqual({
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: {
        name: 'p',
        namespace: 'jobs',
        uid: 'uid-p',
        annotations: { [PLACEMENT_ANNOTATION]: '{"node":"gpu-1"}' },
      },
      target: { apiVersion: 'v1', kind: 'Node', name: 'gpu-1' },
    });
  });

  it('sends no precondition when kube-scheduler sent no UID', () => {
    expect(bindingFor({ ...ARGS, PodUID: '' }, {}).metadata?.uid).toBeUndefined();
  });
});

describe('conflictOutcome: what a 409 means, from the pod as it is now', () => {
  it.each<[string, ExtenderBindingArgs, { uid?: string; nodeName?: string }, BindOutcome]>([
    [
      'bound here already (a retry): success',
      ARGS,
      { uid: 'uid-p', nodeName: 'gpu-1' },
      { outcome: 'already_bound', message: '' },
    ],
    [
      'bound elsewhere',
      ARGS,
      { uid: 'uid-p', nodeName: 'gpu-2' },
      { outcome: 'conflict', message: 'pod jobs/p is already bound to gpu-2, not gpu-1' },
    ],
    [
      're-created under the same name, even on the node asked for',
      ARGS,
      { uid: 'uid-new', nodeName: 'gpu-1' },
      { outcome: 'conflict', message: 'pod jobs/p was re-created (UID uid-p is gone)' },
    ],
    [
      'no UID asked for: the node decides',
      { ...ARGS, PodUID: '' },
      { uid: 'uid-new', nodeName: 'gpu-1' },
      { outcome: 'already_bound', message: '' },
    ],
    [
      'not bound at all',
      ARGS,
      { uid: 'uid-p' },
      { outcome: 'conflict', message: 'pod jobs/p is already bound to another node, not gpu-1' },
    ],
  ])('%s', (_, args, now, expected) => expect(conflictOutcome(args, now)).toEqual(expected));
});

describe('apiMessage', () => {
  it("takes the API server's message from a Status body, else the code, else the error's own", () => {
    const status = (code: number, body: string) => new ApiException(code, 'x', body, {});
    expect(apiMessage(status(500, JSON.stringify({ kind: 'Status', message: 'etcdserver: request timed out' })))).toBe(
      'etcdserver: request timed out',
    );
    expect(apiMessage(status(502, '<html>bad gateway</html>'))).toBe('HTTP 502');
    expect(apiMessage(new Error('socket hang up'))).toBe('socket hang up');
  });
});

/** A Binder that records each bind and answers with the outcomes given, in turn. */
function recordingBinder(...outcomes: BindOutcome[]) {
  const binds: { args: ExtenderBindingArgs; annotations: Record<string, string> }[] = [];
  const binder: Binder = {
    bind: async (args, annotations) => {
      binds.push({ args, annotations: { ...annotations } });
      return outcomes[Math.min(binds.length - 1, outcomes.length - 1)] as BindOutcome;
    },
    readPod: async () => undefined,
  };
  return { binder, binds };
}

function setup(binder: Binder) {
  const cache = new ClusterCache(new ProfileBook());
  cache.upsertNode(node('gpu-1', { mig: { 'nvidia.com/mig-1g.5gb': 2 } }));
  const pending = pod('p', {
    uid: 'uid-p',
    annotations: { 'smartmig.io/work': '30', 'smartmig.io/deadline': '2h' },
  });
  cache.upsertPod(pending, minutes(0));
  const app = buildExtender({ cache, binder, clock: () => minutes(10) });
  const bind = async () => {
    const res = await app.inject({ method: 'POST', url: '/scheduler/bind', payload: ARGS });
    return { status: res.statusCode, body: res.json<{ Error: string }>() };
  };
  return { cache, bind };
}

describe('the bind verb', () => {
  it('binds, records the placement in smartmig.io/placement and counts the slice as used at once', async () => {
    const { binder, binds } = recordingBinder({ outcome: 'bound', message: '' });
    const { cache, bind } = setup(binder);
    expect(await bind()).toEqual({ status: 200, body: { Error: '' } });
    expect(binds.map((b) => b.args)).toEqual([ARGS]);
    const placement = parsePlacement(binds[0]?.annotations[PLACEMENT_ANNOTATION]);
    expect(placement).toEqual({
      node: 'gpu-1',
      slices: { '1g.5gb': 1 },
      heuristic: 'cedf',
      at: new Date(minutes(10)).toISOString(),
      expectedFinish: new Date(minutes(40)).toISOString(),
      deadline: new Date(minutes(120)).toISOString(),
    });
    expect(counts(cache.nodeState('gpu-1')?.used)).toEqual({ '1g.5gb': 1 });
  });

  it('is idempotent: a repeated bind that the API server finds done answers success and counts the slice once', async () => {
    const { binder, binds } = recordingBinder(
      { outcome: 'bound', message: '' },
      { outcome: 'already_bound', message: '' },
    );
    const { cache, bind } = setup(binder);
    expect((await bind()).body).toEqual({ Error: '' });
    expect((await bind()).body).toEqual({ Error: '' });
    expect(binds).toHaveLength(2);
    expect(binds[1]?.annotations[PLACEMENT_ANNOTATION]).toContain('"node":"gpu-1"');
    expect(counts(cache.nodeState('gpu-1')?.used)).toEqual({ '1g.5gb': 1 });
  });

  it('on a 409 conflict answers 200 with the reason in Error and frees the slice it had assumed', async () => {
    const message = 'pod jobs/p is already bound to gpu-2, not gpu-1';
    const { binder } = recordingBinder({ outcome: 'conflict', message });
    const { cache, bind } = setup(binder);
    expect(await bind()).toEqual({ status: 200, body: { Error: message } });
    expect(counts(cache.nodeState('gpu-1')?.used)).toEqual({});
    expect(cache.pod('uid-p')?.nodeName).toBeUndefined();
  });
});
