// Writes a rendered report, creating the folders on its path. Both steps name the --report flag when the
// path cannot be used, and the check runs before the simulations so a bad path costs no minutes.
import { constants } from 'node:fs';
import { access, mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UsageError } from '../usage-error.js';

/** Fails with a usage error when `path` is a folder or its folder cannot be created or written. */
export async function checkReportPath(path: string): Promise<void> {
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory()) throw new UsageError(`--report: ${path} is a directory, not a file`);
  try {
    await mkdir(dirname(path), { recursive: true });
    await access(dirname(path), constants.W_OK);
  } catch (err) {
    throw unwritable(path, err);
  }
}

export async function writeReport(path: string, html: string): Promise<void> {
  await checkReportPath(path);
  try {
    await writeFile(path, html, 'utf8');
  } catch (err) {
    throw unwritable(path, err);
  }
}

function unwritable(path: string, err: unknown): UsageError {
  return new UsageError(`--report: cannot write ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
}
