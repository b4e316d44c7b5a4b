// `smartmig train` and `compare --controllers meanfield` as a user runs them: real processes, files on disk.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function smartmig(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/smartmig.js', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// A small setting: 2 GPUs on one node, 2-hour days at a light load.
const SMALL = [
  '--gpus',
  '2',
  '--gpus-per-node',
  '2',
  '--hours',
  '2',
  '--multiplier',
  '5',
  '--seeds',
  '1-4',
  '--search-seeds',
  '1',
  '--validation-seeds',
  '5',
  '--imitation-days',
  '1',
  '--pairs',
  '2',
];
const CLUSTER = ['--gpus', '2', '--gpus-per-node', '2', '--hours', '2', '--multiplier', '5', '--layouts', '1'];
const weights = (dir: string) => readFileSync(join(dir, 'checkpoint', 'weights.bin')).toString('base64');

describe('smartmig train', () => {
  it('writes a model with its card; a run stopped and resumed ends with the weights of one that was not', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'smartmig-train-'));
    const whole = join(tmp, 'whole');
    const r = smartmig('train', ...SMALL, '--generations', '4', '--out', whole);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/imitated the timetable/);
    expect(r.out).toMatch(/generation 4: return/);
    const model = JSON.parse(readFileSync(join(whole, 'model.json'), 'utf8'));
    const card = model.userDefinedMetadata.smartmig;
    expect(card).toMatchObject({
      controller: 'meanfield',
      gpu: 'A100-40GB',
      mode: 'cluster',
      trainSeeds: [1, 2, 3, 4, 5],
    });
    expect(readFileSync(join(whole, 'CARD.md'), 'utf8')).toMatch(/Seeds seen in training.*1,2,3,4,5/);

    const split = join(tmp, 'split');
    expect(smartmig('train', ...SMALL, '--generations', '2', '--out', split).code).toBe(0);
    const resumed = smartmig('train', '--out', split, '--resume', '--generations', '4');
    expect(resumed.code).toBe(0);
    expect(resumed.out).not.toMatch(/imitated/);
    expect(weights(split)).toBe(weights(whole));

    // compare refuses to score the model on the seeds it saw, and scores it elsewhere.
    const seen = smartmig(
      'compare',
      ...CLUSTER,
      '--search-seeds',
      '1',
      '--seeds',
      '4-5',
      '--controllers',
      'meanfield',
      '--model',
      whole,
    );
    expect(seen.code).toBe(2);
    expect(seen.err).toMatch(/meanfield was tuned on seeds 4,5/);
    const unseen = smartmig(
      'compare',
      ...CLUSTER,
      '--search-seeds',
      '1',
      '--seeds',
      '11-12',
      '--controllers',
      'meanfield',
      '--model',
      whole,
      '--json',
    );
    expect(unseen.code).toBe(0);
    const rows = JSON.parse(unseen.out).rows as { controller: string }[];
    expect(rows.map((x) => x.controller)).toEqual(['best-static', 'meanfield']);
  });

  it('names the bad flag: no --out, validation seeds that also train, a resume with nothing to resume', () => {
    expect(smartmig('train').err).toMatch(/--out: required/);
    const overlap = smartmig('train', '--out', join(tmpdir(), 'x'), '--seeds', '1-5', '--validation-seeds', '5-6');
    expect(overlap.code).toBe(2);
    expect(overlap.err).toMatch(/--validation-seeds: 5 also train or search/);
    const nothing = smartmig('train', '--out', mkdtempSync(join(tmpdir(), 'smartmig-empty-')), '--resume');
    expect(nothing.code).toBe(2);
    expect(nothing.err).toMatch(/--resume: model .*checkpoint: no model\.json there/);
  });

  it('compare names a model directory that is not a model', () => {
    const r = smartmig('compare', '--controllers', 'meanfield', '--model', tmpdir());
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--model: model .*: no model\.json there/);
  });
});
