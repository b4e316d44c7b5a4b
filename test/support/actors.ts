// Actors for tests: small nets whose output bias alone picks the action, with a valid card.
import { buildActor, getFlat, setFlat } from '../../policy/learn/actor.js';
import { FEATURES_VERSION, type ActorCard } from '../../policy/learn/card.js';
import { inputCount } from '../../policy/learn/features.js';
import { layoutOptions } from '../../policy/evaluate/setting.js';
import type { GpuModel } from '../../policy/mig/catalog.js';
import { layoutKey } from '../../policy/mig/layout.js';
import type { LoadedActor } from '../../model-store/actor-files.js';

/** A net that always scores `action` highest (0 keeps; i > 0 picks layout option i − 1). */
export function biasedNet(model: GpuModel, action: number) {
  const k = layoutOptions(model).length;
  const net = buildActor({ inputs: inputCount(k), hidden: [4], outputs: k + 1 });
  const flat = getFlat(net).fill(0);
  flat[flat.length - (k + 1) + action] = 1;
  setFlat(net, flat);
  return net;
}

export function biasedActor(model: GpuModel, action: number, everyMin = 0): LoadedActor {
  const card: ActorCard = {
    controller: 'meanfield',
    features: FEATURES_VERSION,
    gpu: model.name,
    mode: 'cluster',
    options: layoutOptions(model).map(layoutKey),
    hidden: [4],
    everyMin,
    start: [0],
    trainSeeds: [1],
    command: 'test',
    generations: 0,
    trainingMinutes: 0,
    validationGain: 0,
  };
  return { net: biasedNet(model, action), card, path: `test/${model.name}/${action}` };
}
