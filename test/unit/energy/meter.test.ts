import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findGpuModel } from '../../../policy/mig/catalog.js';
import {
  EnergyMeter,
  integrateEnergy,
  joulesToWattMinutes,
  kWhToWattMinutes,
  powerModel,
  wattMinutesToJoules,
  wattMinutesToKWh,
} from '../../../policy/energy/index.js';

const a100 = powerModel(findGpuModel('A100-40GB')!);
const a30 = powerModel(findGpuModel('A30-24GB')!);

describe('integrateEnergy', () => {
  it.each([
    { name: 'idle all along', changes: [], from: 0, to: 60, want: 40 * 60 },
    {
      name: 'idle, full, then three slices',
      changes: [
        { minute: 10, busyCompute: 7 },
        { minute: 15, busyCompute: 3 },
      ],
      from: 0,
      to: 20,
      want: 40 * 10 + 248.5 * 5 + 205.3 * 5,
    },
    {
      name: 'changes before the interval set its starting level',
      changes: [{ minute: -5, busyCompute: 1 }],
      from: 0,
      to: 2,
      want: 119 * 2,
    },
    {
      name: 'changes after the interval are ignored',
      changes: [{ minute: 30, busyCompute: 7 }],
      from: 0,
      to: 10,
      want: 400,
    },
    { name: 'an empty interval', changes: [{ minute: 0, busyCompute: 7 }], from: 5, to: 5, want: 0 },
  ])('$name', ({ changes, from, to, want }) => {
    expect(integrateEnergy(a100, changes, from, to)).toBeCloseTo(want, 9);
  });

  it('rejects changes out of order and reversed intervals', () => {
    const bad = [
      { minute: 5, busyCompute: 1 },
      { minute: 4, busyCompute: 2 },
    ];
    expect(() => integrateEnergy(a100, bad, 0, 10)).toThrow(RangeError);
    expect(() => integrateEnergy(a100, [], 10, 0)).toThrow(RangeError);
  });

  it('gives the paper’s idle floor: 8 idle A100s over a day', () => {
    expect(8 * integrateEnergy(a100, [], 0, 1440)).toBe(460_800);
  });
});

describe('EnergyMeter', () => {
  it('integrates each GPU and the cluster', () => {
    const m = new EnergyMeter();
    m.addGpu('g0', a100, 0);
    m.addGpu('g1', a30, 0, 4);
    m.set('g0', 10, 7);
    m.set('g1', 5, 0);
    m.set('g0', 20, 2);
    expect(m.wattMinutes(30, 'g0')).toBeCloseTo(40 * 10 + 248.5 * 10 + 160 * 10, 9);
    expect(m.wattMinutes(30, 'g1')).toBeCloseTo(165 * 5 + 30 * 25, 9);
    expect(m.wattMinutes(30)).toBeCloseTo(m.wattMinutes(30, 'g0') + m.wattMinutes(30, 'g1'), 9);
    expect(m.watts()).toBe(160 + 30);
    expect(m.busy('g0')).toBe(2);
  });

  it('reading does not change the meter', () => {
    const m = new EnergyMeter();
    m.addGpu('g', a100, 0, 7);
    expect(m.wattMinutes(10)).toBe(m.wattMinutes(10));
    m.set('g', 10, 0);
    expect(m.wattMinutes(20)).toBeCloseTo(2485 + 400, 9);
  });

  it('stops counting a removed GPU but keeps its energy', () => {
    const m = new EnergyMeter();
    m.addGpu('g', a100, 0, 1);
    m.removeGpu('g', 10);
    expect(m.wattMinutes(100)).toBe(1190);
    expect(m.watts()).toBe(0);
    expect(() => m.set('g', 20, 3)).toThrow(/removed/);
  });

  it.each([
    { name: 'time going back', act: (m: EnergyMeter) => m.set('g', 4, 1) },
    { name: 'a reading before the last change', act: (m: EnergyMeter) => m.wattMinutes(4) },
    { name: 'an unknown GPU', act: (m: EnergyMeter) => m.set('h', 6, 1) },
    { name: 'a GPU added twice', act: (m: EnergyMeter) => m.addGpu('g', a100, 6) },
    { name: 'busy compute beyond the GPU', act: (m: EnergyMeter) => m.set('g', 6, 8) },
  ])('rejects $name', ({ act }) => {
    const m = new EnergyMeter();
    m.addGpu('g', a100, 0);
    m.set('g', 5, 2);
    expect(() => act(m)).toThrow();
    expect(m.wattMinutes(5)).toBeCloseTo(200, 9); // a rejected call changed nothing
  });

  it('agrees with integrateEnergy for any sequence of changes', () => {
    const step = fc.record({ gap: fc.double({ min: 0, max: 100, noNaN: true }), busy: fc.integer({ min: 0, max: 7 }) });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), fc.double({ min: 0, max: 50, noNaN: true }), (steps, tail) => {
        const m = new EnergyMeter();
        m.addGpu('g', a100, 0);
        let t = 0;
        const changes = steps.map((s) => {
          t += s.gap;
          m.set('g', t, s.busy);
          return { minute: t, busyCompute: s.busy };
        });
        const expected = integrateEnergy(a100, changes, 0, t + tail);
        expect(m.wattMinutes(t + tail)).toBeCloseTo(expected, 6);
        // Power lies between idle and full, so energy does too.
        expect(expected).toBeGreaterThanOrEqual(40 * (t + tail) - 1e-6);
        expect(expected).toBeLessThanOrEqual(248.5 * (t + tail) + 1e-6);
      }),
      { seed: 20240601, numRuns: 200 },
    );
  });
});

describe('unit conversions', () => {
  it.each([
    { name: 'W·min → J', got: wattMinutesToJoules(1), want: 60 },
    { name: 'J → W·min', got: joulesToWattMinutes(3600), want: 60 },
    { name: 'W·min → kWh', got: wattMinutesToKWh(60_000), want: 1 },
    { name: 'kWh → W·min', got: kWhToWattMinutes(2.5), want: 150_000 },
    { name: 'the paper’s day at 2.54 M W·min in kWh', got: wattMinutesToKWh(2.54e6), want: 42.333333333333336 },
  ])('$name', ({ got, want }) => {
    expect(got).toBeCloseTo(want, 9);
  });
});
