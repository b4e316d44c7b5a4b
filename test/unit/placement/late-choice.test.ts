import { describe, expect, it } from 'vitest';
import { lateChoice } from '../../../policy/placement/late-choice.js';
import { demandProfile } from '../../../policy/sim/controller-hook.js';
import { ProfileBook } from '../../../policy/workload/job.js';
import { A100, job } from '../../support/sim-builders.js';

describe('lateChoice: what a job asks for when nothing finishes it on time', () => {
  it.each([
    // BERT inference is linear: 7g takes 1, 4g 1.75 (≤ 2), 3g 2.33: 4g is the smallest at half speed or more.
    ['linear speed-up', [1, 2, 3, 4, 7].map((k) => ({ compute: k, duration: 7 / k })), 4],
    // Flat speed-up: every size is within half the fastest, so the smallest.
    ['flat speed-up', [1, 2, 7].map((k) => ({ compute: k, duration: 10 - k * 0.1 })), 1],
    ['unknown work: the fastest', [{ compute: 1 }, { compute: 7 }], 7],
  ] as [string, { compute: number; duration?: number }[], number][])('%s', (_name, options, compute) => {
    expect(lateChoice(options)?.compute).toBe(compute);
  });

  it('no options, no choice', () => {
    expect(lateChoice([])).toBeUndefined();
  });

  it('the simulator demand: the smallest on time, else the late choice, never below minCompute', () => {
    const profiles = new ProfileBook();
    const onTime = job({ release: 0, work: 7, deadline: 100 });
    expect(demandProfile(A100, onTime, profiles, 0)).toBe('1g.5gb');
    const late = job({ release: 0, work: 7, deadline: 0.9 });
    expect(demandProfile(A100, late, profiles, 0)).toBe('4g.20gb');
    expect(demandProfile(A100, { ...late, minCompute: 7 }, profiles, 0)).toBe('7g.40gb');
  });
});
