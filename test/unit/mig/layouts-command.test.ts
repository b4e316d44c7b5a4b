// `smartmig layouts` through the program's own entry point, as a user would call it.
import { describe, expect, it } from 'vitest';
import { main } from '../../../cli/main.js';

/** Runs `smartmig ARGV` and collects what it prints; console is restored afterwards. */
async function smartmig(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  try {
    const code = await main(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

const FIVE = '1g.5gb,2g.10gb,3g.20gb,4g.20gb,7g.40gb';

describe('smartmig layouts', () => {
  it('prints the 19 five-profile A100-40GB layouts as JSON', async () => {
    const { code, out } = await smartmig('layouts', '--gpu', 'A100-40GB', '--profiles', FIVE, '--json');
    expect(code).toBe(0);
    const rows = JSON.parse(out) as {
      compute: string;
      paper: number | null;
      slices: { profile: string; start: number }[];
    }[];
    expect(rows).toHaveLength(19);
    expect(rows[1]).toEqual({
      index: 2,
      compute: '4+3',
      paper: 2,
      slices: [
        { profile: '4g.20gb', start: 0 },
        { profile: '3g.20gb', start: 4 },
      ],
    });
  });

  const counts = [
    { name: 'A100-40GB by default, all non-+me profiles', argv: ['--json'], rows: 78 },
    { name: 'a GFD product name', argv: ['--gpu', 'NVIDIA-H100-80GB-HBM3', '--json'], rows: 78 },
    { name: 'A30', argv: ['--gpu', 'A30-24GB', '--json'], rows: 5 },
  ];
  it.each(counts)('lists $rows layouts for $name', async ({ argv, rows }) => {
    const { code, out } = await smartmig('layouts', ...argv);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toHaveLength(rows);
  });

  it('prints a numbered table with compute sequences and slices', async () => {
    const { code, out } = await smartmig('layouts', '--gpu', 'A30-24GB');
    expect(code).toBe(0);
    const lines = out.split('\n');
    expect(lines[0]).toBe('A30-24GB: 5 maximal layouts over 1g.6gb, 2g.12gb, 4g.24gb');
    expect(lines.at(-1)?.trim().split(/\s+/)).toEqual(['5', '1+1+1+1', '1g.6gb@0,1g.6gb@1,1g.6gb@2,1g.6gb@3']);
  });

  const usage = [
    { name: 'an unknown GPU model', argv: ['--gpu', 'X100'], mentions: ['X100', 'A100-40GB', 'A30-24GB'] },
    {
      name: 'a profile of another model',
      argv: ['--gpu', 'A30-24GB', '--profiles', '1g.5gb'],
      mentions: ['1g.5gb', '1g.6gb'],
    },
    { name: 'an empty profile list', argv: ['--profiles', ','], mentions: ['--profiles'] },
    { name: 'an unknown flag', argv: ['--fast'], mentions: ['--fast'] },
  ];
  it.each(usage)('exits 2 with a one-line reason for $name', async ({ argv, mentions }) => {
    const { code, out, err } = await smartmig('layouts', ...argv);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err.split('\n')).toHaveLength(1);
    for (const m of mentions) expect(err).toContain(m);
  });
});
