// A synthetic cluster for the extender benchmark: A100-40GB nodes whose GPUs hold the paper's twelve
// layouts (docs/model.md §1), GPU feature discovery labels, and bound pods that fill slices at random. Node
// objects look like a real kubelet's (labels, conditions, addresses, images), because the size of a full
// `Nodes` list is what the non-cache benchmark measures. Seeded: every run builds the same cluster.
import { createRng, type Rng } from '../../policy/random.js';
import type { Node, Pod } from '../../extender/schemas.js';

/** The paper's 12 A100-40GB configurations as compute slices per instance. */
const CONFIGS: readonly (readonly number[])[] = [
  [7],
  [4, 3],
  [4, 2, 1],
  [4, 1, 1, 1],
  [3, 3],
  [2, 2, 3],
  [2, 1, 1, 3],
  [1, 1, 1, 1, 3],
  [2, 2, 2, 1],
  [2, 2, 1, 1, 1],
  [2, 1, 1, 1, 1, 1],
  [1, 1, 1, 1, 1, 1, 1],
];
const RESOURCE: Record<number, string> = {
  1: 'nvidia.com/mig-1g.5gb',
  2: 'nvidia.com/mig-2g.10gb',
  3: 'nvidia.com/mig-3g.20gb',
  4: 'nvidia.com/mig-4g.20gb',
  7: 'nvidia.com/mig-7g.40gb',
};
const WORKLOADS = ['bert-training', 'resnet-training', 'bert-inference', 'resnet-inference'];

export interface SyntheticCluster {
  readonly nodes: Node[];
  /** Bound pods, generated on demand so the server never holds them all as objects. */
  pods(): Generator<Pod>;
}

const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

function kubeletNode(name: string, i: number, mig: Record<string, number>, gpus: number): Node {
  const capacity: Record<string, string> = {
    cpu: '128',
    memory: '2113425408Ki',
    pods: '110',
    'ephemeral-storage': '3750157232Ki',
  };
  for (const [r, n] of Object.entries(mig)) capacity[r] = String(n);
  const allocatable = { ...capacity, cpu: '127900m', memory: '2101931008Ki' };
  const heartbeat = iso(Date.UTC(2026, 0, 1, 0, i % 60));
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      resourceVersion: String(100_000 + i),
      creationTimestamp: '2025-12-01T00:00:00Z',
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'node.kubernetes.io/instance-type': 'p4d.24xlarge',
        'topology.kubernetes.io/region': 'eu-west-1',
        'topology.kubernetes.io/zone': `eu-west-1${'abc'[i % 3]}`,
        'feature.node.kubernetes.io/cpu-model.vendor_id': 'Intel',
        'feature.node.kubernetes.io/kernel-version.full': '6.1.0-28-amd64',
        'feature.node.kubernetes.io/pci-10de.present': 'true',
        'nvidia.com/cuda.driver.major': '550',
        'nvidia.com/cuda.driver.minor': '127',
        'nvidia.com/cuda.runtime.major': '12',
        'nvidia.com/cuda.runtime.minor': '4',
        'nvidia.com/gfd.timestamp': '1767225600',
        'nvidia.com/gpu.compute.major': '8',
        'nvidia.com/gpu.compute.minor': '0',
        'nvidia.com/gpu.count': String(gpus),
        'nvidia.com/gpu.deploy.device-plugin': 'true',
        'nvidia.com/gpu.deploy.gpu-feature-discovery': 'true',
        'nvidia.com/gpu.deploy.mig-manager': 'true',
        'nvidia.com/gpu.family': 'ampere',
        'nvidia.com/gpu.machine': 'p4d.24xlarge',
        'nvidia.com/gpu.memory': '40960',
        'nvidia.com/gpu.present': 'true',
        'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-40GB',
        'nvidia.com/mig.capable': 'true',
        'nvidia.com/mig.config': `smartmig-${name}-${i % 7}`,
        'nvidia.com/mig.config.state': 'success',
        'nvidia.com/mig.strategy': 'mixed',
      },
      annotations: {
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
        'nfd.node.kubernetes.io/feature-labels': 'cpu-model.vendor_id,kernel-version.full,pci-10de.present',
      },
    },
    spec: {
      podCIDR: `10.${(i >> 8) & 255}.${i & 255}.0/24`,
      providerID: `aws:///eu-west-1a/i-${i.toString(16).padStart(17, '0')}`,
    },
    status: {
      capacity,
      allocatable,
      conditions: ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready'].map((type) => ({
        type,
        status: type === 'Ready' ? 'True' : 'False',
        lastHeartbeatTime: heartbeat,
        lastTransitionTime: '2025-12-01T00:05:00Z',
        reason: type === 'Ready' ? 'KubeletReady' : `KubeletHasNo${type}`,
        message: type === 'Ready' ? 'kubelet is posting ready status' : `kubelet has no ${type.toLowerCase()}`,
      })),
      addresses: [
        { type: 'InternalIP', address: `10.0.${(i >> 8) & 255}.${i & 255}` },
        { type: 'Hostname', address: name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: 'ec2' + String(i).padStart(29, '0'),
        systemUUID: 'ec2' + String(i).padStart(33, '0'),
        bootID: String(i).padStart(36, '0'),
        kernelVersion: '6.1.0-28-amd64',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        containerRuntimeVersion: 'containerd://1.7.24',
        kubeletVersion: 'v1.37.2',
        kubeProxyVersion: 'v1.37.2',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
      images: Array.from({ length: 8 }, (_, k) => ({
        names: [
          `registry.example.com/ml/image-${k}@sha256:${String(k).repeat(64).slice(0, 64)}`,
          `registry.example.com/ml/image-${k}:v${k}`,
        ],
        sizeBytes: 1_000_000_000 + k,
      })),
    },
  } as unknown as Node;
}

export function benchPod(name: string, uid: string, resource: string, rng: Rng, nodeName?: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'ml',
      uid,
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels: { app: 'trainer', 'app.kubernetes.io/part-of': 'bench' },
      annotations: {
        'smartmig.io/deadline': `${30 + rng.int(240)}m`,
        'smartmig.io/work': String(5 + rng.int(55)),
        'smartmig.io/workload': WORKLOADS[rng.int(WORKLOADS.length)] as string,
      },
    },
    spec: {
      schedulerName: 'smartmig-scheduler',
      nodeName,
      containers: [
        {
          name: 'job',
          image: 'registry.example.com/ml/trainer:v1',
          command: ['python', 'train.py', '--epochs', '3'],
          resources: {
            limits: { [resource]: '1', cpu: '4', memory: '16Gi' },
            requests: { [resource]: '1', cpu: '4', memory: '16Gi' },
          },
        },
      ],
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 30,
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
    },
    status: { phase: nodeName ? 'Running' : 'Pending', startTime: nodeName ? '2026-01-01T00:01:00Z' : undefined },
  } as unknown as Pod;
}

export function syntheticCluster(opts: {
  nodes: number;
  gpusPerNode: number;
  pods: number;
  seed?: number;
}): SyntheticCluster {
  const seed = opts.seed ?? 1;
  const rng = createRng(seed);
  const nodes: Node[] = [];
  const slices: Record<string, number>[] = [];
  for (let i = 0; i < opts.nodes; i++) {
    const mig: Record<string, number> = {};
    for (let g = 0; g < opts.gpusPerNode; g++) {
      for (const k of CONFIGS[rng.int(CONFIGS.length)] as number[]) {
        const r = RESOURCE[k] as string;
        mig[r] = (mig[r] ?? 0) + 1;
      }
    }
    nodes.push(kubeletNode(`gpu-node-${String(i).padStart(5, '0')}`, i, mig, opts.gpusPerNode));
    slices.push(mig);
  }
  // Names are kept apart so a caller may drop the Node objects before generating pods.
  const names = nodes.map((n) => n.metadata.name);
  function* pods(): Generator<Pod> {
    const prng = createRng(seed + 1);
    const free = slices.map((m) => ({ ...m }));
    let made = 0;
    for (let attempts = 0; made < opts.pods && attempts < opts.pods * 20; attempts++) {
      const i = prng.int(names.length);
      const f = free[i] as Record<string, number>;
      const open = Object.keys(f).filter((r) => (f[r] as number) > 0);
      if (open.length === 0) continue;
      const r = open[prng.int(open.length)] as string;
      f[r] = (f[r] as number) - 1;
      yield benchPod(`job-${made}`, `pod-${String(made).padStart(8, '0')}`, r, prng, names[i]);
      made++;
    }
  }
  return { nodes, pods };
}
