// JSON bodies: a nesting-depth check on the raw text before parsing, then fastify's own parser (which
// also refuses __proto__ and constructor.prototype keys). The check is a single pass over the text, so
// a hostile body costs no more than its length. Depth matters because replies serialise Node objects
// back with JSON.stringify, which recurses.
import type { FastifyInstance } from 'fastify';
import { ExtenderError } from './errors.js';

const OPEN_OBJ = 0x7b;
const OPEN_ARR = 0x5b;
const CLOSE_OBJ = 0x7d;
const CLOSE_ARR = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The deepest nesting of objects and arrays in JSON text (brackets inside strings do not count). */
export function jsonDepth(text: string, stopAbove = Infinity): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = stringEnd(text, i);
    } else if (c === OPEN_OBJ || c === OPEN_ARR) {
      if (++depth > max) {
        max = depth;
        if (max > stopAbove) return max;
      }
    } else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
      depth--;
    }
  }
  return max;
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

export function registerJsonBody(app: FastifyInstance, maxDepth: number): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body as string;
    if (jsonDepth(text, maxDepth) > maxDepth) {
      done(new ExtenderError('SMARTMIG_TOO_DEEP', `request body nests deeper than ${maxDepth} levels`), undefined);
      return;
    }
    void parse(req, text, done);
  });
}
