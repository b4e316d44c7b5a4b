// charts/smartmig/README.md (`helm show readme`) is generated from the comments of values.yaml by
// hack/chart-readme.ts: every value must be described, and the committed README must be the current one.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CHART_DIR, renderReadme, valueSections } from '../../../hack/chart-readme.js';

const read = (file: string): string => readFileSync(join(CHART_DIR, file), 'utf8');
const CHART = read('Chart.yaml');

/** Paths of every value in a parsed values file, maps walked down to their leaves. */
function leaves(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.keys(value).length === 0) {
    return [prefix.slice(0, -1)];
  }
  return Object.entries(value).flatMap(([k, v]) => leaves(v, `${prefix}${k}.`));
}

describe('chart README', () => {
  it('is the one hack/chart-readme.ts generates from values.yaml (run npx tsx hack/chart-readme.ts)', () => {
    expect(read('README.md')).toBe(renderReadme(CHART, read('values.yaml')));
  });

  it('has a described row for every value of values.yaml (or for a map that holds it)', () => {
    const rows = valueSections(read('values.yaml')).sections.flatMap((s) => s.rows);
    for (const r of rows) expect(r.description, r.key).not.toBe('');
    const keys = rows.map((r) => r.key);
    const paths = leaves(parse(read('values.yaml')));
    expect(paths.length).toBeGreaterThan(80);
    for (const path of paths) {
      expect(
        keys.some((k) => path === k || path.startsWith(`${k}.`)),
        path,
      ).toBe(true);
    }
    // Values that values.yaml only shows commented out are rows too.
    expect(keys).toContain('extender.etWeight');
  });

  it('refuses a values file with a value nobody described, and names it', () => {
    const values = '# -- A section.\nsection:\n  # Described.\n  a: 1\n  b: 2\n# Also described.\ntop: x\nbare: y\n';
    expect(() => renderReadme(CHART, values)).toThrow(/section\.b, bare$/);
  });

  it('keeps Chart.yaml’s icon equal to icon.svg', () => {
    const icon = (parse(CHART) as { icon: string }).icon;
    expect(icon.startsWith('data:image/svg+xml;base64,')).toBe(true);
    expect(Buffer.from(icon.split(',')[1] as string, 'base64').toString('utf8')).toBe(read('icon.svg'));
  });
});
