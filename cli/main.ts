// The `smartmig` program: one binary, one subcommand per entry point (docs/install.md lists them).
import { readFileSync } from 'node:fs';
import type { Command } from './command.js';
import { UsageError } from './usage-error.js';

export interface CommandEntry {
  readonly summary: string;
  readonly load: () => Promise<{ command: Command }>;
}

/**
 * Summaries live here, not in the command modules, so the top-level usage imports none of them: a module
 * loads only when its command runs or its own help is asked (loading all of them took seconds).
 */
export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  layouts: { summary: 'list the maximal MIG layouts of a GPU model', load: () => import('./commands/layouts.js') },
  bounds: { summary: 'energy and tardiness lower bounds of a workload', load: () => import('./commands/bounds.js') },
  simulate: {
    summary: 'run a workload through a simulated MIG cluster and report energy and tardiness',
    load: () => import('./commands/simulate.js'),
  },
  compare: {
    summary: 'score repartitioning controllers on unseen days against the best static layout',
    load: () => import('./commands/compare.js'),
  },
  train: {
    summary: 'train the learned mean-field repartitioning controller in the simulator',
    load: () => import('./commands/train.js'),
  },
  demo: {
    summary: "the paper's day on a simulated 8-GPU cluster under every strategy, with an HTML report",
    load: () => import('./commands/demo.js'),
  },
  'fake-gpu': {
    summary: 'emulate GPU nodes (device plugin, GFD, mig-manager, kubelet) against a cluster',
    load: () => import('./commands/fake-gpu.js'),
  },
  extender: {
    summary: 'serve the kube-scheduler extender and the moldable-pod admission webhook',
    load: () => import('./commands/extender.js'),
  },
  operator: {
    summary: 'run the MigPartition controller (layouts through mig-manager, leader election, metrics)',
    load: () => import('./commands/operator.js'),
  },
};

/** The version of package.json, which the image and the chart's appVersion follow. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function usage(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length));
  return [
    'smartmig: energy- and deadline-aware MIG partitioning and placement for Kubernetes',
    '',
    'Usage: smartmig <command> [flags]      (smartmig <command> --help for its flags)',
    '       smartmig --version',
    '',
    'Commands:',
    ...names.map((n) => `  ${n.padEnd(width)}  ${COMMANDS[n]?.summary ?? ''}`),
  ].join('\n');
}

/** Flags that ask a command for its help instead of running it. */
export const HELP_FLAGS: ReadonlySet<string> = new Set(['--help', '-h']);
const HELP = new Set([...HELP_FLAGS, 'help']);
const VERSION = new Set(['--version', '-V']);

/** Words `smartmig` takes in place of a command. */
export const TOP_LEVEL: ReadonlySet<string> = new Set([...HELP, ...VERSION]);

async function runCommand(name: string, rest: string[]): Promise<number> {
  const entry = COMMANDS[name];
  if (!entry) {
    console.error(`smartmig: unknown command "${name}" (try: ${Object.keys(COMMANDS).join(', ')})`);
    return 2;
  }
  const { command } = await entry.load();
  if (rest.some((a) => HELP_FLAGS.has(a))) {
    console.log(command.help);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`smartmig ${name}: ${err.message}`);
      return 2;
    }
    throw err;
  }
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    // Not asked for help: a mistake, so usage goes to stderr with the usage-error code.
    console.error(usage());
    return 2;
  }
  if (VERSION.has(name)) {
    console.log(version());
    return 0;
  }
  if (HELP.has(name)) {
    // `smartmig help simulate` is `smartmig simulate --help`.
    const [topic] = rest;
    if (name === 'help' && topic !== undefined) return runCommand(topic, ['--help']);
    console.log(usage());
    return 0;
  }
  if (name.startsWith('-')) {
    console.error(`smartmig: unknown flag "${name}" (flags go after the command; try smartmig --help)`);
    return 2;
  }
  return runCommand(name, rest);
}
