// The chart's RBAC for test identities: renders one charts/smartmig/templates/rbac-*.yaml with the real helm,
// applies its ClusterRoles and Roles with kubectl, and repeats each of its bindings for a user of the local
// control plane (smartmig-operator, smartmig-extender: .local/<identity>.kubeconfig) in place of the chart's
// ServiceAccount. So tests run the components with exactly the permissions the chart grants, not as admin.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT, kubectl, readLocalCluster } from './cluster.js';

const run = promisify(execFile);
const RBAC_GROUP = 'rbac.authorization.k8s.io';

export interface ChartRbacOptions {
  /** File under charts/smartmig/templates, e.g. `rbac-operator.yaml`. */
  readonly template: string;
  /** The user the chart's bindings are repeated for (the CN of its client certificate). */
  readonly user: string;
  /** The release namespace (namespaced bindings of the chart land there). */
  readonly namespace: string;
  /** Release name; the ClusterRoles are named after it. Default `smartmig`. */
  readonly release?: string;
  /** `helm --set` values, e.g. `operator.migConfigMap=ns/name`. */
  readonly set?: readonly string[];
}

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  subjects?: { kind: string; name: string; namespace?: string; apiGroup?: string }[];
  roleRef?: { apiGroup: string; kind: string; name: string };
}

export interface ChartRbac {
  /** The ClusterRoles and Roles applied, as `Kind/name` or `Kind/namespace/name`. */
  readonly roles: readonly string[];
  /** Deletes every object applied (only safe with a release name of the test's own). */
  remove(): Promise<void>;
}

/** Renders one template of the chart and returns its objects. */
export async function renderChartTemplate(options: ChartRbacOptions): Promise<K8sObject[]> {
  const cluster = readLocalCluster();
  const sets = (options.set ?? []).flatMap((s) => ['--set', s]);
  const { stdout } = await run(cluster.bin.helm, [
    'template',
    options.release ?? 'smartmig',
    join(REPO_ROOT, 'charts/smartmig'),
    '--namespace',
    options.namespace,
    '--kube-version',
    cluster.kubernetesVersion.replace(/^v/, ''),
    ...sets,
    '--show-only',
    `templates/${options.template}`,
  ]).catch((err: unknown) => {
    throw new Error(`helm template --show-only templates/${options.template}: ${(err as { stderr?: string }).stderr}`);
  });
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((d): d is K8sObject => !!d?.kind);
}

const ref = (o: K8sObject): string => [o.kind, o.metadata.namespace, o.metadata.name].filter(Boolean).join('/');

/** Applies the template's roles and binds them to `user` the way the chart binds them to its ServiceAccount. */
export async function bindChartRbac(options: ChartRbacOptions): Promise<ChartRbac> {
  const objects = await renderChartTemplate(options);
  const roles = objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role');
  const bindings = objects.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding');
  if (roles.length === 0 || bindings.length === 0) {
    throw new Error(`templates/${options.template} rendered ${roles.length} roles and ${bindings.length} bindings`);
  }
  const forUser: K8sObject[] = bindings.map((b) => ({
    ...b,
    metadata: { ...b.metadata, name: `${b.metadata.name}-test-user` },
    subjects: [{ kind: 'User', name: options.user, apiGroup: RBAC_GROUP }],
  }));
  const applied = [...roles, ...forUser];
  await kubectl(['apply', '-f', '-'], { input: applied.map((o) => JSON.stringify(o)).join('\n---\n') });
  return {
    roles: roles.map(ref),
    async remove() {
      for (const o of applied.reverse()) {
        const ns = o.metadata.namespace ? ['--namespace', o.metadata.namespace] : [];
        await kubectl(['delete', o.kind, o.metadata.name, ...ns, '--ignore-not-found', '--wait=false']);
      }
    },
  };
}
