// The layering of docs/architecture.md is a lint rule (eslint.config.js), so a wrong import fails `npm test`.
// Here the rule itself is checked: each forbidden direction is refused, each allowed one passes.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();

async function importErrors(file: string, from: string): Promise<string[]> {
  const [r] = await eslint.lintText(`import * as m from '${from}';\nexport const x = m;\n`, { filePath: file });
  return (r?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layers: policy ← api ← kube, model-store, dra ← extender, operator, fake-gpu ← cli', () => {
  it.each([
    ['policy/sim/simulator.ts', '../../api/labels.js'],
    ['policy/sim/simulator.ts', '../../operator/plan/round.js'],
    ['api/labels.ts', '../operator/facts.js'],
    ['api/labels.ts', '../kube/config.js'],
    ['kube/config.ts', '../extender/app.js'],
    ['model-store/actor-files.ts', '../cli/main.js'],
    ['extender/app.ts', '../operator/plan/round.js'],
    ['extender/app.ts', '../fake-gpu/kubelet.js'],
    ['operator/reconciler.ts', '../extender/cache.js'],
    ['fake-gpu/kubelet.ts', '../operator/facts.js'],
    ['operator/plan/round.ts', '../../cli/main.js'],
  ])('%s may not import %s', async (file, from) => {
    const errors = await importErrors(file, from);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('docs/architecture.md');
  });

  it.each([
    ['api/schema.ts', '../policy/mig/catalog.js'],
    ['kube/config.ts', '../api/labels.js'],
    ['extender/app.ts', '../api/labels.js'],
    ['extender/app.ts', '../kube/config.js'],
    ['operator/reconciler.ts', '../model-store/shipped.js'],
    ['fake-gpu/kubelet.ts', '../policy/workload/job.js'],
    ['cli/main.ts', '../operator/setup.js'],
  ])('%s may import %s', async (file, from) => {
    expect(await importErrors(file, from)).toEqual([]);
  });
});
