// Free slices indexed by compute size and by a GPU preference rank, so a placement finds "the best free
// slice of size k" without scanning the cluster (1,024 GPUs in the cluster-mode benchmark).
//
// Within one size and rank, slices keep the order in which they became free (a slice removed and added
// again goes last): the heuristics take the first, so this order is part of every simulated result. The
// lists are linked through per-slice arrays, and a rank keeps its place in its size's list when it runs
// empty, because the paper mode clears and refills the index at every event and would otherwise rebuild
// the same rank lists each time.

const NONE = -1;

/** Free slices of one compute size, by rank. */
class SizeBucket {
  /** Ranks that have held free slices, highest first; a rank whose list is empty stays. */
  readonly ranks: number[] = [];
  /** First and last slice of each rank's list (parallel to `ranks`), NONE when empty. */
  readonly heads: number[] = [];
  readonly tails: number[] = [];
  count = 0;

  /** Index of the rank in `ranks`, adding it (empty) where it belongs if it is new. */
  slot(rank: number): number {
    const ranks = this.ranks;
    let i = 0;
    while (i < ranks.length && (ranks[i] as number) > rank) i++;
    if (ranks[i] !== rank) {
      ranks.splice(i, 0, rank);
      this.heads.splice(i, 0, NONE);
      this.tails.splice(i, 0, NONE);
    }
    return i;
  }

  /** Index of a rank known to be in `ranks` (a loop: these lists are short, and this runs per removal). */
  indexOf(rank: number): number {
    let i = 0;
    while (this.ranks[i] !== rank) i++;
    return i;
  }

  /** Index of the highest rank with free slices at or after `from`, or −1. */
  nextNonEmpty(from: number): number {
    for (let i = from; i < this.heads.length; i++) if (this.heads[i] !== NONE) return i;
    return -1;
  }
}

/** Free slices by size and rank. Slice ids index arrays here, so they should be small non-negative integers. */
export class FreeSlices {
  /** Buckets by size (compute slices). */
  private readonly buckets: (SizeBucket | undefined)[] = [];
  /** Sizes that have held free slices, ascending. */
  private sizeList: number[] = [];
  /** Per slice: its neighbours in its rank's list (NONE at the ends) and where it is filed. */
  private readonly next: number[] = [];
  private readonly prev: number[] = [];
  private readonly filedSize: number[] = [];
  private readonly filedRank: number[] = [];
  total = 0;

  add(slice: number, size: number, rank: number): void {
    if (this.filedSize[slice] !== undefined && this.filedSize[slice] !== NONE)
      throw new Error(`slice ${slice} is already free`);
    const b = this.bucket(size);
    const i = b.slot(rank);
    const tail = b.tails[i] as number;
    this.prev[slice] = tail;
    this.next[slice] = NONE;
    if (tail === NONE) b.heads[i] = slice;
    else this.next[tail] = slice;
    b.tails[i] = slice;
    b.count++;
    this.filedSize[slice] = size;
    this.filedRank[slice] = rank;
    this.total++;
  }

  remove(slice: number, size: number, rank: number): void {
    const b = this.buckets[size];
    if (b === undefined) throw new Error(`no free slices of size ${size}`);
    if (this.filedSize[slice] !== size || this.filedRank[slice] !== rank)
      throw new Error(`slice ${slice} is not free at rank ${rank}`);
    const i = b.indexOf(rank);
    const p = this.prev[slice] as number;
    const n = this.next[slice] as number;
    if (p === NONE) b.heads[i] = n;
    else this.next[p] = n;
    if (n === NONE) b.tails[i] = p;
    else this.prev[n] = p;
    b.count--;
    this.filedSize[slice] = NONE;
    this.total--;
  }

  /** Sizes with at least one free slice, ascending. */
  *freeSizes(): Generator<number> {
    for (const k of this.sizeList) if (this.countOf(k) > 0) yield k;
  }

  /** Every size that has held a free slice, ascending; `countOf` says which have one now (no generator). */
  knownSizes(): readonly number[] {
    return this.sizeList;
  }

  /** Free slices of this size. */
  countOf(size: number): number {
    return this.buckets[size]?.count ?? 0;
  }

  /** The free slice of this size on the highest-ranked GPU (the first to become free there), or −1. */
  best(size: number): number {
    const b = this.buckets[size];
    if (b === undefined || b.count === 0) return -1;
    return b.heads[b.nextNonEmpty(0)] as number;
  }

  /** Ranks holding free slices of this size, highest first, with one slice each. */
  *ranksOf(size: number): Generator<[rank: number, slice: number]> {
    const b = this.buckets[size];
    if (!b) return;
    for (let i = b.nextNonEmpty(0); i >= 0; i = b.nextNonEmpty(i + 1))
      yield [b.ranks[i] as number, b.heads[i] as number];
  }

  /** Every free slice of this size, in a deterministic order. */
  *ofSize(size: number): Generator<number> {
    const b = this.buckets[size];
    if (!b) return;
    for (const head of b.heads) for (let s = head; s !== NONE; s = this.next[s] as number) yield s;
  }

  /** Every free slice of at least `minSize`, in a deterministic order. */
  all(minSize = 0): number[] {
    const out: number[] = [];
    for (const k of this.sizeList) {
      if (k < minSize) continue;
      const b = this.buckets[k] as SizeBucket;
      for (const head of b.heads) for (let s = head; s !== NONE; s = this.next[s] as number) out.push(s);
    }
    return out;
  }

  /** Empties the index; ranks keep their places (the paper mode refills the same ones at every event). */
  clear(): void {
    for (const k of this.sizeList) {
      const b = this.buckets[k] as SizeBucket;
      for (let i = 0; i < b.heads.length; i++) {
        for (let s = b.heads[i] as number; s !== NONE; s = this.next[s] as number) this.filedSize[s] = NONE;
        b.heads[i] = NONE;
        b.tails[i] = NONE;
      }
      b.count = 0;
    }
    this.total = 0;
  }

  private bucket(size: number): SizeBucket {
    let b = this.buckets[size];
    if (b === undefined) {
      if (!Number.isInteger(size) || size < 0) throw new Error(`slice size ${size} is not a whole number`);
      b = new SizeBucket();
      this.buckets[size] = b;
      this.sizeList = [...this.sizeList, size].sort((x, y) => x - y);
    }
    return b;
  }
}
