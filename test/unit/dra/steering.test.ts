import { describe, expect, it } from 'vitest';
import { deviceName, migDevices, parseDeviceName } from '../../../dra/devices.js';
import {
  blockedDevices,
  ruleChanges,
  steeringRules,
  STEERING_TAINT,
  taintRuleName,
  type GpuTarget,
} from '../../../dra/steering.js';
import { findGpuModel, GPU_MODELS, type GpuModel } from '../../../policy/mig/catalog.js';
import { maximalLayouts } from '../../../policy/mig/enumerate.js';
import { layoutKey, type Layout } from '../../../policy/mig/layout.js';

const A100 = findGpuModel('A100-40GB') as GpuModel;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The MIG devices of GPU 0 the allocator may still use under `target`. */
function open(model: GpuModel, target: GpuTarget): string[] {
  const blocked = new Set(blockedDevices(model, 0, target).map((d) => deviceName(model, d)));
  return [{ kind: 'gpu' as const, gpu: 0 }, ...migDevices(model, 0)]
    .map((d) => deviceName(model, d))
    .filter((n) => !blocked.has(n));
}

describe('steering the DRA allocator with taint rules', () => {
  it('leaves a GPU exactly the instances of its target layout, on every model and maximal layout', () => {
    for (const name of GPU_MODELS) {
      const model = findGpuModel(name) as GpuModel;
      for (const layout of maximalLayouts(model)) {
        const left = open(model, { kind: 'layout', layout }).map((n) => parseDeviceName(model, n));
        const asLayout: Layout = {
          slices: left.map((d) =>
            d?.kind === 'mig' ? { profile: d.profile.name, start: d.start } : { profile: '?', start: -1 },
          ),
        };
        expect(layoutKey(asLayout), `${name} ${layoutKey(layout)}`).toBe(layoutKey(layout));
      }
    }
  });

  it('offers only the whole GPU when MIG is off, and nothing while the GPU drains', () => {
    expect(open(A100, { kind: 'whole' })).toEqual(['gpu-0']);
    expect(open(A100, { kind: 'drain' })).toEqual([]);
    // 7 × 1g.5gb leaves 25 + 1 − 7 devices blocked.
    const seven: Layout = { slices: [0, 1, 2, 3, 4, 5, 6].map((start) => ({ profile: '1g.5gb', start })) };
    expect(blockedDevices(A100, 0, { kind: 'layout', layout: seven })).toHaveLength(19);
  });

  it('writes one NoSchedule rule per blocked device, named for node and device, for GPUs with a target only', () => {
    const targets = new Map<number, GpuTarget>([
      [0, { kind: 'whole' }],
      [2, { kind: 'drain' }],
    ]);
    const rules = steeringRules('gpu-node-1', A100, targets);
    expect(rules).toHaveLength(25 + 26);
    expect(new Set(rules.map((r) => r.metadata.name)).size).toBe(rules.length);
    for (const r of rules) {
      expect(r.metadata.name).toMatch(DNS_SUBDOMAIN);
      expect(r.spec.deviceSelector).toMatchObject({ driver: 'gpu.nvidia.com', pool: 'gpu-node-1' });
      expect(r.spec.taint).toEqual(STEERING_TAINT);
      expect(r.metadata.labels).toMatchObject({ 'smartmig.io/node': 'gpu-node-1' });
    }
    const gpus = new Set(rules.map((r) => parseDeviceName(A100, r.spec.deviceSelector.device ?? '')?.gpu));
    expect([...gpus].sort()).toEqual([0, 2]);
  });

  it('keeps rule names valid and distinct for the longest node names', () => {
    const long = `${'a'.repeat(120)}.${'b'.repeat(132)}`;
    const names = [long, `${long.slice(0, 252)}c`].map((n) => taintRuleName(n, 'gpu-7-mig-1g5gb-19-6'));
    for (const n of names) {
      expect(n.length).toBeLessThanOrEqual(253);
      expect(n).toMatch(DNS_SUBDOMAIN);
    }
    expect(names[0]).not.toBe(names[1]);
  });

  it('changes only what differs: nothing when equal, a drain adds the rest, an edited rule is replaced', () => {
    const layout = maximalLayouts(A100)[0] as Layout;
    const before = steeringRules('n', A100, new Map([[0, { kind: 'layout', layout }]]));
    expect(ruleChanges(before, before)).toEqual({ create: [], remove: [] });
    const drained = steeringRules('n', A100, new Map([[0, { kind: 'drain' }]]));
    const drain = ruleChanges(before, drained);
    expect(drain.remove).toEqual([]);
    expect(drain.create).toHaveLength(layout.slices.length);
    const edited = before.map((r, i) =>
      i === 0 ? { ...r, spec: { ...r.spec, taint: { ...r.spec.taint, effect: 'None' as const } } } : r,
    );
    expect(ruleChanges(edited, before)).toEqual({ create: [before[0]], remove: [before[0]?.metadata.name] });
    expect(ruleChanges(before, []).remove).toHaveLength(before.length);
  });
});
