// The chart's extender hardening (issue 14), rendered by the real helm: two replicas and a
// PodDisruptionBudget, the NetworkPolicy that admits only the extender's callers, the FlowSchema for its
// ServiceAccount, and `ignorable: false` in the scheduler's configuration. The objects are also applied
// with a server-side dry run by test/integration/helm.test.ts.
import { execFile } from 'node:child_process';
import { request } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { buildExtender } from '../../extender/app.js';
import { ClusterCache } from '../../extender/cache.js';
import { serverTlsOptions } from '../../extender/tls.js';
import { ProfileBook } from '../../policy/workload/job.js';
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

/** POSTs `{}` to the extender over HTTPS as the chart's scheduler would, with or without its client pair. */
function schedulerCall(
  port: number,
  path: string,
  tls: { ca: Buffer; servername: string; cert?: Buffer; key?: Buffer },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        agent: false,
        ...tls,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end('{}');
  });
}

describe('mutual TLS between the chart scheduler and the extender (extender.mutualTls.enabled)', () => {
  it("wires the scheduler's client certificate and the extender's client CA so that the extender accepts exactly it", async () => {
    const objs = await render('extender.mutualTls.enabled=true');
    const config = parse(find(objs, 'ConfigMap', 'rel-smartmig-scheduler')?.data?.['config.yaml'] ?? '') as {
      extenders: { tlsConfig: Record<string, string> }[];
    };
    expect(config.extenders[0]?.tlsConfig).toMatchObject({
      certFile: '/etc/smartmig/extender-client/tls.crt',
      keyFile: '/etc/smartmig/extender-client/tls.key',
    });
    const extender = find(objs, 'Deployment', 'rel-smartmig-extender')?.spec as {
      template: {
        spec: { containers: { args: string[] }[]; volumes: { name: string; secret?: { secretName: string } }[] };
      };
    };
    expect(extender.template.spec.containers[0]?.args).toContain('--tls-client-ca=/etc/smartmig/client-ca/ca.crt');
    expect(extender.template.spec.volumes.find((v) => v.name === 'client-ca')?.secret?.secretName).toBe(
      'rel-smartmig-extender-client',
    );
    const pem = (name: string, key: string) =>
      Buffer.from(String((find(objs, 'Secret', name) as { data: Record<string, string> }).data[key]), 'base64');
    const serving = {
      cert: pem('rel-smartmig-extender-tls', 'tls.crt'),
      key: pem('rel-smartmig-extender-tls', 'tls.key'),
    };
    const app = buildExtender({
      cache: new ClusterCache(new ProfileBook()),
      binder: { bind: async () => ({ outcome: 'bound', message: '' }), readPod: async () => undefined },
      https: serverTlsOptions({ ...serving, ca: pem('rel-smartmig-extender-client', 'ca.crt') }),
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const port = (app.server.address() as { port: number }).port;
      const trust = { ca: pem('rel-smartmig-extender-tls', 'ca.crt'), servername: 'rel-smartmig-extender.gpu-sys.svc' };
      const client = {
        cert: pem('rel-smartmig-extender-client', 'tls.crt'),
        key: pem('rel-smartmig-extender-client', 'tls.key'),
      };
      // 400: past the certificate check, the empty body fails validation.
      expect(await schedulerCall(port, '/scheduler/bind', { ...trust, ...client })).toBe(400);
      expect(await schedulerCall(port, '/scheduler/bind', trust)).toBe(403);
      // A certificate the extender serves with is no client certificate of the scheduler's CA.
      expect(await schedulerCall(port, '/scheduler/bind', { ...trust, ...serving })).toBe(403);
    } finally {
      await app.close();
    }
  });
});
