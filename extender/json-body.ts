// JSON bodies. One pass over the raw text, before parsing, does three things:
//   - measures nesting depth, so deeply nested bodies get a clear 400;
//   - spots `__proto__` and `constructor` keys, and sends only those rare bodies through fastify's own
//     secure parser (which refuses them), so the common case pays for one plain JSON.parse, not two
//     extra regular-expression scans of a body that can be megabytes long;
//   - records where each element of `Nodes.items` starts and ends, so filter can answer a full Node list
//     by slicing the request text instead of serialising a thousand Node objects again.
// The pass skips strings with indexOf, so it costs a few milliseconds for a 5 MB body.
import type { FastifyInstance } from 'fastify';
import { ExtenderError } from './errors.js';

const OPEN_OBJ = 0x7b;
const OPEN_ARR = 0x5b;
const CLOSE_OBJ = 0x7d;
const CLOSE_ARR = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

export interface JsonScan {
  readonly depth: number;
  /** A `__proto__` or `constructor` key somewhere. */
  readonly suspicious: boolean;
  /** [start, end) of each element of the top-level `Nodes.items`, or undefined when absent or ambiguous. */
  readonly items?: readonly (readonly [number, number])[];
}

/**
 * Index of the quote that closes the string opened at `open` (or the end of the text). Strings are most of
 * a Node object's bytes; indexOf skips them natively instead of a character at a time.
 */
function stringEnd(text: string, open: number): number {
  let q = open;
  for (;;) {
    q = text.indexOf('"', q + 1);
    if (q < 0) return text.length;
    let backslashes = 0;
    while (text.charCodeAt(q - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return q;
  }
}

/** The character after position `i` that is not JSON whitespace. */
function nextSignificant(text: string, i: number): number {
  let j = i + 1;
  for (;;) {
    const c = text.charCodeAt(j);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return c;
    j++;
  }
}

function hasEscape(text: string, open: number, close: number): boolean {
  for (let k = open + 1; k < close; k++) if (text.charCodeAt(k) === BACKSLASH) return true;
  return false;
}

function keyText(text: string, open: number, close: number): string {
  const raw = text.slice(open + 1, close);
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(text.slice(open, close + 1)) as string;
  } catch {
    return raw;
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
  private start = -1;

  /** Whether the string at [open, close] needs reading as a key: only short keys can matter. */
  wants(text: string, open: number, close: number, depth: number): boolean {
    const len = close - open - 1;
    if (len > SUSPICIOUS_LENGTH) return false;
    // Depths 1 and 2 hold Nodes and items; elsewhere only 9 or 11 characters (or escapes) can spell
    // __proto__ or constructor.
    if (depth > 2 && len !== 9 && len !== 11 && !hasEscape(text, open, close)) return false;
    return nextSignificant(text, close) === COLON;
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
  private inItems(depth: number): boolean {
    return depth === 3 && this.key1 === 'Nodes' && this.key2 === 'items';
  }

  open(at: number, depthBefore: number): void {
    if (this.inItems(depthBefore)) this.start = at;
  }

  close(at: number, depthAfter: number): void {
    if (this.start >= 0 && this.inItems(depthAfter)) {
      this.spans.push([this.start, at + 1]);
      this.start = -1;
    }
  }

  items(): readonly (readonly [number, number])[] | undefined {
    // Duplicate keys would make the spans disagree with what JSON.parse keeps (the last one).
    return this.seenNodes === 1 && this.seenItems === 1 ? this.spans : undefined;
  }
}

export function scanJson(text: string, maxDepth = Infinity): JsonScan {
  let depth = 0;
  let max = 0;
  const t = new Tracker();
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (t.wants(text, i, end, depth)) t.key(keyText(text, i, end), depth);
      i = end;
    } else if (c === OPEN_OBJ || c === OPEN_ARR) {
      t.open(i, depth);
      if (++depth > max && (max = depth) > maxDepth) return { depth: max, suspicious: t.suspicious };
    } else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
      t.close(i, --depth);
    }
  }
  return { depth: max, suspicious: t.suspicious, items: t.items() };
}

/** The deepest nesting of objects and arrays in JSON text (brackets inside strings do not count). */
export function jsonDepth(text: string, stopAbove = Infinity): number {
  return scanJson(text, stopAbove).depth;
}

interface RawItems {
  readonly text: string;
  readonly spans: readonly (readonly [number, number])[];
}

const rawItems = new WeakMap<object, RawItems>();

/** The request text of each `Nodes.items` element of a parsed body, when the scan could find them. */
export function rawNodeItems(body: object): readonly string[] | undefined {
  const raw = rawItems.get(body);
  return raw?.spans.map(([a, b]) => raw.text.slice(a, b));
}

export function registerJsonBody(app: FastifyInstance, maxDepth: number): void {
  const secureParse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body as string;
    const scan = scanJson(text, maxDepth);
    if (scan.depth > maxDepth) {
      done(new ExtenderError('SMARTMIG_TOO_DEEP', `request body nests deeper than ${maxDepth} levels`), undefined);
      return;
    }
    if (scan.suspicious) {
      void secureParse(req, text, done);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // fastify's parser words the error (and handles an empty body) the way clients already see it.
      void secureParse(req, text, done);
      return;
    }
    if (scan.items && parsed !== null && typeof parsed === 'object') rawItems.set(parsed, { text, spans: scan.items });
    done(null, parsed);
  });
}
