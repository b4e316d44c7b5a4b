import { describe, expect, it } from 'vitest';
import { barChart } from '../../../cli/report/bar-chart.js';
import { lineChart, segments } from '../../../cli/report/line-chart.js';
import { runStyle } from '../../../cli/report/palette.js';
import { stackedBarChart } from '../../../cli/report/stacked-bar.js';

/** The points of every polyline, in document order, as [x, y] numbers. */
function polylinePoints(svg: string): [number, number][][] {
  return [...svg.matchAll(/<polyline[^>]*\spoints="([^"]*)"/g)].map((m) =>
    (m[1] ?? '').split(' ').map((pair) => pair.split(',').map(Number) as [number, number]),
  );
}

/** The first capture group of each match of `pattern`, as numbers. */
function numbers(svg: string, pattern: RegExp): number[] {
  return [...svg.matchAll(pattern)].map((m) => Number(m[1]));
}

describe('segments', () => {
  it('splits a series at missing and non-finite values', () => {
    expect(segments([1, null, 2, 3, Number.NaN, 4])).toEqual([
      [[0, 1]],
      [
        [2, 2],
        [3, 3],
      ],
      [[5, 4]],
    ]);
    expect(segments([null, null])).toEqual([]);
  });
});

describe('lineChart', () => {
  const chart = (values: (number | null)[][]) =>
    lineChart({
      title: 't',
      xLabel: 'hour',
      yLabel: 'kWh',
      series: values.map((v, i) => ({ label: `run ${i}`, values: v, style: runStyle(i) })),
      width: 800,
      height: 300,
    });

  it('draws one point per hour at the middle of the hour, higher values higher up', () => {
    const lines = polylinePoints(chart([[0, 1, 2, 4]]));
    expect(lines).toHaveLength(1);
    const points = lines[0] ?? [];
    expect(points).toHaveLength(4);
    // Plot area spans x 64..784 for 4 hours: 180 px per hour, first point half an hour in.
    expect(points.map(([x]) => x)).toEqual([154, 334, 514, 694]);
    const ys = points.map(([, y]) => y);
    expect(ys[0]).toBe(252); // zero sits on the bottom axis
    expect(ys).toEqual([...ys].sort((a, b) => b - a));
  });

  it('leaves gaps and marks a lone hour with a dot', () => {
    const svg = chart([[1, null, 2, 3]]);
    expect(polylinePoints(svg).map((p) => p.length)).toEqual([2]);
    expect(svg.match(/<circle/g)).toHaveLength(1);
  });

  it('gives each series its own colour and dash, and the longest series sets the x range', () => {
    const svg = chart([
      [1, 2],
      [1, 2, 3, 4],
    ]);
    const lines = polylinePoints(svg);
    expect(lines.map((p) => p.length)).toEqual([2, 4]);
    expect(lines[0]?.[0]?.[0]).toBe(lines[1]?.[0]?.[0]);
    expect(svg).toContain(`stroke="${runStyle(1).colour}"`);
    expect(svg).toContain(`stroke-dasharray="${runStyle(1).dash}"`);
  });

  it('draws an empty chart without failing', () => {
    const svg = chart([]);
    expect(svg).toContain('<svg');
    expect(polylinePoints(svg)).toEqual([]);
  });
});

describe('stackedBarChart', () => {
  const categories = [
    { key: 'a', label: 'wide', colour: '#332288' },
    { key: 'b', label: 'narrow one', colour: '#DDCC77' },
    { key: 'c', label: 'unused', colour: '#117733' },
  ];

  it('sizes segments by amount and names a segment only where its name fits', () => {
    const svg = stackedBarChart({
      title: 't',
      categories,
      rows: [
        {
          label: 'run',
          amounts: new Map([
            ['a', 90],
            ['b', 10],
          ]),
        },
      ],
      unit: 'GPU-hours',
    });
    const widths = numbers(svg, /<g class="segment">.*?<rect[^>]*\swidth="([\d.]+)"/g);
    expect(widths).toHaveLength(2);
    expect((widths[0] ?? 0) / (widths[1] ?? 1)).toBeCloseTo(9, 1);
    expect(svg).toContain('run — wide: 90.0 GPU-hours (90.0 %)');
    expect(svg).toMatch(/<text[^>]*class="in-bar on-dark"[^>]*>wide<\/text>/);
    expect(svg).not.toMatch(/class="in-bar[^"]*"[^>]*>narrow one</);
    expect(svg).not.toContain('unused');
  });

  it('prints each bar total after the bar', () => {
    const svg = stackedBarChart({
      title: 't',
      categories,
      rows: [
        { label: 'x', amounts: new Map([['a', 5]]) },
        {
          label: 'y',
          amounts: new Map([
            ['a', 3],
            ['c', 4],
          ]),
        },
      ],
      unit: 'GPU-hours',
    });
    expect([...svg.matchAll(/class="value"[^>]*>([^<]*)</g)].map((m) => m[1])).toEqual(['5.00', '7.00']);
  });
});

describe('barChart', () => {
  const rows = [
    { label: 'first', style: runStyle(0) },
    { label: 'second', style: runStyle(1) },
  ];

  it('draws bars proportional to their values in each panel, with markers only where given', () => {
    const svg = barChart({
      title: 't',
      rows,
      panels: [
        { title: 'Energy', values: [2, 4], markers: [1, 1], markerLabel: 'bound' },
        { title: 'ET', values: [3, 1] },
      ],
    });
    const widths = numbers(svg, /<rect[^>]*\swidth="([\d.]+)"[^>]*class="bar"/g);
    expect(widths).toHaveLength(4);
    const [e1 = 0, e2 = 0, t1 = 0, t2 = 0] = widths;
    expect(e2 / e1).toBeCloseTo(2, 1);
    expect(t1 / t2).toBeCloseTo(3, 1);
    expect(svg.match(/class="marker"/g)).toHaveLength(2);
    expect(svg).toContain('<title>bound: 1.00</title>');
  });

  it('shows a missing value as a dash and an empty bar', () => {
    const svg = barChart({ title: 't', rows, panels: [{ title: 'ET', values: [Number.NaN, 1] }] });
    expect(svg).toContain('<title>first: —</title>');
    expect(numbers(svg, /<rect[^>]*\swidth="([\d.]+)"[^>]*class="bar"/g)[0]).toBe(0);
  });
});
