// Writes a rendered report, creating the folders on its path.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function writeReport(path: string, html: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, html, 'utf8');
}
