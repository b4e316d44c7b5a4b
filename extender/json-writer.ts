// JSON replies of thousands of short entries (a name and a score or a reason per node), written as bytes
// into one buffer. Building the text as a string and encoding it cost twice as much at 5,000 nodes
// (fastify's serializer or JSON.stringify, then UTF-8 encoding of 100–200 KB); node names are almost
// always plain ASCII, which is copied character by character, and anything else goes through
// JSON.stringify, so the text is what JSON.stringify would write.

/** Whether the character needs no escape in a JSON string and is one byte in UTF-8. */
const plain = (c: number): boolean => c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c;

export class JsonWriter {
  private buf: Buffer;
  private at = 0;

  /**
   * `sizeHint`: the expected length in bytes; the buffer grows past it when needed. `alloc` gives each
   * buffer (at least the size asked for): the verbs lend large ones (LentBuffers, body-reader.ts).
   */
  constructor(
    sizeHint: number,
    private readonly alloc: (size: number) => Buffer = Buffer.allocUnsafe,
  ) {
    this.buf = alloc(Math.max(64, sizeHint));
  }

  /** Text that is JSON already and ASCII (punctuation, keys). */
  raw(ascii: string): this {
    this.room(ascii.length);
    for (let k = 0; k < ascii.length; k++) this.buf[this.at++] = ascii.charCodeAt(k);
    return this;
  }

  /** A JSON string literal of `s`. */
  string(s: string): this {
    this.room(s.length + 2);
    const start = this.at;
    this.buf[this.at++] = 0x22;
    for (let k = 0; k < s.length; k++) {
      const c = s.charCodeAt(k);
      if (!plain(c)) {
        this.at = start;
        const text = JSON.stringify(s);
        this.room(Buffer.byteLength(text));
        this.at += this.buf.write(text, this.at);
        return this;
      }
      this.buf[this.at++] = c;
    }
    this.buf[this.at++] = 0x22;
    return this;
  }

  /** Any value, as JSON.stringify writes it (UTF-8). */
  json(value: unknown): this {
    const text = JSON.stringify(value);
    this.room(Buffer.byteLength(text));
    this.at += this.buf.write(text, this.at);
    return this;
  }

  /** Bytes [start, end) of `src`, which are JSON text already (e.g. a plain name and its quotes). */
  span(src: Uint8Array, start: number, end: number): this {
    this.room(end - start);
    const buf = this.buf;
    let at = this.at;
    for (let k = start; k < end; k++) buf[at++] = src[k] as number;
    this.at = at;
    return this;
  }

  /** A finite number (a score). */
  number(n: number): this {
    // Scores are 0..10: their digits without a string each.
    if (n >= 0 && n < 10 && Number.isInteger(n)) {
      this.room(1);
      this.buf[this.at++] = 0x30 + n;
      return this;
    }
    return this.raw(String(n));
  }

  /** Bytes written so far. */
  get length(): number {
    return this.at;
  }

  /** The text written so far (a view of the buffer, not a copy). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.at);
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = this.alloc(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }
}
