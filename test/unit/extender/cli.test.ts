// `smartmig extender` flags: one typed configuration, defaults beside it, one-line errors with exit 2.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { extenderConfigFromArgs } from '../../../cli/commands/extender.js';
import { main } from '../../../cli/main.js';
import { DEFAULT_CONFIG, resolveConfig } from '../../../extender/config.js';

describe('smartmig extender flags', () => {
  it('defaults', () => expect(extenderConfigFromArgs([])).toEqual(DEFAULT_CONFIG));

  it('reads every flag', () => {
    const c = extenderConfigFromArgs([
      '--port=9443',
      '--host=127.0.0.1',
      '--kubeconfig=/k',
      '--tls-cert=/c',
      '--tls-key=/k2',
      '--tls-client-ca=/ca',
      '--heuristic=marginal-et',
      '--et-weight=0.5',
      '--body-limit=2048',
      '--max-depth=20',
      '--log-level=debug',
    ]);
    expect(c).toEqual({
      host: '127.0.0.1',
      port: 9443,
      kubeconfig: '/k',
      tlsCert: '/c',
      tlsKey: '/k2',
      tlsClientCa: '/ca',
      heuristic: 'marginal-et',
      etWeight: 0.5,
      bodyLimit: 2048,
      maxDepth: 20,
      logLevel: 'debug',
      // No flags (yet): the defaults; the byte budget in flight follows the body limit.
      tlsReloadMs: 10_000,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 120_000,
      maxInflight: 1024,
      maxInflightBytes: 4096,
    });
  });

  it.each([
    [['--port=http'], '--port: expected an integer ≥ 0, got "http"'],
    [['--port=70000'], 'extender config: port must be 0..65535, got 70000'],
    [['--heuristic=best'], '--heuristic: "best" is not one of cedf, edf-most-packed, marginal-et, random, first-fit'],
    [['--tls-cert=/c'], 'extender config: tlsCert/tlsKey must be given together'],
    [['--body-limit=10'], '--body-limit: expected an integer ≥ 1024, got "10"'],
    [['--log-level=loud'], '--log-level: "loud" is not one of fatal, error, warn, info, debug, trace, silent'],
    [['--nope'], "Unknown option '--nope'"],
  ])('%j → %s', (argv, message) => expect(() => extenderConfigFromArgs(argv)).toThrow(message));

  it('resolveConfig names the field it refuses', () => {
    expect(() => resolveConfig({ maxDepth: 2 })).toThrow('extender config: maxDepth must be 8..1000');
    expect(() => resolveConfig({ etWeight: -1 })).toThrow('extender config: etWeight must be a finite number ≥ 0');
  });
});

describe('smartmig extender via main', () => {
  afterEach(() => vi.restoreAllMocks());

  it('exits 2 with one line on a bad flag, before touching any cluster', async () => {
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(await main(['extender', '--heuristic=best'])).toBe(2);
    expect(err).toHaveBeenCalledWith(
      'smartmig extender: --heuristic: "best" is not one of cedf, edf-most-packed, marginal-et, random, first-fit',
    );
  });

  it('exits 2 when the kubeconfig does not exist', async () => {
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(await main(['extender', '--kubeconfig=/nonexistent/kubeconfig', '--port=0'])).toBe(2);
    expect(err.mock.calls[0]?.[0]).toMatch(/^smartmig extender: .*nonexistent/);
  });

  // fix: the informers started before the TLS files were read, so a missing file left the process watching forever
  it('exits 2 with one line when a TLS file cannot be read, and the process ends', () => {
    const dir = mkdtempSync(join(tmpdir(), 'smartmig-tls-'));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]',
        'users: [{name: u, user: {token: t}}]',
        'contexts: [{name: x, context: {cluster: c, user: u}}]',
        'current-context: x',
      ].join('\n'),
    );
    const r = spawnSync(
      process.execPath,
      [
        'bin/smartmig.js',
        'extender',
        `--kubeconfig=${kubeconfig}`,
        '--port=0',
        '--tls-cert=/nonexistent/cert.pem',
        `--tls-key=${kubeconfig}`,
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(
      /^smartmig extender: --tls-cert: cannot read \/nonexistent\/cert\.pem \(ENOENT\)$/m,
    );
  });

  it('prints its help', async () => {
    const out = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    expect(await main(['extender', '--help'])).toBe(0);
    expect(out.mock.calls[0]?.[0]).toContain('POST /scheduler/filter');
  });
});
