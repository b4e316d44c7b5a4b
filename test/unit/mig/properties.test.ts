// Property tests: enumeration, extension and validation agree with each other on random inputs. The
// oracle throughout is validateLayout; enumeration and extension use their own incremental code path.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GpuModel, MigProfile } from '../../../policy/mig/catalog.js';
import { extendToMaximal, maximalLayouts } from '../../../policy/mig/enumerate.js';
import type { Layout, Slice } from '../../../policy/mig/layout.js';
import { canonicalLayout, layoutKey } from '../../../policy/mig/layout.js';
import { validateLayout } from '../../../policy/mig/validate.js';
import { ALL_MODELS, gpu } from './build.js';

const RUNS = 300;

const models = ALL_MODELS.map(gpu);
const modelArb = fc.constantFrom(...models);

const valid = (model: GpuModel, slices: readonly Slice[]): boolean =>
  validateLayout(model, canonicalLayout({ slices })).ok;

function candidates(profiles: readonly MigProfile[]): Slice[] {
  return profiles.flatMap((p) => p.starts.map((start) => ({ profile: p.name, start })));
}

/** Whether no legal placement of `profiles` can join `layout` and leave it valid. */
function maximalByOracle(model: GpuModel, layout: Layout, profiles: readonly MigProfile[]): boolean {
  return candidates(profiles).every((c) => !valid(model, [...layout.slices, c]));
}

/** A model, a non-empty set of its profiles, and a valid layout built by adding random allowed instances. */
const scenarioArb = modelArb.chain((model) =>
  fc
    .tuple(fc.subarray([...model.profiles], { minLength: 1 }), fc.array(fc.nat(), { maxLength: 10 }))
    .map(([profiles, picks]) => {
      const pool = candidates(profiles);
      let slices: Slice[] = [];
      for (const pick of picks) {
        const c = pool[pick % pool.length];
        if (c && valid(model, [...slices, c])) slices = [...slices, c];
      }
      return { model, profiles, layout: canonicalLayout({ slices }) };
    }),
);

const names = (profiles: readonly MigProfile[]): string[] => profiles.map((p) => p.name);

const codesAt = (model: GpuModel, layout: Layout): string[] => {
  const check = validateLayout(model, layout);
  return check.ok ? [] : check.issues.map((i) => `${i.code} ${i.path}`);
};

/** Inserts `slice` into a layout by start order and returns the layout with the slice's path. */
function insert(layout: Layout, slice: Slice): { layout: Layout; path: string } {
  const slices = [...layout.slices];
  let at = slices.findIndex((s) => s.start > slice.start);
  if (at < 0) at = slices.length;
  slices.splice(at, 0, slice);
  return { layout: { slices }, path: `slices[${at}]` };
}

describe('enumeration properties', () => {
  it('every enumerated layout validates and no allowed instance can be added to it', () => {
    const setArb = modelArb.chain((model) =>
      fc.subarray([...model.profiles], { minLength: 1 }).map((profiles) => ({ model, profiles })),
    );
    fc.assert(
      fc.property(setArb, ({ model, profiles }) => {
        const all = maximalLayouts(model, names(profiles));
        expect(all.length).toBeGreaterThan(0);
        expect(new Set(all.map(layoutKey)).size).toBe(all.length);
        for (const l of all) {
          expect(validateLayout(model, l)).toEqual({ ok: true });
          expect(maximalByOracle(model, l, profiles)).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('a random valid layout extends to an enumerated maximal layout that contains it', () => {
    fc.assert(
      fc.property(scenarioArb, ({ model, profiles, layout }) => {
        expect(validateLayout(model, layout)).toEqual({ ok: true });
        const extended = extendToMaximal(model, layout, names(profiles));
        expect(validateLayout(model, extended)).toEqual({ ok: true });
        const keys = new Set(extended.slices.map((s) => `${s.profile}@${s.start}`));
        for (const s of layout.slices) expect(keys.has(`${s.profile}@${s.start}`)).toBe(true);
        expect(maximalByOracle(model, extended, profiles)).toBe(true);
        expect(maximalLayouts(model, names(profiles)).map(layoutKey)).toContain(layoutKey(extended));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('validation properties', () => {
  it('an instance overlapping another is rejected as an overlap', () => {
    const arb = scenarioArb
      .filter(({ layout }) => layout.slices.length > 0)
      .chain((s) => fc.record({ s: fc.constant(s), victim: fc.nat(), pick: fc.nat() }));
    fc.assert(
      fc.property(arb, ({ s: { model, layout }, victim, pick }) => {
        const target = layout.slices[victim % layout.slices.length];
        const targetSize = model.profiles.find((p) => p.name === target?.profile)?.memorySlices ?? 0;
        if (!target) return;
        const hits = candidates(model.profiles).filter((c) => {
          const size = model.profiles.find((p) => p.name === c.profile)?.memorySlices ?? 0;
          return c.start < target.start + targetSize && target.start < c.start + size;
        });
        const extra = hits[pick % hits.length];
        if (!extra) return;
        const codes = codesAt(model, canonicalLayout({ slices: [...layout.slices, extra] }));
        expect(codes.some((c) => c.startsWith('overlap '))).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('an instance at a start its profile does not allow is rejected as a bad start, alone', () => {
    const arb = scenarioArb.chain((s) => fc.record({ s: fc.constant(s), profile: fc.nat(), start: fc.nat() }));
    fc.assert(
      fc.property(arb, ({ s: { model, layout }, profile, start }) => {
        const p = model.profiles[profile % model.profiles.length];
        if (!p) return;
        const inRange = Array.from({ length: model.memorySlices - p.memorySlices + 1 }, (_, i) => i);
        const bad = inRange.filter((t) => !p.starts.includes(t));
        fc.pre(bad.length > 0);
        const t = bad[start % bad.length] ?? 0;
        const { layout: withBad, path } = insert(layout, { profile: p.name, start: t });
        expect(codesAt(model, withBad)).toEqual([`bad-start ${path}`]);
      }),
      { numRuns: RUNS },
    );
  });

  it('an instance outside the GPU memory is rejected as out of range, alone', () => {
    const arb = scenarioArb.chain((s) =>
      fc.record({
        s: fc.constant(s),
        profile: fc.nat(),
        start: fc.oneof(
          fc.integer({ min: -20, max: -1 }),
          fc.integer({ min: 1, max: 20 }),
          fc.double({ min: 0, max: 8, noNaN: true }),
        ),
      }),
    );
    fc.assert(
      fc.property(arb, ({ s: { model, layout }, profile, start }) => {
        const p = model.profiles[profile % model.profiles.length];
        if (!p) return;
        // Positive integers are pushed past the end; fractions stay as they are.
        const t = Number.isInteger(start) && start > 0 ? model.memorySlices - p.memorySlices + start : start;
        fc.pre(!Number.isInteger(t) || t < 0 || t + p.memorySlices > model.memorySlices);
        const { layout: withBad, path } = insert(layout, { profile: p.name, start: t });
        expect(codesAt(model, withBad)).toEqual([`out-of-range ${path}`]);
      }),
      { numRuns: RUNS },
    );
  });

  it('a profile the model lacks is rejected as unknown, alone', () => {
    const everyName = [...new Set(models.flatMap((m) => m.profiles.map((p) => p.name)))];
    const arb = scenarioArb.chain((s) =>
      fc.record({
        s: fc.constant(s),
        name: fc.oneof(fc.constantFrom(...everyName), fc.string({ minLength: 1, maxLength: 12 })),
        start: fc.nat({ max: 7 }),
      }),
    );
    fc.assert(
      fc.property(arb, ({ s: { model, layout }, name, start }) => {
        fc.pre(!model.profiles.some((p) => p.name === name));
        const { layout: withBad, path } = insert(layout, { profile: name, start });
        expect(codesAt(model, withBad)).toEqual([`unknown-profile ${path}`]);
      }),
      { numRuns: RUNS },
    );
  });

  it('a second media-extension instance is rejected as too many, without other reasons', () => {
    const arb = modelArb.chain((model) => {
      const media = model.profiles.filter((p) => p.mediaExtensions);
      return fc.record({
        model: fc.constant(model),
        first: fc.constantFrom(...media),
        second: fc.constantFrom(...media),
        a: fc.nat(),
        b: fc.nat(),
      });
    });
    fc.assert(
      fc.property(arb, ({ model, first, second, a, b }) => {
        const x = { profile: first.name, start: first.starts[a % first.starts.length] ?? 0 };
        const y = { profile: second.name, start: second.starts[b % second.starts.length] ?? 0 };
        const [lo, hi] = x.start <= y.start ? [x, y] : [y, x];
        const loSize = lo === x ? first.memorySlices : second.memorySlices;
        fc.pre(lo.start + loSize <= hi.start);
        const codes = codesAt(model, { slices: [lo, hi] });
        expect(codes.length).toBeGreaterThan(0);
        expect(codes.every((c) => c === 'too-many slices[1]')).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('nothing more fits on an extended layout: every addition is rejected for overlap or a limit', () => {
    const arb = scenarioArb.chain((s) => fc.record({ s: fc.constant(s), pick: fc.nat() }));
    fc.assert(
      fc.property(arb, ({ s: { model, profiles, layout }, pick }) => {
        const full = extendToMaximal(model, layout, names(profiles));
        const pool = candidates(profiles);
        const extra = pool[pick % pool.length];
        if (!extra) return;
        const check = validateLayout(model, canonicalLayout({ slices: [...full.slices, extra] }));
        expect(check.ok).toBe(false);
        if (check.ok) return;
        for (const issue of check.issues) expect(['overlap', 'too-many', 'compute-exceeded']).toContain(issue.code);
      }),
      { numRuns: RUNS },
    );
  });

  it('a valid layout listed backwards is rejected only for its order', () => {
    const arb = scenarioArb.filter(({ layout }) => new Set(layout.slices.map((s) => s.start)).size > 1);
    fc.assert(
      fc.property(arb, ({ model, layout }) => {
        const codes = codesAt(model, { slices: [...layout.slices].reverse() });
        expect(codes.length).toBe(layout.slices.length - 1);
        expect(codes.every((c) => c.startsWith('unordered '))).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});
