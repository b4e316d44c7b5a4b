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
  searchTimetable,
  searchTwiceDaily,
  TIMETABLE_BLOCK_MIN,
  type ScheduleFound,
  type StaticFound,
} from '../search/layout-search.js';
import { powerModel } from '../energy/power.js';
import { LOOKAHEAD_DEFAULTS, LOOKAHEAD_TUNED_ON, lookaheadRepartitioner } from '../repartition/lookahead.js';
import { ProfileBook } from '../workload/job.js';
import type * as tf from '@tensorflow/tfjs';
import type { ActorCard } from '../learn/card.js';
import { meanFieldRepartitioner } from '../repartition/meanfield.js';
import { layoutOptions, runDay, type Setting } from './setting.js';

const PROFILES = new ProfileBook();

export const CONTROLLERS = [
  'static',
  'best-static',
  'twice-daily',
  'timetable',
  'greedy',
  'lookahead',
  'hindsight',
  'meanfield',
] as const;
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
  /** The trained actor `meanfield` runs (checked against the setting's GPU model by its loader). */
  readonly actor?: { readonly net: tf.LayersModel; readonly card: ActorCard };
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
  private timetableFound?: ScheduleFound & { readonly x: number[] };

  constructor(
    private readonly setting: Setting,
    private readonly opts: PlanOptions,
  ) {}

  bestStatic(): StaticFound {
    this.staticFound ??= searchBestStatic(this.context(this.opts.searchSeeds));
    return this.staticFound;
  }

  timetable(): ScheduleFound & { readonly x: number[] } {
    this.timetableFound ??= searchTimetable(this.context(this.opts.searchSeeds), this.bestStatic());
    return this.timetableFound;
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
    const timed = (phases: readonly SchedulePhase[]) =>
      fixed(
        scheduleStart(setting, phases),
        () => scheduleRepartitioner(name, phases),
        scheduleText(setting, phases),
        true,
      );
    switch (name) {
      case 'static':
        return fixed(opts.staticLayouts, staticRepartitioner, patternText(setting, opts.staticLayouts), false);
      case 'best-static': {
        const s = this.bestStatic();
        return fixed(expand(setting, s.pattern), staticRepartitioner, patternText(setting, s.pattern), true);
      }
      case 'greedy': {
        // Whether greedy may drain busy GPUs is tuned on the search seeds, like every baseline's choices.
        const s = this.bestStatic();
        const layouts = expand(setting, s.pattern);
        const ets = [true, false].map((drainBusy) =>
          this.meanEt(layouts, () => greedyRepartitioner({ drainBusy }), opts.searchSeeds),
        );
        const drainBusy = (ets[0] as number) <= (ets[1] as number);
        const text = `from ${patternText(setting, s.pattern)}${drainBusy ? ', drains busy GPUs' : ', idle GPUs only'}`;
        return fixed(layouts, () => greedyRepartitioner({ drainBusy }), text, true);
      }
      case 'lookahead': {
        const s = this.bestStatic();
        const options = layoutOptions(setting.model);
        const make = (seed: number) =>
          lookaheadRepartitioner({
            model: setting.model,
            mode: setting.mode,
            placement: setting.placement,
            profiles: PROFILES,
            powerTable: (m) => powerModel(m).table,
            etWeight: setting.etWeight,
            reconfigureMin: setting.reconfigureMin,
            gpusPerNode: setting.gpusPerNode,
            limits: setting.limits,
            candidates: options,
            seed,
          });
        return {
          name,
          searchSeeds: [...new Set([...opts.searchSeeds, ...LOOKAHEAD_TUNED_ON])].sort((a, b) => a - b),
          deployable: true,
          found: `from ${patternText(setting, s.pattern)}; every ${LOOKAHEAD_DEFAULTS.everyMin} min, ${LOOKAHEAD_DEFAULTS.horizonMin} min ahead, ${LOOKAHEAD_DEFAULTS.samples} sampled futures`,
          forSeed: (seed) => ({ layouts: expand(setting, s.pattern), controller: make(seed) }),
        };
      }
      case 'twice-daily':
        return timed(searchTwiceDaily(this.context(opts.searchSeeds), this.bestStatic()).phases);
      case 'timetable':
        return timed(this.timetable().phases);
      case 'meanfield': {
        // Like every dynamic controller, it starts from this setting's best static layout.
        const actor = opts.actor;
        if (!actor) throw new Error('meanfield: no trained actor given');
        const options = layoutOptions(setting.model);
        const s = this.bestStatic();
        const make = () =>
          meanFieldRepartitioner({ model: setting.model, options, net: actor.net, everyMin: actor.card.everyMin });
        return {
          ...fixed(
            expand(setting, s.pattern),
            make,
            `from ${patternText(setting, s.pattern)}; ${actor.card.command}`,
            true,
          ),
          searchSeeds: [...new Set([...opts.searchSeeds, ...actor.card.trainSeeds])].sort((a, b) => a - b),
        };
      }
      case 'hindsight': {
        const s = this.bestStatic();
        const t = { x: this.timetable().x, blockMin: TIMETABLE_BLOCK_MIN };
        return {
          name,
          searchSeeds: [...opts.searchSeeds],
          deployable: false,
          found: 'per evaluation day, the better of one layout per hour and a node pattern per 4 h from the timetable',
          forSeed: (seed) => {
            const h = searchHindsight(this.context([seed]), s, t);
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

  private meanEt(layouts: readonly Layout[], make: () => Repartitioner, seeds: readonly number[]): number {
    let sum = 0;
    for (const seed of seeds) {
      sum += runDay(this.setting, layouts, make(), seed).et;
      this.opts.onEvaluate?.();
    }
    return sum / seeds.length;
  }

  private context(seeds: readonly number[]) {
    return { setting: this.setting, seeds, maxPasses: this.opts.maxPasses, onEvaluate: this.opts.onEvaluate };
  }
}
