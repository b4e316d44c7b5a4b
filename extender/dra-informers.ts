// List-then-watch loops for DRA nodes (docs/extender.md, "DRA nodes"): NVIDIA's DRA driver's ResourceSlices,
// every ResourceClaim (allocated ones say which devices are in use; all of them say what claim pods ask for),
// and resource.k8s.io/v1 DeviceTaintRules, which @kubernetes/client-node 1.x does not type (CustomObjectsApi).
// They feed ClusterCache.dra; informers.ts starts them with the others.
import { CustomObjectsApi, ResourceV1Api, type KubeConfig } from '@kubernetes/client-node';
import { listPage, type ListWatch, type ListWatchSpec } from '../kube/list-watch.js';
import type { ClaimShape, DraCache, SliceShape, TaintRuleShape } from './dra-cache.js';

const PAGE = 500;
export const TAINT_RULES = { group: 'resource.k8s.io', version: 'v1', plural: 'devicetaintrules' } as const;

type Reflect = <T>(spec: Omit<ListWatchSpec<T>, 'backoff' | 'onRestart'>) => ListWatch<T>;

export function draReflectors(kc: KubeConfig, dra: DraCache, reflector: Reflect): ListWatch<unknown>[] {
  const resource = kc.makeApiClient(ResourceV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const slices = reflector<SliceShape>({
    resource: 'resourceslices',
    path: '/apis/resource.k8s.io/v1/resourceslices',
    list: async (token) => {
      const r = await resource.listResourceSlice({ limit: PAGE, _continue: token });
      return listPage(r.items as SliceShape[], r.metadata);
    },
    onList: (items) => dra.replaceSlices(items),
    onEvent: (type, s) => (type === 'DELETED' ? dra.deleteSlice(s) : dra.upsertSlice(s)),
  });
  const claims = reflector<ClaimShape>({
    resource: 'resourceclaims',
    path: '/apis/resource.k8s.io/v1/resourceclaims',
    list: async (token) => {
      const r = await resource.listResourceClaimForAllNamespaces({ limit: PAGE, _continue: token });
      return listPage(r.items as ClaimShape[], r.metadata);
    },
    onList: (items) => dra.replaceClaims(items),
    onEvent: (type, c) => (type === 'DELETED' ? dra.deleteClaim(c) : dra.upsertClaim(c)),
  });
  const rules = reflector<TaintRuleShape>({
    resource: TAINT_RULES.plural,
    path: `/apis/${TAINT_RULES.group}/${TAINT_RULES.version}/${TAINT_RULES.plural}`,
    list: async (token) => {
      const r = (await custom.listClusterCustomObject({ ...TAINT_RULES, limit: PAGE, _continue: token })) as {
        items: TaintRuleShape[];
        metadata?: { resourceVersion?: string; _continue?: string };
      };
      return listPage(r.items, r.metadata);
    },
    onList: (items) => dra.replaceTaintRules(items),
    onEvent: (type, r) => (type === 'DELETED' ? dra.deleteTaintRule(r) : dra.upsertTaintRule(r)),
  });
  return [slices, claims, rules] as ListWatch<unknown>[];
}
