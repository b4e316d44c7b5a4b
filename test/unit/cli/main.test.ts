// The top level of `smartmig` as a user meets it: a real process, its exit code, stdout and stderr.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../cli/main.js';
import { KUBECONFIG_ORDER } from '../../../cli/serve.js';

function smartmig(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/smartmig.js', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

describe('smartmig (no command)', () => {
  it('--version prints the version of package.json', () => {
    const r = smartmig('--version');
    expect(r).toEqual({ code: 0, out: `${pkg.version}\n`, err: '' });
  });

  it('--help prints every command with its summary on stdout', () => {
    const r = smartmig('--help');
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    for (const [name, entry] of Object.entries(COMMANDS)) {
      expect(r.out).toMatch(new RegExp(`^  ${name} +${entry.summary.replace(/[()]/g, '\\$&')}$`, 'm'));
    }
  });

  it('bare smartmig is a usage error: usage on stderr, nothing on stdout, exit 2', () => {
    const r = smartmig();
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain('Usage: smartmig <command>');
  });

  it.each([
    [['frobnicate'], 'smartmig: unknown command "frobnicate"'],
    [['--frobnicate'], 'smartmig: unknown flag "--frobnicate"'],
    [['layouts', '--gpu', 'Z80'], 'smartmig layouts: --gpu: unknown GPU model "Z80"'],
    [['simulate', '--nope'], "smartmig simulate: Unknown option '--nope'"],
  ])('%j is a usage error on stderr, exit 2', (argv, message) => {
    const r = smartmig(...argv);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain(message);
  });

  it('help COMMAND prints that command’s help', () => {
    const r = smartmig('help', 'layouts');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage: smartmig layouts');
  });
});

describe('every command', () => {
  it.each(Object.keys(COMMANDS))(
    '%s: its module is the registry’s, and its help names each of its flags',
    async (name) => {
      const { command } = await (COMMANDS[name] as (typeof COMMANDS)[string]).load();
      expect(command.name).toBe(name);
      const flags = Object.keys(command.flags);
      expect(flags.length).toBeGreaterThan(0);
      for (const flag of flags) expect(command.help, `--${flag} in the help of ${name}`).toContain(`--${flag}`);
      // And no help mentions a flag the command does not take.
      const mentioned = new Set(
        [...command.help.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)].map((m) => m[1] as string),
      );
      mentioned.delete('help');
      for (const flag of mentioned) expect(flags, `--${flag} named in the help of ${name}`).toContain(flag);
    },
  );

  it('compare states its own seed default on --seeds and leaves the shared --time-scale line alone', async () => {
    const { command } = await (COMMANDS.compare as (typeof COMMANDS)[string]).load();
    const line = (flag: string) => command.help.split('\n').find((l) => l.trimStart().startsWith(flag)) ?? '';
    expect(line('--seeds')).toContain('default 101-120');
    expect(line('--time-scale')).toMatch(/\(default 1\)$/);
  });

  it('says the same kubeconfig lookup order wherever it takes --kubeconfig, as docs/install.md does', async () => {
    const takers: string[] = [];
    for (const [name, entry] of Object.entries(COMMANDS)) {
      const { command } = await entry.load();
      if (!('kubeconfig' in command.flags)) continue;
      takers.push(name);
      expect(command.help, name).toContain(KUBECONFIG_ORDER);
      expect(command.help.match(/KUBECONFIG|kube\/config|in-cluster/g)?.length, name).toBe(3);
    }
    expect(takers.sort()).toEqual(['extender', 'fake-gpu', 'operator']);
    expect(readFileSync('docs/install.md', 'utf8').replace(/\s+/g, ' ')).toContain(KUBECONFIG_ORDER);
  });
});
