// `smartmig train`: trains the mean-field actor in the simulator. It finds the best static layout and the best
// timetable on the search seeds, teaches the actor the timetable, then improves it by evolution strategies on
// the training seeds, keeping the weights that score best on the validation seeds. Checkpoints after every
// validation; --resume continues a stopped run exactly.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { layoutKey } from '../../policy/mig/layout.js';
import { FEATURES_VERSION, type ActorCard } from '../../policy/learn/card.js';
import { ES_DEFAULTS } from '../../policy/learn/evolution.js';
import { FIT_DEFAULTS } from '../../policy/learn/imitate.js';
import { ACTOR_DEFAULTS, MeanFieldTrainer } from '../../policy/learn/train.js';
import { Planner } from '../../policy/evaluate/plans.js';
import { layoutOptions, makeSetting } from '../../policy/evaluate/setting.js';
import { expand } from '../../policy/search/layout-search.js';
import { SIM_MODES } from '../../policy/sim/config.js';
import { generatePaperWorkload } from '../../policy/workload/paper-generator.js';
import { loadActor, saveActor } from '../../model-store/actor-files.js';
import { useBackend, useBestBackend } from '../../model-store/backend.js';
import { loadCheckpoint, saveCheckpoint } from '../../model-store/checkpoint.js';
import { numberFlag, oneOf, parseFlags, parseIntList, stringFlag, type FlagSpec, type Parsed } from '../args.js';
import type { Command } from '../command.js';
import { progressBar, progressCounter } from '../progress.js';
import { readGpuModel, readWorkload, WORKLOAD_FLAGS } from '../sim-flags.js';
import { UsageError } from '../usage-error.js';

const POLICIES = ['meanfield'] as const;

const help = `smartmig train: train the learned repartitioning controller in the simulator

Usage: smartmig train --out DIR [flags]
       smartmig train --out DIR --resume [--generations N]

The actor starts from the best static layout and the best timetable found on the search seeds (it first
learns to follow the timetable), then evolution strategies improve its ET gain over the best static layout
on the training seeds. The weights that score best on the validation seeds are written to DIR (model.json,
weights.bin, CARD.md) with every seed used, so \`compare\` refuses to score the model on them.

  --policy P            ${POLICIES.join(', ')} (default meanfield)
  --out DIR             where the model and its checkpoints go (required)
  --resume              continue the run checkpointed in DIR with its own settings
  --mode M              paper or cluster (default cluster)
  --gpus N              GPUs in the simulated cluster (default 8)
  --gpu MODEL           GPU model (default A100-40GB)
  --gpus-per-node N     GPUs a node changes together (default 8)
  --workload W          'paper' or a trace CSV path (default paper)
  --multiplier X[,X]    paper workload: arrival-rate multiplier (default 20); a list gives training day s
                        the multiplier at s mod its length, so the actor learns several loads
  --hours H             hours of arrivals per training day (default 24; a trace: the window length)
  --trace-from MIN      trace: window start, minutes after the first pod (default 0)
  --time-scale X        trace: divide release times by X (default 1)
  --seeds LIST          training seeds (default 1-50)
  --search-seeds LIST   seeds of the best static and timetable searches (default 1-3)
  --validation-seeds LIST  seeds the kept weights are chosen on (default 51-56)
  --generations N       evolution generations (default 60)
  --imitation-days N    training days the actor imitates the timetable on (default 10)
  --pairs N             antithetic pairs per generation (default ${ES_DEFAULTS.pairs})
  --sigma X             perturbation size (default ${ES_DEFAULTS.sigma})
  --learning-rate X     step size (default ${ES_DEFAULTS.learningRate})
  --seed N              seed of the initial weights, the noise and the day draws (default 1)
  -h, --help            this help

Example (the cluster-mode model shipped in policy/models):
  smartmig train --mode cluster --gpus 8 --gpu A100-40GB --generations 120 --out policy/models/meanfield-a100-40gb-cluster`;

const FLAGS: FlagSpec = {
  gpus: { type: 'string' },
  gpu: { type: 'string' },
  ...WORKLOAD_FLAGS,
  policy: { type: 'string' },
  out: { type: 'string' },
  resume: { type: 'boolean' },
  mode: { type: 'string' },
  'gpus-per-node': { type: 'string' },
  'search-seeds': { type: 'string' },
  'validation-seeds': { type: 'string' },
  generations: { type: 'string' },
  'imitation-days': { type: 'string' },
  pairs: { type: 'string' },
  sigma: { type: 'string' },
  'learning-rate': { type: 'string' },
  seed: { type: 'string' },
};

/** --multiplier as a list; several only for the paper workload. */
function multipliers(p: Parsed): number[] {
  const text = stringFlag(p, 'multiplier');
  if (text === undefined || !text.includes(',')) return [];
  if (stringFlag(p, 'workload', 'paper') !== 'paper')
    throw new UsageError('--multiplier: a list applies to --workload paper only');
  const list = text.split(',').map((x) => Number(x));
  if (list.some((x) => !Number.isFinite(x) || x <= 0))
    throw new UsageError(`--multiplier: expected positive numbers, got "${text}"`);
  // readWorkload checks one multiplier; the list's first stands for it.
  p.values.multiplier = String(list[0]);
  return list;
}

function overlap(a: readonly number[], b: readonly number[]): number[] {
  return a.filter((s) => b.includes(s));
}

interface TrainPlan {
  readonly argv: readonly string[];
  readonly p: Parsed;
  readonly out: string;
  readonly generations: number;
}

/** The run's settings: the command line, or on --resume the checkpoint's (only --generations may change). */
async function trainPlan(
  argv: string[],
): Promise<TrainPlan & { resumed?: Awaited<ReturnType<typeof loadCheckpoint>> }> {
  const p = parseFlags(argv, FLAGS);
  const out = stringFlag(p, 'out');
  if (!out) throw new UsageError('--out: required (the directory the model is written to)');
  if (!p.values.resume) {
    return { argv, p, out, generations: numberFlag(p, 'generations', 60, { min: 0, integer: true }) };
  }
  await useBestBackend();
  const resumed = await loadCheckpoint(out).catch((err: Error) => {
    throw new UsageError(`--resume: ${err.message}`);
  });
  const first = parseFlags([...resumed.run.argv], FLAGS);
  const generations = numberFlag(p.values.generations === undefined ? first : p, 'generations', 60, {
    min: 0,
    integer: true,
  });
  return { argv: resumed.run.argv, p: first, out, generations, resumed };
}

export const command: Command = {
  name: 'train',
  help,
  flags: FLAGS,
  async run(argv) {
    const plan = await trainPlan(argv);
    const { p, out, generations, resumed } = plan;
    oneOf('policy', stringFlag(p, 'policy', 'meanfield'), POLICIES);
    if (p.values.seeds === undefined) p.values.seeds = '1-50';
    const loads = multipliers(p);
    const model = readGpuModel(p);
    const gpus = numberFlag(p, 'gpus', 8, { min: 1, integer: true });
    const mode = oneOf('mode', stringFlag(p, 'mode', 'cluster'), SIM_MODES);
    const workload = readWorkload(p, model);
    const jobsFor = (seed: number) =>
      loads.length > 1
        ? generatePaperWorkload({ seed, multiplier: loads[seed % loads.length], hours: workload.horizonMin / 60 })
        : workload.jobsFor(seed);
    const trainSeeds = workload.seeds;
    const searchSeeds = parseIntList('search-seeds', stringFlag(p, 'search-seeds', '1-3'));
    const validationSeeds = parseIntList('validation-seeds', stringFlag(p, 'validation-seeds', '51-56'));
    const shared = overlap(validationSeeds, [...trainSeeds, ...searchSeeds]);
    if (shared.length > 0)
      throw new UsageError(`--validation-seeds: ${shared.join(',')} also train or search; choose others`);
    const es = {
      pairs: numberFlag(p, 'pairs', ES_DEFAULTS.pairs, { min: 1, max: 256, integer: true }),
      sigma: numberFlag(p, 'sigma', ES_DEFAULTS.sigma, { min: 1e-6, max: 10 }),
      learningRate: numberFlag(p, 'learning-rate', ES_DEFAULTS.learningRate, { min: 1e-9, max: 10 }),
      seedsPerGeneration: ES_DEFAULTS.seedsPerGeneration,
      trainSeeds,
      seed: numberFlag(p, 'seed', 1, { integer: true }),
    };
    const imitationDays = numberFlag(p, 'imitation-days', 10, { min: 1, integer: true });
    const setting = makeSetting({
      model,
      gpus,
      gpusPerNode: numberFlag(p, 'gpus-per-node', 8, { min: 1, integer: true }),
      mode,
      horizonMin: workload.horizonMin,
      workload: jobsFor,
    });
    const backend = await useBestBackend();
    const began = performance.now();
    const options = layoutOptions(model);
    const actor = { ...ACTOR_DEFAULTS, everyMin: mode === 'paper' ? 0 : ACTOR_DEFAULTS.everyMin };

    const days = progressCounter('simulated days');
    let stage = 'best static layout';
    const planner = new Planner(setting, { searchSeeds, staticLayouts: [], onEvaluate: () => days.tick(stage) });
    const start = resumed ? [...resumed.card.start] : planner.bestStatic().choice;
    const trainer = new MeanFieldTrainer(
      {
        setting,
        actor,
        es,
        start: expand(
          setting,
          start.map((i) => options[i] as (typeof options)[number]),
        ),
        validationSeeds,
        onDay: () => days.tick(stage),
      },
      resumed?.state,
    );
    const priorMinutes = resumed?.run.trainingMinutes ?? 0;
    const minutes = () => priorMinutes + (performance.now() - began) / 60_000;
    const card = (gain: number): ActorCard => ({
      controller: 'meanfield',
      features: FEATURES_VERSION,
      gpu: model.name,
      mode,
      options: options.map(layoutKey),
      hidden: [...actor.hidden],
      everyMin: actor.everyMin,
      start,
      trainSeeds: [...new Set([...searchSeeds, ...trainSeeds, ...validationSeeds])].sort((a, b) => a - b),
      command: `smartmig train ${plan.argv.join(' ')}`,
      generations: trainer.state.generation,
      trainingMinutes: Math.round(minutes() * 10) / 10,
      validationGain: gain,
    });
    let best = resumed?.run.bestGain ?? -Infinity;
    let kept: ActorCard | undefined;
    const checkpoint = async (): Promise<string> => {
      const gain = trainer.validate();
      const better = gain > best;
      if (better) {
        best = gain;
        kept = card(gain);
        await saveActor(out, trainer.net, kept);
      }
      await saveCheckpoint(out, trainer.net, card(gain), trainer.state, {
        argv: plan.argv,
        generation: trainer.state.generation,
        bestGain: best,
        trainingMinutes: minutes(),
      });
      return `validation ${(gain * 100).toFixed(2)} %${better ? ' (kept)' : ''}`;
    };

    if (!resumed) {
      stage = 'timetable search';
      const phases = planner.timetable().phases;
      stage = 'imitation days';
      // Fitting runs faster on plain JavaScript than on WebAssembly (tfjs's wasm gradients are slow); the
      // simulated days after it decide faster on the best backend.
      await useBackend('cpu');
      const accuracy = trainer.imitateTimetable(phases, trainSeeds.slice(0, imitationDays), {
        ...FIT_DEFAULTS,
        seed: es.seed,
      });
      await useBestBackend();
      days.stop();
      console.log(`imitated the timetable (${(accuracy * 100).toFixed(1)} % of actions); ${await checkpoint()}`);
    } else days.stop();

    const bar = progressBar(generations, 'generations');
    for (let g = trainer.state.generation; g < generations; g++) {
      const r = trainer.step();
      let line = `generation ${r.generation}: return ${(r.mean * 100).toFixed(2)} % (best ${(r.best * 100).toFixed(2)} %)`;
      if (r.generation % 5 === 0 || r.generation === generations) {
        line += `, ${await checkpoint()}`;
        console.log(line);
      }
      bar.tick(line);
    }
    bar.stop();
    // The card of the weights kept (a resumed run that kept none since reads them back).
    kept ??= (await loadActor(out)).card;
    await writeFile(join(out, 'CARD.md'), cardText(kept, trainer.state.generation, backend));
    console.log(`model: ${out} (validation gain ${(best * 100).toFixed(2)} % over the best static layout)`);
    return 0;
  },
};

function cardText(card: ActorCard, generations: number, backend: string): string {
  return `# ${card.controller} actor for ${card.gpu}, ${card.mode} mode

- Trained by: \`${card.command}\`
- Weights of generation ${card.generations} (the best on the validation seeds of ${generations} generations); ${card.trainingMinutes} min of training to then (backend ${backend})
- Net: ${card.hidden.join('×')} tanh hidden units, ${card.options.length + 1} actions, a decision every ${card.everyMin || 'simulator call'}${card.everyMin ? ' min' : ''}
- Starts from the best static pattern ${card.start.map((i) => i + 1).join(',')} (layout option numbers)
- Validation gain over that layout: ${(card.validationGain * 100).toFixed(2)} %
- Seeds seen in training (never evaluate on them): ${card.trainSeeds.join(',')}

Evaluate with \`smartmig compare --controllers best-static,timetable,meanfield --model DIR\`.
`;
}
