// Node names read straight from the request bytes (nodeCacheCapable). With all 5,000 names in a request,
// parsing them into strings, validating each against the schema, hashing each new string for the cache's
// Map and writing it back out cost more than the decisions. Instead the verbs' body parser (json-body.ts)
// finds the top-level `NodeNames` array and hands it here:
//   - readNameList checks in one pass that every element is a plain name (printable ASCII without
//     escapes, at most MAX_NAME_LENGTH bytes: what the schema allows, in the one form whose bytes are its
//     JSON text), and records where each lies and a hash of its bytes; a list with anything else in it is
//     left to JSON.parse and the schema, as before;
//   - NameListMemo keeps the last lists read. kube-scheduler sends the same list again and again (every
//     filter while no node changes, every prioritize of pods that passed the same nodes), and a list whose
//     bytes equal a kept one is that list: one native comparison instead of a pass over 84 KB;
//   - NameIndex finds a cached node by the bytes and hash of its name, without a string.
// The verbs key their own memos on the NameList object (routes/verbs.ts): the same object means the same
// names in the same order.

/** The schema's bound on a name (schemas.ts `Name`); for plain ASCII, bytes and characters agree. */
export const MAX_NAME_LENGTH = 253;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const CLOSE_ARR = 0x5d;
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** A NodeNames array of plain names, `[` to `]`. */
export interface NameList {
  /** The array's JSON text: a copy of the request bytes (lists are kept from request to request). */
  readonly bytes: Buffer;
  readonly count: number;
  /**
   * Per element, three integers: where its name starts and ends in `bytes` (without the quotes) and the
   * FNV-1a hash of the name's bytes.
   */
  readonly at: Int32Array;
  /**
   * How often the memo has found the list again. Work kept for a list's next requests (name-replies.ts)
   * is worth it only for a list that comes again: with kube-scheduler's default percentageOfNodesToScore
   * every list is a new window of the nodes, and those are answered without keeping anything.
   */
  seen: number;
}

/** The list of plain names whose `[` is at `open`: where it ends, its elements, and their hashes (NameList.at). */
interface RawList {
  readonly close: number;
  readonly count: number;
  readonly at: Int32Array;
}

/** A name at i (its opening quote); returns where its closing quote is, -1 when it is not a plain name. */
function plainName(bytes: Uint8Array, i: number, open: number, out: Int32Array, k: number): number {
  const start = i + 1;
  let h = FNV_OFFSET;
  let c = bytes[start] as number;
  let j = start;
  // The body ends with the top-level `}`, so reading on to the quote never runs past it in a list that
  // has one; a list that does not is not a list of plain names.
  while (c !== QUOTE) {
    if (c < 0x20 || c > 0x7e || c === BACKSLASH || j >= bytes.length) return -1;
    h = Math.imul(h ^ c, FNV_PRIME);
    c = bytes[++j] as number;
  }
  if (j - start > MAX_NAME_LENGTH) return -1;
  out[k] = start - open;
  out[k + 1] = j - open;
  out[k + 2] = h;
  return j;
}

function grow(a: Int32Array): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

/** The byte after whitespace from i. */
function skipSpace(bytes: Uint8Array, i: number): number {
  while (i < bytes.length && isSpace(bytes[i] as number)) i++;
  return i;
}

/**
 * Reads the JSON array whose `[` is at `open` as a list of plain names (positions relative to `open`).
 * Undefined when an element is not one or there are more than `maxItems`.
 */
export function readNameList(bytes: Uint8Array, open: number, maxItems: number): RawList | undefined {
  // Names are 10–60 bytes with their quotes and comma: this fits most lists without growing.
  let at = new Int32Array(3 * Math.min(maxItems, Math.max(16, ((bytes.length - open) / 10) | 0)));
  let count = 0;
  let i = skipSpace(bytes, open + 1);
  if (bytes[i] === CLOSE_ARR) return { close: i, count, at };
  for (;;) {
    if (bytes[i] !== QUOTE || count === maxItems) return undefined;
    if (3 * count === at.length) at = grow(at);
    i = plainName(bytes, i, open, at, 3 * count);
    if (i < 0) return undefined;
    count++;
    i = skipSpace(bytes, i + 1);
    if (bytes[i] === CLOSE_ARR) return { close: i, count, at };
    if (bytes[i] !== COMMA) return undefined;
    i = skipSpace(bytes, i + 1);
  }
}

/** FNV-1a of bytes [start, end), as plainName works it out. */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = FNV_OFFSET;
  for (let k = start; k < end; k++) h = Math.imul(h ^ (bytes[k] as number), FNV_PRIME);
  return h;
}

/** Lists kept, and their bytes at most: all of a 5,000-node cluster's names are about 90 KB. */
const MEMO_LISTS = 8;
const MEMO_BYTES = 8 * 1024 * 1024;

/** The name lists read lately, most recent first; a list whose bytes equal a kept one is that list. */
export class NameListMemo {
  private lists: NameList[] = [];

  constructor(
    private readonly maxLists = MEMO_LISTS,
    private readonly maxBytes = MEMO_BYTES,
  ) {}

  get size(): number {
    return this.lists.length;
  }

  /** The list of plain names whose `[` is at `open` in `body`, and where its `]` is; undefined when it is not one. */
  read(body: Buffer, open: number, maxItems: number): { list: NameList; close: number } | undefined {
    for (let k = 0; k < this.lists.length; k++) {
      const list = this.lists[k] as NameList;
      const end = open + list.bytes.length;
      if (end > body.length || body[end - 1] !== CLOSE_ARR) continue;
      if (body.compare(list.bytes, 0, list.bytes.length, open, end) !== 0) continue;
      if (k > 0) this.lists = [list, ...this.lists.slice(0, k), ...this.lists.slice(k + 1)];
      list.seen++;
      return { list, close: end - 1 };
    }
    const raw = readNameList(body, open, maxItems);
    if (!raw) return undefined;
    const bytes = Buffer.allocUnsafeSlow(raw.close + 1 - open);
    body.copy(bytes, 0, open, raw.close + 1);
    const list: NameList = { bytes, count: raw.count, at: raw.at, seen: 0 };
    if (bytes.length <= this.maxBytes) this.learn(list);
    return { list, close: raw.close };
  }

  private learn(list: NameList): void {
    const kept = [list];
    let bytes = list.bytes.length;
    for (const l of this.lists) {
      if (kept.length === this.maxLists || bytes + l.bytes.length > this.maxBytes) break;
      kept.push(l);
      bytes += l.bytes.length;
    }
    this.lists = kept;
  }
}

const EMPTY = -1;

/**
 * Node names by slot (a small integer, reused after a name goes), found by name or by the bytes and hash
 * of its UTF-8 text. Lookups by bytes use an open-addressing table; the names' bytes lie in one arena.
 * Removals rebuild the table and the arena (rare: a node leaving the cluster).
 */
export class NameIndex {
  private readonly bySlot: (string | undefined)[] = [];
  private readonly slots = new Map<string, number>();
  private readonly free: number[] = [];
  /** Per slot: where its bytes start in the arena, their length (-1: free) and their hash. */
  private place = new Int32Array(48);
  private arena = new Uint8Array(1024);
  private used = 0;
  /** Slot at each position, EMPTY where none; its length is a power of two, at least twice the names. */
  private table = new Int32Array(16).fill(EMPTY);
  private stale = false;
  private gen = 0;

  get size(): number {
    return this.slots.size;
  }

  /** Changes whenever a name comes or goes: a slot found by bytes earlier holds while it is the same. */
  get generation(): number {
    return this.gen;
  }

  slotOf(name: string): number | undefined {
    return this.slots.get(name);
  }

  nameAt(slot: number): string | undefined {
    return this.bySlot[slot];
  }

  /** The name's slot, given it one if it had none. */
  add(name: string): number {
    const had = this.slots.get(name);
    if (had !== undefined) return had;
    this.gen++;
    const slot = this.free.pop() ?? this.bySlot.length;
    this.bySlot[slot] = name;
    this.slots.set(name, slot);
    this.store(slot, Buffer.from(name, 'utf8'));
    if (this.slots.size * 2 > this.table.length) this.stale = true;
    if (!this.stale) this.insert(slot);
    return slot;
  }

  /** Forgets the name; returns the slot it had. */
  remove(name: string): number | undefined {
    const slot = this.slots.get(name);
    if (slot === undefined) return undefined;
    this.gen++;
    this.slots.delete(name);
    this.bySlot[slot] = undefined;
    this.place[3 * slot + 1] = -1;
    this.free.push(slot);
    this.stale = true;
    return slot;
  }

  clear(): void {
    this.gen++;
    this.slots.clear();
    this.bySlot.length = 0;
    this.free.length = 0;
    this.used = 0;
    this.stale = true;
  }

  /** The slot of the name whose UTF-8 text is bytes [start, end), with hash `hash` (readNameList's), or -1. */
  find(bytes: Uint8Array, start: number, end: number, hash: number): number {
    if (this.stale) this.rebuild();
    const { table, place, arena } = this;
    const mask = table.length - 1;
    const len = end - start;
    for (let at = hash & mask; ; at = (at + 1) & mask) {
      const slot = table[at] as number;
      if (slot === EMPTY) return -1;
      if (place[3 * slot + 2] !== hash || place[3 * slot + 1] !== len) continue;
      const from = place[3 * slot] as number;
      let k = 0;
      while (k < len && arena[from + k] === bytes[start + k]) k++;
      if (k === len) return slot;
    }
  }

  private store(slot: number, bytes: Uint8Array): void {
    while (3 * slot + 3 > this.place.length) this.place = grow(this.place);
    if (this.used + bytes.length > this.arena.length) {
      const next = new Uint8Array(Math.max(2 * this.arena.length, this.used + bytes.length));
      next.set(this.arena.subarray(0, this.used));
      this.arena = next;
    }
    this.arena.set(bytes, this.used);
    this.place[3 * slot] = this.used;
    this.place[3 * slot + 1] = bytes.length;
    this.place[3 * slot + 2] = hashBytes(bytes, 0, bytes.length);
    this.used += bytes.length;
  }

  private insert(slot: number): void {
    const mask = this.table.length - 1;
    let at = (this.place[3 * slot + 2] as number) & mask;
    while (this.table[at] !== EMPTY) at = (at + 1) & mask;
    this.table[at] = slot;
  }

  private rebuild(): void {
    // The arena again, with only the names in use (removed ones leave their bytes behind).
    const live: [number, Uint8Array][] = [];
    for (const slot of this.slots.values()) {
      const from = this.place[3 * slot] as number;
      live.push([slot, this.arena.slice(from, from + (this.place[3 * slot + 1] as number))]);
    }
    this.used = 0;
    for (const [slot, bytes] of live) this.store(slot, bytes);
    let size = 16;
    while (size < this.slots.size * 2) size *= 2;
    this.table = new Int32Array(size).fill(EMPTY);
    this.stale = false;
    for (const slot of this.slots.values()) this.insert(slot);
  }
}
