// The controllers `compare` can score, each prepared the same way: searched (or trained) on search seeds,
// started from the best static layout when it is dynamic, and refused on the seeds it was tuned on.
import { computeSizes, type Layout } from '../mig/layout.js';
import { paperConfigNumber } from '../mig/paper12.js';
import type { Repartitioner } from '../repartition/controller.js';
import { greedyRepartitioner } from '../repartition/greedy.js';
import { scheduleRepartitioner, type SchedulePhase } from '../repartition/schedule.js';
import { staticRepartitioner } from '../repartition/static.js';
import {
  expand,
  scheduleStart,
  searchBestStatic,
  searchHindsight,
  searchTwiceDaily,
  type StaticFound,
} from '../search/layout-search.js';
import type { Setting } from './setting.js';

export const CONTROLLERS = ['static', 'best-static', 'twice-daily', 'greedy', 'hindsight'] as const;
export type ControllerName = (typeof CONTROLLERS)[number];

export interface ControllerPlan {
  readonly name: ControllerName;
  /** Seeds it was searched or trained on; scoring it there would flatter it. */
  readonly searchSeeds: readonly number[];
  /** False for references that see the evaluation day (hindsight). */
  readonly deployable: boolean;
  /** What the search found, for people. */
  readonly found: string;
  /** Initial layouts and a fresh controller for one evaluation seed. */
  forSeed(seed: number): { layouts: Layout[]; controller: Repartitioner; found?: string };
}

export interface PlanOptions {
  readonly searchSeeds: readonly number[];
  /** Layouts of `static` (one per GPU). */
  readonly staticLayouts: readonly Layout[];
  readonly maxPasses?: number;
  /** Called after every simulated search candidate. */
  readonly onEvaluate?: () => void;
}

/** A layout as its paper configuration number where it is one, else its compute sizes (`4+2+1`). */
export function layoutName(setting: Setting, layout: Layout): string {
  const n = paperConfigNumber(setting.model, layout);
  return n === undefined ? computeSizes(setting.model, layout).join('+') : String(n);
}

export function patternText(setting: Setting, pattern: readonly Layout[]): string {
  return pattern.map((l) => layoutName(setting, l)).join(',');
}

export function scheduleText(setting: Setting, phases: readonly SchedulePhase[]): string {
  return phases
    .map((p) => `${String(p.fromMin / 60).padStart(2, '0')}h: ${patternText(setting, p.layouts)}`)
    .join('; ');
}

/** Prepares controllers for one setting, sharing the best static search between them. */
export class Planner {
  private staticFound?: StaticFound;

  constructor(
    private readonly setting: Setting,
    private readonly opts: PlanOptions,
  ) {}

  bestStatic(): StaticFound {
    this.staticFound ??= searchBestStatic(this.context(this.opts.searchSeeds));
    return this.staticFound;
  }

  plan(name: ControllerName): ControllerPlan {
    const { setting, opts } = this;
    const fixed = (layouts: readonly Layout[], make: () => Repartitioner, found: string, searched: boolean) => ({
      name,
      searchSeeds: searched ? [...opts.searchSeeds] : [],
      deployable: true,
      found,
      forSeed: () => ({ layouts: [...layouts], controller: make() }),
    });
    switch (name) {
      case 'static':
        return fixed(opts.staticLayouts, staticRepartitioner, patternText(setting, opts.staticLayouts), false);
      case 'best-static': {
        const s = this.bestStatic();
        return fixed(expand(setting, s.pattern), staticRepartitioner, patternText(setting, s.pattern), true);
      }
      case 'greedy': {
        const s = this.bestStatic();
        return fixed(
          expand(setting, s.pattern),
          () => greedyRepartitioner(),
          `from ${patternText(setting, s.pattern)}`,
          true,
        );
      }
      case 'twice-daily': {
        const t = searchTwiceDaily(this.context(opts.searchSeeds), this.bestStatic());
        return fixed(
          scheduleStart(setting, t.phases),
          () => scheduleRepartitioner('twice-daily', t.phases),
          scheduleText(setting, t.phases),
          true,
        );
      }
      case 'hindsight': {
        const s = this.bestStatic();
        return {
          name,
          searchSeeds: [...opts.searchSeeds],
          deployable: false,
          found: 'per evaluation day, one layout per hour',
          forSeed: (seed) => {
            const h = searchHindsight(this.context([seed]), s);
            return {
              layouts: scheduleStart(setting, h.phases),
              controller: scheduleRepartitioner('hindsight', h.phases),
              found: scheduleText(setting, h.phases),
            };
          },
        };
      }
    }
  }

  private context(seeds: readonly number[]) {
    return { setting: this.setting, seeds, maxPasses: this.opts.maxPasses, onEvaluate: this.opts.onEvaluate };
  }
}
