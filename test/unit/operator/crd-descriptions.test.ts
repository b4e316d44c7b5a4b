// `kubectl explain migpartition.spec…` must say something for every field: each field of the MigPartition
// CRD (crds/ and the chart's copy, generated from api/schema.ts) has a description, and no
// description points at a file of this repository that is not there.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONTROLLERS } from '../../../operator/controllers.js';

interface Node {
  type?: string;
  description?: string;
  properties?: Record<string, Node>;
  items?: Node;
  additionalProperties?: Node | boolean;
}

/** Every field (object property) and every object schema under `schema`, by path, with its description. */
function fields(schema: Node, path: string): { path: string; description: string | undefined }[] {
  const out: { path: string; description: string | undefined }[] = [];
  if (schema.properties || schema.type === 'object')
    out.push({ path: path || '(root)', description: schema.description });
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    const at = path ? `${path}.${name}` : name;
    out.push({ path: at, description: child.description });
    out.push(...fields(child, at).filter((f) => f.path !== at));
  }
  if (schema.items) out.push(...fields(schema.items, `${path}[]`));
  if (typeof schema.additionalProperties === 'object') out.push(...fields(schema.additionalProperties, `${path}{}`));
  return out;
}

const FILES = ['crds/migpartitions.smartmig.io.yaml', 'charts/smartmig/crds/migpartitions.smartmig.io.yaml'];

function schemaOf(file: string): Node {
  const crd = parse(readFileSync(file, 'utf8')) as { spec: { versions: { schema: { openAPIV3Schema: Node } }[] } };
  return (crd.spec.versions[0] as { schema: { openAPIV3Schema: Node } }).schema.openAPIV3Schema;
}

describe.each(FILES)('%s', (file) => {
  const schema = schemaOf(file);
  const all = fields(schema, '');

  it('walks the whole schema (the walker reaches nested fields)', () => {
    const paths = all.map((f) => f.path);
    expect(paths).toContain('spec.static.layouts[].migDevices');
    expect(paths).toContain('spec.dynamic.schedule[].layouts[].gpus');
    expect(paths).toContain('status.nodes[].gpus[].busy');
    expect(all.length).toBeGreaterThan(60);
  });

  it('describes every field', () => {
    // The apiserver forbids a description of metadata; it explains ObjectMeta itself.
    const missing = all.filter((f) => f.path !== 'metadata' && (f.description ?? '').trim() === '').map((f) => f.path);
    expect(missing).toEqual([]);
  });

  it('points only at files of the repository that exist', () => {
    for (const f of all) {
      for (const m of (f.description ?? '').matchAll(
        /\b(?:docs|policy|operator|extender|cli|charts|examples)\/[\w./-]*\w/g,
      )) {
        expect(existsSync(m[0]), `${f.path} names ${m[0]}`).toBe(true);
      }
    }
  });

  it('names every controller the operator has, and says that no model ships', () => {
    const byPath = new Map(all.map((f) => [f.path, f.description ?? '']));
    for (const name of CONTROLLERS.keys()) expect(byPath.get('spec.dynamic.controller')).toContain(name);
    if ([...CONTROLLERS.values()].every((c) => !c.takesModel)) {
      expect(byPath.get('spec.dynamic.model')).toMatch(/ships? yet/);
      expect(byPath.get('spec.dynamic.model')).toContain('ModelNotSupported');
    }
  });
});
