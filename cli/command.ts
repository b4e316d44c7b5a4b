export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Full help text, printed by `smartmig <name> --help`. */
  readonly help: string;
  /** Returns the process exit code. Throws UsageError for bad input. */
  run(argv: string[]): Promise<number>;
}
