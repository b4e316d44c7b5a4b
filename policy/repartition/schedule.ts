// A controller that follows a timetable: from each phase's minute of the day, every GPU aims at the phase's
// layout (a pattern repeated over the GPUs). Twice-daily repartitioning (two phases) and the hindsight
// reference (one phase per hour) are timetables; the drain contract decides when each GPU really changes.
import { layoutsEqual, type Layout } from '../mig/layout.js';
import type { GpuState, LayoutChange, Repartitioner } from './controller.js';

export interface SchedulePhase {
  /** Minute of the day the phase begins, 0 ≤ fromMin < 1440. */
  readonly fromMin: number;
  /** Layouts by GPU, repeated over the cluster when shorter (a node's pattern). */
  readonly layouts: readonly Layout[];
}

const DAY_MIN = 1440;

/** The phase in force at `now` (minutes since the start of the run, which starts at midnight). */
export function phaseAt<P extends { readonly fromMin: number }>(phases: readonly P[], now: number): P {
  const t = ((now % DAY_MIN) + DAY_MIN) % DAY_MIN;
  let current = phases[phases.length - 1] as P; // before the first phase: yesterday's last
  for (const p of phases) if (p.fromMin <= t) current = p;
  return current;
}

/** A phase as a rule: the layout a GPU should have from `fromMin` on (undefined: leave it alone). */
export interface TimedTarget {
  readonly fromMin: number;
  target(gpu: GpuState): Layout | undefined;
}

/** A pattern phase as a rule: GPU i of a node takes layout i mod the pattern's length. */
export function patternTarget(phase: SchedulePhase): TimedTarget {
  return {
    fromMin: phase.fromMin,
    target: (g) => phase.layouts[(g.index ?? g.id) % phase.layouts.length],
  };
}

export function scheduleRepartitioner(name: string, phases: readonly SchedulePhase[]): Repartitioner {
  return timetableRepartitioner(name, phases.map(patternTarget));
}

export function timetableRepartitioner(name: string, phases: readonly TimedTarget[]): Repartitioner {
  if (phases.length === 0) throw new Error('timetableRepartitioner: no phase');
  const sorted = [...phases].sort((a, b) => a.fromMin - b.fromMin);
  return {
    name,
    decide(view) {
      const phase = phaseAt(sorted, view.now);
      const out: LayoutChange[] = [];
      for (const g of view.gpus) {
        const want = phase.target(g);
        // A GPU already on its way to `want` needs nothing; one on its way elsewhere is redirected (or its
        // drain cancelled when `want` is its current layout).
        if (want && !layoutsEqual(g.target ?? g.layout, want)) out.push({ gpu: g.id, layout: want });
      }
      return out;
    },
  };
}
