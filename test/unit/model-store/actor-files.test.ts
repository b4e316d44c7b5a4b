import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildActor, getFlat, initialWeights, setFlat } from '../../../policy/learn/actor.js';
import { FEATURES_VERSION, type ActorCard } from '../../../policy/learn/card.js';
import { inputCount } from '../../../policy/learn/features.js';
import { layoutOptions } from '../../../policy/evaluate/setting.js';
import { layoutKey } from '../../../policy/mig/layout.js';
import { loadActor, ModelError, saveActor } from '../../../model-store/actor-files.js';
import { useBackend } from '../../../model-store/backend.js';
import { A100 } from '../../support/sim-builders.js';

const options = layoutOptions(A100);
const shape = { inputs: inputCount(options.length), hidden: [6], outputs: options.length + 1 };
const card: ActorCard = {
  controller: 'meanfield',
  features: FEATURES_VERSION,
  gpu: A100.name,
  mode: 'cluster',
  options: options.map(layoutKey),
  hidden: [6],
  everyMin: 5,
  start: [5, 0],
  trainSeeds: [1, 2, 3],
  command: 'smartmig train --out x',
  generations: 0,
  trainingMinutes: 0,
  validationGain: 0,
};

let dir: string;
beforeAll(async () => {
  await useBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'smartmig-actor-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function saved(name: string, c: ActorCard = card): Promise<{ path: string; weights: Float32Array }> {
  const net = buildActor(shape);
  const weights = initialWeights(shape, 7, 1);
  setFlat(net, weights);
  const path = join(dir, name);
  await saveActor(path, net, c);
  return { path, weights };
}

describe('actor files', () => {
  it('round-trip the weights and the card in TensorFlow.js layers-model format', async () => {
    const { path, weights } = await saved('ok');
    const json = JSON.parse(await readFile(join(path, 'model.json'), 'utf8')) as Record<string, unknown>;
    expect(json.format).toBe('layers-model');
    const loaded = await loadActor(path, A100.name);
    expect(loaded.card).toEqual(card);
    expect([...getFlat(loaded.net)]).toEqual([...weights]);
  });

  it('refuse a missing directory, broken JSON, cut weights, another GPU model or another input version', async () => {
    await expect(loadActor(join(dir, 'none'))).rejects.toThrow(/no model\.json there/);
    const broken = await saved('broken');
    await writeFile(join(broken.path, 'model.json'), '{');
    await expect(loadActor(broken.path)).rejects.toThrow(/not JSON/);
    const cut = await saved('cut');
    await truncate(join(cut.path, 'weights.bin'), 100);
    await expect(loadActor(cut.path)).rejects.toThrow(/weights\.bin has 100 bytes/);
    const ok = await saved('other-gpu');
    await expect(loadActor(ok.path, 'H100-80GB')).rejects.toThrow(/trained for A100-40GB, not H100-80GB/);
    const old = await saved('old', { ...card, features: FEATURES_VERSION + 1 });
    await expect(loadActor(old.path)).rejects.toThrow(ModelError);
    await expect(loadActor(old.path)).rejects.toThrow(/inputs of version/);
  });
});
