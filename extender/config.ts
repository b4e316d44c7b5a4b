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
  readonly heuristic: PlacementName;
  /** Objective weight a of ET = (a·e + t)/(a + 1), per W·min. */
  readonly etWeight: number;
  /** Largest request body in bytes; a full `Nodes` list of 1,000 real nodes is a few MB. */
  readonly bodyLimit: number;
  /** Deepest JSON nesting accepted; Kubernetes objects (managedFields included) stay under 30. */
  readonly maxDepth: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

export const DEFAULT_CONFIG: ExtenderConfig = {
  host: '0.0.0.0',
  port: 8888,
  heuristic: 'cedf',
  etWeight: PAPER_ET_WEIGHT,
  bodyLimit: 32 * 1024 * 1024,
  maxDepth: 64,
  logLevel: 'info',
};

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Fills defaults and checks every field; throws a RangeError whose message names the field. */
export function resolveConfig(partial: Partial<ExtenderConfig> = {}): ExtenderConfig {
  const c: ExtenderConfig = { ...DEFAULT_CONFIG, ...stripUndefined(partial) };
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
  return c;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
