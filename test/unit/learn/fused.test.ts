// The controller scores GPUs with `scoreRowsFused` (the global inputs worked out once, tanh refolded into
// sigmoids, one fused kernel per layer); `scoreRows`, the net's own `apply`, stays the reference. Both must give
// the same scores within 1e-4 and the same actions, on the backends smartmig runs actors on.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadActor, type LoadedActor } from '../../../model-store/actor-files.js';
import { useBackend, type BackendName } from '../../../model-store/backend.js';
import { shippedModelDir } from '../../../model-store/shipped.js';
import { buildActor, initialWeights, scoreRows, scoreRowsFused, setFlat } from '../../../policy/learn/actor.js';
import { checkedActor } from '../../../policy/learn/card.js';
import { inputCount, Observer, type Observation } from '../../../policy/learn/features.js';
import { layoutOptions, makeSetting, runDay } from '../../../policy/evaluate/setting.js';
import { layoutsEqual, type Layout } from '../../../policy/mig/layout.js';
import { deriveRng } from '../../../policy/random.js';
import type { ClusterView, GpuState, Repartitioner } from '../../../policy/repartition/controller.js';
import { meanFieldRepartitioner } from '../../../policy/repartition/meanfield.js';
import { generatePaperWorkload } from '../../../policy/workload/paper-generator.js';
import { A100 } from '../../support/sim-builders.js';

const options = layoutOptions(A100);
const outputs = options.length + 1;
const BACKENDS: BackendName[] = ['cpu', 'wasm'];
afterAll(() => useBackend('cpu'));

function actions(scores: Float32Array): number[] {
  const out: number[] = [];
  for (let r = 0; r < scores.length / outputs; r++) {
    let best = 0;
    for (let j = 1; j < outputs; j++)
      if ((scores[r * outputs + j] as number) > (scores[r * outputs + best] as number)) best = j;
    out.push(best);
  }
  return out;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
  return d;
}

const reference = (net: tf.LayersModel, seen: Observation) => scoreRows(net, seen.inputs, inputCount(options.length));
const fused = (net: tf.LayersModel, seen: Observation) => scoreRowsFused(net, seen.global, seen.local);

/** A seeded view of `count` GPUs with every kind of local input: targets, reconfigurations, recent changes. */
function bigView(count: number, seed: number): ClusterView {
  const rng = deriveRng(seed, 'fused-scores');
  const gpus: GpuState[] = Array.from({ length: count }, (_, id) => {
    const layout = options[rng.int(options.length)] as Layout;
    return {
      id,
      model: A100,
      layout,
      node: id >> 3,
      index: id & 7,
      busy: layout.slices.map(() => rng.next() < 0.67),
      target: rng.next() < 0.1 ? (options[rng.int(options.length)] as Layout) : undefined,
      reconfiguring: rng.next() < 0.02,
      lastChange: rng.next() < 0.5 ? -Infinity : 600 - rng.next() * 300,
    };
  });
  const profiles = A100.profiles.map((p) => p.name);
  const pending = Array.from({ length: count >> 2 }, () => ({
    profile: profiles[rng.int(profiles.length)] as string,
    deadline: 600 + (rng.next() - 0.3) * 120,
  }));
  return { now: 600, gpus, pending };
}

describe('fused scores of the shipped actors', () => {
  let actor: LoadedActor;
  let paperActor: LoadedActor;
  /** What the actor saw while it ran a simulated day itself (with the fused scores). */
  const day: Observation[] = [];
  let big: Observation;

  beforeAll(async () => {
    await useBackend('cpu');
    actor = await loadActor(shippedModelDir('A100-40GB', 'cluster'), 'A100-40GB');
    paperActor = await loadActor(shippedModelDir('A100-40GB', 'paper'), 'A100-40GB');
    const { model, options: cardOptions } = checkedActor(actor.card);
    expect(cardOptions).toEqual(options);
    const observer = new Observer(model, options, actor.card.everyMin);
    const inner = meanFieldRepartitioner({ model, options, net: actor.net, everyMin: actor.card.everyMin });
    const recorder: Repartitioner = {
      name: 'recorder',
      decide(view) {
        const seen = observer.observe(view);
        if (seen) day.push(seen);
        return inner.decide(view);
      },
    };
    const setting = makeSetting({
      model,
      gpus: 8,
      mode: 'cluster',
      horizonMin: 720,
      workload: (seed) => generatePaperWorkload({ seed, hours: 12 }),
    });
    const start = actor.card.start.map((i) => options[i] as Layout);
    runDay(
      setting,
      Array.from({ length: 8 }, (_, g) => start[g % start.length] as Layout),
      recorder,
      202,
    );
    big = new Observer(model, options, 0).observe(bigView(8192, 1)) as Observation;
  });

  it.each(BACKENDS)('match net.apply on the states of a simulated day (%s)', async (backend) => {
    await useBackend(backend);
    expect(day.length).toBeGreaterThan(100);
    for (const seen of day) {
      const want = reference(actor.net, seen);
      const got = fused(actor.net, seen);
      expect(maxDiff(got, want)).toBeLessThan(1e-4);
      expect(actions(got)).toEqual(actions(want));
    }
  });

  it.each(BACKENDS)('match net.apply at 8,192 GPUs, and the controller acts on them (%s)', async (backend) => {
    await useBackend(backend);
    for (const { net } of [actor, paperActor]) {
      const want = reference(net, big);
      const got = fused(net, big);
      expect(maxDiff(got, want)).toBeLessThan(1e-4);
      const wanted = actions(want);
      expect(actions(got)).toEqual(wanted);

      const view = bigView(8192, 1);
      const changes = meanFieldRepartitioner({ model: A100, options, net, everyMin: 0 }).decide(view);
      const expected = view.gpus.flatMap((g, i) => {
        const a = wanted[i] as number;
        if (g.locked || g.reconfiguring || a === 0) return [];
        const layout = options[a - 1] as Layout;
        return layoutsEqual(layout, g.target ?? g.layout) ? [] : [{ gpu: g.id, layout }];
      });
      expect(changes.length).toBeGreaterThan(1000);
      expect(changes).toEqual(expected);
    }
  });
});

describe('fused scores of other nets', () => {
  const seen = new Observer(A100, options, 0).observe(bigView(512, 2)) as Observation;
  const width = inputCount(options.length);

  it.each(BACKENDS)('match net.apply for any depth, and follow new weights (%s)', async (backend) => {
    await useBackend(backend);
    for (const hidden of [[], [8], [32, 32], [6, 5, 4]]) {
      const shape = { inputs: width, hidden, outputs };
      const net = buildActor(shape);
      for (const seed of [1, 2]) {
        // Training sets new weights into the same net: the fold read from the old ones must not score.
        setFlat(net, initialWeights(shape, seed, 0.5));
        expect(maxDiff(fused(net, seen), reference(net, seen))).toBeLessThan(1e-4);
      }
      net.dispose();
    }
  });

  it('score a net that is not tanh and linear dense layers through net.apply', async () => {
    await useBackend('cpu');
    const net = tf.sequential({
      layers: [
        tf.layers.dense({ units: 8, activation: 'relu', inputShape: [width] }),
        tf.layers.dense({ units: outputs }),
      ],
    });
    expect([...fused(net, seen)]).toEqual([...reference(net, seen)]);
    net.dispose();
  });
});
