// How built-in speed-up profiles and MigPartitions' workloads merge into one set: which definition of a
// name wins, which conflicts are reported, and that the result does not depend on the order of the sources.
import { describe, expect, it } from 'vitest';
import { PAPER_PROFILES, speedupOn } from '../../../policy/workload/job.js';
import { mergeProfiles, type ProfileSource } from '../../../policy/workload/profile-sources.js';

const src = (name: string, created: number, profiles: Record<string, Record<number, number>>): ProfileSource => ({
  name,
  created,
  profiles: Object.entries(profiles).map(([n, speedup]) => ({ name: n, speedup })),
});

const speedupOf = (sources: ProfileSource[], name: string) =>
  mergeProfiles(sources).profiles.find((p) => p.name === name)?.speedup;

describe('merging speed-up profiles', () => {
  it('keeps the built-ins when no policy defines anything', () => {
    const m = mergeProfiles([]);
    expect(m.profiles).toEqual(PAPER_PROFILES);
    expect(m.origin.size).toBe(0);
    expect(m.conflicts).toEqual([]);
  });

  it("adds a policy's profile, with 1 → 1 made explicit so small slices are not read as the smallest listed", () => {
    const m = mergeProfiles([src('a', 1, { 'llm-ft': { 2: 1.5, 7: 3 } })]);
    const p = m.profiles.find((x) => x.name === 'llm-ft');
    expect(p).toEqual({ name: 'llm-ft', kind: 'training', speedup: { 1: 1, 2: 1.5, 7: 3 } });
    expect(speedupOn(p!, 1)).toBe(1);
    expect(m.origin.get('llm-ft')).toBe('a');
  });

  it('lets a policy replace a built-in of the same name, keeping its kind', () => {
    const m = mergeProfiles([src('a', 1, { 'bert-inference': { 2: 1.1 } })]);
    expect(m.profiles.find((p) => p.name === 'bert-inference')).toEqual({
      name: 'bert-inference',
      kind: 'inference',
      speedup: { 1: 1, 2: 1.1 },
    });
    expect(m.profiles).toHaveLength(PAPER_PROFILES.length);
  });

  const cases: { name: string; sources: ProfileSource[]; want: Record<number, number>; conflicts: unknown[] }[] = [
    {
      name: 'the older policy wins a name two define differently',
      sources: [src('young', 20, { w: { 2: 1.9 } }), src('old', 10, { w: { 2: 1.2 } })],
      want: { 1: 1, 2: 1.2 },
      conflicts: [{ profile: 'w', kept: 'old', ignored: 'young' }],
    },
    {
      name: 'equal creation times: the name decides',
      sources: [src('b', 10, { w: { 2: 1.9 } }), src('a', 10, { w: { 2: 1.2 } })],
      want: { 1: 1, 2: 1.2 },
      conflicts: [{ profile: 'w', kept: 'a', ignored: 'b' }],
    },
    {
      name: 'equal definitions agree (an explicit 1 → 1 is the same as none)',
      sources: [src('a', 10, { w: { 2: 1.2 } }), src('b', 20, { w: { 1: 1, 2: 1.2 } })],
      want: { 1: 1, 2: 1.2 },
      conflicts: [],
    },
  ];
  it.each(cases)('$name', ({ sources, want, conflicts }) => {
    expect(speedupOf(sources, 'w')).toEqual(want);
    expect(mergeProfiles(sources).conflicts).toEqual(conflicts);
    expect(mergeProfiles([...sources].reverse())).toEqual(mergeProfiles(sources));
  });
});
