// Pure: the ResourceClaimTemplate that asks NVIDIA's DRA driver for one MIG device of any of a moldable pod's
// accepted profiles, in smartmig's order of preference (docs/adr/0003-mig-on-dra.md, design point 3). Each
// accepted profile is a `firstAvailable` subrequest of the MIG DeviceClass narrowed by a CEL selector on the
// device's `profile` attribute; Kubernetes' allocator takes the first subrequest that fits on the node.
import { createHash } from 'node:crypto';
import type { V1ResourceClaimTemplate, V1ResourceClaimTemplateSpec } from '@kubernetes/client-node';
import { PROFILES_ANNOTATION } from '../api/labels.js';
import { MIG_CLASS } from './device-classes.js';
import { DRIVER } from './devices.js';
import { ATTRIBUTES } from './resource-slices.js';

/** The request's name in the claim; allocation results name `<request>/<subrequest>`. */
export const MIG_REQUEST = 'mig';
/** Labels and annotations smartmig puts on the templates it writes. */
export const TEMPLATE_MANAGED_LABEL = 'app.kubernetes.io/managed-by';
export const TEMPLATE_MANAGER = 'smartmig';
/** The hash of the template's spec, so that a template of the same name is reused only if it is smartmig's. */
export const TEMPLATE_HASH_ANNOTATION = 'smartmig.io/claim-spec-hash';
/** The accepted profiles, in the order of the subrequests (for people): the pod's own annotation's name. */
export const TEMPLATE_PROFILES_ANNOTATION = PROFILES_ANNOTATION;

/** `1g.5gb+me` → `1g5gb-me`: a DNS label (subrequest names must be), as the driver names its devices. */
export function subrequestName(profile: string): string {
  return profile
    .toLowerCase()
    .replaceAll('.', '')
    .replace(/[^a-z0-9-]/g, '-');
}

/** The CEL expression that selects MIG devices of `profile`. */
export function profileSelector(profile: string): string {
  return `device.attributes['${DRIVER}'].${ATTRIBUTES.profile} == '${profile}'`;
}

/** One request `mig` of `count` devices, the first fitting profile of `order`. */
export function migClaimTemplateSpec(order: readonly string[], count = 1): V1ResourceClaimTemplateSpec {
  if (order.length === 0) throw new Error('a MIG claim template needs at least one profile');
  if (!Number.isSafeInteger(count) || count < 1)
    throw new Error(`a MIG claim asks for 1 or more devices, not ${count}`);
  const names = order.map(subrequestName);
  if (new Set(names).size !== names.length) throw new Error(`profiles repeat: ${order.join(',')}`);
  return {
    spec: {
      devices: {
        requests: [
          {
            name: MIG_REQUEST,
            firstAvailable: order.map((profile, i) => ({
              name: names[i] as string,
              deviceClassName: MIG_CLASS,
              selectors: [{ cel: { expression: profileSelector(profile) } }],
              ...(count > 1 ? { allocationMode: 'ExactCount', count } : {}),
            })),
          },
        ],
      },
    },
  };
}

/** Hex SHA-256 of a value's JSON (the spec has a fixed key order, as built above). */
function digest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

/**
 * The template for `order` and `count`, named by the hash of its spec (`smartmig-mig-<10 hex>`), so that pods
 * with the same preference share one template per namespace and creating it again is a no-op.
 */
export function migClaimTemplate(namespace: string, order: readonly string[], count = 1): V1ResourceClaimTemplate {
  const spec = migClaimTemplateSpec(order, count);
  const hash = digest(spec);
  return {
    apiVersion: 'resource.k8s.io/v1',
    kind: 'ResourceClaimTemplate',
    metadata: {
      name: `smartmig-mig-${hash.slice(0, 10)}`,
      namespace,
      labels: { [TEMPLATE_MANAGED_LABEL]: TEMPLATE_MANAGER },
      annotations: { [TEMPLATE_HASH_ANNOTATION]: hash, [TEMPLATE_PROFILES_ANNOTATION]: order.join(',') },
    },
    spec,
  };
}
