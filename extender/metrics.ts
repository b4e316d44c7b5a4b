// Every extender metric in one place, on a registry of the app's own (tests build many apps).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const VERBS = ['filter', 'prioritize', 'bind', 'mutate'] as const;
export type Verb = (typeof VERBS)[number];

export interface ExtenderMetrics {
  readonly registry: Registry;
  readonly requestDuration: Histogram<'verb' | 'code'>;
  readonly decisions: Counter<'verb' | 'outcome'>;
  readonly rejectedNodes: Counter<'reason'>;
  readonly badRequests: Counter<'code'>;
  readonly cacheObjects: Gauge<'kind'>;
  readonly informerRestarts: Counter<'resource'>;
}

export function createMetrics(opts: { registry?: Registry; processMetrics?: boolean } = {}): ExtenderMetrics {
  const registry = opts.registry ?? new Registry();
  if (opts.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'smartmig_extender_' });
  const registers = [registry];
  return {
    registry,
    requestDuration: new Histogram({
      name: 'smartmig_extender_request_duration_seconds',
      help: 'Time to answer a scheduler extender or webhook request, by verb and HTTP status code.',
      labelNames: ['verb', 'code'],
      // Sub-millisecond answers are the norm; full node lists take tens of milliseconds.
      buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    decisions: new Counter({
      name: 'smartmig_extender_decisions_total',
      help: 'Answers by verb and outcome (filter: fit/no_fit; prioritize: scored; bind: bound/already_bound/conflict/not_found/refused/error; mutate: patched/allowed/denied; any: bad_request, overloaded, unauthenticated).',
      labelNames: ['verb', 'outcome'],
      registers,
    }),
    rejectedNodes: new Counter({
      name: 'smartmig_extender_rejected_nodes_total',
      help: 'Nodes that filter turned away, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    badRequests: new Counter({
      name: 'smartmig_extender_bad_requests_total',
      help: 'Requests refused as malformed, by error code.',
      labelNames: ['code'],
      registers,
    }),
    cacheObjects: new Gauge({
      name: 'smartmig_extender_cache_objects',
      help: 'Objects in the extender cache: nodes, and pods that hold or want MIG slices.',
      labelNames: ['kind'],
      registers,
    }),
    informerRestarts: new Counter({
      name: 'smartmig_extender_informer_restarts_total',
      help: 'Times a list/watch loop started over after an error, by resource.',
      labelNames: ['resource'],
      registers,
    }),
  };
}
