// `smartmig compare`: controllers × placements on evaluation seeds that no controller was tuned on, one table
// of means with 95 % intervals and the paired ET improvement against a baseline (JSON or an HTML report too).
import { CONTROLLERS, type ControllerName } from '../../policy/evaluate/plans.js';
import { compare, SeedOverlapError, type CompareResult, type CompareRow } from '../../policy/evaluate/compare.js';
import { makeSetting } from '../../policy/evaluate/setting.js';
import type { Interval } from '../../policy/evaluate/stats.js';
import { PLACEMENTS, type PlacementName } from '../../policy/placement/heuristics.js';
import { DEFAULT_LIMITS } from '../../policy/repartition/targets.js';
import { SIM_MODES } from '../../policy/sim/config.js';
import {
  durationFlag,
  numberFlag,
  oneOf,
  parseFlags,
  parseIntList,
  stringFlag,
  type FlagSpec,
  type Parsed,
} from '../args.js';
import { loadActor, ModelError } from '../../model-store/actor-files.js';
import { useBestBackend } from '../../model-store/backend.js';
import { shippedModelDir } from '../../model-store/shipped.js';
import type { Command } from '../command.js';
import { progressCounter } from '../progress.js';
import { checkReportPath, writeReport } from '../report/write.js';
import {
  CLUSTER_FLAGS,
  CLUSTER_HELP,
  MIX_HELP,
  readCluster,
  readWorkload,
  WORKLOAD_FLAGS,
  WORKLOAD_HELP,
} from '../sim-flags.js';
import { UsageError } from '../usage-error.js';

const help = `smartmig compare: score repartitioning controllers against each other on unseen days

Usage: smartmig compare [flags]

Each controller is tuned on the search seeds (best-static, twice-daily and timetable search layouts there;
dynamic controllers start from the best static layout) and scored on the evaluation seeds, which must differ.
Figures are means over the evaluation seeds with 95 % intervals; the last column is the paired ET
improvement against the baseline (1 − ET/ET_baseline, seed by seed).

${CLUSTER_HELP.replace('initial layout per GPU', 'layouts of the static controller').replace(MIX_HELP, '')}
${WORKLOAD_HELP.replace('1,3,7 (default 1)', '1,3,7 (evaluation seeds; default 101-120)')}
  --search-seeds LIST   seeds the controllers are searched or trained on (default 1-3)
  --controllers C[,C]   ${CONTROLLERS.join(', ')}
                        (default static,best-static,twice-daily,timetable,greedy; hindsight
                        searches every evaluation day and takes minutes)
  --model DIR           the trained actor meanfield runs (default: the shipped one for the GPU model and
                        mode, policy/models/meanfield-<gpu>-<mode>)
  --baseline C          the row others are measured against (default best-static)
  --placement P[,P]     ${PLACEMENTS.join(', ')} (default cedf)
  --mode M              paper or cluster (default cluster)
  --gpus-per-node N     GPUs a node changes together (default 8)
  --reconfigure-seconds S  time changing GPUs are out of service (default 4 in paper mode, 30 in cluster)
  --decision-interval D  time between decisions in cluster mode, e.g. 1m (default 1m)
  --min-dwell D         time a GPU keeps a layout before it may change again (default 0s)
  --max-nodes-reconfiguring N  nodes draining or changing at once (default: no limit)
  --drain-timeout D     give up a drain after D, or none (default none)
  --search-passes N     coordinate-descent passes of the searches (default 2)
  --json                print the result as JSON
  --report FILE.html    write an HTML report with the layouts over the day per controller
  -h, --help            this help

Example (the paper setting in cluster mode):
  smartmig compare --mode cluster --gpus 8 --gpu A100-40GB --search-seeds 1-3 --seeds 101-120`;

function listFlag<T extends string>(flag: string, text: string, allowed: readonly T[]): T[] {
  const items = text.split(',').map((s) => oneOf(flag, s.trim(), allowed));
  return [...new Set(items)];
}

const pct = (i: Interval): string => `${(i.mean * 100).toFixed(1)} ± ${(i.half * 100).toFixed(1)} %`;
const num = (i: Interval, d: number): string => `${i.mean.toFixed(d)} ± ${i.half.toFixed(d)}`;

const COLUMNS: [string, (r: CompareRow) => string][] = [
  ['controller', (r) => (r.deployable ? r.controller : `${r.controller} (reference)`)],
  ['placement', (r) => r.placement],
  [
    'energy (M W·min)',
    (r) => num({ ...r.energyWmin, mean: r.energyWmin.mean / 1e6, half: r.energyWmin.half / 1e6 }, 3),
  ],
  ['tardiness (min)', (r) => num(r.meanTardinessMin, 2)],
  ['ET', (r) => num(r.et, 3)],
  ['above energy LB', (r) => pct(r.aboveLowerBound)],
  ['repartitions', (r) => num(r.repartitions, 1)],
  ['draining (GPU·min)', (r) => num(r.drainingGpuMin, 0)],
  ['ET gain vs baseline', (r) => (r.etImprovement ? pct(r.etImprovement) : 'baseline')],
];

export function compareTable(result: CompareResult): string {
  const rows = [COLUMNS.map(([h]) => h), ...result.rows.map((r) => COLUMNS.map(([, f]) => f(r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => (row[i] as string).length)));
  const line = (row: string[]): string =>
    row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  ');
  const [head, ...body] = rows;
  const found = result.rows.map((r) => `  ${r.controller} ${r.placement}: ${r.found}`);
  return [
    line(head as string[]),
    widths.map((w) => '─'.repeat(w)).join('  '),
    ...body.map(line),
    '',
    'layouts:',
    ...found,
  ].join('\n');
}

/** The actor `--model` names, or the shipped one for the GPU model and mode. */
async function loadModelFlag(p: Parsed, gpu: string, mode: string) {
  const dir = stringFlag(p, 'model', shippedModelDir(gpu, mode));
  await useBestBackend();
  try {
    const actor = await loadActor(dir, gpu);
    if (actor.card.mode !== mode)
      throw new ModelError(dir, `it was trained in ${actor.card.mode} mode, this comparison runs ${mode} mode`);
    return actor;
  } catch (err) {
    if (err instanceof ModelError) throw new UsageError(`--model: ${err.message}`);
    throw err;
  }
}

const FLAGS: FlagSpec = {
  ...CLUSTER_FLAGS,
  ...WORKLOAD_FLAGS,
  'search-seeds': { type: 'string' },
  controllers: { type: 'string' },
  baseline: { type: 'string' },
  model: { type: 'string' },
  placement: { type: 'string' },
  mode: { type: 'string' },
  'gpus-per-node': { type: 'string' },
  'reconfigure-seconds': { type: 'string' },
  'decision-interval': { type: 'string' },
  'min-dwell': { type: 'string' },
  'max-nodes-reconfiguring': { type: 'string' },
  'drain-timeout': { type: 'string' },
  'search-passes': { type: 'string' },
  json: { type: 'boolean' },
  report: { type: 'string' },
};

export const command: Command = {
  name: 'compare',
  help,
  flags: FLAGS,
  async run(argv) {
    const p = parseFlags(argv, FLAGS);
    if (p.values.seeds === undefined) p.values.seeds = '101-120';
    const { model, models, layouts } = readCluster(p);
    if (models.some((m) => m !== model))
      throw new UsageError('--gpu: compare takes one GPU model (simulate takes a mix)');
    const mode = oneOf('mode', stringFlag(p, 'mode', 'cluster'), SIM_MODES);
    const controllers = listFlag<ControllerName>(
      'controllers',
      stringFlag(p, 'controllers', 'static,best-static,twice-daily,timetable,greedy'),
      CONTROLLERS,
    );
    const baseline = oneOf('baseline', stringFlag(p, 'baseline', 'best-static'), CONTROLLERS);
    if (!controllers.includes(baseline)) controllers.unshift(baseline);
    const placements = listFlag<PlacementName>('placement', stringFlag(p, 'placement', 'cedf'), PLACEMENTS);
    const searchSeeds = parseIntList('search-seeds', stringFlag(p, 'search-seeds', '1-3'));
    const gpusPerNode = numberFlag(p, 'gpus-per-node', 8, { min: 1, integer: true });
    const reconfigureSeconds = numberFlag(p, 'reconfigure-seconds', mode === 'paper' ? 4 : 30, { min: 0 });
    const limits = {
      decisionIntervalMin: durationFlag(p, 'decision-interval', DEFAULT_LIMITS.decisionIntervalMin),
      minDwellMin: durationFlag(p, 'min-dwell', 0),
      maxNodesReconfiguring: numberFlag(p, 'max-nodes-reconfiguring', Infinity, { min: 1, integer: true }),
      drainTimeoutMin: durationFlag(p, 'drain-timeout', Infinity, true),
    };
    if (limits.decisionIntervalMin <= 0) throw new UsageError('--decision-interval: must be above 0s');
    const maxPasses = numberFlag(p, 'search-passes', 2, { min: 1, max: 10, integer: true });
    const report = stringFlag(p, 'report');
    const workload = readWorkload(p, model);
    if (report) await checkReportPath(report);

    const actor = controllers.includes('meanfield') ? await loadModelFlag(p, model.name, mode) : undefined;
    const setting = makeSetting({
      model,
      gpus: layouts.length,
      gpusPerNode,
      mode,
      horizonMin: workload.horizonMin,
      reconfigureMin: reconfigureSeconds / 60,
      limits,
      workload: (seed) => workload.jobsFor(seed),
    });
    // Searches have no known length; the counter shows simulated days (search candidates included) and the stage.
    const bar = progressCounter('simulated days');
    let stage = '';
    let result: CompareResult;
    try {
      result = compare(
        {
          setting,
          controllers,
          placements,
          evalSeeds: workload.seeds,
          baseline,
          plan: { searchSeeds, staticLayouts: layouts, maxPasses, actor },
        },
        {
          stage: (s) => {
            stage = s;
          },
          tick: () => {
            bar.tick(stage);
          },
        },
      );
    } catch (err) {
      if (err instanceof SeedOverlapError) throw new UsageError(`--seeds: ${err.message}; choose others`);
      throw err;
    } finally {
      bar.stop();
    }

    if (report) {
      const { renderCompareReport } = await import('../report/compare-report.js');
      await writeReport(
        report,
        renderCompareReport(result, {
          command: `smartmig compare ${argv.join(' ')}`,
          describe: workload.describe,
          horizonMin: workload.horizonMin,
        }),
      );
    }
    if (p.values.json) console.log(JSON.stringify(result, null, 2));
    else {
      console.log(
        `${workload.describe}; ${layouts.length} × ${model.name} (${gpusPerNode} per node), ${mode} mode; search seeds ${searchSeeds.join(',')}, evaluation seeds ${workload.seeds.join(',')}`,
      );
      console.log(compareTable(result));
      if (report) console.log(`report: ${report}`);
    }
    return 0;
  },
};
