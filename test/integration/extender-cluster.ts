// Cluster fixtures for the extender's integration tests: the least-privilege RBAC of docs/extender.md,
// bound to the local control plane's smartmig-extender identity. (When the Helm chart grows the extender's
// RBAC, render it from there instead, as operator-cluster.ts does for the operator.)
import { RbacAuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { statusCode } from '../support/cluster.js';

export const EXTENDER_USER = 'smartmig-extender';

export const EXTENDER_RULES = [
  { apiGroups: [''], resources: ['nodes', 'pods'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['pods/binding'], verbs: ['create'] },
];

const NAME = 'smartmig-extender-integration-test';

/** Creates (or keeps) the ClusterRole and its binding to the extender identity. */
export async function grantExtenderRbac(admin: KubeConfig): Promise<void> {
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const create = async (call: () => Promise<unknown>) => {
    try {
      await call();
    } catch (err) {
      if (statusCode(err) !== 409) throw err;
    }
  };
  await create(() => rbac.createClusterRole({ body: { metadata: { name: NAME }, rules: EXTENDER_RULES } }));
  await create(() =>
    rbac.createClusterRoleBinding({
      body: {
        metadata: { name: NAME },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: NAME },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: EXTENDER_USER }],
      },
    }),
  );
}
