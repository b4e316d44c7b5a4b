import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GpuDevice } from '../../../dra/devices.js';
import {
  counterSetName,
  deviceCapacity,
  deviceConsumption,
  deviceName,
  giProfileId,
  gpuCounters,
  migDevices,
  parseDeviceName,
} from '../../../dra/devices.js';
import type { GpuModel } from '../../../policy/mig/catalog.js';
import { findGpuModel, findProfile } from '../../../policy/mig/catalog.js';
import { maximalLayouts } from '../../../policy/mig/enumerate.js';
import { allDevices, fitsCounters, MODELS, overlaps } from './counters.js';

const model = (name: string): GpuModel => findGpuModel(name) as GpuModel;
const A100 = model('A100-40GB');
const mig = (m: GpuModel, profile: string, start: number, gpu = 0): GpuDevice => {
  const p = findProfile(m, profile);
  if (!p) throw new Error(`test setup: ${m.name} has no ${profile}`);
  return { kind: 'mig', gpu, profile: p, start };
};

describe('device names', () => {
  it("spell the driver's names: profile without dots, + as -, GI profile id, start", () => {
    expect(deviceName(A100, { kind: 'gpu', gpu: 3 })).toBe('gpu-3');
    expect(deviceName(A100, mig(A100, '1g.5gb', 3))).toBe('gpu-0-mig-1g5gb-19-3');
    expect(deviceName(A100, mig(A100, '1g.5gb+me', 6, 1))).toBe('gpu-1-mig-1g5gb-me-20-6');
    expect(deviceName(A100, mig(A100, '1g.10gb', 4))).toBe('gpu-0-mig-1g10gb-15-4');
    expect(deviceName(A100, mig(A100, '2g.10gb', 2))).toBe('gpu-0-mig-2g10gb-14-2');
    expect(deviceName(A100, mig(A100, '3g.20gb', 4))).toBe('gpu-0-mig-3g20gb-9-4');
    expect(deviceName(A100, mig(A100, '4g.20gb', 0))).toBe('gpu-0-mig-4g20gb-5-0');
    expect(deviceName(A100, mig(A100, '7g.40gb', 0))).toBe('gpu-0-mig-7g40gb-0-0');
    const h100 = model('H100-80GB');
    expect(deviceName(h100, mig(h100, '1g.10gb', 3))).toBe('gpu-0-mig-1g10gb-19-3');
    const a30 = model('A30-24GB');
    expect(deviceName(a30, mig(a30, '2g.12gb+me', 2))).toBe('gpu-0-mig-2g12gb-me-6-2');
  });

  it('round-trip for every catalog model, profile and placement, and the whole GPU', () => {
    for (const m of MODELS) {
      for (const gpu of [0, 7, 13]) {
        const devices = allDevices(m, gpu);
        expect(devices).toHaveLength(1 + m.profiles.reduce((n, p) => n + p.starts.length, 0));
        const names = devices.map((d) => deviceName(m, d));
        expect(new Set(names).size).toBe(names.length);
        for (const d of devices) expect(parseDeviceName(m, deviceName(m, d))).toEqual(d);
      }
    }
  });

  it('have a GPU instance profile id for every catalog profile', () => {
    for (const m of MODELS) for (const p of m.profiles) expect(giProfileId(m, p)).toBeGreaterThanOrEqual(0);
  });

  it('parse by profile and start, whatever the id says', () => {
    expect(parseDeviceName(A100, 'gpu-2-mig-1g5gb-99-3')).toEqual(mig(A100, '1g.5gb', 3, 2));
  });

  it('refuse names of devices the model does not have', () => {
    for (const name of [
      'gpu-0-mig-1g10gb-19-3', // 1g.10gb starts at even slices only
      'gpu-0-mig-9g90gb-0-0',
      'gpu-0-mig-7g40gb-0-8',
      'gpu-x',
      'gpu-0-1g5gb-19-0',
      'mig-0',
    ]) {
      expect(parseDeviceName(A100, name)).toBeUndefined();
    }
  });
});

describe('counters', () => {
  it("are the A100's full GPU: 98 multiprocessors, 40 GiB and 8 memory slices", () => {
    expect(counterSetName(1)).toBe('gpu-1-counter-set');
    expect(gpuCounters(A100)).toEqual({
      multiprocessors: 98,
      memory: 40960,
      ...Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`memory-slice-${i}`, 1])),
    });
    expect(deviceConsumption(A100, mig(A100, '3g.20gb', 4))).toEqual({
      multiprocessors: 42,
      memory: 20480,
      'memory-slice-4': 1,
      'memory-slice-5': 1,
      'memory-slice-6': 1,
      'memory-slice-7': 1,
    });
    expect(deviceCapacity(A100, { kind: 'gpu', gpu: 0 })).toEqual({ memory: 40960, multiprocessors: 98 });
  });

  it('hold at least the full profile on every model (more only where rounded catalog sizes need it)', () => {
    for (const m of MODELS) {
      const full = m.profiles.find((p) => p.memorySlices === m.memorySlices);
      expect(gpuCounters(m)['memory']).toBeGreaterThanOrEqual((full?.memoryGB ?? Infinity) * 1024);
    }
    // 4g.71gb + 3g.71gb need more than 7g.141gb.
    expect(gpuCounters(model('H200-141GB'))['memory']).toBeGreaterThanOrEqual(142 * 1024);
  });

  const twoDevices = fc.constantFrom(...MODELS).chain((m) =>
    fc.record({
      m: fc.constant(m),
      a: fc.constantFrom(...migDevices(m, 0)),
      b: fc.constantFrom(...migDevices(m, 0)),
    }),
  );

  it('refuse two MIG devices of a GPU exactly when their placements overlap', () => {
    fc.assert(
      fc.property(twoDevices, ({ m, a, b }) => {
        expect(fitsCounters(m, [a, b])).toBe(!overlaps(m, a, b));
      }),
      { numRuns: 2000 },
    );
  });

  it('let the whole GPU go with no MIG device, and alone fit', () => {
    for (const m of MODELS) {
      const whole: GpuDevice = { kind: 'gpu', gpu: 0 };
      expect(fitsCounters(m, [whole])).toBe(true);
      for (const d of migDevices(m, 0)) expect(fitsCounters(m, [whole, d])).toBe(false);
    }
  });

  it('fit every valid layout', () => {
    for (const m of MODELS) {
      const layouts = maximalLayouts(
        m,
        m.profiles.map((p) => p.name),
      );
      expect(layouts.length).toBeGreaterThan(0);
      for (const layout of layouts) {
        const devices = layout.slices.map((s) => mig(m, s.profile, s.start));
        expect(fitsCounters(m, devices), `${m.name} ${JSON.stringify(layout)}`).toBe(true);
      }
    }
  });
});
