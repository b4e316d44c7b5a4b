// `npm run fuzz`: sends 100,000 generated hostile requests (test/support/extender-fuzz.ts) to every route of
// the extender and its admission webhook, and prints what came back: status codes per route, crashes
// (a thrown handler, a 5xx, or a refusal without a JSON code and message) and throughput. Exits 1 on any
// crash. `npm run fuzz -- --runs 20000 --seed 7` for another size or seed.
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { hostileRequest, json, ROUTES, send, VALID } from '../support/extender-fuzz.js';

const { values } = parseArgs({ options: { runs: { type: 'string' }, seed: { type: 'string' } } });
const runs = Number(values.runs ?? 100_000);
const seed = Number(values.seed ?? 20_261_206);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: a positive integer, got ${values.runs}`);
if (!Number.isInteger(seed)) throw new Error(`--seed: an integer, got ${values.seed}`);

const byRoute = new Map<string, Map<number, number>>();
const crashes: string[] = [];
const started = process.hrtime.bigint();
let done = 0;
for (const r of fc.sample(hostileRequest, { numRuns: runs, seed })) {
  let status = 0;
  try {
    const res = await send(r);
    status = res.statusCode;
    if (status >= 500) crashes.push(`${r.url} answered ${status}: ${res.body.slice(0, 200)}`);
    else if (status >= 400) {
      const body = res.json<{ code?: unknown; message?: unknown }>();
      if (typeof body.code !== 'string' || typeof body.message !== 'string')
        crashes.push(`${r.url} refused ${status} without a code and message: ${res.body.slice(0, 200)}`);
    }
  } catch (err) {
    crashes.push(`${r.url} threw: ${String(err)}`);
  }
  const counts = byRoute.get(r.url) ?? new Map<number, number>();
  counts.set(status, (counts.get(status) ?? 0) + 1);
  byRoute.set(r.url, counts);
  if (++done % 10_000 === 0) process.stderr.write(`  ${done}/${runs} requests\n`);
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
let goodAfter = 0;
for (const url of ROUTES) if ((await send(json(url, VALID[url]))).statusCode === 200) goodAfter++;

console.log(`fuzz: ${runs} hostile requests, seed ${seed}, ${seconds.toFixed(1)} s (${Math.round(runs / seconds)}/s)`);
console.log('route                   requests  status codes');
for (const [url, counts] of [...byRoute].sort()) {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const codes = [...counts].sort(([a], [b]) => a - b).map(([c, n]) => `${c}: ${n}`);
  console.log(`${url.padEnd(22)}  ${String(total).padStart(8)}  ${codes.join(', ')}`);
}
console.log(`crashes (5xx, throws, refusals without code): ${crashes.length}`);
console.log(`good requests answered 200 afterwards: ${goodAfter}/${ROUTES.length}`);
for (const c of crashes.slice(0, 20)) console.log(`  ${c}`);
process.exitCode = crashes.length === 0 && goodAfter === ROUTES.length ? 0 : 1;
