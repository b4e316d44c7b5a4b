// Trained actors on disk in TensorFlow.js's layers-model format (model.json + weights.bin), the card in the
// model.json's user metadata. Loading checks everything before the actor may decide: a missing, unreadable
// or mismatched model is a ModelError that says why, never a crash later.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { cardProblems, type ActorCard } from '../policy/learn/card.js';

export class ModelError extends Error {
  constructor(
    readonly path: string,
    reason: string,
    /** Whether there is no model at all there (a search path tries the next directory), not a bad one. */
    readonly missing = false,
  ) {
    super(`model ${path}: ${reason}`);
    this.name = 'ModelError';
  }
}

export interface LoadedActor {
  readonly net: tf.LayersModel;
  readonly card: ActorCard;
  readonly path: string;
}

const MODEL_FILE = 'model.json';
const WEIGHTS_FILE = 'weights.bin';

/** Writes model.json and weights.bin into dir (created), each through a temporary file and a rename. */
export async function saveActor(dir: string, net: tf.LayersModel, card: ActorCard): Promise<void> {
  await mkdir(dir, { recursive: true });
  let artifacts: tf.io.ModelArtifacts | undefined;
  await net.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    }),
  );
  if (!artifacts?.weightData || !artifacts.weightSpecs) throw new ModelError(dir, 'the net has no weights');
  const weights = tf.io.CompositeArrayBuffer.join(artifacts.weightData);
  const json = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    convertedBy: null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs }],
    userDefinedMetadata: { smartmig: card },
  };
  await atomicWrite(join(dir, WEIGHTS_FILE), new Uint8Array(weights));
  await atomicWrite(join(dir, MODEL_FILE), `${JSON.stringify(json, null, 1)}\n`);
}

async function atomicWrite(path: string, data: string | Uint8Array): Promise<void> {
  await writeFile(`${path}.tmp`, data);
  await rename(`${path}.tmp`, path);
}

interface ModelJson {
  modelTopology?: unknown;
  weightsManifest?: { paths?: string[]; weights?: tf.io.WeightsManifestEntry[] }[];
  userDefinedMetadata?: { smartmig?: ActorCard };
}

async function readModelJson(dir: string): Promise<ModelJson> {
  let text: string;
  try {
    text = await readFile(join(dir, MODEL_FILE), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ModelError(dir, `no ${MODEL_FILE} there`, true);
    throw new ModelError(dir, `cannot read ${MODEL_FILE} (${code})`);
  }
  try {
    return JSON.parse(text) as ModelJson;
  } catch {
    throw new ModelError(dir, `${MODEL_FILE} is not JSON`);
  }
}

/** Reads and checks an actor; `gpu`, when given, is the GPU model it must drive. */
export async function loadActor(dir: string, gpu?: string): Promise<LoadedActor> {
  await tf.ready();
  const json = await readModelJson(dir);
  const card = json.userDefinedMetadata?.smartmig;
  const manifest = json.weightsManifest?.[0];
  if (!card || !json.modelTopology || !manifest?.weights || manifest.paths?.[0] !== WEIGHTS_FILE)
    throw new ModelError(dir, `${MODEL_FILE} is not a smartmig actor (no card, topology or ${WEIGHTS_FILE} manifest)`);
  let data: Buffer;
  try {
    data = await readFile(join(dir, WEIGHTS_FILE));
  } catch {
    throw new ModelError(dir, `cannot read ${WEIGHTS_FILE}`);
  }
  const expected = manifest.weights.reduce((s, w) => s + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
  if (data.byteLength !== expected)
    throw new ModelError(dir, `${WEIGHTS_FILE} has ${data.byteLength} bytes, the manifest needs ${expected}`);
  let net: tf.LayersModel;
  try {
    net = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
        weightSpecs: manifest.weights,
        weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
      }),
    );
  } catch (err) {
    throw new ModelError(dir, `TensorFlow.js could not build it: ${(err as Error).message}`);
  }
  const inputs = net.inputs[0]?.shape.at(-1) ?? 0;
  const outputs = net.outputs[0]?.shape.at(-1) ?? 0;
  const problems = cardProblems(card, inputs, outputs);
  if (gpu !== undefined && card.gpu !== gpu) problems.push(`it was trained for ${card.gpu}, not ${gpu}`);
  if (problems.length > 0) {
    net.dispose();
    throw new ModelError(dir, problems.join('; '));
  }
  return { net, card, path: dir };
}
