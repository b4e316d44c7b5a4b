// What every route of the extender shares: the cluster picture, the API shell, the clock, the policy
// settings and the metrics. Built once by buildExtender; tests pass their own pieces.
import type { GpuModel } from '../policy/mig/catalog.js';
import { powerModel, type PowerModel } from '../policy/energy/power.js';
import type { PodDemand, ScoreOptions } from '../policy/placement/node-score.js';
import type { ProfileBook } from '../policy/workload/job.js';
import type { Binder } from './binder.js';
import type { ClusterCache } from './cache.js';
import type { ClaimTemplates } from './claim-templates.js';
import type { ExtenderConfig } from './config.js';
import { podIntent, podSlices, type PodIntent } from './kube.js';
import type { ExtenderMetrics } from './metrics.js';
import type { Pod } from './schemas.js';
import type { PodClaimsShape } from '../dra/claim-demand.js';

export interface ExtenderContext {
  readonly cache: ClusterCache;
  readonly binder: Binder;
  readonly config: ExtenderConfig;
  readonly book: ProfileBook;
  /** Epoch milliseconds. */
  readonly clock: () => number;
  readonly metrics: ExtenderMetrics;
  /** True once the informers have listed everything. */
  readonly ready: () => boolean;
  /** Where DRA moldable pods' ResourceClaimTemplates go; without it the webhook refuses such pods. */
  readonly claimTemplates?: ClaimTemplates;
  /**
   * The routes under /scheduler/claims (the scheduler's second extender entry, which gets every pod): only pods
   * that ask for MIG through ResourceClaims have a demand there; pods with MIG resources are the first entry's.
   */
  readonly claimsOnly?: boolean;
}

const MS_PER_MIN = 60_000;

/** Power curves are built once per model: watts() is called for every candidate node. */
export function wattsFunction(): (model: GpuModel, busy: number) => number {
  const models = new Map<string, PowerModel>();
  return (model, busy) => {
    let m = models.get(model.name);
    if (!m) models.set(model.name, (m = powerModel(model)));
    return m.watts(Math.min(Math.max(busy, 0), model.computeSlices));
  };
}

const watts = wattsFunction();

export function scoreOptions(ctx: ExtenderContext, nowMs: number): ScoreOptions {
  return {
    heuristic: ctx.config.heuristic,
    now: nowMs / MS_PER_MIN,
    etWeight: ctx.config.etWeight,
    profiles: ctx.book,
    watts,
  };
}

/** The pod's needs in the decision core's terms; throws a 400 ExtenderError on a malformed quantity. */
export function demandOf(pod: Pod, ctx: ExtenderContext, nowMs: number): { demand: PodDemand; intent: PodIntent } {
  let slices = podSlices(pod);
  if (ctx.claimsOnly && Object.keys(slices).length > 0) slices = {};
  // A pod without MIG resources may ask through ResourceClaims (DRA nodes): the claims' MIG demand.
  else if (Object.keys(slices).length === 0 && hasClaims(pod)) slices = ctx.cache.dra.podSlices(pod as PodClaimsShape);
  const { intent } = podIntent(pod, ctx.book, nowMs);
  return { demand: { slices, ...intentDemand(intent) }, intent };
}

function hasClaims(pod: Pod): boolean {
  const claims = (pod.spec as { resourceClaims?: unknown }).resourceClaims;
  return Array.isArray(claims) && claims.length > 0;
}

export function intentDemand(intent: PodIntent): Omit<PodDemand, 'slices'> {
  return {
    deadline: intent.deadlineMs === undefined ? undefined : intent.deadlineMs / MS_PER_MIN,
    work: intent.workMin,
    speedup: intent.speedup,
  };
}
