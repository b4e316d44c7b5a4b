// kube/config.ts against the real API server, through a relay that counts connections: the adapters'
// kubeconfig reuses one TLS connection for call after call, where client-node's own opens one per call.
import type { KubeConfig } from '@kubernetes/client-node';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SOCKETS, PooledKubeConfig } from '../../kube/config.js';
import { loadKubeConfig } from '../support/cluster.js';
import { Cuttable } from './relay.js';

const CALLS = 8;
let relay: Cuttable;

beforeAll(async () => {
  relay = new Cuttable(new URL(loadKubeConfig('admin').getCurrentCluster()?.server ?? ''));
  await relay.start();
});

afterAll(async () => {
  await relay?.cut();
});

/** Connections the relay accepted while `kc` made CALLS sequential API calls. */
async function connectionsFor(kc: KubeConfig): Promise<number> {
  const api = kc.makeApiClient(CoreV1Api);
  const before = relay.accepted;
  for (let i = 0; i < CALLS; i++) {
    const ns = await api.readNamespace({ name: 'default' });
    expect(ns.metadata?.name).toBe('default');
  }
  return relay.accepted - before;
}

describe('the adapters’ kubeconfig', () => {
  it('makes sequential API calls over one connection', async () => {
    expect(await connectionsFor(relay.kubeConfig('admin', () => new PooledKubeConfig()))).toBe(1);
  });

  it('is needed: client-node alone connects afresh for every call', async () => {
    expect(await connectionsFor(relay.kubeConfig('admin'))).toBe(CALLS);
  });

  it('opens at most MAX_SOCKETS connections for a burst of concurrent calls, and the calls all succeed', async () => {
    const api = relay.kubeConfig('admin', () => new PooledKubeConfig()).makeApiClient(CoreV1Api);
    const before = relay.accepted;
    const burst = 4 * MAX_SOCKETS;
    const names = await Promise.all(
      Array.from({ length: burst }, async () => (await api.readNamespace({ name: 'default' })).metadata?.name),
    );
    expect(names).toEqual(new Array<string>(burst).fill('default'));
    const opened = relay.accepted - before;
    expect(opened).toBeGreaterThan(1);
    expect(opened).toBeLessThanOrEqual(MAX_SOCKETS);
  });

  it('gives up a call to an API server that hangs after requestTimeoutMs; plain client-node waits on', async () => {
    const hung = new Cuttable(new URL(loadKubeConfig('admin').getCurrentCluster()?.server ?? ''));
    await hung.start();
    try {
      hung.hang();
      const kc = hung.kubeConfig('admin', () => new PooledKubeConfig());
      (kc as PooledKubeConfig).requestTimeoutMs = 500;
      const t0 = Date.now();
      await expect(kc.makeApiClient(CoreV1Api).readNamespace({ name: 'default' })).rejects.toThrow(/abort|timeout/i);
      expect(Date.now() - t0).toBeLessThan(3000);
      // Without the ceiling the same call is still waiting well past it.
      const plain = hung.kubeConfig('admin').makeApiClient(CoreV1Api).readNamespace({ name: 'default' });
      const outcome = await Promise.race([
        plain.then(
          () => 'answered',
          () => 'failed',
        ),
        new Promise((r) => setTimeout(() => r('waiting'), 1500)),
      ]);
      expect(outcome).toBe('waiting');
    } finally {
      await hung.cut();
    }
  });

  it('still authenticates each identity as itself', async () => {
    // The unprivileged identity may not read namespaces; a shared agent must not lend it admin's connection.
    const admin = relay.kubeConfig('admin', () => new PooledKubeConfig());
    const nobody = relay.kubeConfig('unprivileged', () => new PooledKubeConfig());
    await admin.makeApiClient(CoreV1Api).readNamespace({ name: 'default' });
    await expect(nobody.makeApiClient(CoreV1Api).readNamespace({ name: 'default' })).rejects.toMatchObject({
      code: 403,
    });
  });
});
