// The `smartmig` program: one binary, one subcommand per entry point (docs/install.md lists them).
import type { Command } from './command.js';
import { UsageError } from './usage-error.js';

/** Subcommands load lazily so `smartmig layouts` does not pay for TensorFlow or the Kubernetes client. */
const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  layouts: () => import('./commands/layouts.js'),
  bounds: () => import('./commands/bounds.js'),
  simulate: () => import('./commands/simulate.js'),
  compare: () => import('./commands/compare.js'),
  demo: () => import('./commands/demo.js'),
  'fake-gpu': () => import('./commands/fake-gpu.js'),
  extender: () => import('./commands/extender.js'),
  operator: () => import('./commands/operator.js'),
};

async function usage(): Promise<string> {
  const names = Object.keys(COMMANDS);
  const loaded = await Promise.all(
    names.map(async (n) => (await (COMMANDS[n] as () => Promise<{ command: Command }>)()).command),
  );
  const width = Math.max(...names.map((n) => n.length));
  return [
    'smartmig: energy- and deadline-aware MIG partitioning and placement for Kubernetes',
    '',
    'Usage: smartmig <command> [flags]      (smartmig <command> --help for its flags)',
    '',
    'Commands:',
    ...loaded.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(await usage());
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`smartmig: unknown command "${name}" (try: ${Object.keys(COMMANDS).join(', ')})`);
    return 2;
  }
  const { command } = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
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
