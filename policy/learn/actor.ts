// The mean-field actor's network: a small dense net shared by every GPU of a model, mapping one GPU's inputs
// (features.ts) to a score per action: keep, or move to one of the layout options. Built and run with
// TensorFlow.js on whatever backend the caller made current; its weights are a flat vector for training.
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../random.js';

export interface ActorShape {
  readonly inputs: number;
  readonly hidden: readonly number[];
  /** 1 + layout options: action 0 keeps. */
  readonly outputs: number;
}

export function buildActor(shape: ActorShape): tf.Sequential {
  const net = tf.sequential();
  shape.hidden.forEach((units, i) =>
    net.add(
      tf.layers.dense({
        units,
        activation: 'tanh',
        inputShape: i === 0 ? [shape.inputs] : undefined,
        kernelInitializer: 'zeros',
      }),
    ),
  );
  net.add(
    tf.layers.dense({
      units: shape.outputs,
      inputShape: shape.hidden.length === 0 ? [shape.inputs] : undefined,
      kernelInitializer: 'zeros',
    }),
  );
  return net;
}

export function weightCount(net: tf.LayersModel): number {
  return net.getWeights().reduce((s, w) => s + w.size, 0);
}

export function getFlat(net: tf.LayersModel): Float32Array {
  const ws = net.getWeights();
  const out = new Float32Array(ws.reduce((s, w) => s + w.size, 0));
  let at = 0;
  for (const w of ws) {
    out.set(w.dataSync() as Float32Array, at);
    at += w.size;
  }
  return out;
}

export function setFlat(net: tf.LayersModel, flat: Float32Array): void {
  const shapes = net.getWeights().map((w) => w.shape);
  let at = 0;
  const tensors = shapes.map((shape) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const t = tf.tensor(flat.subarray(at, at + size), shape, 'float32');
    at += size;
    return t;
  });
  if (at !== flat.length) throw new Error(`actor: ${flat.length} weights for a net of ${at}`);
  net.setWeights(tensors);
  tf.dispose(tensors);
}

/**
 * Seeded starting weights: scaled-uniform hidden layers, a small output layer, and a bias towards keeping, so
 * the untrained actor mostly keeps layouts (the best static layout it starts from) and training moves it.
 */
export function initialWeights(shape: ActorShape, seed: number, keepBias: number): Float32Array {
  const rng = createRng(seed);
  const parts: number[] = [];
  const dims = [shape.inputs, ...shape.hidden, shape.outputs];
  for (let l = 0; l + 1 < dims.length; l++) {
    const fanIn = dims[l] as number;
    const fanOut = dims[l + 1] as number;
    const last = l + 2 === dims.length;
    const scale = (last ? 0.5 : 1) * Math.sqrt(6 / (fanIn + fanOut));
    for (let i = 0; i < fanIn * fanOut; i++) parts.push((2 * rng.next() - 1) * scale);
    for (let j = 0; j < fanOut; j++) parts.push(last && j === 0 ? keepBias : 0);
  }
  return Float32Array.from(parts);
}

/**
 * Scores of every row of `inputs` (row-major, `shape.inputs` wide), row-major `outputs` wide. One pass over all
 * rows: `predict` splits them into batches of 32, which made a decision on 8,192 GPUs take seconds.
 */
export function scoreRows(net: tf.LayersModel, inputs: Float32Array, width: number): Float32Array {
  const rows = inputs.length / width;
  return tf.tidy(() => (net.apply(tf.tensor2d(inputs, [rows, width])) as tf.Tensor).dataSync() as Float32Array);
}
