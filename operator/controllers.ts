// The repartitioning controllers a Dynamic MigPartition can name, built from the policy's limits. A learned
// controller plugs in here under its own name.
import type { ControllerTraits, Repartitioner } from '../policy/repartition/controller.js';
import { greedyRepartitioner } from '../policy/repartition/greedy.js';
import { staticRepartitioner } from '../policy/repartition/static.js';
import type { ResolvedPolicy } from './policy.js';

export type ControllerFactory = (policy: ResolvedPolicy) => Repartitioner;

/** A named controller: what it takes (checked against the policy first) and how to build it. */
export interface ControllerEntry extends ControllerTraits {
  readonly make: ControllerFactory;
}

export const CONTROLLERS: ReadonlyMap<string, ControllerEntry> = new Map<string, ControllerEntry>([
  ['greedy', { takesModel: false, make: (p) => greedyRepartitioner({ minDwell: p.minDwellMs / 60_000 }) }],
  ['static', { takesModel: false, make: () => staticRepartitioner() }],
]);

/**
 * Keeps one controller per policy and settings, so controllers that cache (greedy's layout tables) keep
 * their caches between rounds; `wrap` lets the caller time each decision.
 */
export function controllerCache(
  controllers: ReadonlyMap<string, ControllerEntry>,
  wrap: (r: Repartitioner) => Repartitioner = (r) => r,
): (policy: ResolvedPolicy) => Repartitioner | undefined {
  const cache = new Map<string, Repartitioner>();
  return (policy) => {
    const make = controllers.get(policy.controller)?.make;
    if (!make) return undefined;
    const key = `${policy.name}|${policy.controller}|${policy.minDwellMs}|${policy.modelRef ?? ''}`;
    let r = cache.get(key);
    if (!r) {
      for (const k of cache.keys()) if (k.startsWith(`${policy.name}|`)) cache.delete(k);
      r = wrap(make(policy));
      cache.set(key, r);
    }
    return r;
  };
}
