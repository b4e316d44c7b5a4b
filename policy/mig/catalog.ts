// GPU models and their MIG profiles as data (docs/model.md §1, NVIDIA MIG User Guide). Shared code asks this
// table; it never branches on a profile or model name.
//
// Sources per model: the profile lists and counts follow the NVIDIA Multi-Instance GPU User Guide ("Supported
// GPUs", "Supported MIG Profiles") and the default mig-parted ConfigMap of the NVIDIA GPU Operator, which names
// the profiles each PCI device id accepts. Aliases are `nvidia.com/gpu.product` values: GPU feature discovery
// writes the NVML device name with spaces turned into dashes (e.g. NVML "NVIDIA H100 NVL" → `NVIDIA-H100-NVL`).

export type GpuModelName =
  | 'A100-40GB'
  | 'A100-80GB'
  | 'H100-80GB'
  | 'H100-94GB'
  | 'H200-141GB'
  | 'B200-180GB'
  | 'GB200-186GB'
  | 'A30-24GB'
  | 'RTX-PRO-6000-96GB';

export interface MigProfile {
  /** NVIDIA's profile name, e.g. `1g.5gb` or `1g.5gb+me`. */
  readonly name: string;
  readonly computeSlices: number;
  readonly memorySlices: number;
  readonly memoryGB: number;
  /** How many instances of this profile one GPU can hold. */
  readonly maxCount: number;
  /** Allowed first memory slice of an instance. */
  readonly starts: readonly number[];
  /** A `+me` variant (media extensions); the device plugin names these `mig-<base>.me`. */
  readonly mediaExtensions: boolean;
  /** Extended resource a pod requests, e.g. `nvidia.com/mig-1g.5gb`. */
  readonly resource: string;
}

export interface GpuModel {
  readonly name: GpuModelName;
  /** Product names as GPU feature discovery reports them in `nvidia.com/gpu.product`. */
  readonly aliases: readonly string[];
  readonly memorySlices: number;
  readonly computeSlices: number;
  readonly profiles: readonly MigProfile[];
}

type ProfileRow = readonly [
  compute: number,
  memorySlices: number,
  memoryGB: number,
  maxCount: number,
  starts: number[],
];

function profile(row: ProfileRow, me = false): MigProfile {
  const [computeSlices, memorySlices, memoryGB, maxCount, starts] = row;
  const base = `${computeSlices}g.${memoryGB}gb`;
  return {
    name: me ? `${base}+me` : base,
    computeSlices,
    memorySlices,
    memoryGB,
    maxCount: me ? 1 : maxCount,
    starts,
    mediaExtensions: me,
    resource: `nvidia.com/mig-${base}${me ? '.me' : ''}`,
  };
}

/** The seven-compute-slice geometry shared by A100, H100, H200, B200 and GB200 (memory sizes differ). */
function eightSliceProfiles(gb: readonly [number, number, number, number, number, number]): MigProfile[] {
  const [g1, g1x2, g2, g3, g4, g7] = gb;
  const one: ProfileRow = [1, 1, g1, 7, [0, 1, 2, 3, 4, 5, 6]];
  return [
    profile(one),
    profile(one, true),
    profile([1, 2, g1x2, 4, [0, 2, 4, 6]]),
    profile([2, 2, g2, 3, [0, 2, 4]]),
    profile([3, 4, g3, 2, [0, 4]]),
    profile([4, 4, g4, 1, [0]]),
    profile([7, 8, g7, 1, [0]]),
  ];
}

/**
 * The four-slice geometry of A30 and RTX PRO 6000 Blackwell: 1g at 0–3, 2g at 0 or 2, 4g at 0. `me` lists
 * the compute sizes that have a `+me` variant on the model.
 */
function fourSliceProfiles(gb: readonly [number, number, number], me: readonly number[]): MigProfile[] {
  const [g1, g2, g4] = gb;
  const rows: ProfileRow[] = [
    [1, 1, g1, 4, [0, 1, 2, 3]],
    [2, 2, g2, 2, [0, 2]],
    [4, 4, g4, 1, [0]],
  ];
  return rows.flatMap((row) => (me.includes(row[0]) ? [profile(row), profile(row, true)] : [profile(row)]));
}

const MODELS: readonly GpuModel[] = [
  {
    name: 'A100-40GB',
    aliases: ['NVIDIA-A100-SXM4-40GB', 'NVIDIA-A100-PCIE-40GB', 'A100-SXM4-40GB', 'A100-PCIE-40GB'],
    memorySlices: 8,
    computeSlices: 7,
    profiles: eightSliceProfiles([5, 10, 10, 20, 20, 40]),
  },
  {
    name: 'A100-80GB',
    aliases: ['NVIDIA-A100-SXM4-80GB', 'NVIDIA-A100-80GB-PCIe', 'A100-SXM4-80GB', 'A100-80GB-PCIe'],
    memorySlices: 8,
    computeSlices: 7,
    profiles: eightSliceProfiles([10, 20, 20, 40, 40, 80]),
  },
  {
    name: 'H100-80GB',
    aliases: ['NVIDIA-H100-80GB-HBM3', 'NVIDIA-H100-SXM5-80GB', 'NVIDIA-H100-PCIe', 'H100-80GB-HBM3'],
    memorySlices: 8,
    computeSlices: 7,
    profiles: eightSliceProfiles([10, 20, 20, 40, 40, 80]),
  },
  {
    // H100 NVL (PCIe, 94 GB HBM3). The GPU operator's mig-parted config lists 1g.12gb(+me), 1g.24gb, 2g.24gb,
    // 3g.47gb, 4g.47gb and 7g.94gb for PCI id 0x2321 (H100 NVL).
    name: 'H100-94GB',
    aliases: ['NVIDIA-H100-NVL'],
    memorySlices: 8,
    computeSlices: 7,
    profiles: eightSliceProfiles([12, 24, 24, 47, 47, 94]),
  },
  {
    name: 'H200-141GB',
    aliases: ['NVIDIA-H200', 'NVIDIA-H200-141GB-HBM3e', 'NVIDIA-H200-NVL', 'H200-141GB'],
    memorySlices: 8,
    computeSlices: 7,
    profiles: eightSliceProfiles([18, 35, 35, 71, 71, 141]),
  },
  {
    // HGX B200 (180 GB usable of 192 GB HBM3e); MIG User Guide "Supported GPUs": B200, 180GB, 7 instances.
    name: 'B200-180GB',
    aliases: ['NVIDIA-B200'],
    memorySlices: 8,
    computeSlices: 7,
    profiles: eightSliceProfiles([23, 45, 45, 90, 90, 180]),
  },
  {
    // One Blackwell GPU of a GB200 superchip (NVL72 / NVL4 / HGX GB200); MIG User Guide "Supported GPUs":
    // GB200, 186GB, 7 instances. Profile names as the GPU operator's config has them for PCI id 0x2941.
    name: 'GB200-186GB',
    aliases: ['NVIDIA-GB200'],
    memorySlices: 8,
    computeSlices: 7,
    profiles: eightSliceProfiles([23, 47, 47, 93, 93, 186]),
  },
  {
    name: 'A30-24GB',
    aliases: ['NVIDIA-A30', 'A30'],
    memorySlices: 4,
    computeSlices: 4,
    profiles: fourSliceProfiles([6, 12, 24], [1, 2]),
  },
  {
    // RTX PRO 6000 Blackwell, Server, Workstation and Max-Q Workstation Editions (GB202, 96 GB GDDR7); MIG
    // User Guide "Supported GPUs": 96GB, 4 instances. Left out because the catalog cannot express them:
    // the `+gfx` variants (graphics APIs inside the instance), `-me` (no media engines at all) and
    // `+me.all` (every media engine of the GPU in one instance). Only the plain profiles and 1g.24gb+me are
    // here.
    name: 'RTX-PRO-6000-96GB',
    aliases: [
      'NVIDIA-RTX-PRO-6000-Blackwell-Server-Edition',
      'NVIDIA-RTX-PRO-6000-Blackwell-Workstation-Edition',
      'NVIDIA-RTX-PRO-6000-Blackwell-Max-Q-Workstation-Edition',
    ],
    memorySlices: 4,
    computeSlices: 4,
    profiles: fourSliceProfiles([24, 48, 96], [1]),
  },
];

export const GPU_MODELS: readonly GpuModelName[] = MODELS.map((m) => m.name);

/** Looks a model up by its short name or any GFD product alias (case-insensitive). */
export function findGpuModel(nameOrAlias: string): GpuModel | undefined {
  const key = nameOrAlias.trim().toLowerCase();
  return MODELS.find((m) => m.name.toLowerCase() === key || m.aliases.some((a) => a.toLowerCase() === key));
}

export function findProfile(model: GpuModel, name: string): MigProfile | undefined {
  return model.profiles.find((p) => p.name === name);
}

/** The profile whose device-plugin resource is `resource` (e.g. `nvidia.com/mig-1g.5gb.me`). */
export function profileByResource(model: GpuModel, resource: string): MigProfile | undefined {
  return model.profiles.find((p) => p.resource === resource);
}

/** Profiles without media extensions: the ones schedulers place general jobs on. */
export function computeProfiles(model: GpuModel): MigProfile[] {
  return model.profiles.filter((p) => !p.mediaExtensions);
}
