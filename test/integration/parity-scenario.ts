// The simulator's side of the operator parity test (operator-parity.test.ts): a twice-daily MigPartition, the
// paper workload, and the run of the operator's own twice-daily controller in the simulator (runDay), with
// where and when the simulator ran each job so the cluster can replay the same occupancy.
//
// Time: the cluster runs `TIME_SCALE` simulated minutes per real minute (fake-gpu's --time-scale). The
// operator's timetable reads wall-clock minutes of the day (UTC) at minute resolution, so its two phases are
// real UTC minutes, one real minute apart; the simulator's t = 0 is `LEAD_IN_MIN` simulated minutes before the
// first one, and the controller in the simulator is shown the wall-clock time that simulated time stands for.
import type { MigPartition } from '../../api/types.js';
import { CONTROLLERS } from '../../operator/controllers.js';
import { resolvePolicy } from '../../operator/policy.js';
import { findGpuModel, findProfile, type GpuModel } from '../../policy/mig/catalog.js';
import { computeSizes, type Layout } from '../../policy/mig/layout.js';
import { parseLayout } from '../../policy/mig/layout-text.js';
import type { ClusterView, Repartitioner } from '../../policy/repartition/controller.js';
import { makeSetting, runDay } from '../../policy/evaluate/setting.js';
import type { SimResult } from '../../policy/sim/result.js';
import { PAPER_PROFILES, generatePaperWorkload, speedupOn, type Job } from '../../policy/workload/index.js';

/** Simulated minutes per real minute: one simulated minute per real second. */
export const TIME_SCALE = 60;
export const MODEL = findGpuModel('A100-40GB') as GpuModel;
/** One GPU per node: a node applies its GPUs' changes together in the operator, one by one in the simulator. */
export const GPUS_PER_NODE = 1;
/** Simulated minutes from t = 0 to the first phase. */
export const LEAD_IN_MIN = 30;
/** The second phase follows the first by one real minute. */
export const PHASE_GAP_MIN = TIME_SCALE;
/** mig-manager's reconfiguration time: fake-gpu's --reconfigure-seconds, and the same in simulated minutes. */
export const RECONFIGURE_SECONDS = 2;
export const RECONFIGURE_MIN = (RECONFIGURE_SECONDS / 60) * TIME_SCALE;
/** The layouts of the two phases (paper configurations): the day layout from the first phase, the night one from the second. */
export const DAY_LAYOUT = '6'; // 2g+2g+3g
export const NIGHT_LAYOUT = '2'; // 4g+3g
/** Simulated minutes between two decisions of the simulator: fine enough to see every job running. */
const SIM_TICK_MIN = 1 / 128; // a binary fraction: run-context.ts steps ticks by floor(now / step), which stalls on 0.01

export interface ScenarioOptions {
  readonly seed: number;
  readonly nodes: number;
  /** The paper generator's rate multiplier (the paper runs 20×). */
  readonly multiplier: number;
  /** Simulated minutes of arrivals from t = 0. */
  readonly arrivalMin: number;
  readonly startHour: number;
  readonly maxNodesReconfiguring: number;
}

/** `HH:MM` (UTC) of a time in ms. */
export function clockOf(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
}

/** The MigPartition both sides run: twice-daily, day layout from `firstPhaseMs`, night layout a minute later. */
export function parityPartition(
  name: string,
  nodeNames: readonly string[],
  firstPhaseMs: number,
  maxNodesReconfiguring: number,
): MigPartition & { metadata: { name: string } } {
  return {
    apiVersion: 'smartmig.io/v1alpha1',
    kind: 'MigPartition',
    metadata: { name },
    spec: {
      nodeSelector: { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [...nodeNames] }] },
      gpuModel: MODEL.name,
      mode: 'Dynamic',
      dynamic: {
        controller: 'twice-daily',
        schedule: [
          { from: clockOf(firstPhaseMs), layouts: [{ layout: DAY_LAYOUT }] },
          { from: clockOf(firstPhaseMs + (PHASE_GAP_MIN / TIME_SCALE) * 60_000), layouts: [{ layout: NIGHT_LAYOUT }] },
        ],
      },
      limits: { decisionInterval: '1s', minDwell: '0s', maxNodesReconfiguring, drain: 'WaitIdle' },
    },
  };
}

export function layoutOf(text: string): Layout {
  const parsed = parseLayout(MODEL, text);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.layout;
}

/** A layout as its compute sizes in ascending order (`2+2+3`): how both sides' layouts are compared. */
export function sizesKey(layout: Layout): string {
  return computeSizes(MODEL, layout)
    .sort((a, b) => a - b)
    .join('+');
}

/** Where and when the simulator ran a job. */
export interface Placement {
  readonly job: Job;
  readonly gpu: number;
  /** MIG profile of the slice, e.g. `3g.20gb`. */
  readonly profile: string;
  readonly startMin: number;
  readonly endMin: number;
  /** The GPU's layout while the job ran (sizes key). */
  readonly layout: string;
}

/** A layout change that started: GPU, simulated minute and the new layout's sizes key. */
export interface Change {
  readonly gpu: number;
  readonly t: number;
  readonly layout: string;
}

/** A drain: a GPU had a target from `from` until it changed or the target was dropped at `until`. */
export interface Drain {
  readonly gpu: number;
  readonly from: number;
  readonly until: number;
  readonly layout: string;
}

export interface SimScenario {
  readonly jobs: readonly Job[];
  readonly result: SimResult;
  readonly placements: readonly Placement[];
  readonly changes: readonly Change[];
  readonly drains: readonly Drain[];
  /** Simulated minutes of the two phases. */
  readonly phases: readonly [number, number];
}

export function scenarioJobs(o: ScenarioOptions): Job[] {
  return generatePaperWorkload({
    seed: o.seed,
    hours: o.arrivalMin / 60,
    multiplier: o.multiplier,
    startHour: o.startHour,
  });
}

/**
 * Runs the scenario in the simulator: the operator's twice-daily controller built from the same MigPartition,
 * shown the wall-clock minute that simulated time stands for. A spy on the controller's view records each job's
 * GPU, slice and run (the view lists running jobs with their ends) and each GPU's drains.
 */
export function simulateScenario(o: ScenarioOptions, firstPhaseMs: number): SimScenario {
  const nodeNames = Array.from({ length: o.nodes }, (_, i) => `n${i}`);
  const policy = resolvePolicy(parityPartition('sim', nodeNames, firstPhaseMs, o.maxNodesReconfiguring), CONTROLLERS);
  if (policy.issues.length > 0) throw new Error(policy.issues.map((i) => i.message).join('; '));
  const make = CONTROLLERS.get('twice-daily')?.make;
  if (!make) throw new Error('no twice-daily controller');
  const controller = make(policy, () => undefined);
  if (!controller) throw new Error('twice-daily built no controller');
  const jobs = scenarioJobs(o);
  const byDeadline = new Map(jobs.map((j) => [j.deadline, j]));
  if (byDeadline.size !== jobs.length) throw new Error('two jobs share a deadline: cannot tell them apart');
  const firstPhaseMin = firstPhaseMs / 60_000;
  const placements = new Map<number, Placement>();
  const open = new Map<number, { from: number; layout: string }>();
  const drains: Drain[] = [];
  const spy: Repartitioner = {
    name: controller.name,
    decide(view: ClusterView) {
      for (const r of view.running ?? []) {
        const job = byDeadline.get(r.deadline);
        const gpu = view.gpus[r.gpu];
        const slice = gpu?.layout.slices[r.slice];
        if (!job || !gpu || !slice) throw new Error(`running work on GPU ${r.gpu} slice ${r.slice} not recognised`);
        if (placements.has(job.id)) continue;
        const k = findProfile(MODEL, slice.profile)?.computeSlices ?? 0;
        const speedups = PAPER_PROFILES.find((p) => p.name === job.profile);
        if (!speedups) throw new Error(`job ${job.id}: unknown profile ${job.profile}`);
        const run = job.work / speedupOn(speedups, k);
        const placement = { job, gpu: r.gpu, profile: slice.profile, endMin: r.end, layout: sizesKey(gpu.layout) };
        placements.set(job.id, { ...placement, startMin: r.end - run });
      }
      for (const g of view.gpus) {
        const was = open.get(g.id);
        const now = g.target === undefined ? undefined : sizesKey(g.target);
        if (was && was.layout !== now) {
          drains.push({ gpu: g.id, from: was.from, until: view.now, layout: was.layout });
          open.delete(g.id);
        }
        if (now !== undefined && !open.has(g.id)) open.set(g.id, { from: view.now, layout: now });
      }
      const wall = firstPhaseMin + (view.now - LEAD_IN_MIN) / TIME_SCALE;
      return controller.decide({
        now: wall,
        gpus: view.gpus,
        get pending() {
          return view.pending;
        },
      });
    },
  };
  const horizonMin = LEAD_IN_MIN + PHASE_GAP_MIN + 30;
  const setting = makeSetting({
    model: MODEL,
    gpus: o.nodes * GPUS_PER_NODE,
    gpusPerNode: GPUS_PER_NODE,
    mode: 'cluster',
    placement: 'cedf',
    horizonMin,
    reconfigureMin: RECONFIGURE_MIN,
    limits: {
      decisionIntervalMin: SIM_TICK_MIN,
      minDwellMin: 0,
      maxNodesReconfiguring: o.maxNodesReconfiguring,
      drainTimeoutMin: Infinity,
    },
    workload: () => jobs,
  });
  const night = layoutOf(NIGHT_LAYOUT);
  const result = runDay(setting, new Array<Layout>(setting.gpus).fill(night), spy, o.seed, jobs);
  for (const [gpu, d] of open) drains.push({ gpu, from: d.from, until: Infinity, layout: d.layout });
  const changes = result.changes.map((c) => ({
    gpu: c.gpu,
    t: c.t,
    layout: c.layout
      .split('+')
      .map(Number)
      .sort((a, b) => a - b)
      .join('+'),
  }));
  return {
    jobs,
    result,
    placements: [...placements.values()].sort((a, b) => a.startMin - b.startMin || a.job.id - b.job.id),
    changes,
    drains: drains.sort((a, b) => a.from - b.from || a.gpu - b.gpu),
    phases: [LEAD_IN_MIN, LEAD_IN_MIN + PHASE_GAP_MIN],
  };
}

/**
 * What would make the scenario unfit for a parity test, as messages (empty: fit). Fit means: every job was
 * seen running (so it can be replayed); every GPU changes once per phase; each phase has a GPU that changes at
 * the switch and one that first drains for longer than `longDrainMin`; no change lands within `tolLateMin`
 * before a phase (the cluster, a little later, would already aim at the next phase's layout); and no job that
 * may wait in the cluster for its GPU's previous change starts within a minute before that GPU starts to drain
 * (the cluster must see the pod before it decides).
 */
export function scenarioIssues(s: SimScenario, o: { tolLateMin: number; longDrainMin: number }): string[] {
  const issues: string[] = [];
  const missed = s.jobs.length - s.placements.length;
  if (missed > 0) issues.push(`${missed} job(s) never seen running`);
  if (s.result.completed !== s.jobs.length) issues.push(`${s.jobs.length - s.result.completed} job(s) unfinished`);
  const gpus = new Set(s.placements.map((p) => p.gpu));
  for (const g of gpus) {
    const seq = s.changes.filter((c) => c.gpu === g).map((c) => c.layout);
    const want = [sizesKey(layoutOf(DAY_LAYOUT)), sizesKey(layoutOf(NIGHT_LAYOUT))];
    if (seq.join() !== want.join()) issues.push(`GPU ${g} changes ${seq.join(', ')}, not ${want.join(', ')}`);
  }
  const [p1, p2] = s.phases;
  for (const [p, end] of [
    [p1, p2],
    [p2, Infinity],
  ] as const) {
    const changes = s.changes.filter((c) => c.t >= p && c.t < end);
    if (!changes.some((c) => c.t - p < 0.1)) issues.push(`no GPU changes at the switch at ${p}`);
    const long = s.drains.filter((d) => d.from >= p && d.from - p < 1 && d.until - d.from > o.longDrainMin);
    if (long.length === 0) issues.push(`no GPU drains for more than ${o.longDrainMin} min from ${p}`);
  }
  for (const c of s.changes) {
    for (const p of s.phases) {
      if (c.t < p && c.t + o.tolLateMin >= p) issues.push(`GPU ${c.gpu} changes at ${c.t.toFixed(2)}, close to ${p}`);
    }
  }
  // A pod waits in the cluster for its GPU's change to land when the job starts soon after that change.
  const mayWait = (p: Placement): boolean =>
    s.changes.some((c) => c.gpu === p.gpu && c.t <= p.startMin && p.startMin - c.t < o.tolLateMin + RECONFIGURE_MIN);
  for (const d of s.drains) {
    for (const p of s.placements) {
      if (p.gpu === d.gpu && p.startMin <= d.from && d.from - p.startMin < 1 && mayWait(p)) {
        issues.push(`job ${p.job.id} starts on GPU ${d.gpu} at ${p.startMin.toFixed(2)}, just before its drain`);
      }
    }
  }
  return issues;
}
