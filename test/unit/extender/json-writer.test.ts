// The byte writer behind the filter and prioritize replies must write what JSON.stringify writes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonWriter } from '../../../extender/json-writer.js';

describe('JsonWriter', () => {
  it('writes any string as JSON.stringify does, growing past its size hint', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('a"b', 'c\\d', '\ud800', 'é\n'))),
        (xs) => {
          const w = new JsonWriter(1).raw('[');
          xs.forEach((s, i) => (i > 0 ? w.raw(',') : w).string(s));
          expect(w.raw(']').bytes().toString('utf8')).toBe(JSON.stringify(xs));
        },
      ),
      { numRuns: 500, seed: 3 },
    );
  });

  it('writes any value as JSON.stringify does, in UTF-8', () => {
    const value = { items: [{ metadata: { name: 'gpu-1', labels: { zone: 'zürich-1', note: '☃ "q"' } } }] };
    expect(new JsonWriter(1).raw('[').json(value).raw(']').bytes().toString('utf8')).toBe(`[${JSON.stringify(value)}]`);
  });

  it('writes numbers as JSON does', () => {
    const w = new JsonWriter(4);
    [0, 7, 10].forEach((n, i) => (i > 0 ? w.raw(',') : w).number(n));
    expect(w.bytes().toString()).toBe('0,7,10');
  });

  it('takes every buffer from the allocator it is given, larger and dirty ones too', () => {
    const sizes: number[] = [];
    // A lent buffer may be larger than asked for and hold an earlier reply's bytes.
    const alloc = (size: number) => (sizes.push(size), Buffer.alloc(size + 7, 0x78));
    const names = Array.from({ length: 50 }, (_, i) => `gpu-node-${i}`);
    const w = new JsonWriter(64, alloc).raw('[');
    names.forEach((n, i) => (i > 0 ? w.raw(',') : w).string(n));
    expect(w.raw(']').bytes().toString()).toBe(JSON.stringify(names));
    expect(sizes[0]).toBe(64);
    expect(sizes.length).toBeGreaterThan(1);
  });
});
