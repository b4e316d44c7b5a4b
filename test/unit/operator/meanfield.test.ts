import { beforeAll, describe, expect, it } from 'vitest';
import { ActorShelf } from '../../../operator/actors.js';
import { CONTROLLERS, controllerCache } from '../../../operator/controllers.js';
import { ModelError, type LoadedActor } from '../../../model-store/actor-files.js';
import { useBackend } from '../../../model-store/backend.js';
import { findGpuModel } from '../../../policy/mig/catalog.js';
import { paper12Layout } from '../../../policy/mig/paper12.js';
import { biasedActor } from '../../support/actors.js';
import { A100 } from '../../support/sim-builders.js';
import { FakeCluster, gpuNode, partition } from './harness.js';

beforeAll(() => useBackend('cpu'));

const pool = { matchLabels: { pool: 'a' } };

/** A cluster whose operator loads actors from `models` (by name) through the shelf, as the reconciler does. */
async function learnedCluster(models: Record<string, LoadedActor>, model = 'm1') {
  const shelf = new ActorShelf(['/models'], async (path) => {
    const actor = models[path.slice('/models/'.length)];
    if (!actor) throw new ModelError(path, 'no model.json there', true);
    return actor;
  });
  await shelf.refresh([model]);
  const c = new FakeCluster({
    controllerFor: controllerCache(CONTROLLERS, undefined, (name) => shelf.actor(name)),
    modelProblem: (policy, gpus) =>
      shelf.problemFor(policy, gpus, CONTROLLERS.get(policy.controller)?.takesModel === true),
  });
  c.addNode(gpuNode('n1', { pool: 'a' }));
  c.partitions.push(
    partition('p', { nodeSelector: pool, mode: 'Dynamic', dynamic: { controller: 'meanfield', model } }),
  );
  return c;
}

const ready = (c: FakeCluster) => c.status('p')?.conditions?.find((x) => x.type === 'Ready');

describe('operator: a Dynamic MigPartition with controller meanfield', () => {
  it("applies the actor's decisions: every GPU of the node moves to the layout it scores highest", async () => {
    const c = await learnedCluster({ m1: biasedActor(A100, 6) });
    const before = c.layouts('n1');
    c.settle(20);
    const want = paper12Layout(A100, 6)!
      .slices.map((x) => x.profile)
      .join('+');
    expect(before).not.toEqual([want, want]);
    expect(c.layouts('n1')).toEqual([want, want]);
    expect(c.events.map((e) => e.reason)).toContain('Reconfigured');
  });

  it('reports a missing model (ModelUnavailable) and leaves layouts as they are', async () => {
    const c = await learnedCluster({}, 'absent');
    const before = c.layouts('n1');
    c.settle(5);
    expect(ready(c)).toMatchObject({ status: 'False', reason: 'ModelUnavailable' });
    expect(ready(c)?.message).toMatch(/model absent: not in \/models/);
    expect(c.layouts('n1')).toEqual(before);
  });

  it('refuses a model trained for another GPU model, naming both', async () => {
    const h100 = findGpuModel('H100-80GB')!;
    const c = await learnedCluster({ m1: biasedActor(h100, 6) });
    const before = c.layouts('n1');
    c.settle(5);
    expect(ready(c)).toMatchObject({ status: 'False', reason: 'ModelUnavailable' });
    expect(ready(c)?.message).toMatch(/trained for H100-80GB, not A100-40GB/);
    expect(c.layouts('n1')).toEqual(before);
  });

  it('the shelf refuses names that are paths', async () => {
    const shelf = new ActorShelf(['/models'], () => Promise.reject(new Error('not reached')));
    await shelf.refresh(['../etc']);
    expect(shelf.lookup('../etc')).toEqual({ problem: expect.stringMatching(/not a model name/) });
  });

  it('the shelf searches its directories in order: a missing model falls through, a broken one stops', async () => {
    const tried: string[] = [];
    const shelf = new ActorShelf(['/mounted', '/shipped'], async (path) => {
      tried.push(path);
      if (path === '/shipped/m1') return biasedActor(A100, 1);
      if (path === '/mounted/bad') throw new ModelError(path, 'weights.bin has 3 bytes');
      throw new ModelError(path, 'no model.json there', true);
    });
    await shelf.refresh(['m1', 'bad']);
    expect('actor' in shelf.lookup('m1')).toBe(true);
    expect(shelf.lookup('bad')).toEqual({ problem: expect.stringMatching(/weights\.bin has 3 bytes/) });
    expect(tried).toEqual(['/mounted/m1', '/shipped/m1', '/mounted/bad']);
  });
});
