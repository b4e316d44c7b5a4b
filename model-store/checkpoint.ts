// A training run's checkpoint: the current weights (as an actor), the optimiser's moments and where the run
// stands, so `smartmig train --resume` continues exactly where it stopped.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { EsState } from '../policy/learn/evolution.js';
import type { ActorCard } from '../policy/learn/card.js';
import { loadActor, ModelError, saveActor } from './actor-files.js';
import { getFlat } from '../policy/learn/actor.js';

export interface RunRecord {
  /** The command line of the first run (a resume must repeat its settings). */
  readonly argv: readonly string[];
  readonly generation: number;
  readonly bestGain: number;
  readonly trainingMinutes: number;
}

const DIR = 'checkpoint';

export async function saveCheckpoint(
  out: string,
  net: tf.LayersModel,
  card: ActorCard,
  state: EsState,
  run: RunRecord,
): Promise<void> {
  const dir = join(out, DIR);
  await mkdir(dir, { recursive: true });
  await saveActor(dir, net, card);
  const moments = new Float32Array(state.m.length * 2);
  moments.set(state.m, 0);
  moments.set(state.v, state.m.length);
  await writeFile(join(dir, 'adam.bin.tmp'), new Uint8Array(moments.buffer));
  await rename(join(dir, 'adam.bin.tmp'), join(dir, 'adam.bin'));
  await writeFile(join(dir, 'run.json.tmp'), `${JSON.stringify(run, null, 1)}\n`);
  await rename(join(dir, 'run.json.tmp'), join(dir, 'run.json'));
}

export async function loadCheckpoint(out: string): Promise<{ state: EsState; run: RunRecord; card: ActorCard }> {
  const dir = join(out, DIR);
  const actor = await loadActor(dir);
  const theta = getFlat(actor.net);
  actor.net.dispose();
  let run: RunRecord;
  let moments: Buffer;
  try {
    run = JSON.parse(await readFile(join(dir, 'run.json'), 'utf8')) as RunRecord;
    moments = await readFile(join(dir, 'adam.bin'));
  } catch (err) {
    throw new ModelError(dir, `incomplete checkpoint (${(err as Error).message})`);
  }
  if (moments.byteLength !== theta.length * 8)
    throw new ModelError(dir, `adam.bin has ${moments.byteLength} bytes, expected ${theta.length * 8}`);
  const all = new Float32Array(moments.buffer.slice(moments.byteOffset, moments.byteOffset + moments.byteLength));
  return {
    state: {
      theta,
      m: all.slice(0, theta.length),
      v: all.slice(theta.length),
      generation: run.generation,
    },
    run,
    card: actor.card,
  };
}
