import { describe, expect, it } from 'vitest';
import { findGpuModel, GPU_MODELS } from '../../../policy/mig/catalog.js';
import { A100_40GB_WATTS, POWER_SPECS, powerFromTable, powerModel } from '../../../policy/energy/index.js';

const model = (name: string) => findGpuModel(name)!;

describe('powerModel', () => {
  it('reproduces the measured A100-40GB table', () => {
    const p = powerModel(model('A100-40GB'));
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((k) => p.watts(k))).toEqual([40, 119, 160, 205.3, 243.9, 247.7, 248.5, 248.5]);
    expect([p.idleWatts, p.busyWatts]).toEqual([40, 248.5]);
  });

  it.each(GPU_MODELS.map((name) => ({ name })))('$name: a non-decreasing curve from idle to busy', ({ name }) => {
    const m = model(name);
    const p = powerModel(m);
    expect(p.table).toHaveLength(m.computeSlices + 1);
    expect(p.table[0]).toBe(POWER_SPECS[name].idleWatts);
    expect(p.table[m.computeSlices]).toBe(POWER_SPECS[name].busyWatts);
    for (let k = 1; k <= m.computeSlices; k++) expect(p.table[k]!).toBeGreaterThanOrEqual(p.table[k - 1]!);
    // Concave like the measured curve: the first slice costs the most.
    expect(p.table[1]! - p.table[0]!).toBeGreaterThan(p.table[m.computeSlices]! - p.table[m.computeSlices - 1]!);
  });

  it.each([
    { name: 'H100 at 3 of 7 keeps the A100 share', gpu: 'H100-80GB', k: 3, want: 70 + 630 * ((205.3 - 40) / 208.5) },
    {
      name: 'A30 at 2 of 4 sits at the A100’s 3.5 of 7',
      gpu: 'A30-24GB',
      k: 2,
      want: 30 + 135 * ((224.6 - 40) / 208.5),
    },
    { name: 'A100-40GB between slices is linear', gpu: 'A100-40GB', k: 0.5, want: 79.5 },
    { name: 'B200 at 3 of 7 keeps the A100 share', gpu: 'B200-180GB', k: 3, want: 140 + 860 * ((205.3 - 40) / 208.5) },
    { name: 'GB200 fully busy is 1200 W', gpu: 'GB200-186GB', k: 7, want: 1200 },
    { name: 'H100 NVL idle is 65 W', gpu: 'H100-94GB', k: 0, want: 65 },
    {
      name: 'RTX PRO 6000 at 2 of 4 sits at the A100’s 3.5 of 7',
      gpu: 'RTX-PRO-6000-96GB',
      k: 2,
      want: 30 + 570 * ((224.6 - 40) / 208.5),
    },
  ])('$name', ({ gpu, k, want }) => {
    expect(powerModel(model(gpu)).watts(k)).toBeCloseTo(want, 9);
  });

  it.each([
    { gpu: 'H100-94GB', busy: 400, cites: 'H100 datasheet' },
    { gpu: 'B200-180GB', busy: 1000, cites: 'HGX B200 datasheet' },
    { gpu: 'GB200-186GB', busy: 1200, cites: 'Blackwell architecture technical brief' },
    { gpu: 'RTX-PRO-6000-96GB', busy: 600, cites: 'RTX PRO 6000 Blackwell Server Edition datasheet' },
  ])('$gpu: busy power $busy W from the $cites', ({ gpu, busy, cites }) => {
    const spec = POWER_SPECS[model(gpu).name];
    expect(spec.busyWatts).toBe(busy);
    expect(spec.source).toContain(cites);
    expect(spec.source).toContain('idle assumed');
  });

  it.each(GPU_MODELS.map((name) => ({ name })))('$name: names the source of its figures', ({ name }) => {
    expect(POWER_SPECS[name].source).toMatch(/datasheet|measured|technical brief/);
  });

  it('a power cap on the RTX PRO 6000 Max-Q Workstation Edition (300 W) is an override', () => {
    const p = powerModel(model('NVIDIA-RTX-PRO-6000-Blackwell-Max-Q-Workstation-Edition'), { busyWatts: 300 });
    expect(p.table).toHaveLength(5);
    expect([p.idleWatts, p.busyWatts]).toEqual([30, 300]);
  });

  it('rescales the shape for overrides, e.g. a power cap', () => {
    const p = powerModel(model('A100-80GB'), { idleWatts: 40, busyWatts: 248.5 });
    p.table.forEach((w, k) => expect(w).toBeCloseTo(A100_40GB_WATTS[k]!, 9));
  });

  it.each([
    { name: 'negative busy compute', k: -1 },
    { name: 'more than the GPU has', k: 8 },
    { name: 'not a number', k: Number.NaN },
  ])('rejects $name', ({ k }) => {
    expect(() => powerModel(model('A100-40GB')).watts(k)).toThrow(RangeError);
  });

  it.each([
    { name: 'a decreasing table', table: [40, 100, 90, 120, 130, 140, 150, 160] },
    { name: 'a table of the wrong length', table: [40, 100] },
    { name: 'a negative entry', table: [-1, 100, 110, 120, 130, 140, 150, 160] },
  ])('powerFromTable rejects $name', ({ table }) => {
    expect(() => powerFromTable('A100-40GB', table)).toThrow(RangeError);
  });

  it('rejects busy power below idle', () => {
    expect(() => powerModel(model('H100-80GB'), { idleWatts: 100, busyWatts: 50 })).toThrow(RangeError);
  });
});
