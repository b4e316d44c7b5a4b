import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findGpuModel, type GpuModel } from '../../../policy/mig/catalog.js';
import { placeInstances } from '../../../policy/mig/enumerate.js';
import type { Layout } from '../../../policy/mig/layout.js';
import { validateLayout } from '../../../policy/mig/validate.js';
import type { ClusterView, GpuState, PendingDemand } from '../../../policy/repartition/controller.js';
import { greedyRepartitioner } from '../../../policy/repartition/greedy.js';

const A100 = findGpuModel('A100-40GB') as GpuModel;
const A30 = findGpuModel('A30-24GB') as GpuModel;

/** A layout from profile names, placed by the catalog's rules. */
function layout(model: GpuModel, ...names: string[]): Layout {
  const profiles = names.map((n) => {
    const p = model.profiles.find((q) => q.name === n);
    if (!p) throw new Error(`no ${n}`);
    return p;
  });
  const l = placeInstances(model, profiles);
  if (!l) throw new Error(`${names.join('+')} does not fit`);
  return l;
}

interface GpuSpec {
  model?: GpuModel;
  slices: string[];
  busy?: number[];
  reconfiguring?: boolean;
  lastChange?: number;
  locked?: boolean;
}

function gpu(id: number, spec: GpuSpec): GpuState {
  const model = spec.model ?? A100;
  const l = layout(model, ...spec.slices);
  return {
    id,
    node: 0,
    model,
    layout: l,
    busy: l.slices.map((_, i) => (spec.busy ?? []).includes(i)),
    reconfiguring: spec.reconfiguring ?? false,
    lastChange: spec.lastChange ?? -Infinity,
    ...(spec.locked === undefined ? {} : { locked: spec.locked }),
  };
}

function view(gpus: GpuSpec[], pending: (string | PendingDemand)[], now = 100): ClusterView {
  return {
    now,
    gpus: gpus.map((g, i) => gpu(i, g)),
    pending: pending.map((p) => (typeof p === 'string' ? { profile: p, deadline: Infinity } : p)),
  };
}

const profilesOf = (l: Layout): string[] => l.slices.map((s) => s.profile).sort();
const count = (l: Layout, profile: string): number => l.slices.filter((s) => s.profile === profile).length;

describe('greedy repartitioner', () => {
  const cases: {
    name: string;
    view: ClusterView;
    options?: Parameters<typeof greedyRepartitioner>[0];
    expectGpus: number[];
    check?: (layouts: Layout[]) => void;
  }[] = [
    { name: 'no pending demand changes nothing', view: view([{ slices: ['7g.40gb'] }], []), expectGpus: [] },
    {
      name: 'demand already served by a free slice changes nothing',
      view: view([{ slices: ['4g.20gb', '3g.20gb'] }], ['3g.20gb']),
      expectGpus: [],
    },
    {
      name: 'supplies a missing profile on an idle GPU',
      view: view([{ slices: ['7g.40gb'] }], ['1g.5gb', '1g.5gb']),
      expectGpus: [0],
      check: ([l]) => expect(count(l!, '1g.5gb')).toBeGreaterThanOrEqual(2),
    },
    {
      name: 'with drainBusy false never touches a GPU with a busy slice',
      view: view([{ slices: ['4g.20gb', '3g.20gb'], busy: [1] }], ['1g.5gb']),
      options: { drainBusy: false },
      expectGpus: [],
    },
    {
      name: 'never touches a reconfiguring GPU',
      view: view([{ slices: ['7g.40gb'], reconfiguring: true }], ['1g.5gb']),
      expectGpus: [],
    },
    {
      name: 'never changes a locked GPU, but counts its free slices',
      view: view(
        [
          { slices: ['7g.40gb'], locked: true },
          { slices: ['4g.20gb', '3g.20gb'], locked: true },
        ],
        ['3g.20gb', '1g.5gb'],
      ),
      expectGpus: [],
    },
    {
      name: 'a locked GPU with the missing profile spares an unlocked one',
      view: view([{ slices: ['1g.5gb'], locked: true }, { slices: ['7g.40gb'] }], ['1g.5gb']),
      expectGpus: [],
    },
    {
      name: 'waits for the minimum dwell',
      view: view([{ slices: ['7g.40gb'], lastChange: 99 }], ['1g.5gb']),
      options: { minDwell: 5 },
      expectGpus: [],
    },
    {
      name: 'acts once the dwell has passed',
      view: view([{ slices: ['7g.40gb'], lastChange: 90 }], ['1g.5gb']),
      options: { minDwell: 5 },
      expectGpus: [0],
    },
    {
      name: 'a reconfiguring GPU whose new layout has the profile already covers the demand',
      view: view([{ slices: ['1g.5gb', '1g.5gb'], reconfiguring: true }, { slices: ['7g.40gb'] }], ['1g.5gb']),
      expectGpus: [],
    },
    {
      name: 'changes one GPU when one suffices (fewest changes)',
      view: view([{ slices: ['7g.40gb'] }, { slices: ['7g.40gb'] }, { slices: ['7g.40gb'] }], ['2g.10gb', '2g.10gb']),
      expectGpus: [0],
      check: ([l]) => expect(count(l!, '2g.10gb')).toBeGreaterThanOrEqual(2),
    },
    {
      name: 'prefers the GPU whose free slices nobody needs over one that serves demand',
      view: view([{ slices: ['3g.20gb', '3g.20gb'] }, { slices: ['7g.40gb'] }], ['3g.20gb', '1g.5gb']),
      expectGpus: [1],
    },
    {
      name: 'keeps serving the demand a changed GPU covered before',
      view: view([{ slices: ['4g.20gb', '3g.20gb'] }], ['3g.20gb', '1g.5gb']),
      expectGpus: [0],
      check: ([l]) => {
        expect(count(l!, '3g.20gb')).toBe(1);
        expect(count(l!, '1g.5gb')).toBeGreaterThanOrEqual(1);
      },
    },
    {
      name: 'spreads over several GPUs when one is not enough',
      view: view([{ slices: ['7g.40gb'] }, { slices: ['7g.40gb'] }], ['4g.20gb', '4g.20gb']),
      expectGpus: [0, 1],
    },
    {
      name: 'respects the change limit',
      view: view([{ slices: ['7g.40gb'] }, { slices: ['7g.40gb'] }], ['4g.20gb', '4g.20gb']),
      options: { maxChanges: 1 },
      expectGpus: [0],
    },
    {
      name: 'serves the earlier deadline when the GPU cannot serve both',
      view: view(
        [{ slices: ['1g.5gb'] }],
        [
          { profile: '7g.40gb', deadline: 500 },
          { profile: '4g.20gb', deadline: 200 },
        ],
      ),
      expectGpus: [0],
      check: ([l]) => expect(count(l!, '4g.20gb')).toBe(1),
    },
    {
      name: 'works per model: A30 profiles on an A30',
      view: view([{ model: A30, slices: ['4g.24gb'] }], ['1g.6gb', '2g.12gb']),
      expectGpus: [0],
      check: ([l]) => expect(profilesOf(l!)).toEqual(expect.arrayContaining(['1g.6gb', '2g.12gb'])),
    },
    {
      name: 'ignores profiles no GPU model offers',
      view: view([{ slices: ['7g.40gb'] }], ['1g.6gb']),
      expectGpus: [],
    },
    {
      name: 'supplies a media-extension profile when asked',
      view: view([{ slices: ['7g.40gb'] }], ['1g.5gb+me']),
      expectGpus: [0],
      check: ([l]) => expect(count(l!, '1g.5gb+me')).toBe(1),
    },
  ];

  cases.push(
    {
      name: 'drains a busy GPU when no idle GPU can supply the demand',
      view: view([{ slices: ['7g.40gb'], busy: [0] }], ['1g.5gb']),
      expectGpus: [0],
      check: ([l]) => expect(count(l!, '1g.5gb')).toBeGreaterThanOrEqual(1),
    },
    {
      name: 'prefers an idle GPU to a busy one that would cover more',
      view: view([{ slices: ['4g.20gb', '3g.20gb'], busy: [0] }, { slices: ['7g.40gb'] }], ['1g.5gb', '3g.20gb']),
      expectGpus: [1],
    },
    {
      name: 'with drainBusy false a busy GPU is left alone',
      view: view([{ slices: ['7g.40gb'], busy: [0] }], ['1g.5gb']),
      options: { drainBusy: false },
      expectGpus: [],
    },
    {
      name: 'a GPU draining towards a layout counts that layout as supply',
      view: {
        ...view([{ slices: ['7g.40gb'], busy: [0] }, { slices: ['7g.40gb'] }], ['3g.20gb']),
        gpus: [
          { ...gpu(0, { slices: ['7g.40gb'], busy: [0] }), target: layout(A100, '4g.20gb', '3g.20gb') },
          gpu(1, { slices: ['7g.40gb'] }),
        ],
      },
      expectGpus: [],
    },
  );

  it.each(cases)('$name', ({ view: v, options, expectGpus, check }) => {
    const changes = greedyRepartitioner(options).decide(v);
    expect(changes.map((c) => c.gpu)).toEqual(expectGpus);
    for (const c of changes) {
      const model = v.gpus[c.gpu]!.model;
      expect(validateLayout(model, c.layout)).toEqual({ ok: true });
    }
    check?.(changes.map((c) => c.layout));
  });

  it('is named greedy', () => {
    expect(greedyRepartitioner().name).toBe('greedy');
  });

  const profiles = ['1g.5gb', '1g.10gb', '2g.10gb', '3g.20gb', '4g.20gb', '7g.40gb'];
  const arbGpu = fc.record({
    slices: fc.constantFrom<string[]>(
      ['7g.40gb'],
      ['4g.20gb', '3g.20gb'],
      ['3g.20gb', '3g.20gb'],
      ['2g.10gb', '2g.10gb', '2g.10gb', '1g.5gb'],
      ['1g.5gb', '1g.5gb', '1g.5gb', '1g.5gb', '1g.5gb', '1g.5gb', '1g.5gb'],
      [],
    ),
    busyAny: fc.boolean(),
    reconfiguring: fc.boolean(),
    lastChange: fc.integer({ min: 0, max: 100 }),
  });
  const arbView = fc
    .record({
      gpus: fc.array(arbGpu, { minLength: 1, maxLength: 12 }),
      pending: fc.array(
        fc.record({ profile: fc.constantFrom(...profiles), deadline: fc.integer({ min: 0, max: 1000 }) }),
        { maxLength: 30 },
      ),
    })
    .map(({ gpus, pending }) =>
      view(
        gpus.map((g) => ({ ...g, busy: g.busyAny && g.slices.length > 0 ? [0] : [] })),
        pending,
      ),
    );

  it('without drainBusy only changes idle, settled GPUs, to valid layouts, each at most once (property)', () => {
    fc.assert(
      fc.property(arbView, fc.integer({ min: 0, max: 30 }), (v, minDwell) => {
        const changes = greedyRepartitioner({ minDwell, drainBusy: false }).decide(v);
        const seen = new Set<number>();
        for (const c of changes) {
          const g = v.gpus[c.gpu]!;
          expect(g.busy.some(Boolean)).toBe(false);
          expect(g.reconfiguring).toBe(false);
          expect(v.now - g.lastChange).toBeGreaterThanOrEqual(minDwell);
          expect(validateLayout(g.model, c.layout).ok).toBe(true);
          expect(seen.has(c.gpu)).toBe(false);
          seen.add(c.gpu);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never lowers how much pending demand the free slices cover (property)', () => {
    const covered = (v: ClusterView, layouts: Map<number, Layout>): number => {
      const free = new Map<string, number>();
      for (const g of v.gpus) {
        const l = layouts.get(g.id) ?? g.layout;
        l.slices.forEach((s, i) => {
          if (!layouts.has(g.id) && g.busy[i] && !g.reconfiguring) return;
          free.set(s.profile, (free.get(s.profile) ?? 0) + 1);
        });
      }
      const want = new Map<string, number>();
      for (const d of v.pending) want.set(d.profile, (want.get(d.profile) ?? 0) + 1);
      let n = 0;
      for (const [p, w] of want) n += Math.min(w, free.get(p) ?? 0);
      return n;
    };
    fc.assert(
      fc.property(arbView, (v) => {
        const changes = greedyRepartitioner().decide(v);
        const after = new Map(changes.map((c) => [c.gpu, c.layout]));
        if (changes.length > 0) expect(covered(v, after)).toBeGreaterThan(covered(v, new Map()));
      }),
      { numRuns: 300 },
    );
  });

  it('is deterministic: the same view gives the same changes', () => {
    fc.assert(
      fc.property(arbView, (v) => {
        const a = greedyRepartitioner().decide(v);
        const b = greedyRepartitioner().decide(structuredClone(v));
        expect(b).toEqual(a);
      }),
      { numRuns: 100 },
    );
  });
});
