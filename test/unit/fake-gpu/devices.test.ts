import { describe, expect, it } from 'vitest';
import { GpuBoard, deviceName } from '../../../fake-gpu/devices.js';
import { gpu, named } from './build.js';

const A100 = gpu('A100-40GB');
const ONE_G = 'nvidia.com/mig-1g.5gb';
const req = (resource: string, n = 1): Map<string, number> => new Map([[resource, n]]);

describe('GpuBoard.allocate', () => {
  it('fills the busiest GPU first, so idle GPUs stay free for repartitioning', () => {
    const board = new GpuBoard(A100, named(A100, 'all-1g.5gb', 3));
    const first = board.allocate('ns/a', req(ONE_G));
    const second = board.allocate('ns/b', req(ONE_G));
    expect(first.ok && first.devices.map((d) => [d.gpu, deviceName(d)])).toEqual([[0, '1g.5gb@0']]);
    expect(second.ok && second.devices.map((d) => [d.gpu, deviceName(d)])).toEqual([[0, '1g.5gb@1']]);
  });

  it('honours the GPU (and device) a scheduler asked for', () => {
    const board = new GpuBoard(A100, named(A100, 'all-1g.5gb', 3));
    const got = board.allocate('ns/a', req(ONE_G), { gpu: 2, device: '1g.5gb@4' });
    expect(got.ok && got.devices.map((d) => [d.gpu, deviceName(d)])).toEqual([[2, '1g.5gb@4']]);
    const fallback = board.allocate('ns/b', req(ONE_G), { gpu: 2, device: '1g.5gb@4' });
    expect(fallback.ok && fallback.devices.map((d) => [d.gpu, deviceName(d)])).toEqual([[2, '1g.5gb@0']]);
  });

  it("fails like kubelet's OutOf<resource> with used and capacity, and takes nothing", () => {
    const board = new GpuBoard(A100, named(A100, 'all-balanced', 1));
    expect(board.allocate('ns/a', req('nvidia.com/mig-3g.20gb')).ok).toBe(true);
    const r = board.allocate(
      'ns/b',
      new Map([
        [ONE_G, 1],
        ['nvidia.com/mig-3g.20gb', 1],
      ]),
    );
    expect(r).toEqual({ ok: false, resource: 'nvidia.com/mig-3g.20gb', requested: 1, used: 1, capacity: 1 });
    expect(board.usage().get(ONE_G)).toEqual({ busy: 0, free: 2 });
  });

  it('gives a whole GPU when MIG is off', () => {
    const board = new GpuBoard(A100, named(A100, 'all-disabled', 1));
    const r = board.allocate('ns/a', req('nvidia.com/gpu'));
    expect(r.ok && r.devices[0]?.compute).toBe(7);
    expect(board.view()).toEqual([{ gpu: 0, migEnabled: false, slices: [], pod: 'ns/a' }]);
  });

  it('release frees every device of the pod', () => {
    const board = new GpuBoard(A100, named(A100, 'all-1g.5gb', 1));
    board.allocate('ns/a', req(ONE_G, 3));
    expect(board.release('ns/a')).toHaveLength(3);
    expect(board.usage().get(ONE_G)).toEqual({ busy: 0, free: 7 });
  });
});

describe('GpuBoard.reconfigure', () => {
  it('reports busy GPUs it reconfigures and keeps unchanged GPUs and their pods', () => {
    const board = new GpuBoard(A100, named(A100, 'all-1g.5gb', 3));
    board.allocate('ns/on0', req(ONE_G), { gpu: 0 });
    board.allocate('ns/on1', req(ONE_G), { gpu: 1 });
    const [seven] = named(A100, 'all-7g.40gb');
    const [ones] = named(A100, 'all-1g.5gb');
    const result = board.reconfigure([seven, ones, seven]);
    expect(result.changed).toEqual([0, 2]);
    expect([...result.busy]).toEqual([[0, ['ns/on0']]]);
    expect(board.podsOn(1)).toEqual(['ns/on1']);
    expect(board.resources()).toEqual({ [ONE_G]: 7, 'nvidia.com/mig-7g.40gb': 2 });
  });

  it('an undefined target leaves the GPU alone', () => {
    const board = new GpuBoard(A100, named(A100, 'all-1g.5gb', 2));
    expect(board.changes([undefined, ...named(A100, 'all-1g.5gb')])).toEqual([]);
  });
});
