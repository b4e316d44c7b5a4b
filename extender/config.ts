// The extender's one typed configuration: defaults beside the type, flags override, checked before start.
import { PLACEMENTS, type PlacementName } from '../policy/placement/heuristics.js';
import { PAPER_ET_WEIGHT } from '../policy/sim/config.js';

export interface ExtenderConfig {
  /** 0.0.0.0 so kubelet probes and the scheduler reach it from outside the pod. */
  readonly host: string;
  readonly port: number;
  readonly kubeconfig?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  /** A CA: /scheduler/* then requires a client certificate that chains to it (mutual TLS, tls.ts). */
  readonly tlsClientCa?: string;
  /** How often the TLS files are read again to pick up a renewed certificate. */
  readonly tlsReloadMs: number;
  readonly heuristic: PlacementName;
  /** Objective weight a of ET = (a·e + t)/(a + 1), per W·min. */
  readonly etWeight: number;
  /** Largest request body in bytes; a full `Nodes` list of 1,000 real nodes is a few MB. */
  readonly bodyLimit: number;
  /** Deepest JSON nesting accepted; Kubernetes objects (managedFields included) stay under 30. */
  readonly maxDepth: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** A client must send its request headers within this (slow-header clients hold sockets). */
  readonly headersTimeoutMs: number;
  /** ... and its whole request within this, so a body shorter than its Content-Length cannot hang. */
  readonly requestTimeoutMs: number;
  /**
   * An idle keep-alive connection is closed after this. Longer than the 90 s after which Go's HTTP client
   * (kube-scheduler, the API server) drops idle connections itself: a server that closes first races the
   * client's next POST, which Go does not retry.
   */
  readonly keepAliveTimeoutMs: number;
  /** Scheduling and webhook requests in flight at once; more are answered 503 (request-gate.ts). */
  readonly maxInflight: number;
  /** Their declared body bytes in flight at once; more are answered 503. */
  readonly maxInflightBytes: number;
}

export const DEFAULT_CONFIG: ExtenderConfig = {
  host: '0.0.0.0',
  port: 8888,
  heuristic: 'cedf',
  etWeight: PAPER_ET_WEIGHT,
  bodyLimit: 32 * 1024 * 1024,
  maxDepth: 64,
  logLevel: 'info',
  tlsReloadMs: 10_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 120_000,
  // Binds wait on the API server (up to 7 s on 429s), so hundreds may be in flight in a burst; they are
  // small. The byte budget is what bounds memory: two bodies at the body limit (resolveConfig).
  maxInflight: 1024,
  maxInflightBytes: 2 * 32 * 1024 * 1024,
};

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Fills defaults and checks every field; throws a RangeError whose message names the field. */
export function resolveConfig(partial: Partial<ExtenderConfig> = {}): ExtenderConfig {
  const given = stripUndefined(partial);
  const bodyLimit = given.bodyLimit ?? DEFAULT_CONFIG.bodyLimit;
  // Unless given, the byte budget follows the body limit: two bodies at the limit.
  const c: ExtenderConfig = { ...DEFAULT_CONFIG, maxInflightBytes: 2 * bodyLimit, ...given };
  const fail = (field: string, why: string): never => {
    throw new RangeError(`extender config: ${field} ${why}`);
  };
  if (!Number.isInteger(c.port) || c.port < 0 || c.port > 65_535) fail('port', `must be 0..65535, got ${c.port}`);
  if (!PLACEMENTS.includes(c.heuristic)) fail('heuristic', `must be one of ${PLACEMENTS.join(', ')}`);
  if (!(c.etWeight >= 0) || !Number.isFinite(c.etWeight)) fail('etWeight', 'must be a finite number ≥ 0');
  if (!Number.isInteger(c.bodyLimit) || c.bodyLimit < 1024) fail('bodyLimit', 'must be an integer ≥ 1024 bytes');
  if (!Number.isInteger(c.maxDepth) || c.maxDepth < 8 || c.maxDepth > 1000) fail('maxDepth', 'must be 8..1000');
  if (!LOG_LEVELS.includes(c.logLevel)) fail('logLevel', `must be one of ${LOG_LEVELS.join(', ')}`);
  if ((c.tlsCert === undefined) !== (c.tlsKey === undefined)) fail('tlsCert/tlsKey', 'must be given together');
  if (c.tlsClientCa !== undefined && c.tlsCert === undefined) fail('tlsClientCa', 'needs tlsCert and tlsKey');
  for (const f of [
    'tlsReloadMs',
    'headersTimeoutMs',
    'requestTimeoutMs',
    'keepAliveTimeoutMs',
    'maxInflight',
  ] as const) {
    if (!Number.isInteger(c[f]) || c[f] < 1) fail(f, 'must be a positive integer');
  }
  if (c.headersTimeoutMs > c.requestTimeoutMs) fail('headersTimeoutMs', 'must not exceed requestTimeoutMs');
  if (!Number.isInteger(c.maxInflightBytes) || c.maxInflightBytes < c.bodyLimit) {
    fail('maxInflightBytes', `must be an integer ≥ bodyLimit (${c.bodyLimit})`);
  }
  return c;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
