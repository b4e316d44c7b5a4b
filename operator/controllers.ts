// The repartitioning controllers a Dynamic MigPartition can name, built from the policy's limits. A learned
// controller plugs in here under its own name.
import type { Repartitioner } from '../policy/repartition/controller.js';
import { greedyRepartitioner } from '../policy/repartition/greedy.js';
import { staticRepartitioner } from '../policy/repartition/static.js';
import type { ResolvedPolicy } from './policy.js';

export type ControllerFactory = (policy: ResolvedPolicy) => Repartitioner;

export const CONTROLLERS: ReadonlyMap<string, ControllerFactory> = new Map<string, ControllerFactory>([
  ['greedy', (p) => greedyRepartitioner({ minDwell: p.minDwellMs / 60_000 })],
  ['static', () => staticRepartitioner()],
]);

/**
 * Keeps one controller per policy and settings, so controllers that cache (greedy's layout tables) keep
 * their caches between rounds; `wrap` lets the caller time each decision.
 */
export function controllerCache(
  factories: ReadonlyMap<string, ControllerFactory>,
  wrap: (r: Repartitioner) => Repartitioner = (r) => r,
): (policy: ResolvedPolicy) => Repartitioner | undefined {
  const cache = new Map<string, Repartitioner>();
  return (policy) => {
    const make = factories.get(policy.controller);
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
