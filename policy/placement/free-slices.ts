// Free slices indexed by compute size and by a GPU preference rank, so a placement finds "the best free
// slice of size k" without scanning the cluster (1,024 GPUs in the cluster-mode benchmark).

class SizeBucket {
  /** Ranks that currently hold free slices, highest first. */
  readonly ranks: number[] = [];
  readonly byRank = new Map<number, Set<number>>();
  count = 0;

  add(slice: number, rank: number): void {
    let set = this.byRank.get(rank);
    if (!set) {
      set = new Set();
      this.byRank.set(rank, set);
      let i = 0;
      while (i < this.ranks.length && (this.ranks[i] as number) > rank) i++;
      this.ranks.splice(i, 0, rank);
    }
    set.add(slice);
    this.count++;
  }

  remove(slice: number, rank: number): void {
    const set = this.byRank.get(rank);
    if (!set?.delete(slice)) throw new Error(`slice ${slice} is not free at rank ${rank}`);
    this.count--;
    if (set.size === 0) {
      this.byRank.delete(rank);
      this.ranks.splice(this.ranks.indexOf(rank), 1);
    }
  }

  best(): number {
    const top = this.ranks[0];
    if (top === undefined) return -1;
    for (const s of this.byRank.get(top) as Set<number>) return s;
    return -1;
  }
}

export class FreeSlices {
  private readonly bySize = new Map<number, SizeBucket>();
  /** Sizes that exist in the cluster, ascending. */
  private sizeList: number[] = [];
  total = 0;

  add(slice: number, size: number, rank: number): void {
    let b = this.bySize.get(size);
    if (!b) {
      b = new SizeBucket();
      this.bySize.set(size, b);
      this.sizeList = [...this.bySize.keys()].sort((x, y) => x - y);
    }
    b.add(slice, rank);
    this.total++;
  }

  remove(slice: number, size: number, rank: number): void {
    const b = this.bySize.get(size);
    if (!b) throw new Error(`no free slices of size ${size}`);
    b.remove(slice, rank);
    this.total--;
  }

  /** Sizes with at least one free slice, ascending. */
  *freeSizes(): Generator<number> {
    for (const k of this.sizeList) if ((this.bySize.get(k) as SizeBucket).count > 0) yield k;
  }

  /** The free slice of this size on the highest-ranked GPU, or −1. */
  best(size: number): number {
    return this.bySize.get(size)?.best() ?? -1;
  }

  /** Ranks holding free slices of this size, highest first, with one slice each. */
  *ranksOf(size: number): Generator<[rank: number, slice: number]> {
    const b = this.bySize.get(size);
    if (!b) return;
    for (const r of b.ranks) {
      for (const s of b.byRank.get(r) as Set<number>) {
        yield [r, s];
        break;
      }
    }
  }

  /** Every free slice of at least `minSize`, in a deterministic order. */
  all(minSize = 0): number[] {
    const out: number[] = [];
    for (const k of this.sizeList) {
      if (k < minSize) continue;
      const b = this.bySize.get(k) as SizeBucket;
      for (const r of b.ranks) for (const s of b.byRank.get(r) as Set<number>) out.push(s);
    }
    return out;
  }

  clear(): void {
    this.bySize.clear();
    this.sizeList = [];
    this.total = 0;
  }
}
