// The chart's extender hardening (issue 14), rendered by the real helm: two replicas and a
// PodDisruptionBudget, the NetworkPolicy that admits only the extender's callers, the FlowSchema for its
// ServiceAccount, and `ignorable: false` in the scheduler's configuration. The objects are also applied
// with a server-side dry run by test/integration/helm.test.ts.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { REPO_ROOT, readLocalCluster } from '../support/cluster.js';

const run = promisify(execFile);

interface K8sObject {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

async function render(...sets: string[]): Promise<K8sObject[]> {
  const cluster = readLocalCluster();
  const { stdout } = await run(cluster.bin.helm, [
    'template',
    'rel',
    join(REPO_ROOT, 'charts/smartmig'),
    '--namespace',
    'gpu-sys',
    '--kube-version',
    cluster.kubernetesVersion.replace(/^v/, ''),
    ...sets.flatMap((s) => ['--set', s]),
  ]);
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => !!o?.kind);
}

const find = (objs: K8sObject[], kind: string, name: string) =>
  objs.find((o) => o.kind === kind && o.metadata.name === name);

interface Rule {
  from?: Record<string, unknown>[];
  ports: { port: number; protocol: string }[];
}

describe('the chart keeps the extender available and reachable only by its callers', () => {
  it('runs two replicas with a PodDisruptionBudget that keeps one', async () => {
    const objs = await render();
    expect((find(objs, 'Deployment', 'rel-smartmig-extender')?.spec as { replicas: number }).replicas).toBe(2);
    const pdb = find(objs, 'PodDisruptionBudget', 'rel-smartmig-extender');
    expect(pdb?.spec).toMatchObject({
      minAvailable: 1,
      selector: { matchLabels: { 'app.kubernetes.io/component': 'extender', 'app.kubernetes.io/instance': 'rel' } },
    });
  });

  it('admits the chart scheduler, the API server peers and Prometheus peers given, on the extender port only', async () => {
    const objs = await render(
      'extender.networkPolicy.apiServerFrom[0].ipBlock.cidr=10.0.0.0/24',
      'extender.networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.team=monitoring',
    );
    const spec = find(objs, 'NetworkPolicy', 'rel-smartmig-extender')?.spec as {
      podSelector: { matchLabels: Record<string, string> };
      policyTypes: string[];
      ingress: Rule[];
    };
    expect(spec.podSelector.matchLabels['app.kubernetes.io/component']).toBe('extender');
    expect(spec.policyTypes).toEqual(['Ingress']);
    expect(spec.ingress.map((r) => r.from)).toEqual([
      [{ podSelector: { matchLabels: expect.objectContaining({ 'app.kubernetes.io/component': 'scheduler' }) } }],
      [{ ipBlock: { cidr: '10.0.0.0/24' } }],
      [{ namespaceSelector: { matchLabels: { team: 'monitoring' } } }],
    ]);
    expect(spec.ingress.every((r) => r.ports.length === 1 && r.ports[0]?.port === 8443)).toBe(true);
  });

  it('leaves the port open to any source only while the webhook is on and no API server peer is given', async () => {
    const open = find(await render(), 'NetworkPolicy', 'rel-smartmig-extender')?.spec as { ingress: Rule[] };
    expect(open.ingress.some((r) => r.from === undefined)).toBe(true);
    const closed = find(await render('webhook.enabled=false'), 'NetworkPolicy', 'rel-smartmig-extender')?.spec as {
      ingress: Rule[];
    };
    expect(closed.ingress.every((r) => (r.from ?? []).length > 0)).toBe(true);
    expect(find(await render('extender.networkPolicy.enabled=false'), 'NetworkPolicy', 'rel-smartmig-extender')).toBe(
      undefined,
    );
  });

  it("puts the extender's ServiceAccount in kube-scheduler's priority level", async () => {
    const spec = find(await render(), 'FlowSchema', 'rel-smartmig-extender')?.spec as {
      priorityLevelConfiguration: { name: string };
      matchingPrecedence: number;
      rules: { subjects: { kind: string; serviceAccount: { name: string; namespace: string } }[] }[];
    };
    expect(spec.priorityLevelConfiguration.name).toBe('workload-high');
    // Ahead of the built-in service-accounts FlowSchema (9000), which would put it in workload-low.
    expect(spec.matchingPrecedence).toBeLessThan(9000);
    expect(spec.rules[0]?.subjects).toEqual([
      { kind: 'ServiceAccount', serviceAccount: { name: 'rel-smartmig-extender', namespace: 'gpu-sys' } },
    ]);
  });

  it('keeps MIG pods waiting while no extender answers (ignorable: false)', async () => {
    const cm = find(await render(), 'ConfigMap', 'rel-smartmig-scheduler');
    const config = parse(cm?.data?.['config.yaml'] ?? '') as { extenders: { ignorable: boolean }[] };
    expect(config.extenders[0]?.ignorable).toBe(false);
  });
});
