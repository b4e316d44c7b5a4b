import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FreeSlices } from '../../../policy/placement/free-slices.js';
import { EventQueue } from '../../../policy/sim/event-queue.js';

describe('EventQueue', () => {
  it('pops by time, then priority, then insertion order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 2 })), { maxLength: 200 }),
        (items) => {
          const q = new EventQueue<number>();
          items.forEach(([t, p], i) => q.push(t, p, i));
          const expected = items.map(([t, p], i) => ({ t, p, i })).sort((a, b) => a.t - b.t || a.p - b.p || a.i - b.i);
          const got: number[] = [];
          for (let e = q.pop(); e; e = q.pop()) got.push(e.value);
          expect(got).toEqual(expected.map((e) => e.i));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('FreeSlices', () => {
  it('best() is a slice of the highest rank, and counts stay consistent under random add/remove', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 4 })), {
          maxLength: 300,
        }),
        (ops) => {
          const free = new FreeSlices();
          const model = new Map<number, { size: number; rank: number }>();
          for (const [add, id, rank] of ops) {
            const size = (id % 3) + 1;
            if (add && !model.has(id)) {
              free.add(id, size, rank);
              model.set(id, { size, rank });
            } else if (!add && model.has(id)) {
              const m = model.get(id)!;
              free.remove(id, m.size, m.rank);
              model.delete(id);
            }
          }
          expect(free.total).toBe(model.size);
          for (const size of [1, 2, 3]) {
            const ofSize = [...model.entries()].filter(([, m]) => m.size === size);
            const best = free.best(size);
            if (ofSize.length === 0) expect(best).toBe(-1);
            else expect(model.get(best)!.rank).toBe(Math.max(...ofSize.map(([, m]) => m.rank)));
          }
          expect(free.all().sort((a, b) => a - b)).toEqual([...model.keys()].sort((a, b) => a - b));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses to remove a slice that is not free', () => {
    const free = new FreeSlices();
    free.add(1, 1, 0);
    expect(() => free.remove(2, 1, 0)).toThrow(/not free/);
  });
});
