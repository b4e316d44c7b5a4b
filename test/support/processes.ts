// smartmig's own programs as child processes, the way they run in a cluster: `node bin/smartmig.js <command>`,
// logs appended to .local/logs/<name>.log (the last 20 kB also kept in memory for failure messages).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT, localDir, waitFor } from './cluster.js';

const TAIL_BYTES = 20_000;

export interface ChildOptions {
  /** Log file name (without .log) under .local/logs. */
  readonly name: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** A running program: its log, how it ended, and a stop that waits for it. */
export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly logFile: string;
  /** The end of its output so far. */
  tail(): string;
  /** Exit code, or the signal that ended it; undefined while it runs. */
  exitStatus(): number | string | undefined;
  /** Resolves when it has exited. */
  readonly exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts `binary args…` with output appended to .local/logs/<name>.log. */
export function startChild(binary: string, args: readonly string[], options: ChildOptions): Child {
  const dir = join(localDir(), 'logs');
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, `${options.name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  log.write(`==== ${new Date().toISOString()} ${binary} ${args.join(' ')}\n`);
  const child = spawn(binary, [...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  let status: number | string | undefined;
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => {
      status = code ?? signal ?? 'unknown';
      resolve(status);
    });
    child.on('error', (err) => {
      tail += `\nspawn failed: ${err.message}`;
      status = 'spawn-error';
      resolve(status);
    });
  });
  void exited.then(() => log.end());
  return {
    name: options.name,
    process: child,
    logFile,
    tail: () => tail,
    exitStatus: () => status,
    exited,
    async stop(graceMs = 10_000) {
      if (status !== undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** `smartmig <command> <args…>` through bin/smartmig.js, as `npx smartmig` runs it. */
export function startSmartmig(command: string, args: readonly string[], options: ChildOptions): Child {
  return startChild(process.execPath, [join(REPO_ROOT, 'bin/smartmig.js'), command, ...args], options);
}

/** Throws with the end of its log when the program has exited. */
export function assertRunning(child: Child): void {
  const status = child.exitStatus();
  if (status !== undefined) {
    throw new Error(`${child.name} exited (${status}); end of ${child.logFile}:\n${child.tail().slice(-4000)}`);
  }
}

/** Waits until `url` answers 200, failing early (with the log) when the program exits. */
export async function waitHealthy(child: Child, url: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    async () => {
      assertRunning(child);
      const res = await fetch(url).catch(() => undefined);
      return res?.status === 200;
    },
    { description: `${child.name} to answer 200 on ${url}`, timeoutMs, intervalMs: 250 },
  ).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}\nend of ${child.logFile}:\n${child.tail().slice(-4000)}`);
  });
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `smartmig extender` on a fixed port that another test may hold for a while (the shared
 * smartmig-scheduler calls one URL): a start that fails on the busy port is retried until `timeoutMs`.
 */
export async function startExtenderOn(
  port: number,
  args: readonly string[],
  options: ChildOptions & { readonly timeoutMs?: number },
): Promise<Child> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    const child = startSmartmig('extender', ['--host', '127.0.0.1', '--port', String(port), ...args], options);
    const early = await Promise.race([
      child.exited,
      waitHealthy(child, `http://127.0.0.1:${port}/healthz`, 30_000).then(() => undefined),
    ]).catch(() => 'unhealthy');
    if (early === undefined) return child;
    await child.stop();
    const busy = /EADDRINUSE|address already in use/i.test(child.tail());
    if (!busy || Date.now() > deadline) {
      throw new Error(`smartmig extender did not start on port ${port}; end of its log:\n${child.tail().slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
