// The image runs the TypeScript sources through tsx, so every source folder the entry points import must be
// copied into it; a folder left out only shows when a pod crashes on an import.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

/** The product source folders tsconfig.json type-checks (not tests or build scripts). */
function importedFolders(): Set<string> {
  const tsconfig = JSON.parse(read('tsconfig.json')) as { include: string[] };
  const product = tsconfig.include.filter((d) => !['test', 'hack', '*.ts'].includes(d));
  return new Set(product);
}

describe('Dockerfile', () => {
  it('copies every product source folder into the image', () => {
    const copied = new Set(
      [...read('Dockerfile').matchAll(/^COPY (?!--from)(\S+) \.\/(\S+)$/gm)].map((m) => m[1] as string),
    );
    const missing = [...importedFolders()].filter((d) => !copied.has(d));
    expect(missing).toEqual([]);
  });
});
