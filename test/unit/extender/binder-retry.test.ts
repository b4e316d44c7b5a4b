// KubeBinder when API Priority and Fairness refuses a binding (429): it waits the Retry-After the API
// server sends and tries again, within a budget below kube-scheduler's 10 s extender httpTimeout. The API
// is a stand-in that throws the ApiException client-node throws; bindings against the real API server are
// in test/integration/extender.test.ts.
import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { KubeBinder, retryAfterMs } from '../../../extender/binder.js';

describe('KubeBinder on 429 (API Priority and Fairness refused the binding)', () => {
  const tooMany = (headers: Record<string, string> = { 'retry-after': '1' }) =>
    new ApiException(429, 'Too Many Requests', '{"message":"too many requests"}', headers);

  it("waits the API server's Retry-After (capped at 2 s, up to a quarter more), else a doubling pause", () => {
    expect(retryAfterMs(tooMany(), 0, () => 0)).toBe(1000);
    expect(retryAfterMs(tooMany({ 'Retry-After': '1' }), 0, () => 1)).toBe(1250);
    expect(retryAfterMs(tooMany({ 'retry-after': '30' }), 0, () => 0)).toBe(2000);
    expect([0, 1, 2, 3, 9].map((a) => retryAfterMs(tooMany({}), a, () => 0))).toEqual([250, 500, 1000, 2000, 2000]);
  });

  /** A CoreV1Api stand-in that answers the bindings with the outcomes given, in order. */
  function api(...answers: (Error | 'ok')[]) {
    let calls = 0;
    const core = {
      createNamespacedPodBinding: async () => {
        const a = answers[Math.min(calls++, answers.length - 1)];
        if (a !== 'ok') throw a;
        return {};
      },
    };
    return { core: core as never, calls: () => calls };
  }
  const ARGS = { PodName: 'p', PodNamespace: 'jobs', PodUID: 'uid-p', Node: 'gpu-1' };

  it('retries until the binding is accepted', async () => {
    const waits: number[] = [];
    const { core, calls } = api(tooMany(), tooMany(), 'ok');
    const binder = new KubeBinder(core, { sleep: async (ms) => void waits.push(ms) });
    expect(await binder.bind(ARGS, {})).toEqual({ outcome: 'bound', message: '' });
    expect(calls()).toBe(3);
    expect(waits).toHaveLength(2);
    expect(waits.every((w) => w >= 1000 && w <= 1250)).toBe(true);
  });

  it('gives up with the reason once the next wait would pass its budget', async () => {
    const { core, calls } = api(tooMany());
    const binder = new KubeBinder(core, { retryBudgetMs: 100, sleep: async () => undefined });
    const out = await binder.bind(ARGS, {});
    expect(out.outcome).toBe('error');
    expect(out.message).toMatch(/binding jobs\/p to gpu-1 failed: too many requests/);
    expect(calls()).toBe(1);
  });

  it('does not retry other failures', async () => {
    const { core, calls } = api(new ApiException(500, 'boom', '{"message":"etcd timeout"}', {}));
    const binder = new KubeBinder(core, { sleep: async () => undefined });
    expect((await binder.bind(ARGS, {})).message).toMatch(/etcd timeout/);
    expect(calls()).toBe(1);
  });
});
