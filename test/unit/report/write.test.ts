import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeReport } from '../../../cli/report/write.js';

describe('writeReport', () => {
  let dir = '';
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('creates missing parent folders and writes the document as UTF-8', async () => {
    dir = await mkdtemp(join(tmpdir(), 'smartmig-report-'));
    const path = join(dir, 'a', 'b', 'out.html');
    await writeReport(path, '<p>W·min – ok</p>');
    expect(await readFile(path, 'utf8')).toBe('<p>W·min – ok</p>');
  });

  it('replaces an existing report', async () => {
    dir = await mkdtemp(join(tmpdir(), 'smartmig-report-'));
    const path = join(dir, 'out.html');
    await writeReport(path, 'old');
    await writeReport(path, 'new');
    expect(await readFile(path, 'utf8')).toBe('new');
  });
});
