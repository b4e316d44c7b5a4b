import { describe, expect, it } from 'vitest';
import { coord, escapeHtml, formatNumber, formatPercent, formatShort } from '../../../cli/report/format.js';
import { layoutLabel } from '../../../cli/report/layout-label.js';
import { needsLightText, runStyle } from '../../../cli/report/palette.js';
import { linearScale, niceTicks } from '../../../cli/report/scale.js';
import { hourTicks } from '../../../cli/report/line-chart.js';

describe('escapeHtml', () => {
  it('escapes every character with meaning in text or attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });
  it('leaves other text, including non-ASCII, as it is', () => {
    expect(escapeHtml('static CEDF · 4g+3g — ok')).toBe('static CEDF · 4g+3g — ok');
  });
});

describe('number formats', () => {
  it.each([
    { name: 'groups thousands', value: 2_540_000, decimals: 0, want: '2,540,000' },
    { name: 'keeps decimals', value: 1234.5678, decimals: 2, want: '1,234.57' },
    { name: 'negative', value: -1234.5, decimals: 1, want: '-1,234.5' },
    { name: 'tiny negative is zero', value: -0.0001, decimals: 2, want: '0.00' },
    { name: 'NaN', value: Number.NaN, decimals: 2, want: '—' },
    { name: 'infinity', value: Number.POSITIVE_INFINITY, decimals: 0, want: '—' },
  ])('formatNumber: $name', ({ value, decimals, want }) => {
    expect(formatNumber(value, decimals)).toBe(want);
  });

  it('formats fractions as percentages', () => {
    expect(formatPercent(0.271)).toBe('27.1 %');
    expect(formatPercent(Number.NaN)).toBe('—');
  });

  it.each([
    [0, '0'],
    [1234.4, '1,234'],
    [45.67, '45.7'],
    [2.5432, '2.54'],
    [0.01234, '0.0123'],
  ])('formatShort(%s) = %s', (value, want) => {
    expect(formatShort(value)).toBe(want);
  });

  it('rounds coordinates to a tenth and never prints -0', () => {
    expect(coord(12.345)).toBe('12.3');
    expect(coord(-0.01)).toBe('0');
  });
});

describe('niceTicks', () => {
  it.each([
    { name: 'round range', min: 0, max: 10, count: 5, want: [0, 2, 4, 6, 8, 10], decimals: 0 },
    { name: 'widens to whole steps', min: 0, max: 2.17, count: 5, want: [0, 0.5, 1, 1.5, 2, 2.5], decimals: 1 },
    { name: 'small values', min: 0, max: 0.043, count: 5, want: [0, 0.01, 0.02, 0.03, 0.04, 0.05], decimals: 2 },
    { name: 'empty range', min: 0, max: 0, count: 5, want: [0, 0.2, 0.4, 0.6, 0.8, 1], decimals: 1 },
    { name: 'not finite', min: Number.NaN, max: Number.NaN, count: 2, want: [0, 0.5, 1], decimals: 1 },
  ])('$name', ({ min, max, count, want, decimals }) => {
    const ticks = niceTicks(min, max, count);
    expect(ticks.values).toEqual(want);
    expect(ticks.decimals).toBe(decimals);
    expect(ticks.min).toBe(want[0]);
    expect(ticks.max).toBe(want[want.length - 1]);
  });

  it('hour ticks fall on divisors of a day', () => {
    expect(hourTicks(26).values).toEqual([0, 3, 6, 9, 12, 15, 18, 21, 24]);
    expect(hourTicks(2).values).toEqual([0, 1, 2]);
    expect(hourTicks(72).values).toEqual([0, 6, 12, 18, 24, 30, 36, 42, 48, 54, 60, 66, 72]);
    expect(hourTicks(300).values).toEqual([0, 48, 96, 144, 192, 240, 288]);
  });

  it('maps a domain onto a range, reversed when asked', () => {
    const y = linearScale(0, 10, 100, 0);
    expect(y(0)).toBe(100);
    expect(y(2.5)).toBe(75);
    expect(linearScale(3, 3, 5, 9)(7)).toBe(5);
  });
});

describe('palette and labels', () => {
  it('gives neighbouring runs different colours and dashes', () => {
    const styles = Array.from({ length: 6 }, (_, i) => runStyle(i));
    expect(new Set(styles.map((s) => s.colour)).size).toBe(6);
    expect(new Set(styles.map((s) => s.dash)).size).toBe(6);
    expect(runStyle(0).dash).toBe('');
  });

  it('picks light text only on dark fills', () => {
    expect(needsLightText('#332288')).toBe(true);
    expect(needsLightText('#DDCC77')).toBe(false);
  });

  it.each([
    ['4+3', '4g+3g'],
    ['7', '7g'],
    ['', '(no instances)'],
    ['custom layout', 'custom layout'],
  ])('layoutLabel(%j) = %j', (key, want) => {
    expect(layoutLabel(key)).toBe(want);
  });
});
