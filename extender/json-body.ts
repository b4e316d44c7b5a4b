// JSON bodies, read as bytes. One pass over them, before parsing, does four things:
//   - measures nesting depth, so deeply nested bodies get a clear 400;
//   - spots `__proto__` and `constructor` keys, and looks only in those rare bodies for the keys that
//     could change object prototypes (`__proto__`, `constructor.prototype`, which fastify's secure parser
//     refuses too), so the common case pays for one plain JSON.parse, not two extra regular-expression
//     scans of a body that can be megabytes long;
//   - records where each element of `Nodes.items` starts and ends, so filter can answer a full Node list
//     by copying bytes of the request instead of serialising a thousand Node objects again;
//   - with a NodeItemMemo (the verbs' parser), jumps over each element that is byte for byte an item
//     parsed and validated before; JSON.parse then reads a 0 in its place, and the parsed body gets the
//     memo's stand-in for it (node-items.ts);
//   - for the verbs' parser, reads a top-level `NodeNames` array of plain names through a NameListMemo
//     (a list seen lately is one comparison; another is read in a tight loop of its own); JSON.parse then
//     reads `[]` in its place, and the verbs take the names from the list's bytes (node-names.ts).
// A 5 MB body of Node objects it has not seen takes about 7 ms (JSON.parse of it about 14 ms).
import type { FastifyInstance } from 'fastify';
import { LentBuffers, readBody } from './body-reader.js';
import { ExtenderError } from './errors.js';
import type { KnownItem, NodeItemMemo } from './node-items.js';
import type { NameList, NameListMemo } from './node-names.js';
import { MAX_NODES } from './schemas.js';

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
  /** The top-level `NodeNames` array, when asked for and every element is a plain name (node-names.ts). */
  readonly names?: NamesAt;
}

/** A NodeNames list read from the bytes, and where its `[` and `]` are. */
export interface NamesAt {
  readonly list: NameList;
  readonly open: number;
  readonly close: number;
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
  private seenNames = 0;
  private nameList?: NamesAt;
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
      else if (key === 'NodeNames') this.seenNames++;
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

  /** The value of the top-level NodeNames key: an array whose `[` is at `at`. */
  atNames(depth: number): boolean {
    return depth === 1 && this.key1 === 'NodeNames';
  }

  /** The top-level NodeNames array, read whole (node-names.ts). */
  names(at: NamesAt): void {
    this.nameList = at;
  }

  nodeNames(): NamesAt | undefined {
    // With the key twice, JSON.parse keeps the last one; the list read may be the other.
    return this.seenNames === 1 ? this.nameList : undefined;
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
 * keeps items of bodies that had none). With `names`, a top-level NodeNames array of plain names is read
 * in one go (node-names.ts; it holds strings only: one level deep, no keys).
 */
export function scanJson(
  text: Buffer | string,
  maxDepth = Infinity,
  memo?: NodeItemMemo,
  names?: NameListMemo,
): JsonScan {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  let depth = 0;
  let max = 0;
  const t = new Tracker();
  const n = bytes.length;
  let read: ReturnType<NameListMemo['read']>;
  for (let i = 0; i < n; i++) {
    const c = bytes[i];
    if (c === QUOTE) {
      const end = stringEnd(bytes, i);
      if (t.wants(bytes, i, end, depth)) t.key(keyText(bytes, i, end), depth);
      i = end;
    } else if (c === OPEN_ARR && names && t.atNames(depth) && (read = names.read(bytes, i, MAX_NODES))) {
      t.names({ list: read.list, open: i, close: read.close });
      if (depth + 1 > max && (max = depth + 1) > maxDepth) return { depth: max, suspicious: t.suspicious };
      i = read.close;
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
  return { depth: max, suspicious: t.suspicious, items: t.items(), names: t.nodeNames() };
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

const sentNames = new WeakMap<object, NameList>();

/**
 * The names of a parsed body's NodeNames as the request bytes hold them, when the parser read them there
 * (node-names.ts); the parsed body then has an empty NodeNames array in their place.
 */
export function sentNodeNames(body: object): NameList | undefined {
  return sentNames.get(body);
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object';

function nodeItemsOf(v: unknown): unknown {
  return isObject(v) && isObject(v['Nodes']) ? v['Nodes']['items'] : undefined;
}

/** Parts of the body parsed as other text: [start, end) of the bytes and what JSON.parse reads there. */
type Cut = readonly [number, number, string];

/** The runs of known elements, each as `0,0,…` (one 0 per element, where they are one comma apart). */
function itemCuts(body: Buffer, { spans, known }: NodeItemSpans, cuts: Cut[]): void {
  const end = (i: number) => (spans[i] as readonly [number, number])[1];
  /** Whether elements i and i + 1 are both known and one comma apart, so `0,0` stands for both. */
  const runsOn = (i: number) =>
    known[i + 1] !== undefined && spans[i + 1]?.[0] === end(i) + 1 && body[end(i)] === COMMA;
  for (let i = 0; i < known.length; i++) {
    if (!known[i]) continue;
    let last = i;
    while (runsOn(last)) last++;
    cuts.push([(spans[i] as readonly [number, number])[0], end(last), `0${',0'.repeat(last - i)}`]);
    i = last;
  }
}

interface Parsed {
  readonly parsed: unknown;
  readonly items?: NodeItemSpans;
  readonly names?: NamesAt;
}

/**
 * JSON.parse of the body, with each known element replaced by its stand-in and a NodeNames list read by
 * the scan left out: the text parsed has a `0` in place of each known element (a run of known elements,
 * comma-separated, becomes `0,0,…`), and the stand-in object goes where the 0 lands; it has `[]` in place
 * of the names. The result keeps `items` and `names` when the parsed body has them where the scan says
 * (always, for a body that can pass validation); otherwise the body is parsed whole, with no stand-in and
 * the names as JSON.parse reads them. Throws what JSON.parse throws.
 */
function parseBody(body: Buffer, scan: JsonScan): Parsed {
  const { items, names } = scan;
  const cuts: Cut[] = [];
  if (items) itemCuts(body, items, cuts);
  if (names) cuts.push([names.open, names.close + 1, '[]']);
  if (cuts.length === 0) return { parsed: JSON.parse(body.toString('utf8')), items };
  cuts.sort((a, b) => a[0] - b[0]);
  const parts: string[] = [];
  let from = 0;
  for (const [start, end, text] of cuts) {
    parts.push(body.toString('utf8', from, start), text);
    from = end;
  }
  parts.push(body.toString('utf8', from));
  const parsed: unknown = JSON.parse(parts.join(''));
  const list = nodeItemsOf(parsed);
  const itemsHere =
    !items?.known.some((k) => k !== undefined) || (Array.isArray(list) && list.length === items.spans.length);
  const namesHere =
    !names || (isObject(parsed) && Array.isArray(parsed['NodeNames']) && parsed['NodeNames'].length === 0);
  if (!itemsHere || !namesHere) return { parsed: JSON.parse(body.toString('utf8')) };
  if (items && Array.isArray(list)) {
    items.known.forEach((k, i) => {
      if (k) list[i] = k.stub;
    });
  }
  return { parsed, items, names };
}

/** Where a parsed body holds a key that could change object prototypes, as secure-json-parse looks for them. */
export function forbiddenKey(value: unknown): { key: string; path: string } | undefined {
  const stack: [unknown, string][] = [[value, '']];
  const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);
  for (let top = stack.pop(); top; top = stack.pop()) {
    const [v, path] = top;
    if (!isObject(v)) continue;
    const at = (k: string) => (Array.isArray(v) ? `${path}[${k}]` : path ? `${path}.${k}` : k);
    if (own(v, '__proto__')) return { key: '__proto__', path: at('__proto__') };
    const ctor = own(v, 'constructor') ? v['constructor'] : undefined;
    if (isObject(ctor) && own(ctor, 'prototype'))
      return { key: 'constructor.prototype', path: `${at('constructor')}.prototype` };
    for (const k of Object.keys(v).reverse()) stack.push([v[k], at(k)]);
  }
  return undefined;
}

/**
 * A body with a `__proto__` or `constructor` key somewhere: refused with SMARTMIG_FORBIDDEN_KEY when the
 * key could change a prototype, else parsed as any other. Text that is not JSON goes to fastify's parser,
 * which words that error as clients know it.
 */
function suspiciousBody(
  text: string,
  notJson: (text: string) => void,
  done: (err: Error | null, body?: unknown) => void,
): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    notJson(text);
    return;
  }
  const bad = forbiddenKey(parsed);
  if (!bad) {
    done(null, parsed);
    return;
  }
  const why = `request body contains the forbidden key ${bad.key} (at ${bad.path}), which could change object prototypes`;
  done(new ExtenderError('SMARTMIG_FORBIDDEN_KEY', why), undefined);
}

export interface JsonBodyOptions {
  readonly maxDepth: number;
  /** Largest body in bytes. */
  readonly bodyLimit: number;
  /** Lets the parser skip Node items seen before (the verbs' parser). */
  readonly memo?: NodeItemMemo;
  /** Reads a NodeNames list of plain names from the bytes (the verbs' parser; `sentNodeNames`). */
  readonly names?: NameListMemo;
}

/**
 * Registers the JSON parser on `app` (and its children). Returns the buffers it reads bodies into, which
 * routes may borrow for their replies too (taken back once the response is written).
 */
export function registerJsonBody(app: FastifyInstance, options: JsonBodyOptions): LentBuffers {
  const { maxDepth, bodyLimit, memo, names } = options;
  const secureParse = app.getDefaultJsonParser('error', 'error');
  const buffers = new LentBuffers();
  buffers.register(app);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', (req, payload, done) => {
    readBody(req, payload, bodyLimit, buffers, (err, body) => {
      if (err || !body) {
        done(err, undefined);
        return;
      }
      const scan = scanJson(body, maxDepth, memo, names);
      if (scan.depth > maxDepth) {
        done(new ExtenderError('SMARTMIG_TOO_DEEP', `request body nests deeper than ${maxDepth} levels`), undefined);
        return;
      }
      if (scan.suspicious) {
        suspiciousBody(body.toString('utf8'), (text) => void secureParse(req, text, done), done);
        return;
      }
      let result: ReturnType<typeof parseBody>;
      try {
        result = parseBody(body, scan);
      } catch {
        // fastify's parser words the error (and handles an empty body) the way clients already see it.
        void secureParse(req, body.toString('utf8'), done);
        return;
      }
      const { parsed, items, names: list } = result;
      if (items && isObject(parsed)) sentItems.set(parsed, { body, ...items });
      if (list && isObject(parsed)) sentNames.set(parsed, list.list);
      done(null, parsed);
    });
  });
  return buffers;
}
