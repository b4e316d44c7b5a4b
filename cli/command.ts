import type { FlagSpec } from './args.js';

export interface Command {
  readonly name: string;
  /** Full help text, printed by `smartmig <name> --help`. */
  readonly help: string;
  /** Every flag the command takes; `run` parses with exactly these, and the docs test checks examples against them. */
  readonly flags: FlagSpec;
  /** Returns the process exit code. Throws UsageError for bad input. */
  run(argv: string[]): Promise<number>;
}
