// The JSON Patch that gives a moldable pod its chosen slice: every MIG request in its containers becomes a
// request for the chosen profile (same count); a pod that asks for none gets one slice in its first container.
import { MIG_RESOURCE_PREFIX, deviceCount } from './kube.js';
import type { Pod } from './schemas.js';

export type PatchOp = { op: 'add' | 'replace'; path: string; value: unknown } | { op: 'remove'; path: string };

/** RFC 6901: `~` → `~0`, `/` → `~1`. */
export const pointer = (...parts: (string | number)[]): string =>
  '/' + parts.map((p) => String(p).replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

type Container = Pod['spec']['containers'][number];
type ListName = 'requests' | 'limits';

function migKeys(c: Container, list: ListName): string[] {
  return Object.keys(c.resources?.[list] ?? {}).filter((k) => k.startsWith(MIG_RESOURCE_PREFIX));
}

function retarget(c: Container, i: number, resource: string): PatchOp[] {
  const ops: PatchOp[] = [];
  for (const list of ['limits', 'requests'] as const) {
    const keys = migKeys(c, list);
    if (keys.length === 0 || (keys.length === 1 && keys[0] === resource)) continue;
    const values = c.resources?.[list] ?? {};
    const n = Math.max(
      1,
      ...keys.map((k) => deviceCount(values[k] as string | number, `containers[${i}].${list}[${k}]`)),
    );
    for (const k of keys)
      if (k !== resource) ops.push({ op: 'remove', path: pointer('spec', 'containers', i, 'resources', list, k) });
    ops.push({ op: 'add', path: pointer('spec', 'containers', i, 'resources', list, resource), value: String(n) });
  }
  return ops;
}

export function moldPatch(pod: Pod, resource: string): PatchOp[] {
  const containers = pod.spec.containers;
  const asks = (c: Container): boolean => migKeys(c, 'limits').length + migKeys(c, 'requests').length > 0;
  if (containers.some(asks)) return containers.flatMap((c, i) => (asks(c) ? retarget(c, i, resource) : []));
  if (containers.length === 0) return [];
  // Nothing requested yet: one slice in the first container. Extended resources need limits; requests follow.
  const first = containers[0] as Container;
  const one = { [resource]: '1' };
  if (!first.resources) {
    return [{ op: 'add', path: pointer('spec', 'containers', 0, 'resources'), value: { limits: one } }];
  }
  if (!first.resources.limits) {
    return [{ op: 'add', path: pointer('spec', 'containers', 0, 'resources', 'limits'), value: one }];
  }
  return [{ op: 'add', path: pointer('spec', 'containers', 0, 'resources', 'limits', resource), value: '1' }];
}
