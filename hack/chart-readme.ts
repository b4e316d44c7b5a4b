// Writes charts/smartmig/README.md (what `helm show readme` prints) from the comments of values.yaml, so the
// values are described in one place. Every value needs a comment: the run fails and names the ones without.
//   npx tsx hack/chart-readme.ts            write the README
//   npx tsx hack/chart-readme.ts --check    fail when the committed README differs
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isScalar, isSeq, parseDocument, type Node, type Pair, type YAMLMap } from 'yaml';

export const CHART_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'charts', 'smartmig');

/** One row of a values table. */
export interface ValueRow {
  readonly key: string;
  readonly default: string;
  readonly description: string;
}

export interface ValueSection {
  readonly key: string;
  readonly description: string;
  readonly rows: ValueRow[];
}

/** A value that a comment shows commented out, e.g. `# etWeight: 0.00000019`: optional, unset by default. */
const COMMENTED_KEY = /^([a-z][A-Za-z0-9]*): (\S+)$/;
/** Lists longer than this are summarised in the table; values.yaml has them in full. */
const LIST_SHOWN = 4;

/** Comment text as lines without the one space after `#`. */
const lines = (comment: string | null | undefined): string[] =>
  (comment ?? '').split('\n').map((l) => (l.startsWith(' ') ? l.slice(1) : l));

function formatDefault(node: unknown): string {
  if (isSeq(node) && node.items.length > LIST_SHOWN) return `${node.items.length} entries (see values.yaml)`;
  const value = isScalar(node) || isMap(node) || isSeq(node) ? node.toJSON() : node;
  return `\`${JSON.stringify(value)}\``;
}

/** The comment above a key: yaml gives the first key's comment to its map, the others' to the key. */
function commentOf(pair: Pair, index: number, parent: YAMLMap): string | undefined {
  const key = pair.key as Node | null;
  const own = key?.commentBefore ?? (index === 0 ? parent.commentBefore : undefined);
  const inline = isScalar(pair.value) || isSeq(pair.value) || isMap(pair.value) ? pair.value.comment : undefined;
  return [own, inline].filter((c): c is string => typeof c === 'string' && c.trim() !== '').join('\n') || undefined;
}

interface Described {
  readonly description: string;
  /** Commented-out keys found in the comment, with what the comment says of them. */
  readonly optional: { key: string; example: string; description: string }[];
}

/** Splits a key's comment into its own description and the commented-out keys above it. */
function describe(comment: string | undefined): Described {
  const optional: Described['optional'] = [];
  let prose: string[] = [];
  for (const line of lines(comment)) {
    const m = COMMENTED_KEY.exec(line);
    if (m) {
      optional.push({ key: m[1] as string, example: m[2] as string, description: prose.join(' ').trim() });
      prose = [];
    } else if (line.trim() === '') {
      // A blank comment line ends a paragraph that belongs to something above (the file's header).
      prose = [];
    } else {
      prose.push(line.trim());
    }
  }
  return { description: prose.join(' ').replace(/^-- /, '').trim(), optional };
}

/** Whether a map gets a row per key (some key has a comment of its own) or one row for the whole map. */
function expands(map: YAMLMap): boolean {
  return map.items.some((p, i) => describe(commentOf(p as Pair, i, map)).description !== '');
}

/** The rows of one key: one for its value, or one per key below it when its map expands. */
function rowsOf(pair: Pair, comment: string | undefined, prefix: string, rows: ValueRow[], missing: string[]): void {
  const key = `${prefix}${String((pair.key as { value?: unknown }).value)}`;
  const { description, optional } = describe(comment);
  for (const o of optional) {
    if (o.description === '') missing.push(`${prefix}${o.key}`);
    rows.push({ key: `${prefix}${o.key}`, default: `unset (e.g. \`${o.example}\`)`, description: o.description });
  }
  if (isMap(pair.value) && pair.value.items.length > 0 && expands(pair.value)) {
    if (description !== '') rows.push({ key, default: '', description });
    collect(pair.value, `${key}.`, rows, missing);
    return;
  }
  if (description === '') missing.push(key);
  rows.push({ key, default: formatDefault(pair.value), description });
}

function collect(map: YAMLMap, prefix: string, rows: ValueRow[], missing: string[]): void {
  map.items.forEach((item, i) => rowsOf(item as Pair, commentOf(item as Pair, i, map), prefix, rows, missing));
}

/** Sections by top-level key; keys that are not expanded maps go to a first section, `general`. */
export function valueSections(valuesYaml: string): { sections: ValueSection[]; missing: string[] } {
  const doc = parseDocument(valuesYaml);
  const root = doc.contents;
  if (!isMap(root)) throw new Error('values.yaml is not a map');
  const missing: string[] = [];
  const general: ValueSection = { key: 'general', description: 'Names, image and security settings.', rows: [] };
  const sections: ValueSection[] = [general];
  root.items.forEach((item, i) => {
    const pair = item as Pair;
    const key = String((pair.key as { value?: unknown }).value);
    if (isMap(pair.value) && pair.value.items.length > 0 && expands(pair.value)) {
      const rows: ValueRow[] = [];
      const { description, optional } = describe(commentOf(pair, i, root));
      if (optional.length > 0) missing.push(`${key} (a commented-out key above a section)`);
      if (description === '') missing.push(key);
      collect(pair.value, `${key}.`, rows, missing);
      sections.push({ key, description, rows });
    } else {
      rowsOf(pair, commentOf(pair, i, root), '', general.rows, missing);
    }
  });
  return { sections: general.rows.length > 0 ? sections : sections.slice(1), missing };
}

/** Markdown would take `<fullname>` for an HTML tag and `|` for a column. */
const escapeHtml = (text: string): string => text.replace(/</g, '&lt;').replace(/>/g, '&gt;');
const cell = (text: string): string => escapeHtml(text).replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderReadme(chartYaml: string, valuesYaml: string): string {
  const chart = parseDocument(chartYaml).toJSON() as {
    name: string;
    description: string;
    version: string;
    appVersion: string;
    kubeVersion: string;
  };
  const { sections, missing } = valueSections(valuesYaml);
  if (missing.length > 0) {
    throw new Error(`values.yaml: give these values a comment that describes them: ${missing.join(', ')}`);
  }
  const out = [
    '<!-- Generated by hack/chart-readme.ts from values.yaml and Chart.yaml; edit those and rerun it. -->',
    `# The ${chart.name} Helm chart`,
    '',
    `${chart.description}.`,
    '',
    `Chart ${chart.version}, smartmig ${chart.appVersion}, Kubernetes ${chart.kubeVersion}.`,
    '',
    'It installs the MigPartition CRD, the operator that applies MIG layouts through the NVIDIA GPU',
    "operator's mig-manager, the scheduler extender with its admission webhook, and a second kube-scheduler",
    'that pods opt into with `schedulerName`. The GPU operator must run mig-manager with the mixed strategy',
    'and read the ConfigMap of `operator.migConfigMap`. docs/install.md in the smartmig repository has every',
    'step; after `helm install` the chart prints the next ones.',
    '',
    '## Install',
    '',
    '```sh',
    'docker build -t registry.example.com/smartmig:' +
      chart.appVersion +
      ' . && docker push registry.example.com/smartmig:' +
      chart.appVersion,
    'helm install smartmig charts/smartmig -n smartmig-system --create-namespace \\',
    '  --set image.repository=registry.example.com/smartmig',
    '```',
    '',
    '## Values',
    '',
    'values.schema.json checks them: install, upgrade, lint and template refuse values that break it.',
  ];
  for (const s of sections) {
    out.push('', `### ${s.key}`, '');
    if (s.description) out.push(escapeHtml(s.description), '');
    out.push('| Key | Default | Description |', '|---|---|---|');
    for (const r of s.rows) out.push(`| \`${r.key}\` | ${r.default.replace(/\|/g, '\\|')} | ${cell(r.description)} |`);
  }
  return `${out.join('\n')}\n`;
}

function main(argv: string[]): number {
  const readme = renderReadme(
    readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8'),
    readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8'),
  );
  const file = join(CHART_DIR, 'README.md');
  if (argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      // A missing README differs like any other.
    }
    if (current === readme) return 0;
    console.error(`${file} is out of date: run npx tsx hack/chart-readme.ts`);
    return 1;
  }
  writeFileSync(file, readme);
  console.log(`wrote ${file}`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 1;
  }
}
