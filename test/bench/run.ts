// `npm run bench`: runs every benchmark in test/bench in its own process (so peak memory is its own) and
// prints their figures. Benchmarks print figures; they never fail on a wall-clock target.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

/**
 * The longest one benchmark may run (the longest takes about 5 minutes on the 2-core machine). A benchmark
 * that hangs, e.g. on a handle left open after its figures, is killed and counted as failed rather than
 * holding up CI.
 */
const LIMIT_MS = 30 * 60 * 1000;

let failed = 0;
for (const f of files) {
  console.log(`\n▶ ${f}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', join(here, f)], {
    stdio: 'inherit',
    timeout: LIMIT_MS,
    killSignal: 'SIGKILL',
  });
  if (r.status !== 0) {
    failed++;
    const why =
      (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT'
        ? `did not end within ${LIMIT_MS / 60_000} minutes`
        : `exited with ${r.status ?? r.signal}`;
    console.log(`✗ ${f} ${why}`);
  }
}
console.log(`\n${files.length - failed} benchmarks ran, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
