import { describe, expect, it } from 'vitest';
import { renderCompareReport } from '../../../cli/report/compare-report.js';
import {
  chartEndMin,
  computeKey,
  laneHeight,
  laneSegments,
  layoutColours,
  MAX_PLOT_HEIGHT,
} from '../../../cli/report/layout-lanes.js';
import { LAYOUT_COLOURS, OTHER_COLOUR } from '../../../cli/report/palette.js';
import { compare, type CompareResult, type CompareRow, type DayFigures } from '../../../policy/evaluate/compare.js';
import { makeSetting } from '../../../policy/evaluate/setting.js';
import type { Interval } from '../../../policy/evaluate/stats.js';
import { findGpuModel } from '../../../policy/mig/catalog.js';
import type { Layout } from '../../../policy/mig/layout.js';
import { paper12Layout } from '../../../policy/mig/paper12.js';
import type { LayoutEvent } from '../../../policy/sim/controller-hook.js';
import { generatePaperWorkload } from '../../../policy/workload/paper-generator.js';

const OPTS = { command: 'smartmig compare --gpus 2', describe: 'paper workload, 2 h' };

const iv = (mean: number, half: number, n = 3): Interval => ({ mean, half, n });

function day(seed: number, changes: LayoutEvent[], found?: string): DayFigures {
  return {
    seed,
    energyWmin: 1e6,
    meanTardinessMin: 1,
    et: 0.5,
    energyLowerBoundWmin: 8e5,
    repartitions: changes.length,
    drainingGpuMin: 3,
    abandonedDrains: 0,
    completed: 10,
    jobs: 10,
    changes,
    ...(found === undefined ? {} : { found }),
  };
}

function row(over: Partial<CompareRow> & Pick<CompareRow, 'controller'>): CompareRow {
  return {
    placement: 'cedf',
    deployable: true,
    searchSeeds: [1, 2, 3],
    found: 'layouts 4+3',
    initialLayouts: ['4g.20gb+3g.20gb', '4g.20gb+3g.20gb'],
    energyWmin: iv(2_500_000, 120_000),
    meanTardinessMin: iv(4.25, 0.5),
    et: iv(0.612, 0.031),
    aboveLowerBound: iv(0.2, 0.015),
    repartitions: iv(0, 0),
    drainingGpuMin: iv(0, 0),
    days: [day(101, [])],
    ...over,
  };
}

// Two GPUs over a day that the changes end within 120 min: GPU 0 goes 4+3 → 7 at 30 → all ones at 90.
const CHANGES: LayoutEvent[] = [
  { t: 30, gpu: 0, layout: '7' },
  { t: 90, gpu: 0, layout: '1+1+1+1+1+1+1' },
];

const RESULT: CompareResult = {
  baseline: 'best-static cedf',
  evalSeeds: [101, 102, 103],
  rows: [
    row({ controller: 'best-static', found: '4g.20gb+3g.20gb on every GPU' }),
    row({
      controller: 'twice-daily',
      found: '<b>day</b> & "night" <script>x</script>',
      repartitions: iv(2, 0.4),
      etImprovement: iv(0.081, 0.02),
      days: [day(101, CHANGES)],
    }),
    row({
      controller: 'hindsight',
      deployable: false,
      found: 'per evaluation day, one layout per hour',
      etImprovement: iv(0.15, 0.05),
      days: [day(101, [{ t: 60, gpu: 1, layout: '3+3' }], 'hour 0: <4+3>')],
    }),
  ],
};

/** The <svg class="chart"> of each row, in row order. */
function charts(html: string): string[] {
  return [...html.matchAll(/<svg viewBox="[^"]*" role="img" aria-label="Layouts[^"]*" class="chart">.*?<\/svg>/gs)].map(
    (m) => m[0],
  );
}

interface Seg {
  gpu: number;
  x: number;
  width: number;
  fill: string;
}

function segments(svg: string): Seg[] {
  return [
    ...svg.matchAll(
      /<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="[\d.]+" class="lane-seg" fill="([^"]+)" data-gpu="(\d+)">/g,
    ),
  ].map((m) => ({ x: Number(m[1]), width: Number(m[2]), fill: m[3] as string, gpu: Number(m[4]) }));
}

function tableRowOf(html: string, controller: string): string {
  const m = new RegExp(`<tr[^>]*><th scope="row">${controller}.*?</tr>`, 's').exec(html);
  expect(m, controller).not.toBeNull();
  return (m as RegExpExecArray)[0];
}

describe('renderCompareReport', () => {
  const html = renderCompareReport(RESULT, OPTS);

  it('is one self-contained document: no scripts, no external references', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.match(/<html/g)).toHaveLength(1);
    expect(html.match(/<\/html>/g)).toHaveLength(1);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/https?:/i);
    expect(html).not.toMatch(/\b(src|href)=/i);
    expect(html).toContain('<style>');
  });

  it.each([
    ['best-static', ['2.500 ± 0.120', '4.25 ± 0.50', '0.612 ± 0.031', '20.0 ± 1.5 %', '0.0 ± 0.0', 'baseline']],
    ['twice-daily', ['2.0 ± 0.4', '8.1 ± 2.0 %']],
    ['hindsight', ['15.0 ± 5.0 %', 'reference']],
  ])('the %s row shows its intervals', (controller, cells) => {
    const tr = tableRowOf(html, controller);
    for (const cell of cells) expect(tr).toContain(cell);
  });

  it('marks the baseline row and the non-deployable reference row, and names the seeds', () => {
    expect(tableRowOf(html, 'best-static')).toContain('class="badge baseline"');
    expect(tableRowOf(html, 'twice-daily')).not.toContain('badge');
    expect(tableRowOf(html, 'hindsight')).toMatch(/^<tr class="reference">/);
    expect(html).toContain('Baseline: best-static cedf.');
    expect(html).toContain('Evaluation seeds: 101–103 (3 days); search seeds: 1–3.');
    expect(tableRowOf(html, 'twice-daily')).toContain('searched on seeds 1–3');
  });

  it('draws one chart per row with one lane per GPU and a segment boundary at each change', () => {
    const svgs = charts(html);
    expect(svgs).toHaveLength(3);
    const [still, twice, hind] = svgs.map(segments) as [Seg[], Seg[], Seg[]];
    // No changes: one segment per GPU, both GPUs labelled.
    expect(still.map((s) => s.gpu)).toEqual([0, 1]);
    expect(svgs[0]).toContain('>GPU 0<');
    expect(svgs[0]).toContain('>GPU 1<');
    // GPU 0 changes twice: three segments that tile the lane, split at 30 and 90 of the 120-min axis.
    const gpu0 = twice.filter((s) => s.gpu === 0);
    expect(gpu0).toHaveLength(3);
    expect(twice.filter((s) => s.gpu === 1)).toHaveLength(1);
    const [a, b, c] = gpu0 as [Seg, Seg, Seg];
    const total = a.width + b.width + c.width;
    expect(a.width / total).toBeCloseTo(30 / 120, 2);
    expect(b.width / total).toBeCloseTo(60 / 120, 2);
    expect(b.x).toBeCloseTo(a.x + a.width, 0);
    expect(c.x).toBeCloseTo(b.x + b.width, 0);
    expect(hind.filter((s) => s.gpu === 1)).toHaveLength(2);
    expect(html).toContain('Time runs from 0 to 2 h (the hour after the last change)');
  });

  it('colours a change from one layout to another differently, and the same layout alike everywhere', () => {
    const [still, twice] = charts(html).map(segments) as [Seg[], Seg[]];
    const [a, b, c] = twice.filter((s) => s.gpu === 0) as [Seg, Seg, Seg];
    expect(new Set([a.fill, b.fill, c.fill]).size).toBe(3);
    // 4+3 (from the profile names "4g.20gb+3g.20gb") has the same colour as before the change.
    expect(a.fill).toBe(still[0]?.fill);
    expect(LAYOUT_COLOURS).toContain(a.fill);
    expect(html).toContain('<title>GPU 0: 7g, 0:30–1:30</title>');
  });

  it('escapes HTML in what a search found, and shows the first day’s finding of hindsight', () => {
    expect(html).toContain('&lt;b&gt;day&lt;/b&gt; &amp; &quot;night&quot; &lt;script&gt;x&lt;/script&gt;');
    expect(html).not.toContain('<b>day</b>');
    expect(html).toContain('On its first evaluation day (seed 101): <span class="what">hour 0: &lt;4+3&gt;</span>');
    expect(html).toContain('Found: <span class="what">4g.20gb+3g.20gb on every GPU</span>');
  });

  it('renders byte-identical output for the same input', () => {
    const copy = JSON.parse(JSON.stringify(RESULT)) as CompareResult;
    expect(renderCompareReport(copy, OPTS)).toBe(html);
  });

  it('keeps 64 thin lanes within the height cap', () => {
    const gpus = 64;
    const many = row({
      controller: 'greedy',
      initialLayouts: Array.from({ length: gpus }, () => '7g.40gb'),
      days: [day(101, [{ t: 600, gpu: 63, layout: '4+3' }])],
    });
    const out = renderCompareReport({ ...RESULT, rows: [many] }, { ...OPTS, horizonMin: 1440 });
    const [svg] = charts(out) as [string];
    const segs = segments(svg);
    expect(new Set(segs.map((s) => s.gpu)).size).toBe(gpus);
    expect(segs).toHaveLength(gpus + 1);
    const height = Number(/viewBox="0 0 [\d.]+ ([\d.]+)"/.exec(svg)?.[1]);
    expect(height).toBeLessThanOrEqual(MAX_PLOT_HEIGHT + 60);
    expect(laneHeight(gpus)).toBeGreaterThan(0);
    expect(out).toContain('Time runs from 0 to 24 h.');
  });

  it('says so when there are no rows', () => {
    const out = renderCompareReport({ baseline: 'best-static cedf', evalSeeds: [], rows: [] }, OPTS);
    expect(out).toContain('No rows to report.');
  });
});

describe('layout lanes', () => {
  it.each([
    ['4g.20gb+3g.20gb', '4+3'],
    ['7g.40gb', '7'],
    ['4+3', '4+3'],
    ['1+1+1+1+1+1+1', '1+1+1+1+1+1+1'],
    ['1g.5gb+me+2g.10gb', '1+2'],
    ['', 'none'],
    ['none', 'none'],
  ])('computeKey(%j) is %j', (layout, key) => {
    expect(computeKey(layout)).toBe(key);
  });

  it('splits lanes at each change, in time order, and keeps a change to the same layout as a boundary', () => {
    const lanes = laneSegments(
      ['7g.40gb', '4g.20gb+3g.20gb'],
      [
        { t: 50, gpu: 0, layout: '4+3' },
        { t: 20, gpu: 0, layout: '7' },
        { t: 20, gpu: 1, layout: '3+3' },
      ],
      60,
    );
    expect(lanes).toEqual([
      [
        { from: 0, to: 20, key: '7' },
        { from: 20, to: 50, key: '7' },
        { from: 50, to: 60, key: '4+3' },
      ],
      [
        { from: 0, to: 20, key: '4+3' },
        { from: 20, to: 60, key: '3+3' },
      ],
    ]);
  });

  it('lumps layouts past the palette as other', () => {
    const keys = Array.from({ length: LAYOUT_COLOURS.length + 2 }, (_, i) => `${i + 1}`);
    const lanes = keys.map((k, i) => [{ from: 0, to: 100 - i, key: k }]);
    const c = layoutColours(lanes);
    expect(c.items).toHaveLength(LAYOUT_COLOURS.length);
    expect(c.items.at(-1)).toMatchObject({ label: 'other (3 layouts)', colour: OTHER_COLOUR });
    expect(c.colourOf('1')).toBe(LAYOUT_COLOURS[0]);
    expect(c.colourOf(keys.at(-1) as string)).toBe(OTHER_COLOUR);
  });

  it.each([
    [undefined, [], 1440],
    [undefined, [30, 90], 120],
    [undefined, [120], 180],
    [1440, [30], 1440],
    [120, [150], 180],
  ])('chartEndMin(%j, %j) is %j', (horizon, times, end) => {
    expect(chartEndMin(horizon, times)).toBe(end);
  });
});

describe('renderCompareReport on a real comparison', () => {
  it('renders compare() of a tiny setting', () => {
    const model = findGpuModel('A100-40GB');
    if (!model) throw new Error('no A100-40GB');
    const two = paper12Layout(model, 2) as Layout;
    const setting = makeSetting({
      model,
      gpus: 2,
      gpusPerNode: 2,
      mode: 'cluster',
      horizonMin: 120,
      workload: (seed) => generatePaperWorkload({ seed, hours: 2 }),
    });
    const result = compare({
      setting,
      controllers: ['static', 'best-static', 'twice-daily'],
      placements: ['cedf'],
      evalSeeds: [101],
      baseline: 'best-static',
      plan: { searchSeeds: [1], staticLayouts: [two, two], maxPasses: 1 },
    });
    const html = renderCompareReport(result, { ...OPTS, horizonMin: 120 });
    expect(html).not.toMatch(/<script|https?:/i);
    for (const r of result.rows) expect(tableRowOf(html, r.controller)).toContain('±');
    expect(tableRowOf(html, 'best-static')).toContain('badge baseline');
    const svgs = charts(html);
    expect(svgs).toHaveLength(3);
    svgs.forEach((svg, i) => {
      const r = result.rows[i] as CompareRow;
      const segs = segments(svg);
      expect(new Set(segs.map((s) => s.gpu)).size).toBe(2);
      // The axis reaches past the last change, so every change starts a segment.
      expect(segs).toHaveLength(2 + (r.days[0]?.changes.length ?? 0));
    });
    expect(renderCompareReport(result, { ...OPTS, horizonMin: 120 })).toBe(html);
  });
});
