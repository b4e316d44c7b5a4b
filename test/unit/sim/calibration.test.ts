// Regression guard for the calibration against the SMART-MIG paper (docs/model.md §8; docs/calibration.md has
// the 10-seed table). Three seeds keep it quick; the bands are the acceptance bands.
import { describe, expect, it } from 'vitest';
import { runExperiment, type RepartitionName } from '../../../policy/sim/experiment.js';
import type { PlacementName } from '../../../policy/placement/heuristics.js';
import { generatePaperWorkload } from '../../../policy/workload/paper-generator.js';
import { A100, paperGpus } from '../../support/sim-builders.js';

const seeds = [1, 2, 3];
const workloads = new Map(seeds.map((s) => [s, generatePaperWorkload({ seed: s })]));

function run(placement: PlacementName, configs: number[], repartition: RepartitionName = 'static') {
  return runExperiment(
    {
      label: placement,
      model: A100,
      layouts: paperGpus(configs).map((g) => g.layout),
      mode: 'paper',
      placement,
      repartition,
      horizonMin: 1440,
    },
    (s) => workloads.get(s)!,
    seeds,
  );
}

describe('paper calibration (8 × A100-40GB, 24 h at 20×, paper mode)', () => {
  const cedf = run('cedf', [1, 1, 2, 3, 3, 5, 5, 10]);
  it('static CEDF energy is within ±10 % of the paper’s 2.57 M W·min', () => {
    expect(cedf.energyWmin).toBeGreaterThan(2.57e6 * 0.9);
    expect(cedf.energyWmin).toBeLessThan(2.57e6 * 1.1);
  });
  it('the energy lower bound is within ±10 % of the paper’s 1.995 M W·min and below every run', () => {
    expect(cedf.energyLowerBoundWmin).toBeGreaterThan(1.995e6 * 0.9);
    expect(cedf.energyLowerBoundWmin).toBeLessThan(1.995e6 * 1.1);
    for (const r of cedf.runs) expect(r.energyWmin).toBeGreaterThan(r.energyLowerBoundWmin);
  });
  it('static EDF most-packed uses more energy than static CEDF', () => {
    expect(run('edf-most-packed', [1, 1, 2, 3, 3, 5, 5, 10]).energyWmin).toBeGreaterThan(cedf.energyWmin);
  });
  it('no partitioning (all 7g) has at least 5× the mean tardiness of static CEDF', () => {
    expect(run('cedf', [1, 1, 1, 1, 1, 1, 1, 1]).meanTardinessMin).toBeGreaterThan(5 * cedf.meanTardinessMin);
  });
});
