// The trained actors Dynamic MigPartitions name (`dynamic.model`), loaded from the models directory (the
// image's policy/models, or a mounted one) before a round plans. A model that is missing, unreadable or does
// not fit its policy is a problem the policy reports; it never stops the operator.
import { join } from 'node:path';
import { ModelError, type LoadedActor } from '../model-store/actor-files.js';
import type { GpuModel } from '../policy/mig/catalog.js';
import type { ResolvedPolicy } from './policy.js';

/** Model names are directory names under the models directory: no paths. */
const NAME = /^[a-z0-9]([a-z0-9._-]{0,126}[a-z0-9])?$/;
/** A failed load is tried again after this long (a model may be mounted later). */
const RETRY_MS = 60_000;

type Entry = { actor: LoadedActor } | { problem: string; at: number };

export class ActorShelf {
  private readonly entries = new Map<string, Entry>();

  constructor(
    /** Searched in order: the first that has the name (a model.json) serves it. */
    private readonly dirs: readonly string[],
    private readonly load: (path: string) => Promise<LoadedActor>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Loads the named actors not loaded yet (and failed ones due for another try). */
  async refresh(names: Iterable<string>): Promise<void> {
    for (const name of new Set(names)) {
      const e = this.entries.get(name);
      if (e && ('actor' in e || this.now() - e.at < RETRY_MS)) continue;
      if (!NAME.test(name)) {
        this.entries.set(name, {
          problem: `"${name}" is not a model name (a directory name under the models directory)`,
          at: this.now(),
        });
        continue;
      }
      this.entries.set(name, await this.find(name));
    }
  }

  private async find(name: string): Promise<Entry> {
    for (const dir of this.dirs) {
      try {
        return { actor: await this.load(join(dir, name)) };
      } catch (err) {
        if (!(err instanceof ModelError && err.missing)) return { problem: (err as Error).message, at: this.now() };
      }
    }
    return { problem: `model ${name}: not in ${this.dirs.join(' or ')}`, at: this.now() };
  }

  /** The loaded actor, or why there is none. */
  lookup(name: string): { actor: LoadedActor } | { problem: string } {
    const e = this.entries.get(name);
    if (!e) return { problem: `model ${name} is not loaded yet` };
    return 'actor' in e ? e : { problem: e.problem };
  }

  /** Why a policy's model cannot drive its GPUs (undefined: it can, or its controller takes no model). */
  problemFor(policy: ResolvedPolicy, gpuModels: readonly GpuModel[], takesModel: boolean): string | undefined {
    if (policy.modelRef === undefined || !takesModel) return undefined;
    const r = this.lookup(policy.modelRef);
    if ('problem' in r) return r.problem;
    const gpu = r.actor.card.gpu;
    const other = [policy.gpuModel, ...gpuModels].find((m) => m !== undefined && m.name !== gpu);
    return other ? `model ${policy.modelRef} was trained for ${gpu}, not ${other.name}` : undefined;
  }

  /** The loaded actor of a name, for controllers. */
  actor(name: string): LoadedActor | undefined {
    const r = this.lookup(name);
    return 'actor' in r ? r.actor : undefined;
  }
}
