// The cache counts each slice once: pods arriving, moving from pending to bound, finishing, and binds
// assumed ahead of the watch.
import { describe, expect, it } from 'vitest';
import { ClusterCache } from '../../../extender/cache.js';
import { nodeInfo } from '../../../extender/kube.js';
import { ProfileBook } from '../../../policy/workload/job.js';
import { counts, minutes, node, pod } from './builders.js';

function cacheWith(...nodes: string[]): ClusterCache {
  const c = new ClusterCache(new ProfileBook());
  for (const n of nodes) c.upsertNode(node(n));
  return c;
}

describe('ClusterCache', () => {
  it('counts the slices of bound pods per node', () => {
    const c = cacheWith('a', 'b');
    c.upsertPod(pod('p1', { nodeName: 'a' }), minutes(0));
    c.upsertPod(pod('p2', { nodeName: 'a', mig: { 'nvidia.com/mig-1g.5gb': 2 } }), minutes(0));
    c.upsertPod(pod('p3'), minutes(0)); // pending: holds nothing
    expect(counts(c.nodeState('a')?.used)).toEqual({ '1g.5gb': 3 });
    expect(counts(c.nodeState('b')?.used)).toEqual({});
    expect(c.podCount).toBe(3);
  });

  it('moves usage when a pending pod is bound, and frees it when the pod finishes or goes', () => {
    const c = cacheWith('a');
    c.upsertPod(pod('p'), minutes(0));
    expect(counts(c.nodeState('a')?.used)).toEqual({});
    c.upsertPod(pod('p', { nodeName: 'a' }), minutes(1));
    expect(counts(c.nodeState('a')?.used)).toEqual({ '1g.5gb': 1 });
    c.upsertPod(pod('p', { nodeName: 'a', phase: 'Succeeded' }), minutes(2));
    expect(counts(c.nodeState('a')?.used)).toEqual({});
    expect(c.podCount).toBe(0);
    c.upsertPod(pod('q', { nodeName: 'a' }), minutes(3));
    c.deletePod('uid-q');
    expect(counts(c.nodeState('a')?.used)).toEqual({});
  });

  it('ignores pods without MIG requests', () => {
    const c = cacheWith('a');
    c.upsertPod(pod('web', { nodeName: 'a', mig: { cpu: 1 } }), minutes(0));
    expect(c.podCount).toBe(0);
  });

  it('assumes a bind ahead of the watch, and restores on failure', () => {
    const c = cacheWith('a');
    c.upsertPod(pod('p'), minutes(0));
    const before = c.pod('uid-p');
    expect(before).toBeDefined();
    const assumed = c.assume(before!, 'a', minutes(1));
    expect(counts(c.nodeState('a')?.used)).toEqual({ '1g.5gb': 1 });
    c.restore(before!, assumed);
    expect(counts(c.nodeState('a')?.used)).toEqual({});
    expect(c.podByName('jobs', 'p')?.nodeName).toBeUndefined();
  });

  it('does not bring back a pod deleted while its bind was in flight', () => {
    const c = cacheWith('a');
    c.upsertPod(pod('p'), minutes(0));
    const before = c.pod('uid-p')!;
    const assumed = c.assume(before, 'a', minutes(1));
    c.deletePod('uid-p');
    c.restore(before, assumed);
    expect(c.podCount).toBe(0);
    expect(counts(c.nodeState('a')?.used)).toEqual({});
  });

  it('keeps what the watch saw when a bind fails after it', () => {
    const c = cacheWith('a', 'b');
    c.upsertPod(pod('p'), minutes(0));
    const before = c.pod('uid-p')!;
    const assumed = c.assume(before, 'a', minutes(1));
    c.upsertPod(pod('p', { nodeName: 'b' }), minutes(1));
    c.restore(before, assumed);
    expect(c.pod('uid-p')?.nodeName).toBe('b');
    expect(counts(c.nodeState('b')?.used)).toEqual({ '1g.5gb': 1 });
  });

  it('derives expected finish times from work and start', () => {
    const c = cacheWith('a');
    const annotations = { 'smartmig.io/work': '60', 'smartmig.io/workload': 'bert-inference' };
    c.upsertPod(
      pod('p', { nodeName: 'a', annotations, mig: { 'nvidia.com/mig-2g.10gb': 1 }, startTime: '2026-01-01T00:10:00Z' }),
      minutes(20),
    );
    expect(c.pod('uid-p')?.finishMs).toBe(minutes(40));
    expect(c.nodeState('a')?.busyUntil).toBe(minutes(40) / 60_000);
  });

  it('drops nodes, and lists every node state', () => {
    const c = cacheWith('a', 'b');
    c.deleteNode('a');
    expect(c.nodeState('a')).toBeUndefined();
    expect(c.allNodeStates().map((s) => s.name)).toEqual(['b']);
  });

  it('replaces everything on a re-list', () => {
    const c = cacheWith('a');
    c.upsertPod(pod('old', { nodeName: 'a' }), minutes(0));
    c.replacePods([pod('new', { nodeName: 'a', mig: { 'nvidia.com/mig-1g.5gb': 3 } })], minutes(1));
    expect(counts(c.nodeState('a')?.used)).toEqual({ '1g.5gb': 3 });
    c.replaceNodes([node('z')]);
    expect(c.nodeCount).toBe(1);
    expect(counts(c.nodeState('z')?.used)).toEqual({});
  });
});

describe('ClusterCache.nodeStateFrom', () => {
  it('reuses the cached state for a Node at the cached resourceVersion, and reads a newer one afresh', () => {
    const c = new ClusterCache(new ProfileBook());
    const cached = { ...node('a'), metadata: { ...node('a').metadata, resourceVersion: '7' } };
    c.upsertNode(cached);
    c.upsertPod(pod('p', { nodeName: 'a' }), minutes(0));
    expect(c.nodeStateFrom(cached)).toBe(c.nodeState('a'));
    const newer = node('a', { labels: { 'nvidia.com/mig.config.state': 'pending' } });
    newer.metadata.resourceVersion = '8';
    const s = c.nodeStateFrom(newer);
    expect(s.reconfiguring).toBe(true);
    expect(counts(s.used)).toEqual({ '1g.5gb': 1 });
  });
});

describe('ClusterCache.nodeStateOf', () => {
  it('reuses the cached state at the cached resourceVersion, and builds one from the facts given otherwise', () => {
    const c = new ClusterCache(new ProfileBook());
    c.upsertNode({ ...node('a'), metadata: { ...node('a').metadata, resourceVersion: '7' } });
    c.upsertPod(pod('p', { nodeName: 'a' }), minutes(0));
    const facts = nodeInfo(node('a', { labels: { 'nvidia.com/mig.config.state': 'pending' } }));
    expect(c.nodeStateOf(facts, '7')).toBe(c.nodeState('a'));
    const s = c.nodeStateOf(facts, '8');
    expect(s.reconfiguring).toBe(true);
    expect(counts(s.used)).toEqual({ '1g.5gb': 1 });
  });
});
