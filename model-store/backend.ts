// The TensorFlow.js backend the adapters run actors on: tfjs-node where it is installed (optional: its install
// downloads a native library), else WebAssembly, else plain JavaScript. All three give the same decisions
// (test/unit/learn/backends.test.ts).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

let chosen: Promise<BackendName> | undefined;

async function tryNode(): Promise<boolean> {
  try {
    const name = '@tensorflow/tfjs-node';
    await import(name);
    return tf.findBackend('tensorflow') !== undefined;
  } catch {
    return false;
  }
}

/** Makes the best available backend current and says which it is (found once per process). */
export async function useBestBackend(): Promise<BackendName> {
  const name = await bestBackend();
  await tf.setBackend(name);
  return name;
}

function bestBackend(): Promise<BackendName> {
  chosen ??= (async () => {
    // Production mode also silences tfjs's console hint to install tfjs-node.
    tf.enableProdMode();
    for (const name of ['tensorflow', 'wasm', 'cpu'] as const) {
      if (name === 'tensorflow' && !(await tryNode())) continue;
      if (await tf.setBackend(name)) {
        await tf.ready();
        return name;
      }
    }
    throw new Error('no TensorFlow.js backend could start');
  })();
  return chosen;
}

/** Makes a named backend current (tests compare backends). */
export async function useBackend(name: BackendName): Promise<void> {
  tf.enableProdMode();
  if (name === 'tensorflow' && !(await tryNode())) throw new Error('tfjs-node is not installed');
  if (!(await tf.setBackend(name))) throw new Error(`TensorFlow.js backend ${name} did not start`);
  await tf.ready();
}
