import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GpuDevice } from '../../../dra/devices.js';
import { deviceName } from '../../../dra/devices.js';
import { DynamicBoard } from '../../../fake-gpu/dynamic-board.js';
import { allDevices, fitsCounters, MODELS } from '../dra/counters.js';
import { gpu } from './build.js';

const A100 = gpu('A100-40GB');
const claim = (name: string, ...devices: string[]) => ({ claim: `ns/${name}`, devices });

describe('DynamicBoard', () => {
  it('creates the instances of allocated devices and refuses an overlapping placement', () => {
    const board = new DynamicBoard(A100, 2);
    const first = board.prepare('ns/a', [claim('a', 'gpu-1-mig-3g20gb-9-4')]);
    expect(first.ok && first.devices.map((d) => deviceName(A100, d))).toEqual(['gpu-1-mig-3g20gb-9-4']);
    expect(board.prepare('ns/b', [claim('b', 'gpu-0-mig-3g20gb-9-4')]).ok).toBe(true);
    expect(board.prepare('ns/c', [claim('c', 'gpu-1-mig-1g5gb-19-5')])).toEqual({
      ok: false,
      message: 'claim ns/c: device gpu-1-mig-1g5gb-19-5 overlaps gpu-1-mig-3g20gb-9-4 of claim ns/a',
    });
    expect(board.busyCompute()).toEqual([3, 3]);
    expect(board.view()[1]).toEqual({
      gpu: 1,
      migEnabled: true,
      slices: [{ profile: '3g.20gb', start: 4, pod: 'ns/a' }],
    });
  });

  it('refuses unknown devices and GPUs the node lacks, and prepares all claims of a pod or none', () => {
    const board = new DynamicBoard(A100, 1);
    expect(board.prepare('ns/a', [claim('a', 'gpu-0-mig-1g10gb-15-1')])).toMatchObject({ ok: false });
    expect(board.prepare('ns/a', [claim('a', 'gpu-1-mig-1g5gb-19-0')])).toEqual({
      ok: false,
      message: 'claim ns/a: unknown device gpu-1-mig-1g5gb-19-0',
    });
    const both = board.prepare('ns/a', [claim('x', 'gpu-0-mig-4g20gb-5-0'), claim('y', 'gpu-0-mig-2g10gb-14-2')]);
    expect(both.ok).toBe(false);
    expect(board.devicesOf('ns/a')).toEqual([]);
    expect(board.prepare('ns/b', [claim('b', 'gpu-0-mig-4g20gb-5-0')]).ok).toBe(true);
  });

  it('shares a prepared claim between pods and unprepares it with the last one', () => {
    const board = new DynamicBoard(A100, 1);
    expect(board.prepare('ns/a', [claim('shared', 'gpu-0')]).ok).toBe(true);
    expect(board.prepare('ns/b', [claim('shared', 'gpu-0')]).ok).toBe(true);
    expect(board.view()).toEqual([{ gpu: 0, migEnabled: false, slices: [], pod: 'ns/a' }]);
    expect(board.release('ns/a')).toEqual([]);
    expect(board.prepare('ns/c', [claim('c', 'gpu-0-mig-1g5gb-19-0')]).ok).toBe(false);
    expect(board.release('ns/b')).toEqual([{ kind: 'gpu', gpu: 0 }]);
    expect(board.view()).toEqual([{ gpu: 0, migEnabled: true, slices: [] }]);
    expect(board.prepare('ns/c', [claim('c', 'gpu-0-mig-1g5gb-19-0')]).ok).toBe(true);
  });

  it('accepts and refuses as the counters do, for any order of prepares and releases', () => {
    const steps = fc.constantFrom(...MODELS).chain((m) =>
      fc.record({
        m: fc.constant(m),
        steps: fc.array(fc.oneof(fc.constantFrom(...allDevices(m)), fc.nat(20)), { maxLength: 30 }),
      }),
    );
    fc.assert(
      fc.property(steps, ({ m, steps }) => {
        const board = new DynamicBoard(m, 1);
        const held = new Map<string, GpuDevice>();
        steps.forEach((step, i) => {
          if (typeof step === 'number') {
            const pod = [...held.keys()][step % Math.max(1, held.size)];
            if (pod === undefined) return;
            board.release(pod);
            held.delete(pod);
            return;
          }
          const pod = `ns/p${i}`;
          const ok = board.prepare(pod, [{ claim: pod, devices: [deviceName(m, step)] }]).ok;
          expect(ok).toBe(fitsCounters(m, [...held.values(), step]));
          if (ok) held.set(pod, step);
        });
      }),
      { numRuns: 500 },
    );
  });
});
