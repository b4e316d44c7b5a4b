import { describe, expect, it } from 'vitest';
import { layoutOptions } from '../../../policy/evaluate/setting.js';
import { buildInputs, globalInputCount, inputCount, Observer, optionIndex } from '../../../policy/learn/features.js';
import { paper12Layout } from '../../../policy/mig/paper12.js';
import type { ClusterView, GpuState } from '../../../policy/repartition/controller.js';
import { A100 } from '../../support/sim-builders.js';

const options = layoutOptions(A100);
const k = options.length;
const L = (n: number) => paper12Layout(A100, n)!;

function gpu(id: number, n: number, busy: number, extra: Partial<GpuState> = {}): GpuState {
  const layout = L(n);
  return {
    id,
    model: A100,
    layout,
    node: 0,
    index: id,
    busy: layout.slices.map((_, i) => i < busy),
    reconfiguring: false,
    lastChange: -Infinity,
    ...extra,
  };
}

const view = (gpus: GpuState[], now = 360, pending: ClusterView['pending'] = []): ClusterView => ({
  now,
  gpus,
  pending,
});

describe('mean-field inputs', () => {
  it('are the same global block for every GPU, with layout and target shares that sum to the population', () => {
    const gpus = [gpu(0, 1, 0), gpu(1, 1, 2), gpu(2, 6, 0, { target: L(1) }), gpu(3, 12, 0)];
    const x = buildInputs(view(gpus), A100, options, optionIndex(options));
    const w = inputCount(k);
    expect(x.length).toBe(4 * w);
    const g = globalInputCount(k);
    for (let i = 1; i < 4; i++) expect([...x.subarray(i * w, i * w + g)]).toEqual([...x.subarray(0, g)]);
    const shares = [...x.subarray(4, 4 + k)];
    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1);
    expect(shares[0]).toBeCloseTo(0.5); // configuration 1 is option 0
    expect(x[4 + k]).toBeCloseTo(0.25); // one GPU drains towards configuration 1
  });

  it('mark each GPU own layout, target, slot and rank within its layout group (least busy first)', () => {
    const gpus = [gpu(0, 1, 3), gpu(1, 1, 0), gpu(2, 6, 0, { target: L(1) })];
    const x = buildInputs(view(gpus), A100, options, optionIndex(options));
    const w = inputCount(k);
    const local = (i: number) => x.subarray(i * w + globalInputCount(k), (i + 1) * w);
    expect(local(0)[0]).toBe(1); // own layout one-hot
    expect(local(2)[k]).toBe(1); // own target one-hot
    // rank: GPU 1 is idle, so it comes first among the configuration-1 GPUs.
    expect(local(1)[2 * k + 3]).toBe(0);
    expect(local(0)[2 * k + 3]).toBe(0.5);
    expect(local(0)[2 * k + 4]).toBe(1); // slot 0
    expect(local(2)[2 * k + 4 + 2]).toBe(1); // slot 2
  });

  it('count pending demand by size and slack per GPU, and encode the time of day', () => {
    const pending = [
      { profile: '1g.5gb', deadline: 370 },
      { profile: '3g.20gb', deadline: 300 },
    ];
    const x = buildInputs(view([gpu(0, 1, 0), gpu(1, 1, 0)], 360, pending), A100, options, optionIndex(options));
    const sizes = [...x.subarray(4 + 2 * k, 4 + 2 * k + 5)];
    expect(sizes).toEqual([0.5, 0, 0.5, 0, 0]);
    const slack = [...x.subarray(4 + 2 * k + 5, 4 + 2 * k + 14)];
    expect(slack.reduce((a, b) => a + b, 0)).toBeCloseTo(1);
    expect(slack[0]).toBe(0.5); // 60 min late
    expect(x[0]).toBeCloseTo(1); // 06:00: sin(π/2)
  });

  it('the observer answers at its own pace and leaves GPUs of other models out', () => {
    const o = new Observer(A100, options, 5);
    const other = { ...gpu(9, 1, 0), model: { ...A100, name: 'H100-80GB' as const } };
    const first = o.observe(view([gpu(0, 1, 0), other], 0));
    expect(first?.gpus.map((g) => g.id)).toEqual([0]);
    expect(o.observe(view([gpu(0, 1, 0)], 3))).toBeUndefined();
    expect(o.observe(view([gpu(0, 1, 0)], 5))).toBeDefined();
  });
});
