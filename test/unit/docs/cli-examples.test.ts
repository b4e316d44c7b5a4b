// Every `smartmig …` line in the fenced code blocks of README.md and docs/*.md, and every inline code span
// that starts with `smartmig`, names a command that exists and only flags that command takes, checked with
// the command's own flag definitions and parser.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFlags } from '../../../cli/args.js';
import { COMMANDS, HELP_FLAGS, TOP_LEVEL } from '../../../cli/main.js';

const FILES = [
  'README.md',
  ...readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f)),
];
const PROGRAM = /^(?:\$\s+)?(?:npx\s+)?(?:smartmig|node\s+bin\/smartmig\.js)\s+(.*)$/;

interface Example {
  readonly file: string;
  readonly line: number;
  readonly text: string;
  readonly argv: string[];
}

/**
 * Lines of fenced code blocks, with `\` continuations and indented synopsis continuations joined, and
 * inline code spans outside them.
 */
function examples(file: string, markdown: string): Example[] {
  const out: Example[] = [];
  let fenced = false;
  let current: { line: number; text: string } | undefined;
  const flush = () => {
    if (current) out.push({ file, line: current.line, text: current.text, argv: toArgv(current.text) });
    current = undefined;
  };
  markdown.split('\n').forEach((raw, i) => {
    if (/^\s*```/.test(raw)) {
      flush();
      fenced = !fenced;
      return;
    }
    if (!fenced) {
      for (const m of raw.matchAll(/`((?:npx\s+)?smartmig\s[^`]+)`/g)) {
        const text = (m[1] as string).trim();
        out.push({ file, line: i + 1, text, argv: toArgv(text) });
      }
      return;
    }
    const line = raw.replace(/\s+#\s.*$/, '');
    const continues = current !== undefined && (current.text.endsWith('\\') || /^\s+\[?--/.test(line));
    if (continues && current) {
      current.text = `${current.text.replace(/\\$/, '')} ${line.trim()}`;
      return;
    }
    flush();
    const m = PROGRAM.exec(line.trim());
    if (m) current = { line: i + 1, text: line.trim() };
  });
  flush();
  return out;
}

/** The words after the program name; synopsis brackets and ellipses are dropped, values kept. */
function toArgv(text: string): string[] {
  const rest = PROGRAM.exec(text)?.[1] ?? '';
  return rest
    .replace(/[[\]]/g, ' ')
    .split(/\s+/)
    .filter((w) => w !== '' && w !== '…' && w !== '...');
}

const ALL = FILES.flatMap((f) => examples(f, readFileSync(f, 'utf8')));

describe('smartmig command lines in README.md and docs/', () => {
  it('finds the examples (the extractor works)', () => {
    expect(ALL.length).toBeGreaterThan(25);
    expect(ALL.filter((e) => e.file === join('docs', 'controllers.md')).length).toBeGreaterThan(3);
    const synopsis = ALL.find(
      (e) => e.file === join('docs', 'operator.md') && e.text.startsWith('smartmig operator ['),
    );
    // A two-line synopsis is read as one command line.
    expect(synopsis?.argv).toContain('--log-level');
    const continued = ALL.find((e) => e.file === 'README.md' && e.argv.includes('--placement'));
    expect(continued?.argv).toContain('--layouts');
  });

  it('parses a line whose flag is not known as an error (the check can fail)', async () => {
    const [bad] = examples('x.md', '```\nsmartmig layouts --gpus 8\n```\n');
    const { command } = await (COMMANDS['layouts'] as (typeof COMMANDS)[string]).load();
    expect(() => parseFlags((bad as Example).argv.slice(1), command.flags)).toThrow(/--gpus/);
  });

  it.each(ALL.map((e) => [`${e.file}:${e.line}`, e] as const))('%s', async (_where, e) => {
    let [name, ...argv] = e.argv;
    if (TOP_LEVEL.has(name ?? '')) {
      // `smartmig --version`, `smartmig --help`, `smartmig help simulate`.
      if (name !== 'help' || argv.length === 0) return expect(argv).toEqual([]);
      [name, ...argv] = argv;
      expect(argv, 'help takes one command').toEqual([]);
    }
    const entry = COMMANDS[name ?? ''];
    expect(entry, `"${name}" is a smartmig command`).toBeDefined();
    const { command } = await (entry as (typeof COMMANDS)[string]).load();
    // `smartmig simulate --help` prints help whatever else the line holds.
    if (argv.some((a) => HELP_FLAGS.has(a))) return;
    expect(() => parseFlags(argv, command.flags), e.text).not.toThrow();
  });
});
