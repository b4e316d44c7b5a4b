// The Helm chart (charts/smartmig) with the real helm and the real control plane: lint, render, server-side
// validation of every object, install into a namespace, upgrade, uninstall, and values.schema.json. Also the
// pieces that must agree with code elsewhere: the CRD copy, the managed MIG resources, the container args,
// the metric names of the alerts and the dashboard, and the secondary kube-scheduler's configuration, which
// the real kube-scheduler binary loads.
import { execFile, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { extenderConfigFromArgs } from '../../cli/commands/extender.js';
import { command as operatorCommand } from '../../cli/commands/operator.js';
import { GPU_MODELS, findGpuModel } from '../../policy/mig/catalog.js';
import {
  REPO_ROOT,
  createTestNamespace,
  deleteTestNamespace,
  kubeconfigPath,
  kubectl,
  loadKubeConfig,
  readLocalCluster,
  uniqueName,
  waitFor,
  type LocalCluster,
} from '../support/cluster.js';

const CHART = join(REPO_ROOT, 'charts', 'smartmig');
const MONITORING = [
  '--api-versions',
  'monitoring.coreos.com/v1/ServiceMonitor',
  '--api-versions',
  'monitoring.coreos.com/v1/PrometheusRule',
];
// No kubelet runs the pods: a node selector no node has keeps them Pending, so nothing is ever bound to an
// emulated GPU node of another test, and deleting them needs no kubelet.
const NOWHERE = ['operator', 'extender', 'scheduler'].flatMap((c) => [
  '--set-string',
  `${c}.nodeSelector.smartmig\\.io/helm-test=nowhere`,
]);

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(binary: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) {
  return new Promise<Result>((resolvePromise) => {
    execFile(
      binary,
      [...args],
      { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolvePromise({ code, stdout, stderr: stderr || (error && code !== 0 ? error.message : '') });
      },
    );
  });
}

function objects(manifest: string): K8sObject[] {
  return parseAllDocuments(manifest)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null && typeof o === 'object');
}

function only(objs: readonly K8sObject[], kind: string, nameSuffix = ''): K8sObject {
  const found = objs.filter((o) => o.kind === kind && o.metadata.name.endsWith(nameSuffix));
  expect(
    found.map((o) => o.metadata.name),
    `one ${kind} named *${nameSuffix}`,
  ).toHaveLength(1);
  return found[0] as K8sObject;
}

/** The container of a Deployment. */
function container(deploy: K8sObject): { args?: string[]; command?: string[]; image: string } {
  const spec = deploy['spec'] as { template: { spec: { containers: { args?: string[]; image: string }[] } } };
  return spec.template.spec.containers[0] as { args?: string[]; command?: string[]; image: string };
}

const catalogResources = (): string[] =>
  [...new Set(GPU_MODELS.flatMap((m) => findGpuModel(m)?.profiles.map((p) => p.resource) ?? []))].sort();

describe('Helm chart charts/smartmig', () => {
  let cluster: LocalCluster;
  let kc: KubeConfig;
  let namespace: string;
  let work: string;
  const release = uniqueName('smt').slice(0, 20);

  const helm = (args: readonly string[], timeoutMs?: number): Promise<Result> =>
    run(cluster.bin.helm, args, {
      env: {
        ...process.env,
        KUBECONFIG: kubeconfigPath('admin'),
        HELM_CACHE_HOME: join(work, 'cache'),
        HELM_CONFIG_HOME: join(work, 'config'),
        HELM_DATA_HOME: join(work, 'data'),
      },
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    });
  /** helm template with the cluster's version (helm built without its version stamps assumes v1.20). */
  const template = async (args: readonly string[] = []): Promise<K8sObject[]> => {
    const r = await helm([
      'template',
      release,
      CHART,
      '--namespace',
      namespace,
      '--kube-version',
      cluster.kubernetesVersion,
      ...args,
    ]);
    expect(r.stderr, 'helm template').toBe('');
    expect(r.code).toBe(0);
    return objects(r.stdout);
  };
  // The mig-parted ConfigMap's RoleBinding goes to its namespace; the test's own namespace stands in for gpu-operator.
  const testValues = (): string[] => ['--set', `operator.migConfigMap=${namespace}/smartmig-mig-parted-config`];

  beforeAll(async () => {
    cluster = readLocalCluster();
    kc = loadKubeConfig('admin');
    namespace = await createTestNamespace(kc, 'helm');
    work = mkdtempSync(join(tmpdir(), 'smartmig-helm-'));
  });

  afterAll(async () => {
    if (namespace) {
      await helm(['uninstall', release, '--namespace', namespace, '--wait', '--timeout', '60s']);
      await deleteTestNamespace(kc, namespace);
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('passes helm lint --strict', async () => {
    const r = await helm(['lint', '--strict', '--kube-version', cluster.kubernetesVersion, CHART]);
    expect(r.stdout + r.stderr).toContain('0 chart(s) failed');
    expect(r.code).toBe(0);
  });

  it('ships the CRDs of crds/ unchanged (hack/update-chart-crds.sh keeps the copy)', () => {
    const source = readdirSync(join(REPO_ROOT, 'crds'))
      .filter((f) => f.endsWith('.yaml'))
      .sort();
    const copy = readdirSync(join(CHART, 'crds')).sort();
    expect(copy).toEqual(source);
    for (const f of source) {
      expect(readFileSync(join(CHART, 'crds', f), 'utf8'), f).toBe(readFileSync(join(REPO_ROOT, 'crds', f), 'utf8'));
    }
  });

  it('sends every MIG resource of the catalog, and only those, to the extender', async () => {
    const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as {
      scheduler: { managedResources: string[] };
    };
    expect([...values.scheduler.managedResources].sort()).toEqual(catalogResources());
    const config = parse(
      String((only(await template(), 'ConfigMap', '-scheduler')['data'] as Record<string, string>)['config.yaml']),
    ) as {
      extenders: { managedResources: { name: string; ignoredByScheduler: boolean }[] }[];
    };
    expect(config.extenders[0]?.managedResources.map((r) => r.name).sort()).toEqual(catalogResources());
    expect(config.extenders[0]?.managedResources.every((r) => !r.ignoredByScheduler)).toBe(true);
  });

  it('renders objects that the API server accepts (kubectl apply --server-side --dry-run=server)', async () => {
    const rendered = await template(['--include-crds', ...testValues()]);
    expect(new Set(rendered.map((o) => o.kind))).toEqual(
      new Set([
        'CustomResourceDefinition',
        'ServiceAccount',
        'Secret',
        'ConfigMap',
        'ClusterRole',
        'ClusterRoleBinding',
        'Role',
        'RoleBinding',
        'Service',
        'Deployment',
        'PodDisruptionBudget',
        'MutatingWebhookConfiguration',
        'FlowSchema',
        'NetworkPolicy',
        'ValidatingAdmissionPolicy',
        'ValidatingAdmissionPolicyBinding',
      ]),
    );
    const input = rendered.map((o) => JSON.stringify(o)).join('\n');
    // Server-side apply: a client-side apply warns (on stderr) about objects that an earlier test created
    // without kubectl's last-applied annotation, such as the CRD that operator tests apply.
    const r = await kubectl(
      ['apply', '--server-side', '--force-conflicts', '--dry-run=server', '-f', '-', '-o', 'name'],
      {
        input,
        allowFailure: true,
      },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(rendered.length);
  });

  it('keeps every name valid with the longest fullnameOverride', async () => {
    const rendered = await template([...testValues(), '--set', `fullnameOverride=${'x'.repeat(63)}`]);
    const input = rendered.map((o) => JSON.stringify(o)).join('\n');
    // Server-side apply: a client-side apply warns (on stderr) about objects that an earlier test created
    // without kubectl's last-applied annotation, such as the CRD that operator tests apply.
    const r = await kubectl(
      ['apply', '--server-side', '--force-conflicts', '--dry-run=server', '-f', '-', '-o', 'name'],
      {
        input,
        allowFailure: true,
      },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('renders ServiceMonitors and the PrometheusRule when the cluster serves monitoring.coreos.com, or when values say so', async () => {
    const kinds = async (args: string[]) =>
      (await template(args)).map((o) => o.kind).filter((k) => k === 'ServiceMonitor' || k === 'PrometheusRule');
    expect(await kinds([])).toEqual([]);
    expect((await kinds(MONITORING)).sort()).toEqual(['PrometheusRule', 'ServiceMonitor', 'ServiceMonitor']);
    const off = [
      '--set',
      'monitoring.serviceMonitor.enabled=false',
      '--set',
      'monitoring.prometheusRule.enabled=false',
    ];
    expect(await kinds([...MONITORING, ...off])).toEqual([]);
    const on = ['--set', 'monitoring.serviceMonitor.enabled=true', '--set', 'monitoring.prometheusRule.enabled=true'];
    expect((await kinds(on)).sort()).toEqual(['PrometheusRule', 'ServiceMonitor', 'ServiceMonitor']);
  });

  it('alerts and charts only metrics that the operator and the extender export', async () => {
    const rendered = await template(MONITORING);
    const rule = only(rendered, 'PrometheusRule');
    const alerts = (rule['spec'] as { groups: { rules: { alert: string; expr: string }[] }[] }).groups.flatMap(
      (g) => g.rules,
    );
    expect(alerts.map((a) => a.alert)).toEqual(
      expect.arrayContaining([
        'SmartmigHighTardinessRate',
        'SmartmigRepartitionFailures',
        'SmartmigReconfigureTimedOut',
        'SmartmigExtenderErrors',
        'SmartmigWatchRestarts',
      ]),
    );
    const dashboard = JSON.parse(
      String((only(rendered, 'ConfigMap', '-dashboard')['data'] as Record<string, string>)['smartmig.json']),
    ) as {
      panels: { type: string; title: string; targets?: { expr: string }[] }[];
      templating: { list: { definition?: string }[] };
    };
    const exprs = [
      ...alerts.map((a) => a.expr),
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
    ];
    const sources = ['operator/metrics.ts', 'extender/metrics.ts']
      .map((f) => readFileSync(join(REPO_ROOT, f), 'utf8'))
      .join('\n');
    const defined = new Set([...sources.matchAll(/name: '(smartmig_[a-z_]+)'/g)].map((m) => m[1]));
    const used = new Set(
      exprs.flatMap((e) => [...e.matchAll(/smartmig_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, ''))),
    );
    expect(used.size).toBeGreaterThan(10);
    for (const name of used) expect(defined, `${name} is exported by operator/ or extender/`).toContain(name);
    // And the other way round: a metric that nothing shows is one nobody watches.
    const variables = dashboard.templating.list.map((v) => v.definition ?? '').join('\n');
    for (const name of defined) {
      expect(used.has(name as string) || variables.includes(name as string), `${name} is on a panel or alert`).toBe(
        true,
      );
    }
    const titles = dashboard.panels.map((p) => p.title).join('|');
    for (const topic of [
      'Power',
      'Energy',
      'Tardiness',
      'On-time and late',
      'Pending demand',
      'Slices',
      'Repartitions',
      'Extender latency',
      'API errors',
      'Watch and informer restarts',
      'round phases',
      'Rejected nodes',
      'Bad requests',
    ]) {
      expect(titles).toContain(topic);
    }
  });

  it('gives the secondary kube-scheduler a configuration that the real kube-scheduler loads', async () => {
    const rendered = await template();
    const config = parse(
      String((only(rendered, 'ConfigMap', '-scheduler')['data'] as Record<string, string>)['config.yaml']),
    ) as {
      profiles: { schedulerName: string }[];
      leaderElection: Record<string, unknown>;
      extenders: Record<string, unknown>[];
    };
    expect(config.profiles.map((p) => p.schedulerName)).toEqual(['smartmig-scheduler']);
    expect(config.leaderElection).toMatchObject({
      leaderElect: true,
      resourceNamespace: namespace,
      resourceName: `${release}-smartmig-scheduler`,
    });
    expect(config.extenders[0]).toMatchObject({
      urlPrefix: `https://${release}-smartmig-extender.${namespace}.svc:443/scheduler`,
      filterVerb: 'filter',
      prioritizeVerb: 'prioritize',
      bindVerb: 'bind',
      nodeCacheCapable: true,
      ignorable: false,
      enableHTTPS: true,
    });
    // Claim pods (DRA) carry no extended resource: a second entry, without managedResources, bind or a veto.
    expect(config.extenders[1]).toMatchObject({
      urlPrefix: `https://${release}-smartmig-extender.${namespace}.svc:443/scheduler/claims`,
      filterVerb: 'filter',
      prioritizeVerb: 'prioritize',
      ignorable: true,
      enableHTTPS: true,
    });
    expect(config.extenders[1]).not.toHaveProperty('bindVerb');
    expect(config.extenders[1]).not.toHaveProperty('managedResources');
    // The pod mounts the CA and runs in-cluster; here: the rendered CA and the admin kubeconfig.
    const secret = only(rendered, 'Secret', '-tls')['data'] as Record<string, string>;
    const caFile = join(work, 'extender-ca.crt');
    writeFileSync(caFile, Buffer.from(String(secret['ca.crt']), 'base64'));
    for (const e of config.extenders) (e['tlsConfig'] as Record<string, string>)['caFile'] = caFile;
    const file = join(work, 'scheduler.yaml');
    writeFileSync(file, JSON.stringify({ ...config, clientConnection: { kubeconfig: kubeconfigPath('admin') } }));
    const out = join(work, 'scheduler-out.yaml');
    const r = await run(cluster.bin.kubeScheduler, ['--config', file, '--secure-port', '0', '--write-config-to', out]);
    expect(r.code, r.stderr.split('\n').slice(-3).join('\n')).toBe(0);
    expect(parse(readFileSync(out, 'utf8'))).toMatchObject({
      extenders: [{ bindVerb: 'bind', weight: 5 }, { urlPrefix: expect.stringMatching(/\/scheduler\/claims$/) }],
    });
    expect(container(only(rendered, 'Deployment', '-scheduler')).image).toBe(
      `registry.k8s.io/kube-scheduler:${cluster.kubernetesVersion}`,
    );
  });

  it('serves the extender a certificate for its Service, signed by the CA that the webhook and the scheduler trust', async () => {
    const rendered = await template();
    const secret = only(rendered, 'Secret', '-tls')['data'] as Record<string, string>;
    const ca = new X509Certificate(Buffer.from(String(secret['ca.crt']), 'base64'));
    const cert = new X509Certificate(Buffer.from(String(secret['tls.crt']), 'base64'));
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkHost(`${release}-smartmig-extender.${namespace}.svc`)).toBeDefined();
    const webhook = only(rendered, 'MutatingWebhookConfiguration')['webhooks'] as {
      clientConfig: { caBundle: string; service: { path: string } };
      matchConditions: { expression: string }[];
    }[];
    expect(webhook[0]?.clientConfig.caBundle).toBe(secret['ca.crt']);
    expect(webhook[0]?.clientConfig.service.path).toBe('/mutate');
    expect(webhook[0]?.matchConditions[0]?.expression).toContain(
      "'smartmig.io/profiles' in object.metadata.annotations",
    );

    const managed = await template(['--set', 'webhook.certManager.enabled=true']);
    expect(managed.filter((o) => o.kind === 'Secret')).toEqual([]);
    expect(managed.filter((o) => o.kind === 'Certificate')).toHaveLength(2);
    expect(only(managed, 'MutatingWebhookConfiguration').metadata.annotations).toEqual({
      'cert-manager.io/inject-ca-from': `${namespace}/${release}-smartmig-extender`,
    });
  });

  it("runs containers with arguments that smartmig's command line accepts", async () => {
    const rendered = await template();
    const env = (args: string[]) =>
      args.map((a) => a.replaceAll('$(POD_NAMESPACE)', namespace).replaceAll('$(POD_NAME)', 'pod-0'));
    const [verb, ...extenderArgs] = container(only(rendered, 'Deployment', '-extender')).args ?? [];
    expect(verb).toBe('extender');
    expect(extenderConfigFromArgs(env(extenderArgs))).toMatchObject({
      port: 8443,
      heuristic: 'cedf',
      tlsCert: '/etc/smartmig/tls/tls.crt',
    });
    // helm --set hands 0.5 over as a string; the schema takes it and the flag parses it.
    const tuned = await template(['--set', 'extender.etWeight=0.5']);
    expect(
      extenderConfigFromArgs(container(only(tuned, 'Deployment', '-extender')).args?.slice(1) ?? []),
    ).toMatchObject({
      etWeight: 0.5,
    });
    const [opVerb, ...operatorArgs] = container(only(rendered, 'Deployment', '-operator')).args ?? [];
    expect(opVerb).toBe('operator');
    expect(operatorArgs).toContain('--leader-elect');
    // Every flag parses and validates; the run stops at the (missing) kubeconfig, which is checked last.
    await expect(
      operatorCommand.run([...env(operatorArgs), '--kubeconfig', join(work, 'missing.kubeconfig')]),
    ).rejects.toThrow(/^--kubeconfig: cannot load/);
  });

  it('mounts a models volume for the learned controller and searches it before the shipped models', async () => {
    const plain = only(await template(), 'Deployment', '-operator');
    expect(container(plain).args?.some((a) => a.startsWith('--models-dir'))).toBe(false);
    const deploy = only(
      await template(['--set', 'operator.modelsVolume.persistentVolumeClaim.claimName=smartmig-models']),
      'Deployment',
      '-operator',
    );
    const pod = (deploy['spec'] as { template: { spec: Record<string, unknown> } }).template.spec as {
      volumes: { name: string; persistentVolumeClaim?: { claimName: string } }[];
      containers: { args: string[]; volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] }[];
    };
    expect(pod.volumes).toContainEqual({ name: 'models', persistentVolumeClaim: { claimName: 'smartmig-models' } });
    const c = pod.containers[0]!;
    expect(c.volumeMounts).toContainEqual({ name: 'models', mountPath: '/models', readOnly: true });
    const args = c.args.slice(1).map((a) => a.replaceAll('$(POD_NAMESPACE)', namespace).replaceAll('$(POD_NAME)', 'p'));
    expect(args).toContain('--models-dir=/models:/app/policy/models');
    // The flag parses; the run stops at the (missing) kubeconfig, which is checked last.
    await expect(operatorCommand.run([...args, '--kubeconfig', join(work, 'missing.kubeconfig')])).rejects.toThrow(
      /^--kubeconfig: cannot load/,
    );
  });

  it('refuses bad values with a message that names the value, and installs nothing', async () => {
    const bad = await helm(['install', release, CHART, '--namespace', namespace, '--set', 'operator.replicas=-1']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("values don't meet the specifications of the schema");
    expect(bad.stderr).toMatch(/\/operator\/replicas.*minimum: got -1, want 0/);
    const typo = await helm([
      'template',
      release,
      CHART,
      '--kube-version',
      cluster.kubernetesVersion,
      '--set',
      'webhook.failurePolicy=Never',
      '--set',
      'extendr.replicas=1',
    ]);
    expect(typo.code).not.toBe(0);
    expect(typo.stderr).toContain("at '/webhook/failurePolicy': value must be one of 'Fail', 'Ignore'");
    expect(typo.stderr).toContain("additional properties 'extendr' not allowed");
    expect((await helm(['status', release, '--namespace', namespace])).code).not.toBe(0);
  });

  describe('installed into a namespace', () => {
    // Ignore: while this release exists, annotated pods of other tests are not refused by a webhook without pods.
    // A scheduler name of its own: the secondary scheduler started below must not take other tests' pods.
    const schedulerName = (): string => `${release}-scheduler`;
    const ns = (): string => `--namespace=${namespace}`;
    let install: Result;
    let manifest: K8sObject[] = [];

    beforeAll(async () => {
      const values = [
        ...testValues(),
        ...NOWHERE,
        '--set',
        'webhook.failurePolicy=Ignore',
        '--set',
        `schedulerName=${schedulerName()}`,
      ];
      install = await helm(['install', release, CHART, '--namespace', namespace, ...values], 120_000);
      manifest = objects((await helm(['get', 'manifest', release, '--namespace', namespace])).stdout);
    }, 180_000);

    it('creates every object, and the CRD is established', async () => {
      expect(install.stderr).toBe('');
      expect(install.code).toBe(0);
      expect(manifest.length).toBeGreaterThan(20);
      for (const o of manifest) {
        const ns = o.metadata.namespace ? ['--namespace', o.metadata.namespace] : [];
        const got = await kubectl(['get', o.kind, o.metadata.name, ...ns, '-o', 'name'], { allowFailure: true });
        expect(got.code, `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}: ${got.stderr}`).toBe(0);
      }
      const crd = await kubectl([
        'wait',
        '--for=condition=Established',
        'crd/migpartitions.smartmig.io',
        '--timeout=30s',
      ]);
      expect(crd.stdout).toContain('condition met');
      const deployments = await kubectl(['get', 'deployments', '--namespace', namespace, '-o', 'json']);
      const replicas = Object.fromEntries(
        (
          JSON.parse(deployments.stdout) as { items: { metadata: { name: string }; spec: { replicas: number } }[] }
        ).items.map((d) => [d.metadata.name.slice(release.length + 1), d.spec.replicas]),
      );
      expect(replicas).toEqual({ 'smartmig-operator': 2, 'smartmig-extender': 2, 'smartmig-scheduler': 1 });
    });

    it('grants each ServiceAccount what its component does', async () => {
      const cm = ns();
      const needs: Record<string, string[][]> = {
        operator: [
          ['watch', 'migpartitions.smartmig.io'],
          ['update', 'migpartitions.smartmig.io', '--subresource=status'],
          ['patch', 'nodes'],
          ['list', 'pods', '--all-namespaces'],
          ['create', 'events', cm],
          ['update', 'leases.coordination.k8s.io/smartmig-operator', cm],
          ['update', 'configmaps/smartmig-mig-parted-config', cm],
        ],
        extender: [
          ['watch', 'nodes'],
          ['watch', 'pods', '--all-namespaces'],
          ['create', 'pods', '--subresource=binding', '--all-namespaces'],
          ['watch', 'migpartitions.smartmig.io'],
        ],
        scheduler: [
          ['watch', 'pods', '--all-namespaces'],
          ['create', 'pods', '--subresource=binding', '--all-namespaces'],
          ['list', 'csinodes.storage.k8s.io'],
          ['update', `leases.coordination.k8s.io/${release}-smartmig-scheduler`, cm],
          ['get', 'configmaps/extension-apiserver-authentication', '--namespace=kube-system'],
        ],
      };
      const denied: string[] = [];
      for (const [component, checks] of Object.entries(needs)) {
        const as = `--as=system:serviceaccount:${namespace}:${release}-smartmig-${component}`;
        for (const check of checks) {
          const r = await kubectl(['auth', 'can-i', ...check, as], { allowFailure: true });
          if (r.stdout.trim() !== 'yes') denied.push(`${component}: ${check.join(' ')}`);
        }
      }
      expect(denied, 'what a component needs and its RBAC does not grant').toEqual([]);
    });

    it("runs the real kube-scheduler as the chart's ServiceAccount, with the installed configuration", async () => {
      const cm = ns();
      // The real kube-scheduler, as the chart's ServiceAccount and with the installed configuration, takes its Lease.
      const token = (
        await kubectl(['create', 'token', `${release}-smartmig-scheduler`, cm, '--duration=10m'])
      ).stdout.trim();
      const server = kc.getCurrentCluster();
      const saKubeconfig = join(work, 'scheduler-sa.kubeconfig');
      writeFileSync(
        saKubeconfig,
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'c', cluster: { server: server?.server, 'certificate-authority-data': server?.caData } }],
          users: [{ name: 'sa', user: { token } }],
          contexts: [{ name: 'c', context: { cluster: 'c', user: 'sa' } }],
          'current-context': 'c',
        }),
      );
      const installed = parse(
        (
          await kubectl([
            'get',
            'configmap',
            `${release}-smartmig-scheduler`,
            cm,
            '-o',
            'jsonpath={.data.config\\.yaml}',
          ])
        ).stdout,
      ) as { extenders: { tlsConfig: { caFile: string } }[]; profiles: { schedulerName: string }[] };
      expect(installed.profiles[0]?.schedulerName).toBe(schedulerName());
      const ca = await kubectl([
        'get',
        'secret',
        `${release}-smartmig-extender-tls`,
        cm,
        '-o',
        'jsonpath={.data.ca\\.crt}',
      ]);
      const caFile = join(work, 'installed-ca.crt');
      writeFileSync(caFile, Buffer.from(ca.stdout, 'base64'));
      for (const e of installed.extenders) e.tlsConfig.caFile = caFile;
      const configFile = join(work, 'installed-scheduler.yaml');
      writeFileSync(configFile, JSON.stringify({ ...installed, clientConnection: { kubeconfig: saKubeconfig } }));
      const scheduler = spawn(cluster.bin.kubeScheduler, ['--config', configFile, '--secure-port', '0', '--v', '1'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let schedulerLog = '';
      scheduler.stderr.on('data', (chunk: Buffer) => (schedulerLog = (schedulerLog + chunk.toString()).slice(-4000)));
      try {
        const holder = await waitFor(
          async () => {
            const lease = await kubectl(
              ['get', 'lease', `${release}-smartmig-scheduler`, cm, '-o', 'jsonpath={.spec.holderIdentity}'],
              { allowFailure: true },
            );
            return lease.stdout.trim() || undefined;
          },
          { description: 'the secondary scheduler to take its Lease', timeoutMs: 45_000, intervalMs: 500 },
        ).catch((err: unknown) => {
          throw new Error(`${(err as Error).message}\nkube-scheduler log:\n${schedulerLog}`);
        });
        expect(holder).not.toBe('');
        expect(schedulerLog).not.toMatch(/forbidden/i);
      } finally {
        scheduler.kill('SIGTERM');
      }
    }, 90_000);

    it("lets the operator's ServiceAccount change only what it owns on a node (ValidatingAdmissionPolicy)", async () => {
      const node = `${release}-vap-node`;
      const manifest = JSON.stringify({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name: node,
          labels: { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-40GB', 'nvidia.com/mig.config': 'all-1g.5gb' },
          annotations: { 'example.com/owner': 'infra' },
        },
        spec: { taints: [{ key: 'example.com/dedicated', value: 'ml', effect: 'NoSchedule' }] },
      });
      await kubectl(['apply', '-f', '-'], { input: manifest });
      const as = `--as=system:serviceaccount:${namespace}:${release}-smartmig-operator`;
      const patch = (body: unknown, identity: string[] = [as]) =>
        kubectl(['patch', 'node', node, ...identity, '--type=merge', '-p', JSON.stringify(body)], {
          allowFailure: true,
        });
      const ours = { key: 'smartmig.io/repartitioning', effect: 'NoSchedule' };
      const theirs = { key: 'example.com/dedicated', value: 'ml', effect: 'NoSchedule' };
      try {
        // What the operator writes (operator/kube.ts patchNode) passes.
        for (const body of [
          {
            metadata: { labels: { 'nvidia.com/mig.config': 'all-balanced', 'nvidia.com/mig.config.state': 'pending' } },
          },
          { metadata: { annotations: { 'smartmig.io/draining': '0,1', 'smartmig.io/desired-config': 'x' } } },
          { spec: { taints: [theirs, ours] } },
          { spec: { taints: [theirs] } },
        ]) {
          const r = await patch(body);
          expect(r.code, `${JSON.stringify(body)}: ${r.stderr}`).toBe(0);
        }
        // Anything else is denied, with the policy's reason.
        const denied: [unknown, string][] = [
          [{ metadata: { labels: { 'example.com/pool': 'a' } } }, 'only the labels'],
          [{ metadata: { labels: { 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3' } } }, 'only the labels'],
          [{ metadata: { labels: { 'nvidia.com/gpu.product': null } } }, 'only the labels'],
          [{ metadata: { annotations: { 'example.com/owner': 'me' } } }, 'only smartmig.io/ annotations'],
          [{ spec: { taints: [ours] } }, 'only its smartmig.io/repartitioning taint'],
          [{ spec: { unschedulable: true } }, 'may not cordon'],
        ];
        for (const [body, reason] of denied) {
          const r = await patch(body);
          expect(r.code, JSON.stringify(body)).not.toBe(0);
          expect(r.stderr).toContain(reason);
        }
        // Other identities are not limited by it.
        expect((await patch({ metadata: { labels: { 'example.com/pool': 'a' } } }, [])).code).toBe(0);
        const labels = JSON.parse((await kubectl(['get', 'node', node, '-o', 'json'])).stdout).metadata.labels;
        expect(labels['nvidia.com/gpu.product']).toBe('NVIDIA-A100-SXM4-40GB');
      } finally {
        await kubectl(['delete', 'node', node, '--ignore-not-found']);
      }
    });

    it('keeps the generated certificate on upgrade', async () => {
      // lookup keeps the generated CA: the webhook, the scheduler and the running extender keep trusting each other.
      const caOf = async () => {
        const s = await kubectl([
          'get',
          'secret',
          `${release}-smartmig-extender-tls`,
          '--namespace',
          namespace,
          '-o',
          'jsonpath={.data.ca\\.crt}',
        ]);
        const w = await kubectl([
          'get',
          'mutatingwebhookconfiguration',
          `${release}-smartmig-extender`,
          '-o',
          'jsonpath={.webhooks[0].clientConfig.caBundle}',
        ]);
        expect(w.stdout).toBe(s.stdout);
        return s.stdout;
      };
      const before = await caOf();
      const upgrade = await helm(
        ['upgrade', release, CHART, '--namespace', namespace, '--reuse-values', '--set', 'extender.logLevel=debug'],
        120_000,
      );
      expect(upgrade.code, upgrade.stderr).toBe(0);
      expect(await caOf()).toBe(before);
    }, 180_000);

    it('uninstalls everything but the CRD', async () => {
      const uninstall = await helm(
        ['uninstall', release, '--namespace', namespace, '--wait', '--timeout', '60s'],
        120_000,
      );
      expect(uninstall.code, uninstall.stderr).toBe(0);
      for (const o of manifest.filter((m) => !m.metadata.namespace || m.kind.endsWith('Binding'))) {
        const ns = o.metadata.namespace ? ['--namespace', o.metadata.namespace] : [];
        const got = await kubectl(['get', o.kind, o.metadata.name, ...ns, '--ignore-not-found', '-o', 'name']);
        expect(got.stdout, `${o.kind} ${o.metadata.name} is gone`).toBe('');
      }
      // Helm never deletes CRDs of crds/ (MigPartitions would go with them).
      expect((await kubectl(['get', 'crd', 'migpartitions.smartmig.io', '-o', 'name'])).stdout.trim()).toBe(
        'customresourcedefinition.apiextensions.k8s.io/migpartitions.smartmig.io',
      );
    }, 180_000);
  });
});
