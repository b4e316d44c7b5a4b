// Node objects of full `Nodes` lists (nodeCacheCapable: false) that the extender has already parsed and
// validated, kept as their exact request bytes. kube-scheduler sends the same thousand Node objects in
// every filter and prioritize call, and a node's object changes only when the node does (a kubelet
// reports its status every few minutes), so most items of a request are byte for byte an item seen
// before. Such an item need not be parsed again: the same bytes parse to the same value, which passed the
// same schema. The body parser (json-body.ts) compares bytes, skips the matches and parses the rest; the
// verbs record each newly parsed item once the request has passed validation.
import { nodeInfo, type NodeInfo } from './kube.js';
import type { Node } from './schemas.js';

/** An item seen before, with what the verbs need of it. */
export interface KnownItem {
  /** The item's exact request bytes (a view of the memo's own copy). */
  readonly bytes: Buffer;
  /** Nesting depth inside the item (1 for an object without nested objects or arrays). */
  readonly depth: number;
  readonly name: string;
  readonly resourceVersion?: string;
  /** The node's own MIG facts, as nodeInfo reads them from the object. */
  readonly info: NodeInfo;
  /** What stands in for the item in a parsed body: a frozen Node with only `metadata.name`. */
  readonly stub: Node;
}

/** Large enough for 5,000 kubelet-sized Node objects (about 5 KB each), small beside the node cache. */
export const DEFAULT_MEMO_BYTES = 32 * 1024 * 1024;
/** How far into an item to look for its name: Go marshals `metadata` first, `name` first within it. */
const KEY_WINDOW = 512;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const NAME = [0x6e, 0x61, 0x6d, 0x65]; // name

const isSpace = (c: number | undefined): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Whether `"name"` followed by a colon starts at the quote `q`; returns where its value's quote is, or -1. */
function nameValueAt(bytes: Uint8Array, q: number, to: number): number {
  for (let k = 0; k < NAME.length; k++) if (bytes[q + 1 + k] !== NAME[k]) return -1;
  if (bytes[q + 1 + NAME.length] !== QUOTE) return -1;
  let j = q + NAME.length + 2;
  while (j < to && isSpace(bytes[j])) j++;
  if (bytes[j] !== COLON) return -1;
  j++;
  while (j < to && isSpace(bytes[j])) j++;
  return bytes[j] === QUOTE ? j : -1;
}

/**
 * The lookup key of the item starting at `from`: the value of the first `"name"` key in its first bytes,
 * which is `metadata.name` in every Node kube-scheduler sends. Any other string would do as well, since a
 * match is decided by comparing all the bytes; undefined when there is none (or it has escapes).
 */
export function itemKey(bytes: Uint8Array, from: number, end: number): string | undefined {
  const to = Math.min(end, from + KEY_WINDOW);
  for (let q = from; q < to; q++) {
    if (bytes[q] !== QUOTE) continue;
    const v = nameValueAt(bytes, q, to);
    if (v < 0) continue;
    for (let e = v + 1; e < to; e++) {
      const c = bytes[e];
      if (c === BACKSLASH) return undefined;
      if (c === QUOTE) return Buffer.from(bytes.buffer, bytes.byteOffset + v + 1, e - v - 1).toString('latin1');
    }
    return undefined;
  }
  return undefined;
}

/** One item to learn: its span in the request bytes, what it parsed to, and its nesting depth. */
export interface NewItem {
  readonly span: readonly [number, number];
  readonly node: Node;
  readonly depth: number;
}

/** The bytes of the items learnt from one request, copied into one buffer (one allocation, not one each). */
interface Batch {
  readonly size: number;
  /** Entries still pointing into it; the memo counts its bytes while there are any. */
  live: number;
}

/**
 * Items seen before, by key, within a byte budget; the oldest go first when it is full. A node's entry is
 * replaced when its object changes, so the memo holds at most one entry per node name the scheduler uses.
 */
export class NodeItemMemo {
  private readonly items = new Map<string, { readonly item: KnownItem; readonly batch: Batch }>();
  private bytes = 0;

  constructor(private readonly budget = DEFAULT_MEMO_BYTES) {}

  get size(): number {
    return this.items.size;
  }

  /** Bytes held: the batches that still have entries. */
  get heldBytes(): number {
    return this.bytes;
  }

  /** The known item whose bytes start at `at` in `body`, if any. */
  match(body: Buffer, at: number): KnownItem | undefined {
    if (this.items.size === 0) return undefined;
    const key = itemKey(body, at, body.length);
    const k = key === undefined ? undefined : this.items.get(key)?.item;
    if (!k || at + k.bytes.length > body.length) return undefined;
    return body.compare(k.bytes, 0, k.bytes.length, at, at + k.bytes.length) === 0 ? k : undefined;
  }

  /**
   * Learns items that have been parsed and have passed validation, from the request bytes `body`. Returns
   * the entry of each (undefined for an item without a key, which is never matched).
   */
  remember(body: Buffer, news: readonly NewItem[]): (KnownItem | undefined)[] {
    const keys = news.map(({ span: [start, end] }) =>
      end - start <= this.budget ? itemKey(body, start, end) : undefined,
    );
    const size = news.reduce((n, { span: [start, end] }, i) => (keys[i] === undefined ? n : n + end - start), 0);
    if (size === 0) return keys.map(() => undefined);
    const copy = Buffer.allocUnsafeSlow(size);
    const batch: Batch = { size, live: 0 };
    this.bytes += size;
    let at = 0;
    const learnt = news.map(({ span: [start, end], node, depth }, i): KnownItem | undefined => {
      const key = keys[i];
      if (key === undefined) return undefined;
      body.copy(copy, at, start, end);
      const name = node.metadata.name;
      const item: KnownItem = {
        bytes: copy.subarray(at, (at += end - start)),
        depth,
        name,
        resourceVersion: node.metadata.resourceVersion ?? undefined,
        info: nodeInfo(node),
        stub: Object.freeze({ metadata: Object.freeze({ name }) }),
      };
      // Counted before the old entry goes: with a name twice in one list, the old entry is in this batch.
      batch.live++;
      this.forget(key);
      this.items.set(key, { item, batch });
      return item;
    });
    for (const [oldest] of this.items) {
      if (this.bytes <= this.budget) break;
      this.forget(oldest);
    }
    return learnt;
  }

  private forget(key: string): void {
    const old = this.items.get(key);
    if (!old) return;
    this.items.delete(key);
    if (--old.batch.live === 0) this.bytes -= old.batch.size;
  }
}
