// hack/fetch-openb.sh refuses files whose checksum is not the pinned one and leaves nothing that looks complete.
// The happy path needs the real trace, which is not in the repository; these runs use file:// sources.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const SCRIPT = join(import.meta.dirname, '../../../hack/fetch-openb.sh');
const FILES = ['openb_pod_list_default.csv', 'openb_node_list_gpu_node.csv'];
let scratch = '';

function fetchOpenb(args: string[], source: string) {
  return spawnSync(SCRIPT, args, { encoding: 'utf8', env: { ...process.env, OPENB_BASE_URL: `file://${source}` } });
}

afterEach(() => {
  if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
});

describe('hack/fetch-openb.sh', () => {
  it('refuses a file whose SHA-256 differs and writes nothing', () => {
    scratch = mkdtempSync(join(tmpdir(), 'openb-'));
    const source = join(scratch, 'mirror');
    const out = join(scratch, 'out');
    mkdirSync(source);
    for (const file of FILES) writeFileSync(join(source, file), 'name,cpu_milli\nforged,1\n');

    const run = fetchOpenb([out], source);

    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/openb_\w+\.csv from file:\/\/.* has SHA-256 [0-9a-f]{64}, expected [0-9a-f]{64}/);
    expect(readdirSync(out)).toEqual([]);
  });

  it('fails on a missing file without leaving a partial one', () => {
    scratch = mkdtempSync(join(tmpdir(), 'openb-'));
    const out = join(scratch, 'out');

    const run = fetchOpenb([out], join(scratch, 'nowhere'));

    expect(run.status).not.toBe(0);
    expect(readdirSync(out)).toEqual([]);
  });

  it('names an unknown flag and exits 2', () => {
    const run = fetchOpenb(['--dir'], '/nowhere');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('unknown flag --dir');
  });
});
