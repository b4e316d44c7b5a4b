// The YAML in examples/ is what the README tells people to apply: the real apiserver must accept it, and a
// broken variant must be refused by the CRD's validation with a message naming the field.
import { readFileSync, readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../support/cluster.js';

const files = readdirSync('examples').filter((f) => f.endsWith('.yaml'));

describe('examples/', () => {
  beforeAll(async () => {
    await kubectl(['apply', '--server-side', '--force-conflicts', '-f', 'crds/']);
    await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/migpartitions.smartmig.io']);
  });

  it('has the examples the README names', () => {
    expect(files).toEqual(
      expect.arrayContaining(['migpartition-dynamic.yaml', 'migpartition-static.yaml', 'pod-with-deadline.yaml']),
    );
  });

  it.each(files)('%s is accepted by the apiserver (server-side dry run)', async (file) => {
    const r = await kubectl(['apply', '--dry-run=server', '-n', 'default', '-f', `examples/${file}`]);
    expect(r.stdout).toMatch(/created \(server dry run\)|configured \(server dry run\)|unchanged \(server dry run\)/);
  });

  it('a Static policy without layouts is refused by the CRD', async () => {
    const broken = readFileSync('examples/migpartition-static.yaml', 'utf8').replace(/ {2}static:[\s\S]*$/, '');
    const r = await kubectl(['apply', '--dry-run=server', '-f', '-'], { input: broken, allowFailure: true });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/static/i);
  });

  it('controller meanfield without a model is refused by the CRD', async () => {
    const text = readFileSync('examples/migpartition-meanfield.yaml', 'utf8');
    const broken = text.replace(/ {4}model: .*\n/, '');
    const r = await kubectl(['apply', '--dry-run=server', '-f', '-'], { input: broken, allowFailure: true });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/model is required by controller meanfield/);
  });
});
