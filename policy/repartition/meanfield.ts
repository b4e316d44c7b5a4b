// `meanfield`: smartmig's learned controller. One small actor, shared by every GPU of a model, reads the
// population's mean field and the GPU's own state and picks keep or a target layout; draining and the limits
// follow the common drain contract. A decision costs the same per GPU at any cluster size.
import type * as tf from '@tensorflow/tfjs';
import type { GpuModel } from '../mig/catalog.js';
import { layoutsEqual, type Layout } from '../mig/layout.js';
import { scoreRowsFused } from '../learn/actor.js';
import { Observer } from '../learn/features.js';
import type { ClusterView, LayoutChange, Repartitioner } from './controller.js';

export interface MeanFieldPolicy {
  readonly model: GpuModel;
  /** The layouts the actor chooses among, in its output order (after keep). */
  readonly options: readonly Layout[];
  readonly net: tf.LayersModel;
  /** Minutes between decisions; 0 decides whenever asked (paper mode asks every 5 events). */
  readonly everyMin: number;
}

export function meanFieldRepartitioner(policy: MeanFieldPolicy, name = 'meanfield'): Repartitioner {
  const { model, options, net, everyMin } = policy;
  const observer = new Observer(model, options, everyMin);
  const out = options.length + 1;
  return {
    name,
    decide(view: ClusterView): LayoutChange[] {
      const seen = observer.observe(view);
      if (!seen) return [];
      const scores = scoreRowsFused(net, seen.global, seen.local);
      const changes: LayoutChange[] = [];
      seen.gpus.forEach((g, i) => {
        if (g.locked || g.reconfiguring) return;
        const choice = argmax(scores, i * out, out);
        if (choice === 0) return;
        const layout = options[choice - 1] as Layout;
        if (!layoutsEqual(layout, g.target ?? g.layout)) changes.push({ gpu: g.id, layout });
      });
      return changes;
    },
  };
}

function argmax(v: Float32Array, from: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if ((v[from + j] as number) > (v[from + best] as number)) best = j;
  return best;
}
