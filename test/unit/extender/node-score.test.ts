// The decision core of the extender: which nodes can take a pod, how the heuristics rank them, and which
// slice a moldable pod gets.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PLACEMENTS, type PlacementName } from '../../../policy/placement/heuristics.js';
import {
  checkNode,
  clockFreeParts,
  pickProfile,
  rankNodes,
  scoreNodes,
  scoresAt,
  type NodeMigState,
  type PodDemand,
} from '../../../policy/placement/node-score.js';
import {
  A100,
  arbNodeSpec,
  book,
  H100,
  oneSlice,
  SCORE_PROFILES,
  scoreOpts as opts,
  state,
  arbTiedNodeSpecs,
} from './builders.js';

describe('checkNode', () => {
  const cases: { name: string; node: NodeMigState; demand?: PodDemand; code?: string; resolvable?: boolean }[] = [
    { name: 'free slice of the profile', node: state('n', { used: { '1g.5gb': 6 } }) },
    { name: 'reconfiguring', node: state('n', { reconfiguring: true }), code: 'reconfiguring', resolvable: false },
    { name: 'draining', node: state('n', { draining: true }), code: 'draining', resolvable: false },
    { name: 'cordoned', node: state('n', { cordoned: true }), code: 'cordoned', resolvable: false },
    { name: 'unknown GPU model', node: state('n', { model: undefined }), code: 'unknown-gpu', resolvable: false },
    {
      name: 'profile of another GPU model',
      node: state('n'),
      demand: oneSlice('2g.20gb'),
      code: 'no-such-profile',
      resolvable: false,
    },
    {
      name: 'profile not in the layout',
      node: state('n'),
      demand: oneSlice('3g.20gb'),
      code: 'not-in-layout',
      resolvable: false,
    },
    { name: 'all slices in use', node: state('n', { used: { '1g.5gb': 7 } }), code: 'no-free-slice', resolvable: true },
    {
      name: 'fewer free than needed',
      node: state('n', { used: { '1g.5gb': 6 } }),
      demand: { slices: { '1g.5gb': 2 } },
      code: 'no-free-slice',
      resolvable: true,
    },
    {
      name: 'needs more than the node has at all',
      node: state('n', { allocatable: { '1g.5gb': 1 } }),
      demand: { slices: { '1g.5gb': 2 } },
      code: 'no-free-slice',
      resolvable: false,
    },
    {
      name: 'two profiles, both free',
      node: state('n', { allocatable: { '1g.5gb': 3, '4g.20gb': 1 } }),
      demand: { slices: { '1g.5gb': 1, '4g.20gb': 1 } },
    },
  ];
  it.each(cases)('$name', ({ node, demand, code, resolvable }) => {
    const v = checkNode(node, demand ?? oneSlice());
    if (code === undefined) {
      expect(v).toEqual({ fits: true });
    } else {
      expect(v).toMatchObject({ fits: false, code, resolvable });
      if (!v.fits) expect(v.reason.length).toBeGreaterThan(5);
    }
  });
});

describe('rankNodes', () => {
  const idle = state('idle');
  const half = state('half', { used: { '1g.5gb': 3 } });
  const nearlyFull = state('nearly-full', { used: { '1g.5gb': 6 } });
  // One 4g and three 1g: larger average slice (7/4) than 7×1g, nothing busy.
  const bigSlices = state('big-slices', { allocatable: { '1g.5gb': 3, '4g.20gb': 1 } });
  const full = state('full', { used: { '1g.5gb': 7 } });

  const cases: { name: string; heuristic: PlacementName; nodes: NodeMigState[]; order: string[]; scores: number[] }[] =
    [
      {
        name: 'EDF most-packed: busiest node first',
        heuristic: 'edf-most-packed',
        nodes: [idle, half, nearlyFull],
        order: ['nearly-full', 'half', 'idle'],
        scores: [10, 9, 8],
      },
      {
        name: 'CEDF: largest average slice first, then most packed',
        heuristic: 'cedf',
        nodes: [idle, half, bigSlices],
        order: ['big-slices', 'half', 'idle'],
        scores: [10, 9, 8],
      },
      {
        name: 'EDF most-packed ignores slice sizes',
        heuristic: 'edf-most-packed',
        nodes: [idle, half, bigSlices],
        order: ['half', 'big-slices', 'idle'],
        scores: [10, 9, 9],
      },
      {
        name: 'marginal-ET: a busy GPU adds less power (concave curve)',
        heuristic: 'marginal-et',
        nodes: [idle, nearlyFull, half],
        order: ['nearly-full', 'half', 'idle'],
        scores: [10, 9, 8],
      },
      {
        name: 'random: every fitting node ties',
        heuristic: 'random',
        nodes: [half, idle, nearlyFull],
        order: ['half', 'idle', 'nearly-full'],
        scores: [10, 10, 10],
      },
      {
        name: 'nodes that do not fit come last with 0',
        heuristic: 'cedf',
        nodes: [full, idle, state('cordoned', { cordoned: true })],
        order: ['idle', 'cordoned', 'full'],
        scores: [10, 0, 0],
      },
      {
        name: 'identical nodes share the top score, ordered by name',
        heuristic: 'cedf',
        nodes: [state('b'), state('a')],
        order: ['a', 'b'],
        scores: [10, 10],
      },
    ];
  it.each(cases)('$name', ({ heuristic, nodes, order, scores }) => {
    const ranked = rankNodes(oneSlice(), nodes, opts(heuristic));
    expect(ranked.map((r) => r.name)).toEqual(order);
    expect(ranked.map((r) => r.score)).toEqual(scores);
  });

  it('scores fall by one per tier and stop at 0 after ten tiers', () => {
    const nodes = Array.from({ length: 14 }, (_, used) =>
      state(`n${used}`, { gpus: 2, allocatable: { '1g.5gb': 14 }, used: { '1g.5gb': used } }),
    );
    const ranked = rankNodes(oneSlice(), nodes, opts('edf-most-packed'));
    expect(ranked.map((r) => r.name).slice(0, 3)).toEqual(['n13', 'n12', 'n11']);
    expect(ranked.map((r) => r.score)).toEqual([...ranked].map((r) => r.score).sort((a, b) => b - a));
    expect(ranked[0]?.score).toBe(10);
    expect(new Set(ranked.map((r) => r.tier)).size).toBeGreaterThan(10);
    expect(ranked.at(-1)?.score).toBe(0);
    expect(ranked.every((r) => r.fits)).toBe(true);
  });

  it('between equally packed nodes, prefers the one whose pods finish with this one', () => {
    const demand = oneSlice('1g.5gb', { work: 30 });
    const soon = state('soon', { used: { '1g.5gb': 3 }, busyUntil: 5 });
    const aligned = state('aligned', { used: { '1g.5gb': 3 }, busyUntil: 31 });
    const late = state('late', { used: { '1g.5gb': 3 }, busyUntil: 300 });
    expect(rankNodes(demand, [soon, late, aligned], opts('cedf')).map((r) => r.name)).toEqual([
      'aligned',
      'soon',
      'late',
    ]);
  });

  it('reports finish, tardiness and marginal energy of the placement', () => {
    const demand: PodDemand = { slices: { '2g.10gb': 1 }, work: 20, deadline: 5, speedup: book.get('bert-inference') };
    const [r] = rankNodes(demand, [state('n', { allocatable: { '2g.10gb': 3 } })], opts('cedf', 0));
    expect(r?.finish).toBeCloseTo(10);
    expect(r?.tardiness).toBeCloseTo(5);
    // 2 compute slices on an idle A100-40GB: (160 − 40) W for 10 minutes.
    expect(r?.marginalEnergy).toBeCloseTo(1200);
  });

  it('works across GPU models (H100 profiles on an H100 node)', () => {
    const h = state('h', { model: H100, allocatable: { '1g.10gb': 7 } });
    const a = state('a', { model: A100, allocatable: { '1g.10gb': 4 } });
    const ranked = rankNodes(oneSlice('1g.10gb'), [h, a], opts('cedf'));
    expect(ranked.every((r) => r.fits)).toBe(true);
  });
});

describe('pickProfile', () => {
  const accepted = ['1g.5gb', '2g.10gb', '3g.20gb', '7g.40gb'];
  const linear = book.get('bert-inference');
  const everything = state('all', { gpus: 4, allocatable: { '1g.5gb': 7, '2g.10gb': 3, '3g.20gb': 2, '7g.40gb': 1 } });
  const cases: {
    name: string;
    nodes: NodeMigState[];
    deadline?: number;
    work?: number;
    heuristic?: PlacementName;
    profile: string;
    onTime: boolean;
    free: boolean;
  }[] = [
    {
      name: 'loose deadline: the slowest slice',
      nodes: [everything],
      deadline: 100,
      work: 60,
      profile: '1g.5gb',
      onTime: true,
      free: true,
    },
    {
      name: '1g would be late: the next size up',
      nodes: [everything],
      deadline: 35,
      work: 60,
      profile: '2g.10gb',
      onTime: true,
      free: true,
    },
    {
      name: 'only 7g is fast enough',
      nodes: [everything],
      deadline: 10,
      work: 60,
      profile: '7g.40gb',
      onTime: true,
      free: true,
    },
    { name: 'no deadline: the slowest', nodes: [everything], work: 60, profile: '1g.5gb', onTime: true, free: true },
    {
      name: 'unknown work: the slowest',
      nodes: [everything],
      deadline: 1,
      profile: '1g.5gb',
      onTime: true,
      free: true,
    },
    {
      name: 'the slowest on-time slice is taken: the next free one',
      nodes: [state('n', { allocatable: { '1g.5gb': 7, '3g.20gb': 2 }, used: { '1g.5gb': 7 } })],
      deadline: 100,
      work: 60,
      profile: '3g.20gb',
      onTime: true,
      free: true,
    },
    {
      name: 'nothing free is on time: the fastest free',
      nodes: [state('n', { allocatable: { '1g.5gb': 3, '2g.10gb': 2 } })],
      deadline: 10,
      work: 60,
      profile: '2g.10gb',
      onTime: false,
      free: true,
    },
    {
      name: 'nothing free: the slowest that would be on time',
      nodes: [state('n', { allocatable: { '1g.5gb': 7 }, used: { '1g.5gb': 7 } })],
      deadline: 25,
      work: 60,
      profile: '3g.20gb',
      onTime: true,
      free: false,
    },
    {
      name: 'nothing free, nothing on time: the fastest',
      nodes: [],
      deadline: 1,
      work: 60,
      profile: '7g.40gb',
      onTime: false,
      free: false,
    },
    {
      name: 'reconfiguring nodes do not count as free',
      nodes: [state('n', { reconfiguring: true })],
      deadline: 100,
      work: 60,
      profile: '1g.5gb',
      onTime: true,
      free: false,
    },
    {
      name: 'marginal-ET: a linear job on an idle GPU costs least on the whole GPU',
      nodes: [state('a', { allocatable: { '7g.40gb': 1 } }), state('b', { allocatable: { '1g.5gb': 7 } })],
      deadline: 100,
      work: 60,
      heuristic: 'marginal-et',
      profile: '7g.40gb',
      onTime: true,
      free: true,
    },
  ];
  it.each(cases)('$name', ({ nodes, deadline, work, heuristic, profile, onTime, free }) => {
    const choice = pickProfile(accepted, { deadline, work, speedup: linear }, nodes, opts(heuristic ?? 'cedf', 0));
    expect(choice).toMatchObject({ profile, onTime, free });
    expect(choice?.why).toBeTruthy();
  });

  it('ignores names the catalog does not know, and gives up when none is known', () => {
    expect(pickProfile(['9g.99gb', '1g.5gb'], {}, [everything], opts())?.profile).toBe('1g.5gb');
    expect(pickProfile(['9g.99gb'], {}, [everything], opts())).toBeUndefined();
  });
});

describe('scoreNodes', () => {
  it('gives the scores of rankNodes, in input order, for any cluster and heuristic', () => {
    fc.assert(
      fc.property(
        fc.array(arbNodeSpec, { maxLength: 40 }),
        fc.constantFrom(...PLACEMENTS),
        fc.constantFrom(...SCORE_PROFILES),
        fc.option(fc.integer({ min: 1, max: 120 }), { nil: undefined }),
        (specs, heuristic, profile, work) => {
          const nodes = specs.map((s, i) => state(`n${i}`, s));
          const demand = oneSlice(profile, { work, deadline: 30, speedup: book.get('resnet-training') });
          const ranked = new Map(rankNodes(demand, nodes, opts(heuristic)).map((r) => [r.name, r.score]));
          expect(scoreNodes(demand, nodes, opts(heuristic))).toEqual(nodes.map((n) => ranked.get(n.name)));
        },
      ),
      { numRuns: 300, seed: 4 },
    );
  });

  it('scoresAt gives its scores from clock-free parts worked out at another time for another deadline', () => {
    fc.assert(
      fc.property(
        arbTiedNodeSpecs,
        fc.constantFrom(...PLACEMENTS),
        fc.constantFrom(...SCORE_PROFILES),
        fc.integer({ min: 1, max: 120 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 300 })), { maxLength: 4 }),
        (specs, heuristic, profile, work, later) => {
          const nodes: (NodeMigState | undefined)[] = specs.map((sp, i) => state(`n${i}`, sp));
          nodes.push(undefined);
          const demand = oneSlice(profile, { work, deadline: 30, speedup: book.get('resnet-training') });
          const o = opts(heuristic);
          const parts = clockFreeParts(demand, nodes, o);
          for (const [now, deadline] of [[0, 30], ...later] as const) {
            const at = { ...o, now };
            const d = { ...demand, deadline };
            expect(scoresAt(parts, d, at)).toEqual(scoreNodes(d, nodes, at));
          }
        },
      ),
      { numRuns: 300, seed: 6 },
    );
  });
});
