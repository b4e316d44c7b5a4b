// The shipped actor decides the same on every TensorFlow.js backend smartmig runs it on: plain JavaScript
// (cpu) and WebAssembly (wasm), on states recorded from a simulated day.
import { describe, expect, it } from 'vitest';
import { loadActor } from '../../../model-store/actor-files.js';
import { useBackend } from '../../../model-store/backend.js';
import { shippedModelDir } from '../../../model-store/shipped.js';
import { scoreRows } from '../../../policy/learn/actor.js';
import { checkedActor } from '../../../policy/learn/card.js';
import { Observer } from '../../../policy/learn/features.js';
import { makeSetting, runDay } from '../../../policy/evaluate/setting.js';
import type { Layout } from '../../../policy/mig/layout.js';
import type { Repartitioner } from '../../../policy/repartition/controller.js';
import { meanFieldRepartitioner } from '../../../policy/repartition/meanfield.js';
import { generatePaperWorkload } from '../../../policy/workload/paper-generator.js';

function actions(scores: Float32Array, width: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < scores.length / width; r++) {
    let best = 0;
    for (let j = 1; j < width; j++)
      if ((scores[r * width + j] as number) > (scores[r * width + best] as number)) best = j;
    out.push(best);
  }
  return out;
}

describe('the shipped actor on every backend', () => {
  it('takes the same actions on cpu and wasm for the states of a simulated day', async () => {
    await useBackend('cpu');
    const actor = await loadActor(shippedModelDir('A100-40GB', 'cluster'), 'A100-40GB');
    const { model, options } = checkedActor(actor.card);
    const setting = makeSetting({
      model,
      gpus: 8,
      mode: 'cluster',
      horizonMin: 720,
      workload: (seed) => generatePaperWorkload({ seed, hours: 12 }),
    });
    // Record what the actor saw while it ran the day itself.
    const observer = new Observer(model, options, actor.card.everyMin);
    const rows: Float32Array[] = [];
    const inner = meanFieldRepartitioner({ model, options, net: actor.net, everyMin: actor.card.everyMin });
    const recorder: Repartitioner = {
      name: 'recorder',
      decide(view) {
        const seen = observer.observe(view);
        if (seen) rows.push(seen.inputs);
        return inner.decide(view);
      },
    };
    const start = actor.card.start.map((i) => options[i] as Layout);
    runDay(
      setting,
      Array.from({ length: 8 }, (_, g) => start[g % start.length] as Layout),
      recorder,
      201,
    );
    expect(rows.length).toBeGreaterThan(100);
    const inputs = new Float32Array(rows.reduce((s, r) => s + r.length, 0));
    rows.reduce((at, r) => (inputs.set(r, at), at + r.length), 0);

    const outputs = options.length + 1;
    const cpu = scoreRows(actor.net, inputs, observer.width);
    await useBackend('wasm');
    const wasm = scoreRows(actor.net, inputs, observer.width);
    await useBackend('cpu');
    expect(actions(wasm, outputs)).toEqual(actions(cpu, outputs));
    let diff = 0;
    for (let i = 0; i < cpu.length; i++) diff = Math.max(diff, Math.abs((cpu[i] as number) - (wasm[i] as number)));
    expect(diff).toBeLessThan(1e-4);
  });
});
