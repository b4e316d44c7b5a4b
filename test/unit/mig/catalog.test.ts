// The GPU catalog as data: each model's profile list against its source (docs/model.md §1), product aliases,
// and the invariants shared code relies on, checked on every model so that a new one is covered.
import { describe, expect, it } from 'vitest';
import type { GpuModel, MigProfile } from '../../../policy/mig/catalog.js';
import { computeProfiles, findGpuModel, GPU_MODELS, profileByResource } from '../../../policy/mig/catalog.js';
import { placeInstances } from '../../../policy/mig/enumerate.js';
import { validateLayout } from '../../../policy/mig/validate.js';
import { ALL_MODELS, EIGHT_SLICE_MODELS, gpu } from './build.js';

/** `name ×maxCount @starts / memorySlices`, one string per profile, in catalog order. */
const rows = (m: GpuModel): string[] =>
  m.profiles.map((p) => `${p.name} ×${p.maxCount} @${p.starts.join('|')} /${p.memorySlices}`);

/** The 8-slice profile list of docs/model.md §1 for memory sizes g1 (1g), g1x2 (1g with two slices) … g7. */
const eightSlice = (g1: number, g1x2: number, g2: number, g3: number, g4: number, g7: number): string[] => [
  `1g.${g1}gb ×7 @0|1|2|3|4|5|6 /1`,
  `1g.${g1}gb+me ×1 @0|1|2|3|4|5|6 /1`,
  `1g.${g1x2}gb ×4 @0|2|4|6 /2`,
  `2g.${g2}gb ×3 @0|2|4 /2`,
  `3g.${g3}gb ×2 @0|4 /4`,
  `4g.${g4}gb ×1 @0 /4`,
  `7g.${g7}gb ×1 @0 /8`,
];

describe('profile lists (NVIDIA MIG User Guide; GPU operator mig-parted config)', () => {
  const cases = [
    { model: 'H100-94GB', want: eightSlice(12, 24, 24, 47, 47, 94) },
    { model: 'H200-141GB', want: eightSlice(18, 35, 35, 71, 71, 141) },
    { model: 'B200-180GB', want: eightSlice(23, 45, 45, 90, 90, 180) },
    { model: 'GB200-186GB', want: eightSlice(23, 47, 47, 93, 93, 186) },
    {
      model: 'RTX-PRO-6000-96GB',
      want: ['1g.24gb ×4 @0|1|2|3 /1', '1g.24gb+me ×1 @0|1|2|3 /1', '2g.48gb ×2 @0|2 /2', '4g.96gb ×1 @0 /4'],
    },
    {
      model: 'A30-24GB',
      want: [
        '1g.6gb ×4 @0|1|2|3 /1',
        '1g.6gb+me ×1 @0|1|2|3 /1',
        '2g.12gb ×2 @0|2 /2',
        '2g.12gb+me ×1 @0|2 /2',
        '4g.24gb ×1 @0 /4',
      ],
    },
  ];
  it.each(cases)('$model', ({ model, want }) => {
    expect(rows(gpu(model))).toEqual(want);
  });

  it.each([
    { model: 'H100-94GB', geometry: [8, 7] },
    { model: 'B200-180GB', geometry: [8, 7] },
    { model: 'GB200-186GB', geometry: [8, 7] },
    { model: 'RTX-PRO-6000-96GB', geometry: [4, 4] },
  ])('$model has $geometry memory and compute slices', ({ model, geometry }) => {
    const m = gpu(model);
    expect([m.memorySlices, m.computeSlices]).toEqual(geometry);
  });

  it('memory per profile on the new models', () => {
    const gb = (name: string) => Object.fromEntries(gpu(name).profiles.map((p) => [p.name, p.memoryGB]));
    expect(gb('B200-180GB')).toMatchObject({ '1g.23gb': 23, '1g.45gb': 45, '3g.90gb': 90, '7g.180gb': 180 });
    expect(gb('GB200-186GB')).toMatchObject({ '1g.23gb': 23, '2g.47gb': 47, '4g.93gb': 93, '7g.186gb': 186 });
    expect(gb('H100-94GB')).toMatchObject({ '1g.12gb': 12, '2g.24gb': 24, '3g.47gb': 47, '7g.94gb': 94 });
    expect(gb('RTX-PRO-6000-96GB')).toEqual({ '1g.24gb': 24, '1g.24gb+me': 24, '2g.48gb': 48, '4g.96gb': 96 });
  });

  it('device-plugin resources of the RTX PRO 6000', () => {
    expect(gpu('RTX-PRO-6000-96GB').profiles.map((p) => p.resource)).toEqual([
      'nvidia.com/mig-1g.24gb',
      'nvidia.com/mig-1g.24gb.me',
      'nvidia.com/mig-2g.48gb',
      'nvidia.com/mig-4g.96gb',
    ]);
  });

  it('pins the models with A100 geometry', () => {
    expect(EIGHT_SLICE_MODELS).toEqual([
      'A100-40GB',
      'A100-80GB',
      'H100-80GB',
      'H100-94GB',
      'H200-141GB',
      'B200-180GB',
      'GB200-186GB',
    ]);
    expect(ALL_MODELS).toEqual(GPU_MODELS);
  });
});

describe('findGpuModel and GPU feature discovery product names', () => {
  const cases = [
    { product: 'NVIDIA-H100-NVL', model: 'H100-94GB' },
    { product: 'NVIDIA-B200', model: 'B200-180GB' },
    { product: 'NVIDIA-GB200', model: 'GB200-186GB' },
    { product: 'NVIDIA-RTX-PRO-6000-Blackwell-Server-Edition', model: 'RTX-PRO-6000-96GB' },
    { product: 'NVIDIA-RTX-PRO-6000-Blackwell-Workstation-Edition', model: 'RTX-PRO-6000-96GB' },
    { product: 'NVIDIA-RTX-PRO-6000-Blackwell-Max-Q-Workstation-Edition', model: 'RTX-PRO-6000-96GB' },
    { product: 'nvidia-b200', model: 'B200-180GB' },
    { product: ' gb200-186gb ', model: 'GB200-186GB' },
    { product: 'NVIDIA-H200', model: 'H200-141GB' },
    { product: 'NVIDIA-H100-PCIe', model: 'H100-80GB' },
  ];
  it.each(cases)('$product → $model', ({ product, model }) => {
    expect(findGpuModel(product)?.name).toBe(model);
  });

  it.each(['NVIDIA-B300', 'NVIDIA-GB300', 'NVIDIA-RTX-PRO-5000-Blackwell', 'NVIDIA-H100'])('%s is unknown', (p) => {
    expect(findGpuModel(p)).toBeUndefined();
  });

  it('no alias or name belongs to two models', () => {
    const owner = new Map<string, string>();
    for (const n of GPU_MODELS) {
      for (const key of new Set([n, ...gpu(n).aliases].map((k) => k.toLowerCase()))) {
        expect(owner.get(key) ?? n, key).toBe(n);
        owner.set(key, n);
      }
    }
  });
});

describe('catalog invariants on every model', () => {
  const models = ALL_MODELS.map(gpu);
  const fullGB = (m: GpuModel): number => Number(/-(\d+)GB$/.exec(m.name)?.[1]);

  it.each(models.map((m) => ({ m, name: m.name })))('$name: names, resources and starts are consistent', ({ m }) => {
    expect(findGpuModel(m.name)).toBe(m);
    expect(new Set(m.profiles.map((p) => p.name)).size).toBe(m.profiles.length);
    for (const p of m.profiles) {
      const base = `${p.computeSlices}g.${p.memoryGB}gb`;
      expect(p.name).toBe(p.mediaExtensions ? `${base}+me` : base);
      expect(p.resource).toBe(`nvidia.com/mig-${base}${p.mediaExtensions ? '.me' : ''}`);
      expect(profileByResource(m, p.resource)).toBe(p);
      expect(p.computeSlices).toBeLessThanOrEqual(m.computeSlices);
      // A start is aligned to the instance's size and the instance ends inside the GPU.
      for (const s of p.starts) {
        expect(s % p.memorySlices).toBe(0);
        expect(s + p.memorySlices).toBeLessThanOrEqual(m.memorySlices);
      }
    }
  });

  it.each(models.map((m) => ({ m, name: m.name })))('$name: memory is proportional to memory slices', ({ m }) => {
    const full = fullGB(m);
    expect(Math.max(...m.profiles.map((p) => p.memoryGB))).toBe(full);
    for (const p of m.profiles)
      expect(Math.abs(p.memoryGB - (full * p.memorySlices) / m.memorySlices)).toBeLessThanOrEqual(1);
  });

  it.each(models.map((m) => ({ m, name: m.name })))(
    '$name: maxCount instances of a profile fit together, one more does not',
    ({ m }) => {
      for (const p of m.profiles) {
        const n = (k: number): MigProfile[] => new Array<MigProfile>(k).fill(p);
        const layout = placeInstances(m, n(p.maxCount));
        expect(layout, p.name).toBeDefined();
        if (layout) expect(validateLayout(m, layout)).toEqual({ ok: true });
        expect(placeInstances(m, n(p.maxCount + 1)), p.name).toBeUndefined();
      }
    },
  );

  it.each(models.map((m) => ({ m, name: m.name })))('$name: the whole GPU is one profile', ({ m }) => {
    const whole = computeProfiles(m).filter((p) => p.memorySlices === m.memorySlices);
    expect(whole.map((p) => p.computeSlices)).toEqual([m.computeSlices]);
  });

  it('a profile name means the same compute slices on every model (placement/node-score.ts relies on it)', () => {
    const compute = new Map<string, Set<number>>();
    for (const m of models) {
      for (const p of m.profiles) compute.set(p.name, (compute.get(p.name) ?? new Set()).add(p.computeSlices));
    }
    for (const [name, sizes] of compute) expect([name, sizes.size]).toEqual([name, 1]);
  });
});
