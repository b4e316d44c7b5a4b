// Cluster fixtures for the extender's integration tests: the chart's extender RBAC (docs/extender.md, "Least
// privilege"), bound to the local control plane's smartmig-extender identity, so the tests run with exactly
// the permissions the chart grants.
import { bindChartRbac } from '../support/chart-rbac.js';

export const EXTENDER_USER = 'smartmig-extender';

/** Applies the chart's extender ClusterRole (idempotent) and binds it to the extender identity. */
export async function grantExtenderRbac(): Promise<void> {
  await bindChartRbac({
    template: 'rbac-extender.yaml',
    user: EXTENDER_USER,
    namespace: 'smartmig-system',
    release: 'smartmig-extender-it',
  });
}
