// Operator decision rounds at scale (issue 5): 1,000 nodes × 8 A100-40GB GPUs, 8,000 running and 500 pending
// GPU pods. One round = snapshot (Kubernetes objects → facts, as the reconciler does from its caches) →
// decide (operator/plan, with the greedy controller where the policy is Dynamic) → metrics observation.
// The objects stay alive the whole time, as the informer caches hold them in the operator.
import { performance } from 'node:perf_hooks';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { MigPartition } from '../../api/types.js';
import { CONTROLLERS, controllerCache } from '../../operator/controllers.js';
import {
  cachedNodeFacts,
  cachedPodFacts,
  holdsDevices,
  isPendingDemand,
  nodeFacts,
  podFacts,
  type PodFacts,
} from '../../operator/facts.js';
import { MIG_CONFIG_LABEL, MIG_STATE_LABEL } from '../../api/labels.js';
import {
  configName,
  nodeConfigEntries,
  renderMigPartedConfig,
  parseMigPartedConfig,
  type MigConfigEntry,
} from '../../operator/migparted.js';
import { observe } from '../../operator/observe.js';
import { planRound, type Plan, type Snapshot } from '../../operator/plan/round.js';
import { findGpuModel, type GpuModel } from '../../policy/mig/catalog.js';
import { maximalLayouts } from '../../policy/mig/enumerate.js';
import { median, peakRssMiB, printFigures } from './report.js';

const NODES = 1000;
const GPUS = 8;
const PODS_PER_NODE = 8;
const PENDING = 500;
const model = findGpuModel('A100-40GB') as GpuModel;
const layouts = maximalLayouts(model);

// Ten node configs, each a mix of maximal layouts over the 8 GPUs.
const configs = new Map<string, MigConfigEntry[]>();
const configOfNode: string[] = [];
for (let c = 0; c < 10; c++) {
  const entries = nodeConfigEntries(
    Array.from({ length: GPUS }, (_, g) => ({ layout: layouts[(c * 7 + g * 3) % layouts.length]!, migEnabled: true })),
  );
  configs.set(configName(entries), entries);
}
const names = [...configs.keys()];
const configText = renderMigPartedConfig({ version: 'v1', 'mig-configs': Object.fromEntries(configs) });

const nodes: V1Node[] = [];
const pods: V1Pod[] = [];
for (let i = 0; i < NODES; i++) {
  const name = `gpu-node-${String(i).padStart(4, '0')}`;
  const config = names[i % names.length] as string;
  configOfNode.push(config);
  nodes.push({
    metadata: {
      name,
      resourceVersion: String(1000 + i),
      labels: {
        'kubernetes.io/hostname': name,
        'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-40GB',
        'nvidia.com/gpu.count': String(GPUS),
        'nvidia.com/mig.strategy': 'mixed',
        [MIG_CONFIG_LABEL]: config,
        [MIG_STATE_LABEL]: 'success',
        pool: 'bench',
      },
      annotations: {},
    },
    spec: {},
    status: { capacity: { 'nvidia.com/mig-1g.5gb': '14', pods: '110' } },
  });
  const entries = configs.get(config) as MigConfigEntry[];
  for (let p = 0; p < PODS_PER_NODE; p++) {
    // GPUs 0..5 run something; 6 and 7 stay idle for the controller.
    const gpu = p % (GPUS - 2);
    const entry = entries.find((e) => e.devices !== 'all' && e.devices.includes(gpu));
    const profile = Object.keys(entry?.['mig-devices'] ?? { '1g.5gb': 1 })[0] as string;
    pods.push(pod(`job-${i}-${p}`, profile, { node: name, gpu }));
  }
}
// More large-slice demand than the idle GPUs' current layouts offer, so the controller has work to do.
const profiles = ['7g.40gb', '4g.20gb', '3g.20gb', '7g.40gb', '2g.10gb', '1g.5gb', '7g.40gb', '4g.20gb'];
for (let i = 0; i < PENDING; i++) pods.push(pod(`pending-${i}`, profiles[i % profiles.length] as string, {}));

function pod(name: string, profile: string, at: { node?: string; gpu?: number }): V1Pod {
  return {
    metadata: {
      name,
      namespace: 'jobs',
      uid: name,
      creationTimestamp: new Date(0),
      annotations: {
        'smartmig.io/deadline': '1h',
        ...(at.gpu === undefined ? {} : { 'smartmig.io/gpu': String(at.gpu) }),
      },
    },
    spec: {
      ...(at.node ? { nodeName: at.node } : {}),
      schedulerName: 'smartmig-scheduler',
      containers: [{ name: 'job', image: 'x', resources: { limits: { [`nvidia.com/mig-${profile}`]: '1' } } }],
    },
    status: { phase: at.node ? 'Running' : 'Pending' },
  };
}

function partition(name: string, spec: MigPartition['spec']): MigPartition {
  return { metadata: { name, generation: 1, creationTimestamp: new Date(0) }, spec } as MigPartition;
}

const controllerFor = controllerCache(CONTROLLERS);
const options = {
  controllerFor,
  controllers: CONTROLLERS,
  settleMs: 0,
  backoff: () => 30_000,
  statusNodeLimit: 200,
};
const seenAt = new Map(names.map((n) => [n, 0]));
// The reconciler parses the ConfigMap once per resourceVersion.
const parsedConfig = parseMigPartedConfig(configText);

/** What the reconciler's snapshot phase does with its caches. */
function snapshot(partitions: MigPartition[], now: number): Snapshot {
  const podsByNode = new Map<string, PodFacts[]>();
  const pending: PodFacts[] = [];
  for (const p of pods) {
    const f = cachedPodFacts(p);
    if (holdsDevices(f)) {
      const list = podsByNode.get(f.node as string);
      if (list) list.push(f);
      else podsByNode.set(f.node as string, [f]);
    } else if (isPendingDemand(f)) pending.push(f);
  }
  const facts = nodes.map(cachedNodeFacts).sort((a, b) => (a.name < b.name ? -1 : 1));
  return { now, nodes: facts, podsByNode, pending, config: parsedConfig, seenAt, partitions };
}

interface Scenario {
  name: string;
  partitions: MigPartition[];
}

const scenarios: Scenario[] = [
  {
    name: 'Dynamic greedy, decision due',
    partitions: [
      partition('dynamic', {
        nodeSelector: { matchLabels: { pool: 'bench' } },
        mode: 'Dynamic',
        dynamic: { controller: 'greedy' },
        limits: { maxNodesReconfiguring: 50, minDwell: '0s' },
      }),
    ],
  },
  {
    name: 'Static, rolling out a new layout',
    partitions: [
      partition('static', {
        nodeSelector: { matchLabels: { pool: 'bench' } },
        mode: 'Static',
        static: { layouts: [{ layout: 'all-balanced' }] },
        limits: { maxNodesReconfiguring: 50 },
      }),
    ],
  },
];

const figures = [];
let lastPlan: Plan | undefined;
for (const s of scenarios) {
  // Nodes already carry their owner mark, as after the operator's first round (new objects, as an informer
  // delivers them, so no cached facts carry over between scenarios).
  const owner = s.partitions[0]?.metadata?.name ?? '';
  nodes.forEach((n, i) => {
    const annotations = { ...n.metadata?.annotations, 'smartmig.io/partition': owner };
    nodes[i] = { ...n, metadata: { ...n.metadata, annotations } };
  });
  const times: number[] = [];
  const phases = { snapshot: [] as number[], decide: [] as number[], observe: [] as number[] };
  for (let i = 0; i < 23; i++) {
    const t0 = performance.now();
    const snap = snapshot(s.partitions, 1_000_000 + i);
    const t1 = performance.now();
    const plan = planRound(snap, options);
    lastPlan = plan;
    const t2 = performance.now();
    observe(snap, (n) => plan.managed.get(n.name)?.model);
    const t3 = performance.now();
    if (i < 3) continue; // JIT warm-up
    times.push(t3 - t0);
    phases.snapshot.push(t1 - t0);
    phases.decide.push(t2 - t1);
    phases.observe.push(t3 - t2);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const p95 = sorted[Math.floor(sorted.length * 0.95)] as number;
  const med = median(times);
  figures.push(
    { name: `${s.name}: round, median of 20`, value: med, unit: 'ms', target: '≤ 200 ms', met: med <= 200 },
    { name: `${s.name}: round, p95 / max`, value: p95, unit: `ms / ${Math.max(...times).toFixed(1)} ms` },
    {
      name: `${s.name}: snapshot / decide / observe (median)`,
      value: median(phases.snapshot),
      unit: `ms / ${median(phases.decide).toFixed(1)} ms / ${median(phases.observe).toFixed(1)} ms`,
    },
    {
      name: `${s.name}: node patches / configs written`,
      value: lastPlan?.nodePatches.length ?? 0,
      unit: `patches / ${lastPlan?.configAdds.size ?? 0} configs`,
    },
  );
}
// The worst case for the snapshot: every node and pod object changed since the last round (no cached facts).
const cold: number[] = [];
for (let i = 0; i < 13; i++) {
  const t0 = performance.now();
  for (const p of pods) podFacts(p);
  for (const n of nodes) nodeFacts(n);
  if (i >= 3) cold.push(performance.now() - t0);
}
figures.push({ name: 'snapshot when every object changed (median)', value: median(cold), unit: 'ms' });
(globalThis as { gc?: () => void }).gc?.();
const heap = process.memoryUsage().heapUsed / 2 ** 20;
const rss = peakRssMiB();
figures.push(
  { name: 'cluster: nodes × GPUs, pods (running + pending)', value: NODES * GPUS, unit: `GPUs, ${pods.length} pods` },
  { name: 'heap in use after the rounds (objects held)', value: heap, unit: 'MiB' },
  { name: 'peak resident memory (whole process)', value: rss, unit: 'MiB', target: '≤ 300 MiB', met: rss <= 300 },
);
printFigures(`operator rounds: ${NODES} nodes × ${GPUS} GPUs`, figures);
