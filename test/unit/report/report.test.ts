import { describe, expect, it } from 'vitest';
import { renderReport } from '../../../cli/report/html.js';
import { hourlyEnergyKWh, hourlyTardinessMin, hourSpan, layoutGpuHours } from '../../../cli/report/series.js';
import { bestEtIndices } from '../../../cli/report/summary-table.js';
import { findGpuModel } from '../../../policy/mig/catalog.js';
import { paper12Layout } from '../../../policy/mig/paper12.js';
import type { ExperimentResult, SeedRun } from '../../../policy/sim/experiment.js';
import { runExperiment } from '../../../policy/sim/experiment.js';
import type { HourStats } from '../../../policy/sim/recorder.js';
import { generatePaperWorkload } from '../../../policy/workload/paper-generator.js';

type Hour = Pick<HourStats, 'completions' | 'tardinessMin' | 'energyWmin'>;

function seedRun(seed: number, hours: Hour[], layoutMinutes: Record<string, number>): SeedRun {
  const energy = hours.reduce((s, h) => s + h.energyWmin, 0);
  return {
    seed,
    jobs: 10,
    completed: 10,
    energyWmin: energy,
    energyKWh: energy / 60_000,
    meanTardinessMin: 1,
    maxTardinessMin: 3,
    onTimeFraction: 0.9,
    et: 1,
    repartitions: 0,
    refusedRepartitions: 0,
    drainingGpuMin: 0,
    abandonedDrains: 0,
    changes: [],
    endMin: hours.length * 60,
    events: 20,
    hourly: hours.map((h, hour) => ({ hour, arrivals: 0, late: 0, ...h })),
    layoutMinutes,
    gpuEnergyWmin: [energy],
    energyLowerBoundWmin: energy / 2,
    makespanLowerBoundMin: 60,
  };
}

function experiment(label: string, et: number, runs: SeedRun[]): ExperimentResult {
  return {
    label,
    spec: {
      label,
      mode: 'paper',
      placement: 'cedf',
      repartition: 'static',
      horizonMin: 180,
      gpu: 'A100-40GB',
      gpus: 1,
    },
    seeds: runs.map((r) => r.seed),
    jobs: 10,
    completed: 10,
    energyWmin: 2_540_000,
    energyKWh: 42.3,
    meanTardinessMin: 1,
    onTimeFraction: 0.9,
    et,
    energyLowerBoundWmin: 1_995_000,
    energyAboveLowerBound: 0.27,
    repartitions: 0,
    runs,
  };
}

const hour = (energyWmin: number, completions = 1, tardinessMin = 0): Hour => ({
  energyWmin,
  completions,
  tardinessMin,
});

const EVIL = 'greedy <script>alert("x")</script> & co';
const RESULTS: ExperimentResult[] = [
  experiment('static CEDF', 1.32, [
    seedRun(1, [hour(60_000, 2, 4), hour(120_000, 1, 0), hour(60_000, 0, 0)], { '4+3': 120, '7': 60 }),
    seedRun(2, [hour(120_000, 2, 0), hour(120_000, 1, 2), hour(60_000, 1, 1)], { '4+3': 180 }),
  ]),
  experiment(EVIL, 1.0, [seedRun(1, [hour(30_000), hour(30_000), hour(30_000)], { '3+3': 180 })]),
  experiment('no MIG', 96.7, [seedRun(1, [hour(90_000), hour(90_000)], { '7': 120 })]),
];

const VOID = new Set(['meta', 'link', 'br', 'hr', 'img', 'input']);

/** Checks that every element is closed in order (SVG children may self-close); returns the element names. */
function checkBalanced(html: string): string[] {
  const stack: string[] = [];
  const seen: string[] = [];
  for (const m of html.matchAll(/<(\/?)([a-zA-Z][\w-]*)\b[^>]*?(\/?)>/g)) {
    const [, closing, name = '', selfClosing] = m;
    if (closing) {
      expect(stack.pop(), `closing </${name}>`).toBe(name);
    } else {
      seen.push(name);
      if (!selfClosing && !VOID.has(name)) stack.push(name);
    }
  }
  expect(stack).toEqual([]);
  return seen;
}

function sectionOf(html: string, id: string): string {
  const start = html.indexOf(`<section id="${id}"`);
  expect(start).toBeGreaterThanOrEqual(0);
  return html.slice(start, html.indexOf('</section>', start));
}

function pointCounts(svg: string): number[] {
  return [...svg.matchAll(/<polyline[^>]*\spoints="([^"]*)"/g)].map((m) => (m[1] ?? '').split(' ').length);
}

describe('report series', () => {
  it('averages hourly energy over seeds in kWh, a missing hour counting as none', () => {
    const [cedf, , noMig] = RESULTS as [ExperimentResult, ExperimentResult, ExperimentResult];
    expect(hourSpan(RESULTS)).toBe(3);
    expect(hourlyEnergyKWh(cedf, 3)).toEqual([1.5, 2, 1]);
    expect(hourlyEnergyKWh(noMig, 3)).toEqual([1.5, 1.5, 0]);
  });

  it('averages per-hour mean tardiness over the seeds that completed jobs in the hour', () => {
    const [cedf, , noMig] = RESULTS as [ExperimentResult, ExperimentResult, ExperimentResult];
    // Hour 0: seed 1 has 4 min over 2 jobs, seed 2 none; hour 2: only seed 2 completed a job.
    expect(hourlyTardinessMin(cedf, 3)).toEqual([1, 1, 1]);
    expect(hourlyTardinessMin(noMig, 3)).toEqual([0, 0, null]);
  });

  it('averages GPU-hours per layout over seeds', () => {
    expect(layoutGpuHours(RESULTS[0] as ExperimentResult)).toEqual(
      new Map([
        ['4+3', 2.5],
        ['7', 0.5],
      ]),
    );
  });

  it('marks the lowest ET, ties included, and nothing when there is one run', () => {
    expect(bestEtIndices(RESULTS)).toEqual(new Set([1]));
    const tie = [RESULTS[0], { ...RESULTS[2], et: 1.32 }] as ExperimentResult[];
    expect(bestEtIndices(tie)).toEqual(new Set([0, 1]));
    expect(bestEtIndices(RESULTS.slice(0, 1))).toEqual(new Set());
  });
});

describe('renderReport', () => {
  const html = renderReport(RESULTS, {
    title: 'Report <1>',
    subtitle: 'paper & cluster',
    command: 'smartmig simulate --report "out.html"',
    generatedAt: '2025-01-01T00:00:00Z',
  });

  it('is one well-formed document with one html, head and body', () => {
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    const names = checkBalanced(html);
    for (const name of ['html', 'head', 'body', 'main']) expect(names.filter((n) => n === name)).toHaveLength(1);
    // Five charts (energy, tardiness, layouts, comparison) plus legend swatches.
    expect(names.filter((n) => n === 'svg').length).toBeGreaterThanOrEqual(4);
    expect(html.match(/<svg/g)?.length).toBe(html.match(/<\/svg>/g)?.length);
  });

  it('loads nothing from outside and runs no script', () => {
    expect(html).not.toMatch(/https?:|\/\/[a-z]/i);
    expect(html).not.toMatch(/\s(src|href)=/i);
    expect(html).not.toMatch(/url\(|@import/i);
    expect(html).not.toMatch(/<script/i);
  });

  it('escapes every user-supplied string wherever it appears', () => {
    const escaped = 'greedy &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co';
    // Summary row, two line-chart tooltips, two legends, two bar-chart row labels and tooltips.
    expect(html.split(escaped).length - 1).toBeGreaterThanOrEqual(5);
    expect(html).toContain('<title>Report &lt;1&gt;</title>');
    expect(html).toContain('paper &amp; cluster');
    expect(html).toContain('<code>smartmig simulate --report &quot;out.html&quot;</code>');
  });

  it('marks exactly the best-ET row in the summary table', () => {
    const best = [...html.matchAll(/<tr class="best">(.*?)<\/tr>/g)];
    expect(best).toHaveLength(1);
    expect(best[0]?.[1]).toContain('greedy &lt;script&gt;');
    expect(best[0]?.[1]).toContain('best ET');
    expect(html.match(/<tr[ >]/g)).toHaveLength(RESULTS.length + 1);
  });

  it('shows the summary figures in the promised units', () => {
    const table = sectionOf(html, 'summary');
    expect(table).toContain('<td>2.540</td>'); // M W·min
    expect(table).toContain('<td>42.3</td>'); // kWh
    expect(table).toContain('<td>27.0 %</td>'); // above the lower bound
    expect(table).toContain('<td>90.0 %</td>'); // on time
    // These specs set no ET weight, so the note states none.
    expect(table).toContain('ET = (a·e + t)/(a + 1)');
    expect(table).not.toContain('a = ');
  });

  it('draws one energy line per run with a point per hour, and tardiness gaps where nothing completed', () => {
    expect(pointCounts(sectionOf(html, 'energy'))).toEqual([3, 3, 3]);
    // "no MIG" completed nothing in hour 2 (it has no record of it): its line stops after two points.
    expect(pointCounts(sectionOf(html, 'tardiness'))).toEqual([3, 3, 2]);
  });

  it('stacks each run’s layouts with one legend entry per layout', () => {
    const layouts = sectionOf(html, 'layouts');
    expect(layouts.match(/<g class="segment">/g)).toHaveLength(4);
    const legend = [...layouts.matchAll(/<li>.*?<span>([^<]*)<\/span><\/li>/g)].map((m) => m[1]);
    // Most GPU-hours first (3g+3g: 3; 4g+3g and 7g: 2.5 each, tie broken by key).
    expect(legend).toEqual(['3g+3g', '4g+3g', '7g']);
  });

  it('compares energy, tardiness and ET with the lower bound marked on each energy bar', () => {
    const comparison = sectionOf(html, 'comparison');
    expect(comparison.match(/class="bar"/g)).toHaveLength(3 * RESULTS.length);
    expect(comparison.match(/class="marker"/g)).toHaveLength(RESULTS.length);
  });

  it('is deterministic and carries no date of its own', () => {
    const again = renderReport(RESULTS, { title: 'Report <1>' });
    expect(renderReport(RESULTS, { title: 'Report <1>' })).toBe(again);
    expect(again).not.toMatch(/20\d\d-\d\d-\d\d/);
    expect(again).not.toContain('Generated');
  });

  it('renders a short page when there is nothing to report', () => {
    const empty = renderReport([], { title: 'Nothing' });
    checkBalanced(empty);
    expect(empty).toContain('No runs to report.');
    expect(empty).not.toContain('<svg');
  });
});

describe('renderReport on simulated runs', () => {
  it('reports two real experiments on a two-hour workload', () => {
    const model = findGpuModel('A100-40GB');
    if (!model) throw new Error('A100-40GB missing from the catalog');
    const layouts = [1, 2, 5].map((n) => {
      const layout = paper12Layout(model, n);
      if (!layout) throw new Error(`paper config ${n} missing`);
      return layout;
    });
    const workload = (seed: number) => generatePaperWorkload({ seed, hours: 2, multiplier: 5 });
    const results = (['static', 'greedy'] as const).map((repartition) =>
      runExperiment(
        {
          label: `${repartition} CEDF`,
          model,
          layouts,
          mode: 'paper',
          placement: 'cedf',
          repartition,
          horizonMin: 180,
        },
        workload,
        [1, 2],
      ),
    );
    const html = renderReport(results, { title: 'tiny' });
    checkBalanced(html);
    const hours = hourSpan(results);
    expect(hours).toBeGreaterThanOrEqual(2);
    expect(pointCounts(sectionOf(html, 'energy'))).toEqual([hours, hours]);
    expect(sectionOf(html, 'layouts')).toContain('4g+3g');
    expect(html).toContain('a = 1.90e-7 per W·min');
    expect(html.match(/<tr class="best">/g)?.length ?? 0).toBeGreaterThanOrEqual(1);
  });
});
