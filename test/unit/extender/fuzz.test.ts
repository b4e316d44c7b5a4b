// Fuzzing every route with fast-check (test/support/extender-fuzz.ts): whatever arrives, the extender answers
// below 500 with a JSON error that has a code and a message, and still answers good requests afterwards.
// A seeded 10,000 here; `npm run fuzz` sends 100,000.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hostileRequest, json, ROUTES, send, VALID } from '../../support/extender-fuzz.js';

const RUNS = 10_000;

describe('fuzzing the extender', () => {
  it(`answers ${RUNS} hostile requests below 500, with a JSON error for every refusal`, async () => {
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(hostileRequest, async (r) => {
        const res = await send(r);
        expect(res.statusCode).toBeLessThan(500);
        if (res.statusCode >= 400) {
          refused++;
          const body = res.json<{ code: unknown; message: unknown }>();
          expect(typeof body.code).toBe('string');
          expect(typeof body.message).toBe('string');
        }
      }),
      { numRuns: RUNS, seed: 20_260_101 },
    );
    // The mix is hostile but not only that: plenty of requests are valid enough to be answered.
    expect(refused).toBeGreaterThan(RUNS / 4);
    expect(refused).toBeLessThan(RUNS);
    for (const url of ROUTES) expect((await send(json(url, VALID[url]))).statusCode).toBe(200);
  }, 300_000);
});
