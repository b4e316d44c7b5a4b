// Mutual TLS and certificate reload (issue 14), over real HTTPS with certificates that openssl makes for
// the test: /scheduler/* needs a client certificate signed by the client CA, /mutate and the probes do
// not; a renewed serving certificate is served without a restart, and a half-written one is not.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildExtender } from '../../../extender/app.js';
import { ClusterCache } from '../../../extender/cache.js';
import { readTls, reloadTls, serverTlsOptions, type TlsFiles } from '../../../extender/tls.js';
import { ProfileBook } from '../../../policy/workload/job.js';

let dir = '';
const file = (name: string) => join(dir, name);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'pipe' });
}

/** A P-256 key and a certificate for it, signed by the CA `ca`, with the extensions `ext`. */
function issue(name: string, subject: string, ca: string, ext: string): void {
  const key = file(`${name}.key`);
  openssl(
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    key,
    '-out',
    file(`${name}.csr`),
    '-subj',
    subject,
  );
  writeFileSync(file(`${name}.ext`), ext);
  openssl(
    'x509',
    '-req',
    '-in',
    file(`${name}.csr`),
    '-CA',
    file(`${ca}.crt`),
    '-CAkey',
    file(`${ca}.key`),
    '-CAcreateserial',
    '-days',
    '1',
    '-out',
    file(`${name}.crt`),
    '-extfile',
    file(`${name}.ext`),
  );
}

function makeCa(name: string): void {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '1',
    '-keyout',
    file(`${name}.key`),
    '-out',
    file(`${name}.crt`),
    '-subj',
    `/CN=${name}`,
  );
}

const SERVER_EXT = 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n';
const CLIENT_EXT = 'extendedKeyUsage=clientAuth\n';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'smartmig-mtls-'));
  makeCa('ca');
  makeCa('rogue-ca');
  issue('server', '/CN=extender', 'ca', SERVER_EXT);
  issue('server2', '/CN=extender-renewed', 'ca', SERVER_EXT);
  issue('scheduler', '/CN=smartmig-scheduler', 'ca', CLIENT_EXT);
  issue('intruder', '/CN=smartmig-scheduler', 'rogue-ca', CLIENT_EXT);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function listen(files: TlsFiles): Promise<{ app: FastifyInstance; port: number }> {
  const app = buildExtender({
    cache: new ClusterCache(new ProfileBook()),
    binder: { bind: async () => ({ outcome: 'bound', message: '' }), readPod: async () => undefined },
    https: serverTlsOptions(readTls(files)),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, port: (app.server.address() as { port: number }).port };
}

function call(port: number, method: string, path: string, client?: string): Promise<{ status: number; code?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        ca: readFileSync(file('ca.crt')),
        ...(client ? { cert: readFileSync(file(`${client}.crt`)), key: readFileSync(file(`${client}.key`)) } : {}),
        headers: { 'content-type': 'application/json' },
        agent: false,
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          const code = text.startsWith('{') ? (JSON.parse(text) as { code?: string }).code : undefined;
          resolve({ status: res.statusCode ?? 0, code });
        });
      },
    );
    req.on('error', reject);
    req.end(method === 'POST' ? '{}' : undefined);
  });
}

describe('mutual TLS', () => {
  it('lets only a client certificate from the client CA reach /scheduler/*; /mutate and probes need none', async () => {
    const { app, port } = await listen({ cert: file('server.crt'), key: file('server.key'), clientCa: file('ca.crt') });
    try {
      expect(await call(port, 'POST', '/scheduler/bind')).toEqual({
        status: 403,
        code: 'SMARTMIG_CLIENT_CERT_REQUIRED',
      });
      expect(await call(port, 'POST', '/scheduler/filter', 'intruder')).toEqual({
        status: 403,
        code: 'SMARTMIG_CLIENT_CERT_REQUIRED',
      });
      // Past the check: the empty object fails validation.
      expect(await call(port, 'POST', '/scheduler/bind', 'scheduler')).toMatchObject({ status: 400 });
      expect(await call(port, 'POST', '/mutate')).toMatchObject({ status: 400 });
      expect((await call(port, 'GET', '/healthz')).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('asks for no client certificate without a client CA', async () => {
    const { app, port } = await listen({ cert: file('server.crt'), key: file('server.key') });
    try {
      expect(await call(port, 'POST', '/scheduler/bind')).toMatchObject({ status: 400 });
    } finally {
      await app.close();
    }
  });
});

/** The CN of the certificate the server presents to a new connection. */
function servedCn(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, ca: readFileSync(file('ca.crt')) }, () => {
      const cn = s.getPeerCertificate().subject.CN;
      s.end();
      resolve(Array.isArray(cn) ? cn.join(',') : (cn ?? ''));
    });
    s.on('error', reject);
  });
}

async function eventually<T>(probe: () => Promise<T>, want: T, ms = 3000): Promise<T> {
  const until = Date.now() + ms;
  let got = await probe();
  while (got !== want && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    got = await probe();
  }
  return got;
}

describe('certificate reload', () => {
  it('serves a renewed certificate without a restart, and keeps the old one while the new pair does not match', async () => {
    const files = { cert: file('live.crt'), key: file('live.key') };
    writeFileSync(files.cert, readFileSync(file('server.crt')));
    writeFileSync(files.key, readFileSync(file('server.key')));
    const { app, port } = await listen(files);
    const warnings: string[] = [];
    const log = { info: () => undefined, warn: (_o: object, msg: string) => void warnings.push(msg) };
    const stop = reloadTls(app.server as never, files, readTls(files), log, 100);
    try {
      expect(await servedCn(port)).toBe('extender');
      // The certificate arrives before its key: a pair that does not match is not served.
      writeFileSync(files.cert, readFileSync(file('server2.crt')));
      await new Promise((r) => setTimeout(r, 400));
      expect(await servedCn(port)).toBe('extender');
      expect(warnings).toHaveLength(1);
      writeFileSync(files.key, readFileSync(file('server2.key')));
      expect(await eventually(() => servedCn(port), 'extender-renewed')).toBe('extender-renewed');
    } finally {
      stop();
      await app.close();
    }
  });
});
