import { describe, expect, it } from 'vitest';
import { paper12Layout } from '../../../policy/mig/paper12.js';
import { DEFAULT_LIMITS, isDraining, TargetBook, type GpuFacts } from '../../../policy/repartition/targets.js';
import { A100 } from '../../support/sim-builders.js';

const L = (n: number) => paper12Layout(A100, n)!;
const facts = (node: number, config: number, over: Partial<GpuFacts> = {}): GpuFacts => ({
  node,
  layout: L(config),
  lastChange: -Infinity,
  reconfiguring: false,
  ...over,
});
const idleNodes = () => false;

describe('TargetBook: the drain contract', () => {
  it('a new layout drains, the same layout is no target, the current layout cancels a drain', () => {
    const book = new TargetBook(2, DEFAULT_LIMITS);
    const gpus = [facts(0, 1), facts(0, 2)];
    const out = book.propose(
      [
        { gpu: 0, layout: L(2) },
        { gpu: 1, layout: L(2) },
      ],
      gpus,
      0,
      idleNodes,
    );
    expect(out.map((o) => o.verdict)).toEqual(['drain', 'same']);
    expect(isDraining(L(1), book.targetOf(0))).toBe(true);
    expect(book.propose([{ gpu: 0, layout: L(1) }], gpus, 3, idleNodes)[0]!.verdict).toBe('cancel');
    expect(book.targetOf(0)).toBeUndefined();
    expect(book.drainedMinutes(10)).toBe(3);
  });

  it.each([
    ['dwell', { minDwellMin: 10 }, facts(0, 1, { lastChange: -5 }), 'dwell'],
    ['dwell passed', { minDwellMin: 10 }, facts(0, 1, { lastChange: -10 }), 'drain'],
    ['reconfiguring', {}, facts(0, 1, { reconfiguring: true }), 'reconfiguring'],
  ] as const)('%s', (_name, limits, gpu, verdict) => {
    const book = new TargetBook(1, { ...DEFAULT_LIMITS, ...limits });
    expect(book.propose([{ gpu: 0, layout: L(5) }], [gpu], 0, idleNodes)[0]!.verdict).toBe(verdict);
  });

  it('maxNodesReconfiguring counts nodes that drain or reconfigure; more GPUs of a counted node may join', () => {
    const book = new TargetBook(4, { ...DEFAULT_LIMITS, maxNodesReconfiguring: 1 });
    const gpus = [facts(0, 1), facts(0, 1), facts(1, 1), facts(1, 1)];
    const out = book.propose(
      [0, 1, 2, 3].map((gpu) => ({ gpu, layout: L(2) })),
      gpus,
      0,
      idleNodes,
    );
    expect(out.map((o) => o.verdict)).toEqual(['drain', 'drain', 'node-limit', 'node-limit']);
    book.started(0, 1);
    book.started(1, 1);
    // Node 0 still applies its change, so node 1 waits.
    expect(book.propose([{ gpu: 2, layout: L(2) }], gpus, 1, (n) => n === 0)[0]!.verdict).toBe('node-limit');
    expect(book.propose([{ gpu: 2, layout: L(2) }], gpus, 2, idleNodes)[0]!.verdict).toBe('drain');
  });

  it('expire gives up drains at the timeout and says when the next one falls', () => {
    const book = new TargetBook(2, { ...DEFAULT_LIMITS, drainTimeoutMin: 5 });
    const gpus = [facts(0, 1), facts(0, 1)];
    book.propose([{ gpu: 0, layout: L(2) }], gpus, 0, idleNodes);
    book.propose([{ gpu: 1, layout: L(2) }], gpus, 2, idleNodes);
    expect(book.nextExpiry()).toBe(5);
    expect(book.expire(4.9)).toEqual([]);
    expect(book.expire(5)).toEqual([0]);
    expect(book.nextExpiry()).toBe(7);
    expect(book.abandoned).toBe(1);
  });
});
