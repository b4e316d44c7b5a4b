import type { V1ResourceSlice } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { deleteResourceSlices, ensureDeviceClasses, publishResourceSlices } from '../../../fake-gpu/dra-publisher.js';
import type { Kube } from '../../../fake-gpu/kube.js';
import { gpu } from './build.js';

const log = pino({ level: 'silent' });
const A100 = gpu('A100-40GB');

/** resource.k8s.io as a map of slices, recording every write. */
function fakeApi(initial: V1ResourceSlice[] = []) {
  const slices = new Map(initial.map((s) => [s.metadata?.name ?? '', s]));
  const writes: string[] = [];
  const classes = new Set<string>(['gpu.nvidia.com']);
  const resource = {
    listResourceSlice: () => Promise.resolve({ items: [...slices.values()] }),
    createResourceSlice: ({ body }: { body: V1ResourceSlice }) => {
      writes.push(`create ${body.metadata?.name}@${body.spec.pool.generation}`);
      slices.set(body.metadata?.name ?? '', body);
      return Promise.resolve(body);
    },
    replaceResourceSlice: ({ name, body }: { name: string; body: V1ResourceSlice }) => {
      writes.push(`replace ${name}@${body.spec.pool.generation}`);
      slices.set(name, body);
      return Promise.resolve(body);
    },
    deleteResourceSlice: ({ name }: { name: string }) => {
      writes.push(`delete ${name}`);
      slices.delete(name);
      return Promise.resolve({});
    },
    createDeviceClass: ({ body }: { body: { metadata: { name: string } } }) => {
      if (classes.has(body.metadata.name)) return Promise.reject(Object.assign(new Error('exists'), { code: 409 }));
      writes.push(`create class ${body.metadata.name}`);
      classes.add(body.metadata.name);
      return Promise.resolve(body);
    },
  };
  return { kube: { resource } as unknown as Kube, slices, writes };
}

const spec = (gpus: number, uid = 'uid-1') => ({ node: { name: 'n0', uid }, model: A100, gpus });

describe('publishResourceSlices', () => {
  it('creates the pool at generation 1, then leaves identical slices alone', async () => {
    const api = fakeApi();
    await publishResourceSlices(api.kube, spec(2), log);
    expect(api.writes).toEqual([
      'create n0-gpu.nvidia.com-0@1',
      'create n0-gpu.nvidia.com-1@1',
      'create n0-gpu.nvidia.com-2@1',
    ]);
    const again = fakeApi([...api.slices.values()]);
    await publishResourceSlices(again.kube, spec(2), log);
    expect(again.writes).toEqual([]);
  });

  it('republishes every slice at the next generation when any differs, and deletes the ones left over', async () => {
    const api = fakeApi();
    await publishResourceSlices(api.kube, spec(2), log);
    const changed = fakeApi([...api.slices.values()]);
    // The node was recreated (new uid) with one GPU fewer.
    await publishResourceSlices(changed.kube, spec(1, 'uid-2'), log);
    expect(changed.writes).toEqual([
      'replace n0-gpu.nvidia.com-0@2',
      'replace n0-gpu.nvidia.com-1@2',
      'delete n0-gpu.nvidia.com-2',
    ]);
    expect([...changed.slices.values()].map((s) => s.metadata?.ownerReferences?.[0]?.uid)).toEqual(['uid-2', 'uid-2']);
    await deleteResourceSlices(changed.kube, 'n0');
    expect(changed.slices.size).toBe(0);
  });
});

describe('ensureDeviceClasses', () => {
  it('creates only the classes that are missing', async () => {
    const api = fakeApi();
    await ensureDeviceClasses(api.kube, log);
    expect(api.writes).toEqual(['create class mig.nvidia.com']);
  });
});
