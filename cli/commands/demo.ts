// `smartmig demo` (what `npm start` runs): the paper's day on 8 A100-40GB GPUs under every strategy smartmig
// has, a comparison table on the terminal and an HTML report with charts.
import { findGpuModel, type GpuModel } from '../../policy/mig/catalog.js';
import type { PlacementName } from '../../policy/placement/heuristics.js';
import type { SimMode } from '../../policy/sim/config.js';
import { runExperiment, type RepartitionName } from '../../policy/sim/experiment.js';
import { generatePaperWorkload } from '../../policy/workload/paper-generator.js';
import { parseFlags, parseIntList, stringFlag, type FlagSpec } from '../args.js';
import type { Command } from '../command.js';
import { progressBar } from '../progress.js';
import { checkReportPath, writeReport } from '../report/write.js';
import { parseLayoutList } from '../sim-flags.js';
import { summaryTable } from '../summary-table.js';
import { UsageError } from '../usage-error.js';
import { loadActor } from '../../model-store/actor-files.js';
import { useBestBackend } from '../../model-store/backend.js';
import { shippedModelDir } from '../../model-store/shipped.js';
import { checkedActor } from '../../policy/learn/card.js';
import type { Repartitioner } from '../../policy/repartition/controller.js';
import { meanFieldRepartitioner } from '../../policy/repartition/meanfield.js';

interface Strategy {
  label: string;
  controller?: () => Repartitioner;
  mode: SimMode;
  placement: PlacementName;
  repartition: RepartitionName;
  layouts: string;
}

const PAPER_STATIC = '1,1,2,3,3,5,5,10';

const STRATEGIES: Strategy[] = [
  {
    label: 'no MIG (whole GPUs), CEDF',
    mode: 'paper',
    placement: 'cedf',
    repartition: 'static',
    layouts: 'all-disabled',
  },
  { label: 'static, random', mode: 'paper', placement: 'random', repartition: 'static', layouts: PAPER_STATIC },
  {
    label: 'static, EDF most-packed',
    mode: 'paper',
    placement: 'edf-most-packed',
    repartition: 'static',
    layouts: PAPER_STATIC,
  },
  {
    label: 'static, EDF marginal-ET',
    mode: 'paper',
    placement: 'marginal-et',
    repartition: 'static',
    layouts: PAPER_STATIC,
  },
  { label: 'static, CEDF', mode: 'paper', placement: 'cedf', repartition: 'static', layouts: PAPER_STATIC },
  { label: 'greedy repartition, CEDF', mode: 'paper', placement: 'cedf', repartition: 'greedy', layouts: PAPER_STATIC },
  {
    label: 'cluster mode: static, first-fit (plain DRA)',
    mode: 'cluster',
    placement: 'first-fit',
    repartition: 'static',
    layouts: PAPER_STATIC,
  },
  {
    label: 'cluster mode: static, CEDF',
    mode: 'cluster',
    placement: 'cedf',
    repartition: 'static',
    layouts: PAPER_STATIC,
  },
  {
    label: 'cluster mode: greedy, CEDF',
    mode: 'cluster',
    placement: 'cedf',
    repartition: 'greedy',
    layouts: PAPER_STATIC,
  },
];

/** The shipped cluster-mode actor and the best static layout it starts from, as two more rows. */
async function learnedStrategies(model: GpuModel, seeds: readonly number[]): Promise<Strategy[]> {
  await useBestBackend();
  const actor = await loadActor(shippedModelDir(model.name, 'cluster'), model.name);
  const seen = seeds.filter((s) => actor.card.trainSeeds.includes(s));
  if (seen.length > 0)
    throw new UsageError(
      `--seeds: the learned controller was trained on ${seen.join(',')}; choose others (e.g. 101-103)`,
    );
  const { options } = checkedActor(actor.card);
  const layouts = actor.card.start.map((i) => String(i + 1)).join(',');
  const base = { mode: 'cluster' as const, placement: 'cedf' as const, layouts };
  return [
    { ...base, label: 'cluster mode: best static, CEDF', repartition: 'static' },
    {
      ...base,
      label: 'cluster mode: meanfield (learned), CEDF',
      repartition: 'static',
      controller: () => meanFieldRepartitioner({ model, options, net: actor.net, everyMin: actor.card.everyMin }),
    },
  ];
}

const help = `smartmig demo: the paper's day (8 × A100-40GB, diurnal load at 20×) under every strategy

Usage: smartmig demo [--seeds 101-103] [--report reports/smartmig-demo.html]

Prints a comparison table (energy, mean tardiness, on-time share, ET, distance to the energy lower bound)
and writes a self-contained HTML report with charts. Paper mode re-places jobs freely at every event, as
the SMART-MIG paper does; cluster mode runs each job to completion where it starts, as Kubernetes does.
The learned controller (meanfield, the model shipped for A100-40GB in cluster mode) runs beside the best
static layout it starts from; seeds it was trained on are refused.`;

const FLAGS = { seeds: { type: 'string' }, report: { type: 'string' } } satisfies FlagSpec;

export const command: Command = {
  name: 'demo',
  help,
  flags: FLAGS,
  async run(argv) {
    const p = parseFlags(argv, FLAGS);
    const seeds = parseIntList('seeds', stringFlag(p, 'seeds', '101-103'));
    const reportPath = stringFlag(p, 'report', 'reports/smartmig-demo.html');
    await checkReportPath(reportPath);
    const model = findGpuModel('A100-40GB') as GpuModel;
    const workloads = new Map(seeds.map((s) => [s, generatePaperWorkload({ seed: s })]));
    console.log(
      `smartmig demo: 8 × ${model.name}, the paper's diurnal workload at 20× over 24 h, seeds ${seeds.join(',')}`,
    );
    const strategies = [...STRATEGIES, ...(await learnedStrategies(model, seeds))];
    const bar = progressBar(strategies.length * seeds.length, 'simulating');
    const results = strategies.map((s) => {
      const pattern = parseLayoutList(model, s.layouts);
      const layouts = Array.from({ length: 8 }, (_, i) => pattern[i % pattern.length]!);
      return runExperiment(
        {
          label: s.label,
          model,
          layouts,
          mode: s.mode,
          placement: s.placement,
          repartition: s.repartition,
          controller: s.controller,
          horizonMin: 24 * 60,
        },
        (seed) => workloads.get(seed)!,
        seeds,
        () => bar.tick(s.label),
      );
    });
    bar.stop();
    console.log(summaryTable(results));
    const { renderReport } = await import('../report/html.js');
    await writeReport(
      reportPath,
      renderReport(results, {
        title: 'smartmig: the paper day on 8 A100-40GB',
        subtitle: `diurnal load at 20×, 24 h, seeds ${seeds.join(',')}`,
        command: `smartmig demo ${argv.join(' ')}`.trim(),
      }),
    );
    console.log(`\nHTML report with charts: ${reportPath}`);
    return 0;
  },
};
