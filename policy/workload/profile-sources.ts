// Speed-up profiles from several sources merged by one fixed rule: the built-in paper profiles, then the
// workloads of each MigPartition. The rule depends only on the sources, never on the order they arrive in,
// so every extender replica resolves a workload name the same way.
import { PAPER_PROFILES, type SpeedupProfile } from './job.js';

/** The named profiles one source (a MigPartition) defines. */
export interface ProfileSource {
  readonly name: string;
  /** Creation time, ms: of two sources that define a name differently, the older wins (then the name). */
  readonly created: number;
  readonly profiles: readonly SourceProfile[];
}

export interface SourceProfile {
  readonly name: string;
  /** Throughput relative to one compute slice, by compute slices; 1 → 1 unless given. */
  readonly speedup: Readonly<Record<number, number>>;
}

/** A name two sources define differently: `kept`'s definition is used, `ignored`'s is not. */
export interface ProfileConflict {
  readonly profile: string;
  readonly kept: string;
  readonly ignored: string;
}

export interface MergedProfiles {
  readonly profiles: readonly SpeedupProfile[];
  /** Names a source defines → that source (names only built in are absent). */
  readonly origin: ReadonlyMap<string, string>;
  readonly conflicts: readonly ProfileConflict[];
}

const bySourceAge = (a: ProfileSource, b: ProfileSource): number =>
  a.created - b.created || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The speed-ups with the 1-slice point made explicit, sorted by size (so equal definitions compare equal). */
function normalise(speedup: Readonly<Record<number, number>>): Record<number, number> {
  const out: Record<number, number> = { 1: 1 };
  for (const k of Object.keys(speedup).map(Number)) out[k] = speedup[k] as number;
  return out;
}

function sameSpeedup(a: Readonly<Record<number, number>>, b: Readonly<Record<number, number>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[Number(k)] === b[Number(k)]);
}

/**
 * Built-ins first; a source's profile replaces a built-in of the same name (and keeps its kind; a new name is
 * a `training` profile: placement reads only the speed-ups). When sources define one name differently, the
 * oldest source (creation time, then name) keeps it and each other is a conflict; equal definitions agree.
 */
export function mergeProfiles(
  sources: readonly ProfileSource[],
  builtIns: readonly SpeedupProfile[] = PAPER_PROFILES,
): MergedProfiles {
  const byName = new Map<string, SpeedupProfile>(builtIns.map((p) => [p.name, p]));
  const origin = new Map<string, string>();
  const conflicts: ProfileConflict[] = [];
  for (const source of [...sources].sort(bySourceAge)) {
    for (const p of source.profiles) {
      const speedup = normalise(p.speedup);
      const owner = origin.get(p.name);
      if (owner !== undefined) {
        const kept = byName.get(p.name) as SpeedupProfile;
        if (owner !== source.name && !sameSpeedup(kept.speedup, speedup)) {
          conflicts.push({ profile: p.name, kept: owner, ignored: source.name });
        }
        continue;
      }
      const kind = byName.get(p.name)?.kind ?? 'training';
      byName.set(p.name, { name: p.name, kind, speedup });
      origin.set(p.name, source.name);
    }
  }
  return { profiles: [...byName.values()], origin, conflicts };
}
