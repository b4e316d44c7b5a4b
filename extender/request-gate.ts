// A limit on the scheduling and webhook requests in flight, by count and by body bytes, checked when a
// request's headers arrive (before its body is read). Past either limit the request is answered 503 with
// a reason and Retry-After: kube-scheduler retries the pod, the API server applies the webhook's
// failurePolicy. Probes and /metrics never count, so /healthz answers while the verbs are saturated.

export interface GateLimits {
  /** Requests in flight at once. */
  readonly maxInflight: number;
  /** Sum of the bodies in flight, as declared (Content-Length), or the body limit for a chunked body. */
  readonly maxInflightBytes: number;
}

export class RequestGate {
  private count = 0;
  private bytes = 0;
  private readonly held = new WeakMap<object, number>();

  constructor(private readonly limits: GateLimits) {}

  get inflight(): { readonly count: number; readonly bytes: number } {
    return { count: this.count, bytes: this.bytes };
  }

  /** Admits `req` with a body of `bytes`, or says why not. A body larger than the whole budget still
   * passes when nothing else is in flight, so the body limit, not this, decides what is too large. */
  enter(req: object, bytes: number): string | undefined {
    const { maxInflight, maxInflightBytes } = this.limits;
    if (this.count >= maxInflight) {
      return `${this.count} requests in flight, the most this extender serves at once (maxInflight ${maxInflight}); retry`;
    }
    if (this.count > 0 && this.bytes + bytes > maxInflightBytes) {
      return (
        `${this.bytes} body bytes in flight; this ${bytes}-byte request would pass the limit of ` +
        `${maxInflightBytes} (maxInflightBytes); retry`
      );
    }
    this.count++;
    this.bytes += bytes;
    this.held.set(req, bytes);
    return undefined;
  }

  /** Lets `req` go; calling it again, or for a request never admitted, does nothing. */
  leave(req: object): void {
    const bytes = this.held.get(req);
    if (bytes === undefined) return;
    this.held.delete(req);
    this.count--;
    this.bytes -= bytes;
  }
}
