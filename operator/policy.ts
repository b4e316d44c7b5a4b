// A MigPartition object → a resolved policy the planner can use, or the reasons it cannot (errors as data:
// each issue has a code, the field path and a message for `kubectl describe`). No I/O.
import { findGpuModel, type GpuModel } from '../policy/mig/catalog.js';
import { parseLayout } from '../policy/mig/layout-text.js';
import type { ControllerTraits } from '../policy/repartition/controller.js';
import type { GpuLayoutEntry, LabelSelector, MigPartition } from '../api/types.js';
import { durationMs, timeMs } from './facts.js';
import { countsKey, countsToLayout, type GpuTarget } from './migparted.js';

export type { GpuTarget } from './migparted.js';

/**
 * - `InvalidLayout`: a static layout is unknown, malformed, or does not fit the GPU model.
 * - `InvalidSelector`: the node selector cannot be evaluated.
 * - `UnknownController`: no repartitioning controller has that name.
 * - `InvalidDuration`: a limit is not a duration.
 * - `DuplicateGpu`: two static entries name the same GPU.
 * - `ModelNotSupported`: `dynamic.model` is set for a controller that takes no model.
 * - `ModelRequired`: a controller that needs a trained model (meanfield) has no `dynamic.model`.
 * - `ModelUnavailable`: the named model is missing, unreadable, or made for another GPU model.
 * - `InvalidSchedule`: twice-daily or timetable without a schedule, a schedule for another controller, or a time
 *   twice.
 */
export type SpecIssueCode =
  | 'InvalidLayout'
  | 'InvalidSelector'
  | 'UnknownController'
  | 'InvalidDuration'
  | 'DuplicateGpu'
  | 'ModelNotSupported'
  | 'ModelRequired'
  | 'ModelUnavailable'
  | 'InvalidSchedule';

export interface SpecIssue {
  readonly code: SpecIssueCode;
  readonly path: string;
  readonly message: string;
}

export type DrainMode = 'WaitIdle' | 'Cordon';

export interface ResolvedPolicy {
  readonly name: string;
  readonly generation: number;
  /** Creation time in ms: the older of two policies selecting a node keeps it. */
  readonly created: number;
  readonly selector: LabelSelector;
  readonly gpuModel: GpuModel | undefined;
  readonly mode: 'Static' | 'Dynamic';
  readonly controller: string;
  readonly modelRef: string | undefined;
  readonly staticEntries: readonly GpuLayoutEntry[];
  /** The timetable of a twice-daily policy: minute of the day (UTC) and layout entries, in time order. */
  readonly schedule: readonly { readonly fromMin: number; readonly entries: readonly GpuLayoutEntry[] }[];
  readonly decisionIntervalMs: number;
  readonly minDwellMs: number;
  readonly maxNodesReconfiguring: number;
  readonly drain: DrainMode;
  readonly drainTimeoutMs: number | undefined;
  /** How long mig-manager may stay pending or rebooting before the operator stops waiting. */
  readonly applyTimeoutMs: number;
  /** Problems that stop the policy from acting (it still holds its nodes, so no other policy takes them). */
  readonly issues: readonly SpecIssue[];
}

/** Defaults, as in the CRD; applied here too for objects the apiserver has not defaulted (unit tests, old data). */
export const DEFAULTS = {
  controller: 'greedy',
  decisionInterval: '30s',
  minDwell: '5m',
  maxNodesReconfiguring: 1,
  drain: 'WaitIdle' as DrainMode,
  applyTimeout: '10m',
};

function selectorIssues(sel: LabelSelector | undefined): SpecIssue[] {
  const issues: SpecIssue[] = [];
  (sel?.matchExpressions ?? []).forEach((e, i) => {
    const path = `spec.nodeSelector.matchExpressions[${i}]`;
    const needsValues = e.operator === 'In' || e.operator === 'NotIn';
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(e.operator)) {
      issues.push({ code: 'InvalidSelector', path, message: `unknown operator ${String(e.operator)}` });
    } else if (needsValues !== (e.values !== undefined && e.values.length > 0)) {
      issues.push({
        code: 'InvalidSelector',
        path,
        message: `${e.operator} ${needsValues ? 'needs' : 'takes no'} values`,
      });
    }
  });
  return issues;
}

/** Whether node labels match a standard label selector. */
export function selects(sel: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const value = labels[e.key];
    const inValues = has && (e.values ?? []).includes(value as string);
    const ok =
      e.operator === 'In'
        ? inValues
        : e.operator === 'NotIn'
          ? !inValues
          : e.operator === 'Exists'
            ? has
            : e.operator === 'DoesNotExist'
              ? !has
              : false;
    if (!ok) return false;
  }
  return true;
}

function limitMs(text: string | undefined, fallback: string, path: string, issues: SpecIssue[]): number {
  const ms = durationMs(text ?? fallback);
  if (ms === undefined) {
    issues.push({ code: 'InvalidDuration', path, message: `"${String(text)}" is not a duration such as 30s or 5m` });
    return durationMs(fallback) as number;
  }
  return ms;
}

/** The controller a Dynamic policy names, and its model, checked against what the controllers take. */
function controllerIssues(
  spec: MigPartition['spec'],
  controller: string,
  controllers: ReadonlyMap<string, ControllerTraits>,
): SpecIssue[] {
  if (spec.mode !== 'Dynamic') return [];
  const traits = controllers.get(controller);
  if (!traits) {
    const known = [...controllers.keys()].sort().join(', ');
    const message = `no controller named ${controller} (known: ${known})`;
    return [{ code: 'UnknownController', path: 'spec.dynamic.controller', message }];
  }
  const model = spec.dynamic?.model;
  if (model !== undefined && !traits.takesModel) {
    const takers = [...controllers].filter(([, t]) => t.takesModel).map(([name]) => name);
    const which =
      takers.length > 0 ? `controllers that take one: ${takers.sort().join(', ')}` : 'no controller takes one';
    const message = `controller ${controller} takes no model, so "${model}" would be ignored (${which}); remove model or name such a controller`;
    return [{ code: 'ModelNotSupported', path: 'spec.dynamic.model', message }];
  }
  if (model === undefined && traits.takesModel) {
    const message = `controller ${controller} decides with a trained model: name one in spec.dynamic.model`;
    return [{ code: 'ModelRequired', path: 'spec.dynamic.model', message }];
  }
  return [];
}

export function resolvePolicy(mp: MigPartition, controllers: ReadonlyMap<string, ControllerTraits>): ResolvedPolicy {
  const spec = mp.spec;
  const issues: SpecIssue[] = selectorIssues(spec.nodeSelector);
  const limits = spec.limits ?? {};
  const controller = spec.dynamic?.controller ?? DEFAULTS.controller;
  issues.push(...controllerIssues(spec, controller, controllers));
  const gpuModel = spec.gpuModel === undefined ? undefined : findGpuModel(spec.gpuModel);
  const policy: ResolvedPolicy = {
    name: mp.metadata?.name ?? '',
    generation: mp.metadata?.generation ?? 0,
    created: timeMs(mp.metadata?.creationTimestamp) ?? 0,
    selector: spec.nodeSelector ?? {},
    gpuModel,
    mode: spec.mode,
    controller,
    modelRef: spec.dynamic?.model,
    staticEntries: spec.mode === 'Static' ? (spec.static?.layouts ?? []) : [],
    schedule: (spec.dynamic?.schedule ?? [])
      .map((p) => ({ fromMin: clockMinutes(p.from), entries: p.layouts }))
      .sort((a, b) => a.fromMin - b.fromMin),
    decisionIntervalMs: limitMs(
      limits.decisionInterval,
      DEFAULTS.decisionInterval,
      'spec.limits.decisionInterval',
      issues,
    ),
    minDwellMs: limitMs(limits.minDwell, DEFAULTS.minDwell, 'spec.limits.minDwell', issues),
    maxNodesReconfiguring: Math.max(1, limits.maxNodesReconfiguring ?? DEFAULTS.maxNodesReconfiguring),
    drain: limits.drain ?? DEFAULTS.drain,
    drainTimeoutMs:
      limits.drainTimeout === undefined
        ? undefined
        : limitMs(limits.drainTimeout, '0s', 'spec.limits.drainTimeout', issues),
    applyTimeoutMs: limitMs(limits.applyTimeout, DEFAULTS.applyTimeout, 'spec.limits.applyTimeout', issues),
    issues,
  };
  if (policy.mode === 'Static') {
    issues.push(...duplicateGpuIssues(policy.staticEntries));
    // With a declared model the layouts can be checked before any node shows up.
    if (gpuModel) issues.push(...staticIssues(policy.staticEntries, gpuModel));
  }
  const takesSchedule = controllers.get(controller)?.takesSchedule === true;
  issues.push(...scheduleIssues(policy, takesSchedule, spec.dynamic?.schedule, gpuModel));
  return policy;
}

/** `HH:MM` as minutes of the day (the CRD's pattern guarantees the form). */
function clockMinutes(text: string): number {
  const [h, m] = text.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** A schedule belongs to the controllers that follow one, which need it; its layouts are checked as static ones are. */
function scheduleIssues(
  policy: ResolvedPolicy,
  takesSchedule: boolean,
  schedule: readonly { from: string; layouts: GpuLayoutEntry[] }[] | undefined,
  model: GpuModel | undefined,
): SpecIssue[] {
  const wants = policy.mode === 'Dynamic' && takesSchedule;
  const path = 'spec.dynamic.schedule';
  if (wants && !schedule?.length)
    return [{ code: 'InvalidSchedule', path, message: `controller ${policy.controller} needs a schedule` }];
  if (!wants && schedule !== undefined)
    return [{ code: 'InvalidSchedule', path, message: `controller ${policy.controller} takes no schedule` }];
  const issues: SpecIssue[] = [];
  const seen = new Set<string>();
  (schedule ?? []).forEach((p, i) => {
    if (seen.has(p.from))
      issues.push({ code: 'InvalidSchedule', path: `${path}[${i}].from`, message: `${p.from} twice` });
    seen.add(p.from);
    issues.push(...duplicateGpuIssues(p.layouts, `${path}[${i}].layouts`));
    if (model) issues.push(...staticIssues(p.layouts, model, `${path}[${i}].layouts`));
  });
  return issues;
}

function duplicateGpuIssues(entries: readonly GpuLayoutEntry[], at = 'spec.static.layouts'): SpecIssue[] {
  const seen = new Map<number, number>();
  const issues: SpecIssue[] = [];
  entries.forEach((e, i) => {
    for (const g of e.gpus ?? []) {
      const prev = seen.get(g);
      if (prev !== undefined) {
        const message = `GPU ${g} is already given a layout by ${at}[${prev}]`;
        issues.push({ code: 'DuplicateGpu', path: `${at}[${i}].gpus`, message });
      } else seen.set(g, i);
    }
  });
  return issues;
}

type EntryResult = { ok: true; target: GpuTarget } | { ok: false; issue: SpecIssue };

function resolveEntry(entry: GpuLayoutEntry, model: GpuModel, path: string): EntryResult {
  if (entry.migDevices !== undefined) {
    const layout = countsToLayout(model, entry.migDevices);
    if (layout) return { ok: true, target: { layout, migEnabled: true } };
    const text = Object.entries(entry.migDevices)
      .map(([p, n]) => `${n}×${p}`)
      .join(', ');
    const message = `${text} does not fit on a ${model.name} (unknown profile, too many instances, or no valid placement)`;
    return { ok: false, issue: { code: 'InvalidLayout', path: `${path}.migDevices`, message } };
  }
  const parsed = parseLayout(model, entry.layout ?? '');
  if (parsed.ok) return { ok: true, target: { layout: parsed.layout, migEnabled: parsed.migEnabled } };
  return {
    ok: false,
    issue: { code: 'InvalidLayout', path: `${path}.layout`, message: `${model.name}: ${parsed.message}` },
  };
}

function staticIssues(entries: readonly GpuLayoutEntry[], model: GpuModel, at = 'spec.static.layouts'): SpecIssue[] {
  const issues: SpecIssue[] = [];
  entries.forEach((e, i) => {
    const r = resolveEntry(e, model, `${at}[${i}]`);
    if (!r.ok) issues.push(r.issue);
  });
  return issues;
}

export type StaticTargets = { ok: true; targets: (GpuTarget | undefined)[] } | { ok: false; issues: SpecIssue[] };

/**
 * The static layout of each GPU of a node with `gpuCount` GPUs of `model`. A GPU no entry covers keeps its
 * current layout; when that is unknown too, it is left alone (undefined: not written into the config).
 */
export function staticTargets(
  entries: readonly GpuLayoutEntry[],
  model: GpuModel,
  gpuCount: number,
  current: readonly (GpuTarget | undefined)[],
): StaticTargets {
  const issues: SpecIssue[] = [];
  const explicit = new Map<number, GpuTarget>();
  let fallback: GpuTarget | undefined;
  entries.forEach((e, i) => {
    const r = resolveEntry(e, model, `spec.static.layouts[${i}]`);
    if (!r.ok) {
      issues.push(r.issue);
      return;
    }
    if (e.gpus === undefined) fallback = r.target;
    else for (const g of e.gpus) explicit.set(g, r.target);
  });
  if (issues.length > 0) return { ok: false, issues };
  const targets = Array.from({ length: gpuCount }, (_, g) => explicit.get(g) ?? fallback ?? current[g]);
  return { ok: true, targets };
}

/** Equal as mig-parted sees them: MIG mode and instances per profile (a config cannot say where they go). */
export const targetsEqual = (a: GpuTarget, b: GpuTarget): boolean =>
  a === b || (a.migEnabled === b.migEnabled && countsKey(a.layout) === countsKey(b.layout));
