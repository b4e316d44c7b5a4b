// The MigPartition status: per node and GPU what is there and what is coming, counts for the printer columns,
// and the Ready / Progressing / Degraded conditions with stable transition times.
import type { Condition, GpuStatus, MigPartitionStatus, NodeStatus } from '../../api/types.js';
import { isoTime } from '../facts.js';
import { targetText, type GpuTarget } from '../migparted.js';
import type { SpecIssue } from '../policy.js';
import type { NodeState } from './node-step.js';
import type { NodeView } from './node-view.js';

export interface NodeReport {
  readonly name: string;
  readonly state: NodeState;
  readonly message: string;
  readonly view: NodeView | undefined;
  readonly targets: readonly (GpuTarget | undefined)[] | undefined;
}

export interface StatusInput {
  readonly now: number;
  readonly generation: number;
  readonly previous: MigPartitionStatus | undefined;
  readonly issues: readonly SpecIssue[];
  /** Set when an older policy already selects some of these nodes. */
  readonly conflict: string | undefined;
  /** Set when the mig-parted ConfigMap cannot be read: nothing is planned until it can. */
  readonly configError?: string | undefined;
  readonly nodes: readonly NodeReport[];
  readonly models: readonly string[];
  readonly lastDecision: number | undefined;
  readonly nodeLimit: number;
}

const ATTENTION: Record<NodeState, number> = {
  Failed: 0,
  Unknown: 1,
  Draining: 2,
  Applying: 3,
  Waiting: 4,
  Converged: 5,
};

function gpuStatuses(r: NodeReport): GpuStatus[] {
  const v = r.view;
  if (!v) return [];
  return Array.from({ length: v.gpuCount }, (_, g) => {
    const current = targetText(v.current[g]);
    const desired = targetText(r.targets?.[g]);
    return {
      index: g,
      current,
      ...(desired !== '' && desired !== current ? { desired } : {}),
      busy: v.busy[g] === true,
    };
  });
}

function nodeStatus(r: NodeReport): NodeStatus {
  const f = r.view?.facts;
  return {
    name: r.name,
    state: r.state,
    ...(r.view ? { gpuModel: r.view.model.name } : {}),
    ...(f?.migConfig === undefined ? {} : { migConfig: f.migConfig }),
    ...(f?.migState === undefined ? {} : { migConfigState: f.migState }),
    ...(f?.desired === undefined ? {} : { desiredConfig: f.desired }),
    ...(r.message ? { message: r.message } : {}),
    gpus: gpuStatuses(r),
  };
}

type ConditionCore = Pick<Condition, 'type' | 'status' | 'reason' | 'message'>;

/** Keeps a condition's transition time while its status stays the same. */
function condition(c: ConditionCore, input: StatusInput): Condition {
  const prev = input.previous?.conditions?.find((p) => p.type === c.type);
  const lastTransitionTime = prev && prev.status === c.status ? prev.lastTransitionTime : isoTime(input.now);
  return { ...c, observedGeneration: input.generation, lastTransitionTime };
}

function issueText(issues: readonly SpecIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join('; ');
}

function conditions(input: StatusInput, counts: Record<NodeState, number>): ConditionCore[] {
  const changing = counts.Draining + counts.Applying + counts.Waiting;
  const bad = counts.Failed + counts.Unknown;
  if (input.conflict) {
    return [
      { type: 'Ready', status: 'False', reason: 'Conflict', message: input.conflict },
      { type: 'Progressing', status: 'False', reason: 'Conflict', message: 'refused: see Ready' },
      { type: 'Degraded', status: 'True', reason: 'Conflict', message: input.conflict },
    ];
  }
  if (input.configError) {
    const reason = 'ConfigMapUnavailable';
    return [
      { type: 'Ready', status: 'False', reason, message: input.configError },
      { type: 'Progressing', status: 'False', reason, message: 'nothing changes until the ConfigMap can be read' },
      { type: 'Degraded', status: 'True', reason, message: input.configError },
    ];
  }
  if (input.issues.length > 0) {
    const reason = input.issues[0]?.code ?? 'InvalidSpec';
    const message = issueText(input.issues);
    return [
      { type: 'Ready', status: 'False', reason, message },
      { type: 'Progressing', status: 'False', reason, message: 'nothing is applied until the spec is fixed' },
      { type: 'Degraded', status: 'True', reason, message },
    ];
  }
  const total = input.nodes.length;
  const ready: ConditionCore =
    total === 0
      ? { type: 'Ready', status: 'True', reason: 'NoNodesSelected', message: 'no node matches the selector' }
      : counts.Converged === total
        ? { type: 'Ready', status: 'True', reason: 'Converged', message: `${total} node(s) have their layouts` }
        : {
            type: 'Ready',
            status: 'False',
            reason: bad > 0 ? 'NodesFailing' : 'Reconfiguring',
            message: `${counts.Converged}/${total} node(s) converged`,
          };
  return [
    ready,
    changing > 0
      ? { type: 'Progressing', status: 'True', reason: 'Reconfiguring', message: `${changing} node(s) changing` }
      : { type: 'Progressing', status: 'False', reason: 'Idle', message: 'no change under way' },
    bad > 0
      ? {
          type: 'Degraded',
          status: 'True',
          reason: counts.Failed > 0 ? 'ReconfigureFailed' : 'UnknownLayout',
          message: input.nodes
            .filter((n) => n.state === 'Failed' || n.state === 'Unknown')
            .slice(0, 5)
            .map((n) => `${n.name}: ${n.message}`)
            .join('; '),
        }
      : { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'no failures' },
  ];
}

export function buildStatus(input: StatusInput): MigPartitionStatus {
  const counts: Record<NodeState, number> = {
    Failed: 0,
    Unknown: 0,
    Draining: 0,
    Applying: 0,
    Waiting: 0,
    Converged: 0,
  };
  for (const n of input.nodes) counts[n.state]++;
  const ordered = [...input.nodes].sort(
    (a, b) => ATTENTION[a.state] - ATTENTION[b.state] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  const listed = ordered.slice(0, input.nodeLimit).map(nodeStatus);
  const lastDecision = input.lastDecision ?? undefined;
  return {
    observedGeneration: input.generation,
    conditions: conditions(input, counts).map((c) => condition(c, input)),
    ...(input.models.length > 0 ? { gpuModel: input.models.join(',') } : {}),
    ...(lastDecision === undefined ? {} : { lastDecisionTime: isoTime(lastDecision) }),
    nodesSelected: input.nodes.length,
    nodesConverged: counts.Converged,
    nodesReconfiguring: counts.Draining + counts.Applying,
    nodesFailed: counts.Failed,
    nodes: listed,
    nodesOmitted: Math.max(0, ordered.length - listed.length),
  };
}
