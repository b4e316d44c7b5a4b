// The Retry-After an API server sends with a 429 (API Priority and Fairness) or 503, for every adapter.
import { ApiException } from '@kubernetes/client-node';

/** The Retry-After of a refused call in ms (seconds form only, as kube-apiserver sends it); undefined if none. */
export function retryAfterHeaderMs(err: unknown): number | undefined {
  if (!(err instanceof ApiException)) return undefined;
  const headers = (err.headers ?? {}) as Record<string, string>;
  const header = Object.entries(headers).find(([k]) => k.toLowerCase() === 'retry-after')?.[1];
  const seconds = header === undefined ? NaN : Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}
