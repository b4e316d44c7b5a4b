// A head start for the actor: it first learns to do what a searched timetable does (which layout each GPU
// should aim at, at each time of day), from the timetable's own days; evolution then improves on that. Starting
// from an actor that only keeps layouts, almost every perturbation drains GPUs at random and loses, so evolution
// alone learned nothing but "keep".
import * as tf from '@tensorflow/tfjs';
import type { Layout } from '../mig/layout.js';
import { runDay, type Setting } from '../evaluate/setting.js';
import type { ClusterView, LayoutChange, Repartitioner } from '../repartition/controller.js';
import { deriveRng } from '../random.js';
import { Observer } from './features.js';

export interface Demonstrations {
  /** Rows of actor inputs. */
  readonly inputs: Float32Array;
  /** Per row, the action the teacher took: 1 + the option it wants the GPU to have (0: no option). */
  readonly labels: Int32Array;
  readonly width: number;
}

export interface DemoSource {
  readonly setting: Setting;
  readonly options: readonly Layout[];
  readonly everyMin: number;
  /** A fresh teacher per day. */
  readonly teacher: () => Repartitioner;
  readonly start: readonly Layout[];
  readonly seeds: readonly number[];
  readonly onDay?: () => void;
}

/** Runs the teacher on the seeds' days, asking it at the actor's pace, and records what it wanted per GPU. */
export function demonstrations(src: DemoSource): Demonstrations {
  const rows: Float32Array[] = [];
  const labels: number[] = [];
  let width = 0;
  for (const seed of src.seeds) {
    const observer = new Observer(src.setting.model, src.options, src.everyMin);
    width = observer.width;
    const teacher = src.teacher();
    const recorder: Repartitioner = {
      name: 'demonstration',
      decide(view: ClusterView): LayoutChange[] {
        const seen = observer.observe(view);
        if (!seen) return [];
        const changes = teacher.decide(view);
        const wanted = new Map(changes.map((c) => [c.gpu, c.layout]));
        rows.push(seen.inputs);
        for (const g of seen.gpus) labels.push(1 + observer.optionOf(wanted.get(g.id) ?? g.target ?? g.layout));
        return changes;
      },
    };
    runDay(src.setting, src.start, recorder, seed);
    src.onDay?.();
  }
  const inputs = new Float32Array(rows.reduce((s, r) => s + r.length, 0));
  let at = 0;
  for (const r of rows) {
    inputs.set(r, at);
    at += r.length;
  }
  return { inputs, labels: Int32Array.from(labels), width };
}

export interface FitOptions {
  readonly epochs: number;
  readonly batch: number;
  readonly learningRate: number;
  readonly seed: number;
  readonly onEpoch?: (epoch: number, loss: number, accuracy: number) => void;
}

export const FIT_DEFAULTS: Omit<FitOptions, 'seed'> = { epochs: 6, batch: 512, learningRate: 3e-3 };

/** Fits the actor's scores to the teacher's actions (softmax cross-entropy), minibatches in a seeded order. */
export function imitate(net: tf.LayersModel, demos: Demonstrations, opts: FitOptions): number {
  const n = demos.labels.length;
  const outputs = (net.outputs[0]?.shape.at(-1) as number) ?? 0;
  const x = tf.tensor2d(demos.inputs, [n, demos.width]);
  const y = tf.oneHot(tf.tensor1d(demos.labels, 'int32'), outputs);
  const optimizer = tf.train.adam(opts.learningRate);
  const rng = deriveRng(opts.seed, 'imitate/order');
  let accuracy = 0;
  for (let e = 0; e < opts.epochs; e++) {
    const order = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    // One gather per epoch, then contiguous slices: gathering per batch cost most of an epoch.
    const idx = tf.tensor1d(order, 'int32');
    const xs = tf.gather(x, idx);
    const ys = tf.gather(y, idx);
    let lossSum = 0;
    for (let b = 0; b < n; b += opts.batch) {
      const size = Math.min(opts.batch, n - b);
      const loss = optimizer.minimize(
        () =>
          tf.tidy(() =>
            tf.losses.softmaxCrossEntropy(
              ys.slice([b, 0], [size, outputs]),
              net.apply(xs.slice([b, 0], [size, demos.width]), { training: true }) as tf.Tensor,
            ),
          ),
        true,
      );
      lossSum += (loss?.dataSync()[0] ?? 0) * size;
      loss?.dispose();
    }
    tf.dispose([idx, xs, ys]);
    accuracy = tf.tidy(() => {
      const predicted = (net.predict(x) as tf.Tensor).argMax(1);
      return tf.equal(predicted, tf.tensor1d(demos.labels, 'int32')).mean().dataSync()[0] as number;
    });
    opts.onEpoch?.(e + 1, lossSum / n, accuracy);
  }
  tf.dispose([x, y]);
  optimizer.dispose();
  return accuracy;
}
