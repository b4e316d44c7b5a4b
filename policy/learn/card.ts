// What a trained actor must say about itself: the GPU model and layout table it chooses among, the inputs it
// reads, how it was trained and on which seeds (so no one scores it there). Loaders check a card against the
// cluster before the actor may decide anything.
import { findGpuModel, type GpuModel } from '../mig/catalog.js';
import { layoutKey, type Layout } from '../mig/layout.js';
import { layoutOptions } from '../evaluate/setting.js';
import type { SimMode } from '../sim/config.js';
import { inputCount } from './features.js';

/** Bumped whenever features.ts changes what an input means; actors of another version are refused. */
export const FEATURES_VERSION = 2;

export interface ActorCard {
  readonly controller: 'meanfield';
  readonly features: number;
  readonly gpu: string;
  readonly mode: SimMode;
  /** Layout options in output order (after keep), as layout keys. */
  readonly options: readonly string[];
  readonly hidden: readonly number[];
  readonly everyMin: number;
  /** Starting layouts (option indices, one node's pattern) the actor was trained from. */
  readonly start: readonly number[];
  /** Every seed training looked at: searches, demonstrations, evolution and validation. */
  readonly trainSeeds: readonly number[];
  readonly command: string;
  readonly generations: number;
  readonly trainingMinutes: number;
  /** Mean ET gain over the starting layout on the validation seeds. */
  readonly validationGain: number;
}

export interface CheckedActor {
  readonly model: GpuModel;
  readonly options: Layout[];
}

/** Why a card cannot drive GPUs of `gpuModel` with a net of these input and output widths (empty: it can). */
export function cardProblems(card: ActorCard, inputs: number, outputs: number): string[] {
  const problems: string[] = [];
  if (card.controller !== 'meanfield') problems.push(`it is a ${String(card.controller)} model, not meanfield`);
  if (card.features !== FEATURES_VERSION)
    problems.push(`it reads inputs of version ${card.features}, this smartmig builds version ${FEATURES_VERSION}`);
  const model = findGpuModel(card.gpu);
  if (!model) return [...problems, `unknown GPU model ${card.gpu}`];
  const keys = layoutOptions(model).map(layoutKey);
  if (keys.length !== card.options.length || keys.some((k, i) => k !== card.options[i]))
    problems.push(`its layout table differs from ${model.name}'s`);
  if (inputs !== inputCount(keys.length))
    problems.push(`its net reads ${inputs} inputs, ${model.name} actors read ${inputCount(keys.length)}`);
  if (outputs !== keys.length + 1) problems.push(`its net scores ${outputs} actions, expected ${keys.length + 1}`);
  return problems;
}

export function checkedActor(card: ActorCard): CheckedActor {
  const model = findGpuModel(card.gpu);
  if (!model) throw new Error(`unknown GPU model ${card.gpu}`);
  return { model, options: layoutOptions(model) };
}
