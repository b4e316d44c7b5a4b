// What the extender takes from MigPartition policies: their workload speed-up profiles (pods name them in
// smartmig.io/workload) and their objective weight (for the nodes each manages). `partitionView` is pure;
// PartitionPolicies keeps the objects the list/watch loop reports and applies each new view to the profile
// book and the cache.
import type { FastifyBaseLogger } from 'fastify';
import type { MigPartition } from '../api/types.js';
import { mergeProfiles, type MergedProfiles, type ProfileSource } from '../policy/workload/profile-sources.js';
import type { ProfileBook } from '../policy/workload/job.js';
import type { ClusterCache } from './cache.js';
import { timeMs } from './kube.js';

/** The CRD's default `spec.objective.energyWeight`, per 10⁶ W·min, for objects the apiserver has not defaulted. */
export const DEFAULT_ENERGY_WEIGHT = 0.19;
/** energyWeight is per 10⁶ W·min; the extender's etWeight is per W·min. */
const PER_MEGA = 1e-6;

export interface PartitionView {
  readonly profiles: MergedProfiles;
  /** MigPartition name → its objective weight a, per W·min (the unit of the extender's etWeight). */
  readonly weights: ReadonlyMap<string, number>;
  /** Equal for views that decide the same (status-only updates do not change it). */
  readonly key: string;
}

function source(mp: MigPartition): ProfileSource {
  return {
    name: mp.metadata?.name ?? '',
    created: timeMs(mp.metadata?.creationTimestamp) ?? 0,
    profiles: (mp.spec?.workloads ?? []).map((w) => ({
      name: w.name,
      speedup: Object.fromEntries(w.speedup.map((s) => [s.computeSlices, s.factor])),
    })),
  };
}

function weightOf(mp: MigPartition): number {
  const w = mp.spec?.objective?.energyWeight;
  return (typeof w === 'number' && Number.isFinite(w) && w >= 0 ? w : DEFAULT_ENERGY_WEIGHT) * PER_MEGA;
}

/** The profiles and weights a set of MigPartitions defines (policies/workload/profile-sources.ts has the rule). */
export function partitionView(partitions: Iterable<MigPartition>): PartitionView {
  const sources: ProfileSource[] = [];
  const weights = new Map<string, number>();
  for (const mp of partitions) {
    const s = source(mp);
    sources.push(s);
    weights.set(s.name, weightOf(mp));
  }
  const profiles = mergeProfiles(sources);
  const key = JSON.stringify([
    [...profiles.origin].sort(),
    profiles.profiles.filter((p) => profiles.origin.has(p.name)),
    profiles.conflicts,
    [...weights].sort(),
  ]);
  return { profiles, weights, key };
}

/** The MigPartitions seen by the list/watch loop; every change that matters updates the book and the cache. */
export class PartitionPolicies {
  private readonly objects = new Map<string, MigPartition>();
  private view: PartitionView = partitionView([]);
  private warned = new Set<string>();

  constructor(
    private readonly book: ProfileBook,
    private readonly cache: ClusterCache,
    private readonly log: FastifyBaseLogger,
  ) {}

  get current(): PartitionView {
    return this.view;
  }

  replace(items: Iterable<MigPartition>): void {
    this.objects.clear();
    for (const mp of items) this.objects.set(mp.metadata?.name ?? '', mp);
    this.update();
  }

  upsert(mp: MigPartition): void {
    this.objects.set(mp.metadata?.name ?? '', mp);
    this.update();
  }

  delete(mp: MigPartition): void {
    this.objects.delete(mp.metadata?.name ?? '');
    this.update();
  }

  private update(): void {
    const next = partitionView(this.objects.values());
    if (next.key === this.view.key) return;
    this.view = next;
    this.book.replace(next.profiles.profiles);
    this.cache.setEnergyWeights(next.weights);
    this.cache.refreshProfiles();
    const warned = new Set<string>();
    for (const c of next.profiles.conflicts) {
      const id = `${c.profile}|${c.kept}|${c.ignored}`;
      warned.add(id);
      if (this.warned.has(id)) continue;
      this.log.warn(
        { workload: c.profile, kept: c.kept, ignored: c.ignored },
        'two MigPartitions define the workload differently; the older one is used',
      );
    }
    this.warned = warned;
    this.log.info(
      { policies: this.objects.size, workloads: [...next.profiles.origin.keys()].sort() },
      'MigPartition workloads and weights updated',
    );
  }
}
