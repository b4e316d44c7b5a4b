// The extender's TLS: the serving certificate, and optionally a CA whose client certificates the
// scheduling verbs require (mutual TLS with kube-scheduler, whose extender tlsConfig can present one).
// The files are read again every few seconds and a changed set replaces the server's context, so a
// certificate that cert-manager renews (a new Secret, which the kubelet swaps into the volume) is served
// without a restart.
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  /** Client certificates must chain to this CA for /scheduler/* (others may connect without one). */
  readonly clientCa?: string;
}

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
}

/** The files as they are now; throws a RangeError naming the file that cannot be read. */
export function readTls(files: TlsFiles): TlsMaterial {
  const read = (what: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new RangeError(`${what}: cannot read ${path} (${code})`, { cause: err });
    }
  };
  return {
    cert: read('--tls-cert', files.cert),
    key: read('--tls-key', files.key),
    ...(files.clientCa ? { ca: read('--tls-client-ca', files.clientCa) } : {}),
  };
}

/**
 * Options for https.createServer. With a client CA, the server asks every client for a certificate but
 * does not refuse the connection without one: the API server calls the webhook on the same port and
 * usually presents none. The verbs check `socket.authorized` themselves (app.ts).
 */
export function serverTlsOptions(m: TlsMaterial): TlsMaterial & { requestCert: boolean; rejectUnauthorized: boolean } {
  return { ...m, requestCert: m.ca !== undefined, rejectUnauthorized: false };
}

const same = (a: Buffer | undefined, b: Buffer | undefined): boolean =>
  a === undefined || b === undefined ? a === b : a.equals(b);

/**
 * Reads the files every `everyMs` and, when any changed and they make a valid context (a key that matches
 * its certificate), gives them to `server`. A half-written or mismatched set is reported and skipped; the
 * server keeps its current context until a good set appears. Returns a stop function.
 */
export function reloadTls(
  server: { setSecureContext(options: TlsMaterial): void },
  files: TlsFiles,
  current: TlsMaterial,
  log: { info(o: object, msg: string): void; warn(o: object, msg: string): void },
  everyMs = 10_000,
): () => void {
  let served = current;
  let failed = '';
  const timer = setInterval(() => {
    let next: TlsMaterial;
    try {
      next = readTls(files);
      if (same(next.cert, served.cert) && same(next.key, served.key) && same(next.ca, served.ca)) return;
      createSecureContext(next);
    } catch (err) {
      const why = (err as Error).message;
      if (why !== failed) log.warn({ err: why }, 'TLS files changed but cannot be used; serving the previous ones');
      failed = why;
      return;
    }
    server.setSecureContext(next);
    served = next;
    failed = '';
    log.info({ cert: files.cert }, 'TLS certificate reloaded');
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
