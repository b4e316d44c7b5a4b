// `smartmig simulate`: a workload through a simulated MIG cluster under a placement heuristic and a
// repartitioning controller; energy, tardiness, ET and the energy lower bound, as a table, JSON or a report.
import { PLACEMENTS, type PlacementName } from '../../policy/placement/heuristics.js';
import { SIM_MODES } from '../../policy/sim/config.js';
import {
  REPARTITIONERS,
  runExperiment,
  type ExperimentResult,
  type RepartitionName,
} from '../../policy/sim/experiment.js';
import { oneOf, numberFlag, parseFlags, stringFlag, type FlagSpec } from '../args.js';
import type { Command } from '../command.js';
import { progressBar } from '../progress.js';
import { checkReportPath, writeReport } from '../report/write.js';
import { CLUSTER_FLAGS, CLUSTER_HELP, readCluster, readWorkload, WORKLOAD_FLAGS, WORKLOAD_HELP } from '../sim-flags.js';
import { summaryTable } from '../summary-table.js';

const help = `smartmig simulate: run a workload through a simulated MIG cluster

Usage: smartmig simulate [flags]

${CLUSTER_HELP}
${WORKLOAD_HELP}
  --mode M              paper (free preemption, as in the paper) or cluster (run to completion, as on
                        Kubernetes) (default paper)
  --placement P[,P]     ${PLACEMENTS.join(', ')} (default cedf); a list compares them
  --repartition R[,R]   ${REPARTITIONERS.join(', ')} (default static); a list compares them
  --reconfigure-seconds S  time a GPU is out of service while it reconfigures (default 4 in paper mode,
                        30 in cluster mode)
  --json                print one JSON object (a list of them when comparing)
  --report FILE.html    write a self-contained HTML report with charts
  -h, --help            this help

Example (the paper's static CEDF baseline, mean of 5 seeds):
  smartmig simulate --gpus 8 --gpu A100-40GB --workload paper --multiplier 20 --hours 24 --mode paper \\
    --placement cedf --repartition static --layouts 1,1,2,3,3,5,5,10 --seeds 1-5 --json`;

function listFlag<T extends string>(flag: string, text: string, allowed: readonly T[]): T[] {
  return text.split(',').map((s) => oneOf(flag, s.trim(), allowed));
}

/** The figures the issue names, means over the seeds. */
function jsonSummary(r: ExperimentResult): Record<string, unknown> {
  const { runs, ...means } = r;
  return { ...means, perSeed: runs.map(({ hourly: _h, gpuEnergyWmin: _g, ...rest }) => rest) };
}

const FLAGS: FlagSpec = {
  ...CLUSTER_FLAGS,
  ...WORKLOAD_FLAGS,
  mode: { type: 'string' },
  placement: { type: 'string' },
  repartition: { type: 'string' },
  'reconfigure-seconds': { type: 'string' },
  json: { type: 'boolean' },
  report: { type: 'string' },
};

export const command: Command = {
  name: 'simulate',
  help,
  flags: FLAGS,
  async run(argv) {
    const p = parseFlags(argv, FLAGS);
    const { model, models, layouts } = readCluster(p);
    const mode = oneOf('mode', stringFlag(p, 'mode', 'paper'), SIM_MODES);
    const placements = listFlag<PlacementName>('placement', stringFlag(p, 'placement', 'cedf'), PLACEMENTS);
    const repartitions = listFlag<RepartitionName>(
      'repartition',
      stringFlag(p, 'repartition', 'static'),
      REPARTITIONERS,
    );
    const reconfigure =
      p.values['reconfigure-seconds'] === undefined
        ? undefined
        : numberFlag(p, 'reconfigure-seconds', 0, { min: 0 }) / 60;
    const report = stringFlag(p, 'report');
    const workload = readWorkload(p, model);
    if (report) await checkReportPath(report);

    const combos = repartitions.flatMap((repartition) => placements.map((placement) => ({ placement, repartition })));
    const bar = progressBar(combos.length * workload.seeds.length, 'simulating');
    const results = combos.map(({ placement, repartition }) =>
      runExperiment(
        {
          label: `${repartition} ${placement}`,
          model,
          models,
          layouts,
          mode,
          placement,
          repartition,
          horizonMin: workload.horizonMin,
          reconfigureMin: reconfigure,
        },
        (seed) => workload.jobsFor(seed),
        workload.seeds,
        (seed) => bar.tick(`seed ${seed}`),
      ),
    );
    bar.stop();

    if (report) {
      const { renderReport } = await import('../report/html.js');
      await writeReport(
        report,
        renderReport(results, {
          title: 'smartmig simulation',
          subtitle: workload.describe,
          command: `smartmig simulate ${argv.join(' ')}`,
        }),
      );
    }
    if (p.values.json) {
      const out = results.map(jsonSummary);
      console.log(JSON.stringify(out.length === 1 ? out[0] : out, null, 2));
    } else {
      console.log(
        `${workload.describe}; ${results[0]?.spec.gpu === model.name ? `${layouts.length} × ${model.name}` : results[0]?.spec.gpu}, ${mode} mode, seeds ${workload.seeds.join(',')}`,
      );
      console.log(summaryTable(results));
      if (report) console.log(`report: ${report}`);
    }
    return 0;
  },
};
