import { describe, expect, it } from 'vitest';
import { A100_40GB_WATTS } from '../../../policy/energy/power.js';
import { cedfClass } from '../../../policy/placement/cedf-class.js';
import { FreeSlices } from '../../../policy/placement/free-slices.js';
import { placementHeuristic, type PlacementContext } from '../../../policy/placement/heuristics.js';
import { createRng } from '../../../policy/random.js';
import { PAPER_PROFILES, ProfileBook, type Job } from '../../../policy/workload/job.js';

const book = new ProfileBook();
const mk = (over: Partial<Job>): Job => ({
  id: 0,
  release: 0,
  deadline: 10,
  work: 7,
  profile: 'bert-inference',
  kind: 'inference',
  ...over,
});

/** Free slices: [slice id, size, busy compute of its GPU, index of its GPU (default 0)]. */
function setup(slices: [number, number, number, number?][], rank: (busy: number) => number = (b) => b) {
  const free = new FreeSlices();
  const busy = new Map<number, number>();
  const gpu = new Map<number, number>();
  for (const [id, size, b, g] of slices) {
    free.add(id, size, rank(b));
    busy.set(id, b);
    gpu.set(id, g ?? 0);
  }
  const ctx: PlacementContext = {
    now: 0,
    duration: (j, k) => book.duration(j, k),
    busyOf: (s) => busy.get(s) ?? 0,
    gpuOf: (s) => gpu.get(s) ?? 0,
    watts: (_slice, b) => A100_40GB_WATTS[Math.min(7, b)]!,
    etWeight: 0.19e-6,
    rng: createRng(1),
  };
  return { free, ctx };
}

describe('CEDF classes (docs/model.md §5)', () => {
  it.each([
    ['bert-training', 1],
    ['resnet-training', 2],
    ['bert-inference', 1],
    ['resnet-inference', 1],
  ])('%s is class %i', (name, cls) => {
    expect(cedfClass(PAPER_PROFILES.find((p) => p.name === name)!)).toBe(cls);
  });
  it('a job that runs as fast on 1g as on 7g is class 4', () => {
    expect(cedfClass({ name: 'flat', kind: 'inference', speedup: { 1: 1, 7: 1.1 } })).toBe(4);
  });
});

describe('slowest on-time slice (EDF most-packed, CEDF)', () => {
  const h = placementHeuristic('edf-most-packed', book);
  const cases: { name: string; job: Partial<Job>; slices: [number, number, number][]; want: number }[] = [
    {
      name: 'smallest slice meeting the deadline',
      job: { work: 7, deadline: 4 },
      slices: [
        [1, 1, 0],
        [2, 2, 0],
        [3, 7, 0],
      ],
      want: 2,
    },
    {
      name: 'exactly on time counts as meeting it',
      job: { work: 7, deadline: 3.5 },
      slices: [
        [1, 1, 0],
        [2, 2, 0],
      ],
      want: 2,
    },
    {
      name: 'none meets: the one that finishes earliest',
      job: { work: 70, deadline: 1 },
      slices: [
        [1, 1, 0],
        [2, 3, 0],
        [3, 4, 0],
      ],
      want: 3,
    },
    {
      name: 'ties between GPUs go to the most packed',
      job: { work: 7, deadline: 8 },
      slices: [
        [1, 1, 0],
        [2, 1, 5],
      ],
      want: 2,
    },
    {
      name: 'minCompute excludes small slices',
      job: { work: 7, deadline: 8, minCompute: 3 },
      slices: [
        [1, 1, 0],
        [2, 3, 0],
      ],
      want: 2,
    },
    {
      name: 'nothing fits: waits',
      job: { minCompute: 4 },
      slices: [
        [1, 1, 0],
        [2, 3, 0],
      ],
      want: -1,
    },
  ];
  it.each(cases)('$name', ({ job, slices, want }) => {
    const { free, ctx } = setup(slices);
    expect(h.choose(mk(job), free, ctx)).toBe(want);
  });
});

describe('marginal-ET', () => {
  const h = placementHeuristic('marginal-et', book);
  it('prefers the on-time slice with the least marginal energy, here the 7g (linear speed-up, concave power)', () => {
    const { free, ctx } = setup([
      [1, 1, 0],
      [2, 7, 0],
    ]);
    expect(h.choose(mk({ work: 7, deadline: 100 }), free, ctx)).toBe(2);
  });
  it('prefers a busy GPU: adding a slice to it costs less than waking an idle one', () => {
    const { free, ctx } = setup([
      [1, 1, 0],
      [2, 1, 3],
    ]);
    expect(h.choose(mk({ work: 1, deadline: 100 }), free, ctx)).toBe(2);
  });
  it('tardiness outweighs energy', () => {
    const { free, ctx } = setup([
      [1, 1, 6],
      [2, 7, 0],
    ]);
    expect(h.choose(mk({ work: 7, deadline: 1 }), free, ctx)).toBe(2);
  });
});

describe('job order', () => {
  it('EDF sorts by deadline; CEDF by class first', () => {
    const a = mk({ id: 1, deadline: 5, profile: 'resnet-training', kind: 'training' });
    const b = mk({ id: 2, deadline: 9, profile: 'bert-inference' });
    expect([b, a].sort(placementHeuristic('edf-most-packed', book).compare).map((j) => j.id)).toEqual([1, 2]);
    expect([a, b].sort(placementHeuristic('cedf', book).compare).map((j) => j.id)).toEqual([2, 1]);
  });
  it('CEDF ranks GPUs with larger average slices first', () => {
    const h = placementHeuristic('cedf', book);
    expect(h.rank({ busy: 0, total: 7, avgSliceSize: 3.5 })).toBeGreaterThan(
      h.rank({ busy: 6, total: 7, avgSliceSize: 1 }),
    );
  });
});

describe('random', () => {
  it('draws among all free slices with the seeded generator', () => {
    const h = placementHeuristic('random', book);
    const picks = new Set<number>();
    const { free, ctx } = setup([
      [1, 1, 0],
      [2, 2, 0],
      [3, 7, 4],
    ]);
    for (let i = 0; i < 50; i++) picks.add(h.choose(mk({}), free, ctx));
    expect([...picks].sort()).toEqual([1, 2, 3]);
  });
});

describe('first-fit (the DRA allocator without scoring)', () => {
  const h = placementHeuristic('first-fit', book);
  it('takes the lowest-numbered GPU that fits, whatever its packing or the slice order', () => {
    const { free, ctx } = setup([
      [1, 1, 6, 3],
      [2, 1, 0, 1],
      [3, 7, 0, 2],
    ]);
    expect(h.choose(mk({}), free, ctx)).toBe(2);
  });
  it('on that GPU, the smallest size the job accepts, even when it misses the deadline', () => {
    const { free, ctx } = setup([
      [1, 3, 0, 0],
      [2, 1, 0, 0],
      [3, 7, 0, 1],
    ]);
    expect(h.choose(mk({ work: 70, deadline: 1 }), free, ctx)).toBe(2);
    expect(h.choose(mk({ minCompute: 2 }), free, ctx)).toBe(1);
    expect(h.choose(mk({ minCompute: 4 }), free, ctx)).toBe(3);
    expect(h.choose(mk({ minCompute: 8 }), free, ctx)).toBe(-1);
  });
  it('queues by arrival, not by deadline', () => {
    const early = mk({ id: 1, release: 0, deadline: 90 });
    const urgent = mk({ id: 2, release: 5, deadline: 6 });
    expect([urgent, early].sort(h.compare).map((j) => j.id)).toEqual([1, 2]);
  });
});
