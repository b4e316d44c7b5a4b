// The mean-field actor's network: a small dense net shared by every GPU of a model, mapping one GPU's inputs
// (features.ts) to a score per action: keep, or move to one of the layout options. Built and run with
// TensorFlow.js on whatever backend the caller made current; its weights are a flat vector for training.
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../random.js';
import { joinRows } from './features.js';

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
 * rows: `predict` splits them into batches of 32, which made a decision on 8,192 GPUs take seconds. The scores
 * are read after `tidy`: `tidy` walks what its function returns, key by key, looking for tensors to keep, and
 * walking the 106,496 scores of 8,192 GPUs cost more than the net itself.
 */
export function scoreRows(net: tf.LayersModel, inputs: Float32Array, width: number): Float32Array {
  const rows = inputs.length / width;
  const scores = tf.tidy(() => net.apply(tf.tensor2d(inputs, [rows, width])) as tf.Tensor);
  try {
    return scores.dataSync() as Float32Array;
  } finally {
    scores.dispose();
  }
}

/** One dense layer as a single fused kernel runs it: matmul, bias and activation in one pass. */
interface FusedLayer {
  readonly kernel: Float32Array;
  readonly bias: Float32Array;
  /** Of the kernel: inputs × units. */
  readonly shape: [number, number];
  /** Sigmoid after the bias, else nothing (linear). */
  readonly sigmoid: boolean;
}

/**
 * A net's layers refolded for `scoreRowsFused`, with the weight tensors they were read from: `setFlat` and
 * training assign new data to those tensors, and a fold of older data must not score. Plain arrays rather than
 * tensors, so that a net's fold goes with the net and never holds backend memory.
 */
interface Fold {
  readonly from: readonly object[];
  /** Undefined: the net is not tanh dense layers under a linear one, and `scoreRows` scores it. */
  readonly layers: readonly FusedLayer[] | undefined;
}

const folds = new WeakMap<tf.LayersModel, Fold>();

function foldOf(net: tf.LayersModel): readonly FusedLayer[] | undefined {
  const from = net.getWeights().map((w) => w.dataId);
  const cached = folds.get(net);
  if (cached && cached.from.length === from.length && cached.from.every((id, i) => id === from[i]))
    return cached.layers;
  const layers = foldTanh(net);
  folds.set(net, { from, layers });
  return layers;
}

/**
 * Rewrites every tanh as 2·sigmoid(2z) − 1 (an identity): each layer's 2 goes into its own kernel and bias, and
 * the − 1 and the next 2 into the next layer's (h·W + b = s·2W + (b − Σ rows of W) for h = 2s − 1). The wasm
 * backend fuses sigmoid into its matmul kernel but not tanh: its separate tanh kernel, slower than its sigmoid
 * by about ten times, took over half of `scoreRows`'s time at 8,192 GPUs.
 */
function foldTanh(net: tf.LayersModel): FusedLayer[] | undefined {
  const layers: FusedLayer[] = [];
  let inputIsSigmoid = false;
  for (const layer of net.layers) {
    const config = layer.getConfig();
    const weights = layer.getWeights();
    const activation = config['activation'];
    if (layer.getClassName() !== 'Dense' || weights.length !== 2 || (activation !== 'tanh' && activation !== 'linear'))
      return undefined;
    const [w, b] = weights as [tf.Tensor, tf.Tensor];
    const [rows, cols] = w.shape as [number, number];
    const wv = w.dataSync() as Float32Array;
    const bv = b.dataSync() as Float32Array;
    const sigmoid = activation === 'tanh';
    const outScale = sigmoid ? 2 : 1;
    const inScale = inputIsSigmoid ? 2 : 1;
    const kernel = wv.map((x) => outScale * inScale * x);
    const bias = new Float32Array(cols);
    for (let c = 0; c < cols; c++) {
      let shift = 0;
      if (inputIsSigmoid) for (let r = 0; r < rows; r++) shift += wv[r * cols + c] as number;
      bias[c] = outScale * ((bv[c] as number) - shift);
    }
    layers.push({ kernel, bias, shape: [rows, cols], sigmoid });
    inputIsSigmoid = sigmoid;
  }
  // A tanh output layer would need its − 1 undone after the net; the actor's output layer is linear.
  return inputIsSigmoid || layers.length === 0 ? undefined : layers;
}

/**
 * The scores `scoreRows` gives rows that all begin with `shared` and go on with a row of `rest` each, within
 * float32 rounding (test/unit/learn/fused.test.ts: the same actions on recorded and 8,192-GPU states), in a
 * fifth of its time on wasm: `shared`'s share of the first layer is worked out once and joins its bias, and
 * each layer is one fused kernel. Falls back to `scoreRows` for a net it cannot fold.
 */
export function scoreRowsFused(net: tf.LayersModel, shared: Float32Array, rest: Float32Array): Float32Array {
  const layers = foldOf(net);
  if (!layers) {
    const width = (net.inputs[0]?.shape.at(-1) as number) - shared.length;
    return scoreRows(net, joinRows(shared, rest, rest.length / width), shared.length + width);
  }
  const first = layers[0] as FusedLayer;
  const [inputs, units] = first.shape;
  const width = inputs - shared.length;
  const bias = Float64Array.from(first.bias);
  shared.forEach((x, r) => {
    for (let c = 0; c < units; c++) bias[c] = (bias[c] as number) + x * (first.kernel[r * units + c] as number);
  });
  const restOfFirst: FusedLayer = {
    kernel: first.kernel.subarray(shared.length * units),
    bias: Float32Array.from(bias),
    shape: [width, units],
    sigmoid: first.sigmoid,
  };
  const scores = tf.tidy(() => {
    let x: tf.Tensor = tf.tensor2d(rest, [rest.length / width, width]);
    for (const l of [restOfFirst, ...layers.slice(1)]) {
      const activation = l.sigmoid ? 'sigmoid' : 'linear';
      x = tf.fused.matMul({ a: x, b: tf.tensor2d(l.kernel, l.shape), bias: tf.tensor1d(l.bias), activation });
    }
    return x;
  });
  try {
    return scores.dataSync() as Float32Array;
  } finally {
    scores.dispose();
  }
}
