import { describe, expect, it } from 'vitest';
import { deviceClasses } from '../../../dra/device-classes.js';
import { gpuUuid, nodeResourceSlices } from '../../../dra/resource-slices.js';
import type { GpuModel } from '../../../policy/mig/catalog.js';
import { findGpuModel } from '../../../policy/mig/catalog.js';
import { MODELS } from './counters.js';

const A100 = findGpuModel('A100-40GB') as GpuModel;
const node = { name: 'gpu-node-0', uid: '0b6d1c6e-0000-4000-8000-000000000001' };
const goOrder = (names: string[]): string[] => [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

describe('nodeResourceSlices', () => {
  const slices = nodeResourceSlices({ node, model: A100, gpus: 2, generation: 4 });

  it('splits the pool: one slice of counter sets, then one slice of devices per GPU', () => {
    expect(slices.map((s) => s.metadata?.name)).toEqual([
      'gpu-node-0-gpu.nvidia.com-0',
      'gpu-node-0-gpu.nvidia.com-1',
      'gpu-node-0-gpu.nvidia.com-2',
    ]);
    for (const s of slices) {
      expect(s.spec).toMatchObject({
        driver: 'gpu.nvidia.com',
        nodeName: 'gpu-node-0',
        pool: { name: 'gpu-node-0', generation: 4, resourceSliceCount: 3 },
      });
      expect(s.metadata?.ownerReferences).toEqual([
        { apiVersion: 'v1', kind: 'Node', name: 'gpu-node-0', uid: node.uid, controller: true },
      ]);
      // Kubernetes 1.37 refuses a slice with both.
      expect(s.spec.sharedCounters === undefined || s.spec.devices === undefined).toBe(true);
    }
    expect(slices[0]?.spec.sharedCounters?.map((c) => c.name)).toEqual(['gpu-0-counter-set', 'gpu-1-counter-set']);
    expect(slices[0]?.spec.sharedCounters?.[0]?.counters).toMatchObject({
      multiprocessors: { value: '98' },
      memory: { value: '40960Mi' },
      'memory-slice-7': { value: '1' },
    });
  });

  it("lists each GPU's whole device and 25 MIG placements in Go's string order", () => {
    const devices = slices[2]?.spec.devices ?? [];
    const names = devices.map((d) => d.name);
    expect(names).toHaveLength(26);
    expect(names).toEqual(goOrder(names));
    expect(names.slice(0, 3)).toEqual(['gpu-1', 'gpu-1-mig-1g10gb-15-0', 'gpu-1-mig-1g10gb-15-2']);
    expect(devices.every((d) => d.consumesCounters?.[0]?.counterSet === 'gpu-1-counter-set')).toBe(true);
  });

  it('gives MIG devices type, profile, parentUUID and productName, and the whole GPU its uuid', () => {
    const devices = slices[1]?.spec.devices ?? [];
    const whole = devices.find((d) => d.name === 'gpu-0');
    const small = devices.find((d) => d.name === 'gpu-0-mig-1g5gb-19-3');
    const uuid = gpuUuid('gpu-node-0', 0);
    expect(uuid).toMatch(/^GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(uuid).not.toBe(gpuUuid('gpu-node-0', 1));
    expect(uuid).not.toBe(gpuUuid('gpu-node-1', 0));
    expect(whole?.attributes).toEqual({
      type: { string: 'gpu' },
      uuid: { string: uuid },
      productName: { string: 'NVIDIA A100 SXM4 40GB' },
    });
    expect(small?.attributes).toEqual({
      type: { string: 'mig' },
      profile: { string: '1g.5gb' },
      parentUUID: { string: uuid },
      productName: { string: 'NVIDIA A100 SXM4 40GB' },
    });
    expect(small?.capacity).toEqual({ memory: { value: '5120Mi' }, multiprocessors: { value: '14' } });
    expect(small?.consumesCounters?.[0]?.counters).toEqual({
      multiprocessors: { value: '14' },
      memory: { value: '5120Mi' },
      'memory-slice-3': { value: '1' },
    });
    expect(Object.keys(whole?.consumesCounters?.[0]?.counters ?? {})).toHaveLength(10);
  });

  it('keeps to the API limits: 8 counter sets and 64 devices per slice, 32 counters per set', () => {
    const many = nodeResourceSlices({ node, model: A100, gpus: 17, generation: 1 });
    const counterSlices = many.filter((s) => s.spec.sharedCounters);
    expect(counterSlices.map((s) => s.spec.sharedCounters?.length)).toEqual([8, 8, 1]);
    expect(many).toHaveLength(3 + 17);
    expect(many.every((s) => s.spec.pool.resourceSliceCount === 20)).toBe(true);
    for (const m of MODELS) {
      const [counters, devices] = nodeResourceSlices({ node, model: m, gpus: 1, generation: 1 });
      expect(devices?.spec.devices?.length).toBeLessThanOrEqual(64);
      expect(Object.keys(counters?.spec.sharedCounters?.[0]?.counters ?? {}).length).toBeLessThanOrEqual(32);
    }
  });
});

describe('deviceClasses', () => {
  it('select whole GPUs and MIG devices of the driver by type', () => {
    expect(deviceClasses().map((c) => [c.metadata?.name, c.spec.selectors?.[0]?.cel?.expression])).toEqual([
      ['gpu.nvidia.com', "device.driver == 'gpu.nvidia.com' && device.attributes['gpu.nvidia.com'].type == 'gpu'"],
      ['mig.nvidia.com', "device.driver == 'gpu.nvidia.com' && device.attributes['gpu.nvidia.com'].type == 'mig'"],
    ]);
  });
});
