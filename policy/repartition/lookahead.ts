// The model-predictive controller: at each of its decisions it scores a few candidate target sets by
// simulating the next minutes from the cluster as it is (running jobs stay where they run, waiting jobs
// wait, draining takes its time), with arrivals sampled from what it has seen arrive, and keeps the best.
// It has no generator to peek at: rates and the job mix come from the view's arrivals only. The strong
// non-learned reference a learned policy must beat at a fraction of its cost.
import type { GpuModel } from '../mig/catalog.js';
import { layoutsEqual, type Layout } from '../mig/layout.js';
import type { PlacementName } from '../placement/heuristics.js';
import { deriveRng, type Rng } from '../random.js';
import type { SimMode } from '../sim/config.js';
import { simulate } from '../sim/simulator.js';
import type { Job, ProfileBook } from '../workload/job.js';
import type { Arrival, ClusterView, LayoutChange, Repartitioner } from './controller.js';
import { scheduleRepartitioner } from './schedule.js';
import type { RepartitionLimits } from './targets.js';

/** Chosen among a few settings on the paper workload's seeds 4-6 (cluster mode); compare refuses those seeds. */
export const LOOKAHEAD_DEFAULTS = { horizonMin: 120, everyMin: 30, samples: 2, rateWindowMin: 60, margin: 0.02 };
export const LOOKAHEAD_TUNED_ON: readonly number[] = [4, 5, 6];

export interface LookaheadOptions {
  readonly model: GpuModel;
  readonly mode: SimMode;
  readonly placement: PlacementName;
  readonly profiles: ProfileBook;
  readonly powerTable: (model: GpuModel) => readonly number[];
  readonly etWeight: number;
  readonly reconfigureMin: number;
  readonly gpusPerNode: number;
  readonly limits: RepartitionLimits;
  /** Layouts a candidate may put every GPU on. */
  readonly candidates: readonly Layout[];
  /** Minutes simulated ahead. */
  readonly horizonMin?: number;
  /** Minutes between its own decisions; in between it keeps its targets. */
  readonly everyMin?: number;
  /** Sampled futures per candidate; all candidates see the same ones. */
  readonly samples?: number;
  /** Minutes of arrivals the rate is estimated from. */
  readonly rateWindowMin?: number;
  /** Relative gain a change must promise over keeping the targets. */
  readonly margin?: number;
  readonly seed: number;
}

/** How much the lookahead spent: simulated candidate futures and decisions. */
export interface LookaheadCost {
  decisions: number;
  rollouts: number;
}

export function lookaheadRepartitioner(opts: LookaheadOptions): Repartitioner & { readonly cost: LookaheadCost } {
  const d = LOOKAHEAD_DEFAULTS;
  const horizon = opts.horizonMin ?? d.horizonMin;
  const every = opts.everyMin ?? d.everyMin;
  const samples = opts.samples ?? d.samples;
  const window = opts.rateWindowMin ?? d.rateWindowMin;
  const margin = opts.margin ?? d.margin;
  const seen: Arrival[] = [];
  const cost: LookaheadCost = { decisions: 0, rollouts: 0 };
  let nextAt = -Infinity;
  let start: Layout[] | undefined;

  return {
    name: 'lookahead',
    cost,
    decide(view) {
      for (const a of view.arrivals ?? []) seen.push(a);
      start ??= view.gpus.map((g) => g.layout);
      if (view.now < nextAt) return [];
      nextAt = view.now + every;
      cost.decisions++;
      const aims = view.gpus.map((g) => g.target ?? g.layout);
      // Keep; back to the starting pattern; every GPU to one layout; or only the idle GPUs to it (no drain).
      const idle = view.gpus.map((g) => !g.reconfiguring && !g.busy.some(Boolean));
      const plans: Layout[][] = [aims, start];
      for (const c of opts.candidates) {
        plans.push(view.gpus.map(() => c));
        if (idle.some(Boolean) && !idle.every(Boolean)) plans.push(aims.map((a, i) => (idle[i] ? c : a)));
      }
      const rng = deriveRng(opts.seed, `lookahead@${view.now}`);
      const futures = Array.from({ length: samples }, () => sampleArrivals(seen, view.now, horizon, window, rng));
      const scores = plans.map((plan) => {
        let sum = 0;
        for (const f of futures) sum += rollout(opts, view, plan, f, horizon);
        cost.rollouts += futures.length;
        return sum / futures.length;
      });
      let best = 0;
      scores.forEach((s, i) => {
        if (s < (scores[best] as number)) best = i;
      });
      if ((scores[best] as number) >= (scores[0] as number) * (1 - margin)) return [];
      const plan = plans[best] as Layout[];
      const out: LayoutChange[] = [];
      view.gpus.forEach((g, i) => {
        const want = plan[i] as Layout;
        if (!layoutsEqual(aims[i] as Layout, want)) out.push({ gpu: g.id, layout: want });
      });
      return out;
    },
  };
}

/** Poisson arrivals at the recent rate over the horizon, each a copy of a recent job (bootstrap), times relative to now. */
function sampleArrivals(seen: readonly Arrival[], now: number, horizon: number, window: number, rng: Rng): Arrival[] {
  const from = Math.max(0, now - window);
  let i = seen.length;
  while (i > 0 && (seen[i - 1] as Arrival).release >= from) i--;
  const recent = seen.slice(i);
  const span = now - from;
  if (recent.length === 0 || span <= 0) return [];
  const rate = recent.length / span;
  const out: Arrival[] = [];
  for (let t = -Math.log(1 - rng.next()) / rate; t < horizon; t += -Math.log(1 - rng.next()) / rate) {
    const like = recent[rng.int(recent.length)] as Arrival;
    out.push({ release: t, deadline: t + (like.deadline - like.release), work: like.work, profile: like.profile });
  }
  return out;
}

/** The ET a plan earns over the horizon: a·energy plus tardiness per job of a day at the recent rate. */
function rollout(
  opts: LookaheadOptions,
  view: ClusterView,
  plan: readonly Layout[],
  future: readonly Arrival[],
  horizon: number,
): number {
  const now = view.now;
  const jobs: Job[] = [];
  const add = (a: Arrival, release: number): void => {
    jobs.push({
      id: jobs.length,
      release,
      deadline: a.deadline - now,
      work: a.work,
      profile: a.profile,
      kind: opts.profiles.get(a.profile).kind,
    });
  };
  for (const w of view.waiting ?? []) add(w, 0);
  for (const a of future) add({ ...a, deadline: a.deadline + now }, a.release);
  const running = (view.running ?? []).map((r) => ({
    gpu: r.gpu,
    slice: r.slice,
    endMin: r.end - now,
    deadline: r.deadline - now,
  }));
  const r = simulate({
    gpus: view.gpus.map((g) => ({ model: g.model, layout: g.layout })),
    jobs,
    running,
    profiles: opts.profiles,
    mode: opts.mode,
    placement: opts.placement,
    repartitioner: scheduleRepartitioner('plan', [{ fromMin: 0, layouts: plan }]),
    seed: opts.seed,
    horizonMin: horizon,
    reconfigureMin: opts.reconfigureMin,
    limits: opts.limits,
    gpusPerNode: opts.gpusPerNode,
    decideEveryEvents: opts.mode === 'paper' ? 5 : undefined,
    decideEveryMin: opts.mode === 'cluster' ? opts.limits.decisionIntervalMin : undefined,
    etWeight: opts.etWeight,
    powerTable: opts.powerTable,
  });
  const perDay = Math.max(1, (future.length / horizon) * 1440);
  return opts.etWeight * r.energyWmin + (r.meanTardinessMin * (r.completed || 1)) / perDay;
}
