import { describe, expect, it } from 'vitest';
import { compare, SeedOverlapError, type CompareSpec } from '../../../policy/evaluate/compare.js';
import { makeSetting, runDay, layoutOptions } from '../../../policy/evaluate/setting.js';
import { layoutKey } from '../../../policy/mig/layout.js';
import { paper12Layout } from '../../../policy/mig/paper12.js';
import { lookaheadRepartitioner } from '../../../policy/repartition/lookahead.js';
import { phaseAt, scheduleRepartitioner } from '../../../policy/repartition/schedule.js';
import {
  scheduleStart,
  searchBestStatic,
  searchHindsight,
  searchTimetable,
} from '../../../policy/search/layout-search.js';
import { powerModel } from '../../../policy/energy/power.js';
import { simulate } from '../../../policy/sim/simulator.js';
import { ProfileBook } from '../../../policy/workload/job.js';
import { generatePaperWorkload } from '../../../policy/workload/paper-generator.js';
import { A100, job, ordered, paperGpus, simConfig } from '../../support/sim-builders.js';

const L = (n: number) => paper12Layout(A100, n)!;
const tiny = (mode: 'paper' | 'cluster' = 'cluster') =>
  makeSetting({
    model: A100,
    gpus: 2,
    gpusPerNode: 2,
    mode,
    horizonMin: 180,
    workload: (seed) => generatePaperWorkload({ seed, hours: 3, multiplier: 5 }),
  });

describe('timetable controllers', () => {
  it('phaseAt wraps around midnight: before the first phase, the last one holds', () => {
    const phases = [
      { fromMin: 480, layouts: [L(6)] },
      { fromMin: 1200, layouts: [L(1)] },
    ];
    expect(phaseAt(phases, 100)).toBe(phases[1]);
    expect(phaseAt(phases, 480)).toBe(phases[0]);
    expect(phaseAt(phases, 1440 + 1300)).toBe(phases[1]);
  });

  it('a timetable changes every GPU at its phase, through the drain contract', () => {
    const s = tiny();
    const ctl = scheduleRepartitioner('t', [
      { fromMin: 0, layouts: [L(2)] },
      { fromMin: 60, layouts: [L(12)] },
    ]);
    const r = runDay(s, [L(2), L(2)], ctl, 1);
    expect(r.changes.map((c) => c.gpu).sort()).toEqual([0, 1]);
    expect(r.changes.every((c) => c.t >= 60 && c.layout === '1+1+1+1+1+1+1')).toBe(true);
    expect(r.completed).toBe(r.jobs);
  });
});

describe('running jobs at the start of a run (a rollout from the cluster as it is)', () => {
  it('keep their slice until their end and count their tardiness', () => {
    const jobs = ordered([job({ release: 0, work: 7, deadline: 100 })]);
    const r = simulate({
      ...simConfig({ jobs, gpus: paperGpus([1, 1]) }, 'cluster'),
      running: [{ gpu: 0, slice: 0, endMin: 5, deadline: 3 }],
    });
    expect(r.completed).toBe(2);
    expect(r.meanTardinessMin).toBeCloseTo(1, 9); // (2 + 0) / 2
    // The new job ran on GPU 1 at once: 7g, one minute.
    expect(r.gpuEnergyWmin[1]).toBeGreaterThan(0);
    expect(() =>
      simulate({
        ...simConfig({ jobs, gpus: paperGpus([1]) }, 'cluster'),
        running: [{ gpu: 0, slice: 3, endMin: 1, deadline: 1 }],
      }),
    ).toThrow(/no free slice/);
  });
});

describe('lookahead', () => {
  const make = (seed: number) =>
    lookaheadRepartitioner({
      model: A100,
      mode: 'cluster',
      placement: 'cedf',
      profiles: new ProfileBook(),
      powerTable: (m) => powerModel(m).table,
      etWeight: tiny().etWeight,
      reconfigureMin: 0.5,
      gpusPerNode: 2,
      limits: tiny().limits,
      candidates: layoutOptions(A100),
      horizonMin: 30,
      everyMin: 20,
      seed,
    });

  it('is deterministic for a seed, decides on its own cadence, and every job completes', () => {
    const s = tiny();
    const a = make(7);
    const r1 = runDay(s, [L(2), L(2)], a, 3);
    const r2 = runDay(s, [L(2), L(2)], make(7), 3);
    expect(r2.et).toBe(r1.et);
    expect(r2.changes).toEqual(r1.changes);
    expect(r1.completed).toBe(r1.jobs);
    // About one decision per 20 minutes of a 3-hour day with work, each scoring every candidate.
    expect(a.cost.decisions).toBeGreaterThanOrEqual(8);
    expect(a.cost.rollouts).toBeGreaterThanOrEqual(a.cost.decisions * 2 * 14);
  });
});

describe('best-static search and compare', () => {
  it('the best static layout found is no worse, on its search seeds, than every uniform layout', () => {
    const found = searchBestStatic({ setting: tiny(), seeds: [1, 2], maxPasses: 1 });
    expect(found.et).toBeLessThanOrEqual(Math.min(...found.uniformEt) + 1e-12);
    expect(found.pattern).toHaveLength(2);
  });

  it('the timetable is no worse than the best static pattern on its seeds, and hindsight no worse than it on its day', () => {
    const ctx = { setting: tiny(), seeds: [1, 2], maxPasses: 1 };
    const found = searchBestStatic(ctx);
    const t = searchTimetable(ctx, found, 60);
    // Three hours, an hour a block: three phases, each a pattern of both GPUs.
    expect(t.phases.map((p) => p.fromMin)).toEqual([0, 60, 120]);
    expect(t.phases.every((p) => p.layouts.length === 2)).toBe(true);
    expect(t.et).toBeLessThanOrEqual(found.et + 1e-12);
    // The evaluated figure is the timetable's own days, run again.
    const days = [1, 2].map((seed) =>
      runDay(ctx.setting, scheduleStart(ctx.setting, t.phases), scheduleRepartitioner('timetable', t.phases), seed),
    );
    expect((days[0]!.et + days[1]!.et) / 2).toBeCloseTo(t.et, 12);
    const day = { ...ctx, seeds: [101] };
    const timetableOnDay = runDay(
      day.setting,
      scheduleStart(ctx.setting, t.phases),
      scheduleRepartitioner('t', t.phases),
      101,
    ).et;
    const h = searchHindsight(day, found, { x: t.x, blockMin: 60 });
    expect(h.et).toBeLessThanOrEqual(timetableOnDay + 1e-12);
  });

  const spec = (over: Partial<CompareSpec> = {}): CompareSpec => ({
    setting: tiny(),
    controllers: ['static', 'best-static', 'greedy'],
    placements: ['cedf'],
    evalSeeds: [101, 102],
    baseline: 'best-static',
    plan: { searchSeeds: [1], staticLayouts: [L(1), L(1)], maxPasses: 1 },
    ...over,
  });

  it('refuses evaluation seeds a controller was searched or tuned on', () => {
    expect(() => compare(spec({ evalSeeds: [1, 101] }))).toThrow(SeedOverlapError);
    expect(() => compare(spec({ controllers: ['lookahead'], evalSeeds: [5] }))).toThrow(/tuned on seeds 5/);
    // static is not tuned: any seed will do.
    expect(compare(spec({ controllers: ['static'], baseline: 'static', evalSeeds: [1] })).rows).toHaveLength(1);
  });

  it('gives paired gains against the baseline and the same numbers twice', () => {
    const a = compare(spec());
    const b = compare(spec());
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    const base = a.rows.find((r) => r.controller === 'best-static')!;
    expect(base.etImprovement).toBeUndefined();
    const st = a.rows.find((r) => r.controller === 'static')!;
    const manual = st.days.map((d, i) => 1 - d.et / base.days[i]!.et);
    expect(st.etImprovement!.mean).toBeCloseTo((manual[0]! + manual[1]!) / 2, 12);
    expect(st.initialLayouts.map((l) => l)).toEqual(['7g.40gb', '7g.40gb']);
    expect(layoutKey(L(1))).toBe('7g.40gb@0');
  });
});
