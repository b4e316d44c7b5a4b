// JSON bodies, read as bytes. One pass over them, before parsing, does four things:
//   - measures nesting depth, so deeply nested bodies get a clear 400;
//   - spots `__proto__` and `constructor` keys, and sends only those rare bodies through fastify's own
//     secure parser (which refuses them), so the common case pays for one plain JSON.parse, not two
//     extra regular-expression scans of a body that can be megabytes long;
//   - records where each element of `Nodes.items` starts and ends, so filter can answer a full Node list
//     by copying bytes of the request instead of serialising a thousand Node objects again;
//   - with a NodeItemMemo (the verbs' parser), jumps over each element that is byte for byte an item
//     parsed and validated before; JSON.parse then reads a 0 in its place, and the parsed body gets the
//     memo's stand-in for it (node-items.ts).
// A 5 MB body of Node objects it has not seen takes about 7 ms (JSON.parse of it about 14 ms).
import type { FastifyInstance } from 'fastify';
import { BodyBuffers, readBody } from './body-reader.js';
import { ExtenderError } from './errors.js';
import type { KnownItem, NodeItemMemo } from './node-items.js';

const OPEN_OBJ = 0x7b;
const OPEN_ARR = 0x5b;
const CLOSE_OBJ = 0x7d;
const CLOSE_ARR = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;

/** The elements of the top-level `Nodes.items`, in order. */
export interface NodeItemSpans {
  /** [start, end) of each element, in bytes. */
  readonly spans: readonly (readonly [number, number])[];
  /** Nesting depth inside each element (1 for `{}`). */
  readonly depths: readonly number[];
  /** The item each element is byte for byte, where the memo knew it. */
  readonly known: readonly (KnownItem | undefined)[];
}

export interface JsonScan {
  readonly depth: number;
  /** A `__proto__` or `constructor` key somewhere. */
  readonly suspicious: boolean;
  /** The elements of the top-level `Nodes.items`, or undefined when absent or ambiguous. */
  readonly items?: NodeItemSpans;
}

/**
 * Index of the quote that closes the string opened at `open` (or the end of the bytes). Strings are most
 * of a Node object's bytes; Buffer#indexOf skips them natively, twice as fast as a loop here.
 */
function stringEnd(bytes: Buffer, open: number): number {
  let q = open;
  for (;;) {
    q = bytes.indexOf(QUOTE, q + 1);
    if (q < 0) return bytes.length;
    let backslashes = 0;
    while (bytes[q - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return q;
  }
}

/** The byte after position `i` that is not JSON whitespace. */
function nextSignificant(bytes: Uint8Array, i: number): number | undefined {
  let j = i + 1;
  for (;;) {
    const c = bytes[j];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return c;
    j++;
  }
}

function hasEscape(bytes: Uint8Array, open: number, close: number): boolean {
  for (let k = open + 1; k < close; k++) if (bytes[k] === BACKSLASH) return true;
  return false;
}

function utf8(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8');
}

function keyText(bytes: Uint8Array, open: number, close: number): string {
  if (!hasEscape(bytes, open, close)) return utf8(bytes, open + 1, close);
  try {
    return JSON.parse(utf8(bytes, open, close + 1)) as string;
  } catch {
    return utf8(bytes, open + 1, close);
  }
}

const SUSPICIOUS_LENGTH = 32;

/** Keys at depths 1 and 2 (to find `Nodes.items`), prototype-poisoning keys, and item spans. */
class Tracker {
  suspicious = false;
  private key1 = '';
  private key2 = '';
  private seenNodes = 0;
  private seenItems = 0;
  private readonly spans: [number, number][] = [];
  private readonly depths: number[] = [];
  private readonly known: (KnownItem | undefined)[] = [];
  private start = -1;
  private itemDepth = 0;

  /** Whether the string at [open, close] needs reading as a key. */
  wants(bytes: Uint8Array, open: number, close: number, depth: number): boolean {
    // Every key at depths 1 and 2 (they say where Nodes.items is); deeper, only 9 or 11 bytes (or a
    // short key with escapes) can spell __proto__ or constructor.
    if (depth > 2) {
      const len = close - open - 1;
      if (len > SUSPICIOUS_LENGTH || (len !== 9 && len !== 11 && !hasEscape(bytes, open, close))) return false;
    }
    return nextSignificant(bytes, close) === COLON;
  }

  key(key: string, depth: number): void {
    if (key === '__proto__' || key === 'constructor') this.suspicious = true;
    if (depth === 1) {
      this.key1 = key;
      this.key2 = '';
      if (key === 'Nodes') this.seenNodes++;
    } else if (depth === 2) {
      this.key2 = key;
      if (this.key1 === 'Nodes' && key === 'items') this.seenItems++;
    }
  }

  /** Directly inside the top-level Nodes.items array. */
  inItems(depth: number): boolean {
    return depth === 3 && this.key1 === 'Nodes' && this.key2 === 'items';
  }

  open(at: number, depthBefore: number): void {
    if (this.inItems(depthBefore)) {
      this.start = at;
      this.itemDepth = 1;
    } else if (this.start >= 0) {
      this.itemDepth = Math.max(this.itemDepth, depthBefore - 2);
    }
  }

  close(at: number, depthAfter: number): void {
    if (this.start >= 0 && this.inItems(depthAfter)) {
      this.spans.push([this.start, at + 1]);
      this.depths.push(this.itemDepth);
      this.known.push(undefined);
      this.start = -1;
    }
  }

  /** An element the memo knows, at `at`: recorded whole, without reading inside it. */
  skip(at: number, item: KnownItem): void {
    this.spans.push([at, at + item.bytes.length]);
    this.depths.push(item.depth);
    this.known.push(item);
  }

  items(): NodeItemSpans | undefined {
    // Duplicate keys would make the spans disagree with what JSON.parse keeps (the last one).
    if (this.seenNodes !== 1 || this.seenItems !== 1) return undefined;
    return { spans: this.spans, depths: this.depths, known: this.known };
  }
}

/**
 * Scans JSON text (bytes, or a string read as UTF-8). With a memo, elements of `Nodes.items` that it
 * knows are skipped: their depth is the recorded one, and they hold no suspicious key (the memo only
 * keeps items of bodies that had none).
 */
export function scanJson(text: Buffer | string, maxDepth = Infinity, memo?: NodeItemMemo): JsonScan {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  let depth = 0;
  let max = 0;
  const t = new Tracker();
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    const c = bytes[i];
    if (c === QUOTE) {
      const end = stringEnd(bytes, i);
      if (t.wants(bytes, i, end, depth)) t.key(keyText(bytes, i, end), depth);
      i = end;
    } else if (c === OPEN_OBJ || c === OPEN_ARR) {
      const known = memo && c === OPEN_OBJ && t.inItems(depth) ? memo.match(bytes, i) : undefined;
      const deepest = depth + (known ? known.depth : 1);
      if (deepest > max && (max = deepest) > maxDepth) return { depth: max, suspicious: t.suspicious };
      if (known) {
        t.skip(i, known);
        i += known.bytes.length - 1;
      } else {
        t.open(i, depth++);
      }
    } else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
      t.close(i, --depth);
    }
  }
  return { depth: max, suspicious: t.suspicious, items: t.items() };
}

/** The deepest nesting of objects and arrays in JSON text (brackets inside strings do not count). */
export function jsonDepth(text: Buffer | string, stopAbove = Infinity): number {
  return scanJson(text, stopAbove).depth;
}

/** The request bytes and the `Nodes.items` elements of a parsed body. */
export interface SentNodeItems extends NodeItemSpans {
  readonly body: Buffer;
}

const sentItems = new WeakMap<object, SentNodeItems>();

/**
 * Where each `Nodes.items` element of a parsed body lies in the request bytes, when the scan could find
 * them. An element the memo knew is a stand-in in the parsed body (only `metadata.name`); its `known`
 * entry says what it is.
 */
export function sentNodeItems(body: object): SentNodeItems | undefined {
  return sentItems.get(body);
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object';

function nodeItemsOf(v: unknown): unknown {
  return isObject(v) && isObject(v['Nodes']) ? v['Nodes']['items'] : undefined;
}

/**
 * JSON.parse of the body, with each known element replaced by its stand-in: the text parsed has a `0` in
 * its place (a run of known elements, comma-separated, becomes `0,0,…`), and the stand-in object goes
 * where the 0 lands.
 * The result keeps `items` when every element is where the scan says (always, for a body that can pass
 * validation); otherwise the body is parsed whole and no stand-in is used. Throws what JSON.parse throws.
 */
function parseBody(body: Buffer, items: NodeItemSpans | undefined): { parsed: unknown; items?: NodeItemSpans } {
  if (!items?.known.some((k) => k !== undefined)) return { parsed: JSON.parse(body.toString('utf8')), items };
  const { spans, known } = items;
  const end = (i: number) => (spans[i] as readonly [number, number])[1];
  /** Whether elements i and i + 1 are both known and one comma apart, so `0,0` stands for both. */
  const runsOn = (i: number) =>
    known[i + 1] !== undefined && spans[i + 1]?.[0] === end(i) + 1 && body[end(i)] === COMMA;
  const parts: string[] = [];
  let from = 0;
  for (let i = 0; i < known.length; i++) {
    if (!known[i]) continue;
    let last = i;
    while (runsOn(last)) last++;
    parts.push(body.toString('utf8', from, spans[i]?.[0]), `0${',0'.repeat(last - i)}`);
    from = end(last);
    i = last;
  }
  parts.push(body.toString('utf8', from));
  const parsed: unknown = JSON.parse(parts.join(''));
  const list = nodeItemsOf(parsed);
  if (!Array.isArray(list) || list.length !== spans.length) return { parsed: JSON.parse(body.toString('utf8')) };
  known.forEach((k, i) => {
    if (k) list[i] = k.stub;
  });
  return { parsed, items };
}

export interface JsonBodyOptions {
  readonly maxDepth: number;
  /** Largest body in bytes. */
  readonly bodyLimit: number;
  /** Lets the parser skip Node items seen before (the verbs' parser). */
  readonly memo?: NodeItemMemo;
}

/** Registers the JSON parser on `app` (and its children). */
export function registerJsonBody(app: FastifyInstance, { maxDepth, bodyLimit, memo }: JsonBodyOptions): void {
  const secureParse = app.getDefaultJsonParser('error', 'error');
  const buffers = new BodyBuffers();
  buffers.register(app);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', (req, payload, done) => {
    readBody(req, payload, bodyLimit, buffers, (err, body) => {
      if (err || !body) {
        done(err, undefined);
        return;
      }
      const scan = scanJson(body, maxDepth, memo);
      if (scan.depth > maxDepth) {
        done(new ExtenderError('SMARTMIG_TOO_DEEP', `request body nests deeper than ${maxDepth} levels`), undefined);
        return;
      }
      if (scan.suspicious) {
        void secureParse(req, body.toString('utf8'), done);
        return;
      }
      let result: ReturnType<typeof parseBody>;
      try {
        result = parseBody(body, scan.items);
      } catch {
        // fastify's parser words the error (and handles an empty body) the way clients already see it.
        void secureParse(req, body.toString('utf8'), done);
        return;
      }
      const { parsed, items } = result;
      if (items && isObject(parsed)) sentItems.set(parsed, { body, ...items });
      done(null, parsed);
    });
  });
}
