import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { loadWorkload } from '../../../cli/load-workload.js';
import { UsageError } from '../../../cli/usage-error.js';
import { OPENB_COLUMNS } from '../../../policy/workload/index.js';

const dir = mkdtempSync(join(tmpdir(), 'smartmig-workload-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const HEADER = OPENB_COLUMNS.join(',');
const GOOD = `${HEADER}
p0,1000,100,1,100,,BE,Succeeded,0,600,0
p1,1000,100,0,0,,BE,Succeeded,60,600,60
p2,1000,100,1,500,,BE,Succeeded,120,720,120
`;

function usageMessage(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
  throw new Error('expected a UsageError');
}

describe('loadWorkload', () => {
  it('generates the paper workload with its options', () => {
    const w = loadWorkload('paper', { seed: 3, hours: 2, multiplier: 12 });
    expect(w.jobs.length).toBeGreaterThan(60);
    expect(w.jobs.length).toBeLessThan(200);
    expect(w.jobs.every((j) => j.release < 120)).toBe(true);
    expect(w.skipped).toEqual([]);
    expect(w.source).toContain('12×');
  });

  it('reads a trace file and reports what it skipped', () => {
    const w = loadWorkload(file('good.csv', GOOD), { seed: 1, gpu: 'A100-40GB' });
    expect(w.jobs.map((j) => [j.name, j.minCompute])).toEqual([
      ['p0', 1],
      ['p2', 4],
    ]);
    expect(w.skipped).toEqual([{ line: 3, name: 'p1', reason: expect.stringContaining('CPU-only') }]);
    expect(w.source).toMatch(/2 jobs, 1 rows skipped/);
  });

  it('maps onto the requested GPU model', () => {
    const w = loadWorkload(file('a30.csv', GOOD), { seed: 1, gpu: 'A30-24GB' });
    expect(w.jobs.map((j) => j.minCompute)).toEqual([1, 2]);
  });

  it('applies a trace window', () => {
    const w = loadWorkload(file('window.csv', GOOD), { seed: 1, hours: 1 / 60, traceFromMinute: 1 });
    expect(w.jobs).toEqual([]);
    const w2 = loadWorkload(file('window2.csv', GOOD), { seed: 1, hours: 1, traceFromMinute: 1, traceTimeScale: 2 });
    expect(w2.jobs.map((j) => [j.name, j.release])).toEqual([['p2', 0.5]]);
  });

  it.each([
    { name: 'a missing file', spec: () => join(dir, 'nope.csv'), opts: {}, want: /nope\.csv.*no such file/ },
    { name: 'a directory', spec: () => dir, opts: {}, want: /is a directory/ },
    {
      name: 'a malformed row, with path and line',
      spec: () => file('bad.csv', `${GOOD}p9,1,1,1,x,,BE,Succeeded,0,1,0\n`),
      opts: {},
      want: /bad\.csv:5: gpu_milli must be/,
    },
    { name: 'an unknown GPU', spec: () => file('gpu.csv', GOOD), opts: { gpu: 'V100' }, want: /--gpu: "V100"/ },
    { name: 'a bad paper option', spec: () => 'paper', opts: { hours: -3 }, want: /hours must be/ },
  ])('turns $name into a UsageError', ({ spec, opts, want }) => {
    expect(usageMessage(() => loadWorkload(spec(), { seed: 1, ...opts }))).toMatch(want);
  });
});
