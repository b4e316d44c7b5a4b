import type { Repartitioner } from './controller.js';

/** Keeps every GPU in the layout it started with: the baseline that today's static MIG set-ups use. */
export function staticRepartitioner(): Repartitioner {
  return { name: 'static', decide: () => [] };
}
