// `npm start` is `smartmig demo`: the main job a newcomer runs. Run it as a user does, on one evaluation day.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ET_COLUMN = 6;

describe('smartmig demo', () => {
  it('prints every strategy with its ET, and smartmig beats plain DRA and the paper static layout', () => {
    const report = join(mkdtempSync(join(tmpdir(), 'smartmig-demo-')), 'demo.html');
    const r = spawnSync(process.execPath, ['bin/smartmig.js', 'demo', '--seeds', '101', '--report', report], {
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const et = new Map<string, number>();
    for (const line of r.stdout.split('\n')) {
      const cells = line.split(/\s{2,}/);
      const value = Number(cells[ET_COLUMN]);
      if (cells.length > ET_COLUMN && Number.isFinite(value)) et.set(cells[0] as string, value);
    }
    const of = (label: string) => {
      expect(et.has(label), `row "${label}" in\n${r.stdout}`).toBe(true);
      return et.get(label) as number;
    };
    const plainDra = of('cluster mode: static, first-fit (plain DRA)');
    const cedf = of('cluster mode: static, CEDF');
    const bestStatic = of('cluster mode: best static, CEDF');
    const learned = of('cluster mode: meanfield (learned), CEDF');
    expect(cedf).toBeLessThan(plainDra);
    expect(bestStatic).toBeLessThan(cedf);
    expect(learned).toBeLessThan(bestStatic);
    expect(existsSync(report)).toBe(true);
  }, 60_000);

  it('refuses a seed the learned controller was trained on, naming the flag', () => {
    const r = spawnSync(process.execPath, ['bin/smartmig.js', 'demo', '--seeds', '1'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--seeds');
  });
});
