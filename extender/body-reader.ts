// Reading request bodies into one buffer, as fastify's `parseAs: 'buffer'` does, but into a buffer that
// grows towards Content-Length as bytes arrive and, for large bodies, is reused from request to request.
// A full Node list is about 5 MB: fastify would keep its socket chunks until the end and then concatenate
// them, so each such request left some 10 MB of short-lived off-heap memory, and V8 answers off-heap churn
// with frequent scavenges that promote the chunks still in use, then with full mark-compacts. Here each
// chunk is copied into place as it arrives and dies young, and the large buffers are handed back once the
// response is written (the filter reply points into the body).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errorCodes } from 'fastify';

/** Bodies at least this large are read into reused buffers; smaller ones get a buffer of their own. */
const POOLED_FROM = 64 * 1024;
/** A body's first buffer, before it grows with the bytes that arrive. */
const FIRST_BYTES = 64 * 1024;
/** At most this many bytes of idle buffers are kept for the next requests. */
const IDLE_BYTES = 16 * 1024 * 1024;

/**
 * Large buffers, lent to one request each and taken back when its response has been written: request
 * bodies, and the replies written for them (prioritize's HostPriorityList of 5,000 names is 200 KB, and a
 * fresh one per request made V8 collect for off-heap pressure every few dozen requests). A request may
 * hold several.
 */
export class LentBuffers {
  private readonly idle: Buffer[] = [];
  private readonly lent = new WeakMap<object, Buffer[]>();

  /** A buffer of at least `size` bytes for `req` (its body, or its reply). */
  acquire(req: object, size: number): Buffer {
    if (size < POOLED_FROM) return Buffer.allocUnsafe(size);
    const i = this.idle.findIndex((b) => b.length >= size);
    const buf = i >= 0 ? (this.idle.splice(i, 1)[0] as Buffer) : Buffer.allocUnsafeSlow(size);
    const held = this.lent.get(req);
    if (held) held.push(buf);
    else this.lent.set(req, [buf]);
    return buf;
  }

  /**
   * Takes back `req`'s buffers, once nothing reads them any more: its response has been written. (A
   * request whose response never finishes keeps its buffers, which are then garbage like any other.)
   */
  release(req: object): void {
    const held = this.lent.get(req);
    if (!held) return;
    this.lent.delete(req);
    this.idle.push(...held);
    this.idle.sort((a, b) => a.length - b.length);
    let bytes = this.idle.reduce((n, b) => n + b.length, 0);
    while (bytes > IDLE_BYTES && this.idle.length > 0) bytes -= (this.idle.pop() as Buffer).length;
  }

  /** Hands buffers back after each response of `app`'s routes. */
  register(app: FastifyInstance): void {
    app.addHook('onResponse', (req, _reply, done) => {
      this.release(req);
      done();
    });
  }
}

type Done = (err: Error | null, body?: Buffer) => void;

/**
 * Reads `payload` (the request's body stream) with fastify's checks and errors: over `limit` bytes is
 * FST_ERR_CTP_BODY_TOO_LARGE, a length that differs from Content-Length FST_ERR_CTP_INVALID_CONTENT_LENGTH,
 * a stream error a 400.
 */
export function readBody(
  req: FastifyRequest,
  payload: NodeJS.ReadableStream,
  limit: number,
  buffers: LentBuffers,
  done: Done,
): void {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
    return;
  }
  // Without a Content-Length (chunked encoding), chunks are kept and joined at the end. With one, the
  // buffer grows with the bytes that arrive (doubling, up to the declared length), never ahead of them:
  // a client that declares 32 MiB and sends nothing costs nothing.
  const sized = Number.isSafeInteger(declared) && declared >= 0;
  let body: Buffer | undefined = sized ? buffers.acquire(req, Math.min(declared, FIRST_BYTES)) : undefined;
  const chunks: Buffer[] = [];
  let received = 0;

  const onData = (chunk: Buffer | string): void => {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (received + b.length > limit) {
      stop();
      done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      return;
    }
    if (body && received + b.length <= declared) {
      if (received + b.length > body.length) {
        const grown = buffers.acquire(req, Math.min(declared, Math.max(2 * body.length, received + b.length)));
        body.copy(grown, 0, 0, received);
        body = grown;
      }
      b.copy(body, received);
    } else {
      if (body) chunks.push(body.subarray(0, received));
      body = undefined;
      chunks.push(b);
    }
    received += b.length;
  };
  const onEnd = (err?: Error & { statusCode?: number }): void => {
    stop();
    if (err) {
      if (!(typeof err.statusCode === 'number' && err.statusCode >= 400)) err.statusCode = 400;
      done(err);
      return;
    }
    if (!Number.isNaN(declared) && received !== declared) {
      done(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
      return;
    }
    done(null, body ? body.subarray(0, received) : Buffer.concat(chunks, received));
  };
  const stop = (): void => {
    payload.removeListener('data', onData);
    payload.removeListener('end', onEnd);
    payload.removeListener('error', onEnd);
  };
  payload.on('data', onData);
  payload.on('end', onEnd);
  payload.on('error', onEnd);
  payload.resume();
}
