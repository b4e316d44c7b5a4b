// Every metric the operator exports, defined once, with the `smartmig_` prefix, bounded labels and help text.
// Each operator instance has its own registry so two replicas can run in one process (tests).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface OperatorMetrics {
  readonly registry: Registry;
  readonly gpuPower: Gauge<'node' | 'gpu' | 'model'>;
  readonly gpuEnergy: Counter<'node' | 'gpu' | 'model'>;
  readonly tardiness: Histogram<never>;
  readonly completions: Counter<'outcome'>;
  readonly pendingDemand: Gauge<'profile'>;
  readonly slices: Gauge<'profile' | 'state'>;
  readonly repartitions: Counter<'result'>;
  readonly repartitionDuration: Histogram<'result'>;
  readonly decisionLatency: Histogram<'controller'>;
  readonly roundPhase: Histogram<'phase'>;
  readonly leader: Gauge<never>;
  readonly watchRestarts: Counter<'resource'>;
  readonly apiErrors: Counter<'op'>;
}

/** The results of a node reconfiguration, as the repartition counter labels them. */
const REPARTITION_RESULTS = ['success', 'failed', 'timeout'] as const;

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): OperatorMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'smartmig_operator_' });
  const registers = [registry];
  const metrics: OperatorMetrics = {
    registry,
    gpuPower: new Gauge({
      name: 'smartmig_gpu_power_watts',
      help: 'Modelled power of a GPU that a MigPartition manages, from its busy compute slices (policy/energy).',
      labelNames: ['node', 'gpu', 'model'],
      registers,
    }),
    gpuEnergy: new Counter({
      name: 'smartmig_gpu_energy_joules_total',
      help: 'Modelled energy of a GPU: the power model integrated over time.',
      labelNames: ['node', 'gpu', 'model'],
      registers,
    }),
    tardiness: new Histogram({
      name: 'smartmig_job_tardiness_minutes',
      help: 'Tardiness max(0, finish - deadline) of pods with smartmig.io/deadline that succeeded or failed, minutes.',
      buckets: [0, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 240],
      registers,
    }),
    completions: new Counter({
      name: 'smartmig_job_completions_total',
      help: 'Pods with smartmig.io/deadline that succeeded or failed, by whether they finished by the deadline.',
      labelNames: ['outcome'],
      registers,
    }),
    pendingDemand: new Gauge({
      name: 'smartmig_pending_demand',
      help: 'MIG slices requested by pods that wait for a node, per profile.',
      labelNames: ['profile'],
      registers,
    }),
    slices: new Gauge({
      name: 'smartmig_slices',
      help: 'MIG slices on the nodes MigPartitions manage, per profile and state (free, busy, reconfiguring).',
      labelNames: ['profile', 'state'],
      registers,
    }),
    repartitions: new Counter({
      name: 'smartmig_repartitions_total',
      help: "Node reconfigurations finished by mig-manager, by result (success, failed; timeout: still pending or rebooting after the policy's applyTimeout).",
      labelNames: ['result'],
      registers,
    }),
    repartitionDuration: new Histogram({
      name: 'smartmig_repartition_duration_seconds',
      help: 'Time from setting nvidia.com/mig.config to mig-manager reporting success or failure.',
      labelNames: ['result'],
      buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600],
      registers,
    }),
    decisionLatency: new Histogram({
      name: 'smartmig_policy_decision_seconds',
      help: 'Time a repartitioning controller takes for one decision.',
      labelNames: ['controller'],
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1],
      registers,
    }),
    roundPhase: new Histogram({
      name: 'smartmig_operator_round_phase_seconds',
      help: 'Duration of each phase of a reconcile round (snapshot, decide, commit).',
      labelNames: ['phase'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers,
    }),
    leader: new Gauge({
      name: 'smartmig_operator_leader',
      help: '1 while this replica holds the leader lease (or runs without leader election).',
      registers,
    }),
    watchRestarts: new Counter({
      name: 'smartmig_operator_watch_restarts_total',
      help: 'Watches restarted after an error, per resource.',
      labelNames: ['resource'],
      registers,
    }),
    apiErrors: new Counter({
      name: 'smartmig_operator_api_errors_total',
      help: 'Failed writes to the apiserver, per operation.',
      labelNames: ['op'],
      registers,
    }),
  };
  // Every result from the start, at 0: a rate over the first change needs a sample before it, and a policy
  // that changes its nodes once, early (a learned one at its first decision), otherwise never shows on a panel.
  for (const result of REPARTITION_RESULTS) metrics.repartitions.inc({ result }, 0);
  return metrics;
}
