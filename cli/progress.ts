// A progress bar on stderr for long runs, shown only to a person at a terminal.
import cliProgress from 'cli-progress';

export interface Progress {
  tick(label?: string): void;
  stop(): void;
}

export function progressBar(total: number, what: string, enabled = process.stderr.isTTY === true): Progress {
  if (!enabled || total <= 1) return { tick: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { format: `${what} [{bar}] {value}/{total} {label}`, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { label: '' });
  return { tick: (label = '') => bar.increment(1, { label }), stop: () => bar.stop() };
}

/** For work of unknown length (searches): a running count and what is being done, without a bar. */
export function progressCounter(what: string, enabled = process.stderr.isTTY === true): Progress {
  if (!enabled) return { tick: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { format: `${what}: {value} {label}`, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(Number.MAX_SAFE_INTEGER, 0, { label: '' });
  return { tick: (label = '') => bar.increment(1, { label }), stop: () => bar.stop() };
}
