// The models the repository (and the image) ships: policy/models/meanfield-<gpu>-<mode>.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const MODELS_DIR = fileURLToPath(new URL('../policy/models/', import.meta.url));

/** Where the shipped actor for a GPU model and mode lives (it may not exist). */
export function shippedModelDir(gpu: string, mode: string): string {
  return join(MODELS_DIR, `meanfield-${gpu.toLowerCase()}-${mode}`);
}
