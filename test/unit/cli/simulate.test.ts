// The simulate command as a user runs it: a real process, its exit code, its stdout and stderr.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function smartmig(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/smartmig.js', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('smartmig simulate', () => {
  it('prints one JSON object with the figures the issue names, means over the seeds', () => {
    const r = smartmig(
      'simulate',
      '--gpus',
      '8',
      '--workload',
      'paper',
      '--hours',
      '2',
      '--layouts',
      '1,1,2,3,3,5,5,10',
      '--seeds',
      '1-2',
      '--json',
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out);
    for (const key of [
      'jobs',
      'completed',
      'energyWmin',
      'meanTardinessMin',
      'onTimeFraction',
      'et',
      'energyLowerBoundWmin',
      'energyAboveLowerBound',
      'repartitions',
    ]) {
      expect(typeof out[key], key).toBe('number');
    }
    expect(out.perSeed).toHaveLength(2);
    expect(out.jobs).toBeCloseTo((out.perSeed[0].jobs + out.perSeed[1].jobs) / 2, 9);
    expect(out.completed).toBe(out.jobs);
    expect(out.energyWmin).toBeGreaterThan(out.energyLowerBoundWmin);
  });

  it('compares several placements and writes an HTML report', () => {
    const dir = mkdtempSync(join(tmpdir(), 'smartmig-'));
    const report = join(dir, 'nested', 'r.html');
    const r = smartmig(
      'simulate',
      '--hours',
      '1',
      '--placement',
      'cedf,random',
      '--mode',
      'cluster',
      '--report',
      report,
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/static cedf/);
    expect(r.out).toMatch(/static random/);
    const html = readFileSync(report, 'utf8');
    expect(html).toMatch(/<svg/);
    expect(html).toContain('static random');
  });

  it.each([
    [['--gpu', 'X100'], /--gpu: unknown GPU model "X100"/],
    [['--layouts', '1,13'], /--layouts: .*no layout "13"/],
    [['--layouts', '3g.20gb@1'], /--layouts: .*3g\.20gb/],
    [['--gpus', '3', '--layouts', '1,2'], /--layouts: 2 layouts do not fill 3 GPUs/],
    [['--placement', 'fastest'], /--placement: "fastest" is not one of/],
    [['--seeds', '5-1'], /--seeds: range "5-1" runs backwards/],
    [['--hours', 'soon'], /--hours: expected a number/],
    [['--workload', '/does/not/exist.csv'], /no such file/],
    [['--frobnicate'], /Unknown option '--frobnicate'/],
    // fix: a seed above 2^53 made the range loop endless (the process died out of memory)
    [['--seeds', '99999999999999999999'], /--seeds: .* outside the safe integer range/],
    // fix: an unbounded horizon ran the recorder out of memory
    [['--hours', '1e9'], /--hours: expected a number ≥ 0\.01 ≤ 8760/],
    // fix: an unusable report path was a stack trace after all the simulations
    [['--hours', '0.1', '--report', tmpdir()], /--report: .* is a directory/],
  ])('rejects %j with exit code 2 and one line naming it', (args, message) => {
    const r = smartmig('simulate', ...(args as string[]));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message as RegExp);
    expect(
      r.err
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('npm warn')),
    ).toHaveLength(1);
    expect(r.err).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });
});

describe('smartmig simulate on a cluster that mixes GPU models', () => {
  it('runs each GPU on its own model: an idle hour costs each model its idle power', () => {
    const r = smartmig('simulate', '--gpu', 'A100-40GB:1,H100-80GB:1', '--hours', '1', '--multiplier', '0', '--json');
    expect(r.code, r.err).toBe(0);
    const out = JSON.parse(r.out);
    expect(out.spec).toMatchObject({ gpu: 'A100-40GB×1+H100-80GB×1', gpus: 2 });
    // docs/model.md §3: idle A100-40GB 40 W, idle H100-80GB 70 W.
    expect(out.energyWmin).toBeCloseTo(60 * (40 + 70), 6);
  });

  it('places jobs on both models and stays above the mixed energy bound', () => {
    const r = smartmig('simulate', '--gpu', 'A100-40GB:2,A30-24GB:2', '--hours', '2', '--mode', 'cluster', '--json');
    expect(r.code, r.err).toBe(0);
    const out = JSON.parse(r.out);
    expect(out.completed).toBe(out.jobs);
    expect(out.energyWmin).toBeGreaterThan(out.energyLowerBoundWmin);
  });

  it.each([
    [['--gpu', 'A100-40GB:4,H100-80GB:4', '--gpus', '9'], '--gpus: 9 differs from the 8 GPUs --gpu names'],
    [['--gpu', 'A100-40GB:4,Z80:4'], '--gpu: "Z80:4" is not MODEL:COUNT'],
    [['--gpu', 'A100-40GB:4,H100-80GB:4', '--layouts', '1,2,3'], '--layouts: 3 layouts do not fill 4 A100-40GB GPUs'],
  ])('%j is a usage error naming the flag', (args, message) => {
    const r = smartmig('simulate', ...args);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
  });

  it('compare takes one model and says so', () => {
    const r = smartmig('compare', '--gpu', 'A100-40GB:4,H100-80GB:4');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--gpu: compare takes one GPU model');
  });
});

describe('smartmig', () => {
  it('names an unknown command and lists the known ones', () => {
    const r = smartmig('simulat');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown command "simulat".*simulate/);
  });
  it('prints help for a command', () => {
    const r = smartmig('simulate', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/--placement/);
  });
});
