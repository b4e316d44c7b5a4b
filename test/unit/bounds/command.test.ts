import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { energyLowerBound } from '../../../policy/bounds/energy.js';
import { powerModel } from '../../../policy/energy/index.js';
import { findGpuModel } from '../../../policy/mig/catalog.js';
import { generatePaperWorkload } from '../../../policy/workload/paper-generator.js';

function smartmig(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/smartmig.js', 'bounds', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('smartmig bounds', () => {
  it('prints per-seed bounds and their mean as JSON, the same as the policy computes', () => {
    const r = smartmig(
      '--hours',
      '2',
      '--seeds',
      '1-2',
      '--gpus',
      '4',
      '--json',
      '--tardiness',
      '--tardiness-jobs',
      '5',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      seeds: Array<{
        seed: number;
        jobs: number;
        energy: { energyWmin: number; energyKWh: number };
        tardiness: { jobs: number; status: string };
      }>;
      mean: { energyWmin: number; meanTardinessMin: number };
    };
    expect(out.seeds.map((s) => s.seed)).toEqual([1, 2]);
    const model = findGpuModel('A100-40GB')!;
    const power = powerModel(model);
    for (const s of out.seeds) {
      const jobs = generatePaperWorkload({ seed: s.seed, hours: 2, multiplier: 20 });
      const want = energyLowerBound(jobs, { gpus: 4, model, power: (k) => power.watts(k) });
      expect(s.jobs).toBe(jobs.length);
      expect(s.energy.energyWmin).toBeCloseTo(want.energyWmin, 6);
      expect(s.energy.energyKWh).toBeCloseTo(want.energyWmin / 60_000, 9);
      expect(s.tardiness.jobs).toBe(5);
      expect(s.tardiness.status).toBe('optimal');
    }
    expect(out.mean.energyWmin).toBeCloseTo((out.seeds[0]!.energy.energyWmin + out.seeds[1]!.energy.energyWmin) / 2, 6);
    expect(out.mean.meanTardinessMin).toBeGreaterThanOrEqual(0);
  });

  it.each([
    { args: ['--gpus', '0'], flag: '--gpus' },
    { args: ['--gpu', 'B200'], flag: '--gpu' },
    { args: ['--seeds', '5-1'], flag: '--seeds' },
    { args: ['--multiplier', '0'], flag: '--multiplier' },
    { args: ['--step', '1'], flag: '--step' },
    { args: ['--tardiness', '--tardiness-jobs', '2.5'], flag: '--tardiness-jobs' },
  ])('rejects $args with one line naming $flag and exit code 2', ({ args, flag }) => {
    const r = smartmig(...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(flag);
  });
});
