// The repository stands alone: nothing in it may send a reader to design notes that only its authors have.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url).pathname;
// Built from parts so that this file does not match itself.
const OUTSIDE = new RegExp(
  ['MODEL', 'DESIGN', 'STYLE', 'CONTROL-PLANE'].map((n) => `\\b${n}\\.md`).join('|') + '|\\.\\./shared/',
);

describe('the repository', () => {
  it('names no file outside it', () => {
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: root })
      .toString()
      .split('\n')
      .filter((f) => f && !/\.(png|svg|ico|gz|bin|wasm)$/.test(f));
    expect(files.length).toBeGreaterThan(100);
    const found: string[] = [];
    for (const f of files) {
      let text: string;
      try {
        text = readFileSync(root + f, 'utf8');
      } catch {
        continue; // listed but deleted in the working tree
      }
      text.split('\n').forEach((line, i) => {
        if (OUTSIDE.test(line)) found.push(`${f}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(found).toEqual([]);
  });
});
