import type { ResourceV1ResourceClaim, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { allocatedDevices, claimNames, readClaimDevices } from '../../../fake-gpu/claims.js';
import type { Kube } from '../../../fake-gpu/kube.js';

const pod: V1Pod = {
  metadata: { name: 'job', namespace: 'ns', uid: 'pod-uid' },
  spec: {
    containers: [],
    resourceClaims: [
      { name: 'gpu', resourceClaimTemplateName: 'mig-small' },
      { name: 'shared', resourceClaimName: 'team-gpu' },
      { name: 'later', resourceClaimTemplateName: 'other' },
    ],
  },
  status: {
    resourceClaimStatuses: [
      { name: 'gpu', resourceClaimName: 'job-gpu-x7k2p' },
      { name: 'later', resourceClaimName: undefined },
    ],
  },
};

function claim(
  name: string,
  results: { driver: string; pool: string; device: string }[] | undefined,
): ResourceV1ResourceClaim {
  return {
    metadata: { name, namespace: 'ns' },
    spec: {},
    status: results && {
      allocation: { devices: { results: results.map((r) => ({ ...r, request: 'gpu' })) } },
      reservedFor: [{ resource: 'pods', name: 'job', uid: 'pod-uid' }],
    },
  };
}

describe('claimNames', () => {
  it("reads a direct claim's name, a template claim's from the pod status, and null for one not needed", () => {
    expect(claimNames(pod)).toEqual([
      { name: 'gpu', claim: 'job-gpu-x7k2p' },
      { name: 'shared', claim: 'team-gpu' },
      { name: 'later', claim: null },
    ]);
    expect(claimNames({ ...pod, status: {} })[0]).toEqual({ name: 'gpu', claim: undefined });
  });
});

describe('allocatedDevices', () => {
  it("keeps this driver's devices in this node's pool", () => {
    const c = claim('c', [
      { driver: 'gpu.nvidia.com', pool: 'node-0', device: 'gpu-0-mig-1g5gb-19-0' },
      { driver: 'gpu.nvidia.com', pool: 'node-1', device: 'gpu-0' },
      { driver: 'nic.example.com', pool: 'node-0', device: 'nic-0' },
    ]);
    expect(allocatedDevices(c, 'node-0', 'pod-uid')).toEqual(['gpu-0-mig-1g5gb-19-0']);
  });

  it('explains a claim that is not allocated or not reserved for the pod', () => {
    expect(allocatedDevices(claim('c', undefined), 'node-0', 'pod-uid')).toBe('claim ns/c is not allocated');
    expect(allocatedDevices(claim('c', []), 'node-0', 'other')).toBe('claim ns/c is not reserved for the pod');
  });
});

describe('readClaimDevices', () => {
  it('reads again, the pod too, until the claims are allocated', async () => {
    let reads = 0;
    const kube = {
      core: { readNamespacedPod: () => Promise.resolve(pod) },
      resource: {
        readNamespacedResourceClaim: ({ name }: { name: string }) => {
          reads++;
          const results = [{ driver: 'gpu.nvidia.com', pool: 'node-0', device: `gpu-0-${name}` }];
          return Promise.resolve(claim(name, reads < 3 ? undefined : results));
        },
      },
    } as unknown as Kube;
    const waits: number[] = [];
    const sleep = (ms: number) => (waits.push(ms), Promise.resolve());
    const read = await readClaimDevices(kube, { ...pod, status: {} }, 'node-0', sleep);
    expect(read).toEqual({
      ok: true,
      claims: [
        { claim: 'ns/job-gpu-x7k2p', devices: ['gpu-0-job-gpu-x7k2p'] },
        { claim: 'ns/team-gpu', devices: ['gpu-0-team-gpu'] },
      ],
    });
    // Once for the claim name missing from the pod's status, twice for the unallocated claim.
    expect(waits).toEqual([100, 200, 400]);
  });

  it('gives up with the last reason after the retries', async () => {
    const kube = {
      core: { readNamespacedPod: () => Promise.reject(new Error('down')) },
      resource: { readNamespacedResourceClaim: () => Promise.reject(Object.assign(new Error('gone'), { code: 404 })) },
    } as unknown as Kube;
    const read = await readClaimDevices(kube, pod, 'node-0', () => Promise.resolve());
    expect(read).toEqual({ ok: false, message: 'claim ns/job-gpu-x7k2p: not found' });
  });
});
