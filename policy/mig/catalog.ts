// GPU models and their MIG profiles as data (docs/model.md §1, NVIDIA MIG User Guide). Shared code asks this
// table; it never branches on a profile or model name.

export type GpuModelName = 'A100-40GB' | 'A100-80GB' | 'H100-80GB' | 'H200-141GB' | 'A30-24GB';

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

/** The seven-compute-slice geometry shared by A100, H100 and H200 (memory sizes differ). */
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
    name: 'H200-141GB',
    aliases: ['NVIDIA-H200', 'NVIDIA-H200-141GB-HBM3e', 'NVIDIA-H200-NVL', 'H200-141GB'],
    memorySlices: 8,
    computeSlices: 7,
    profiles: eightSliceProfiles([18, 35, 35, 71, 71, 141]),
  },
  {
    name: 'A30-24GB',
    aliases: ['NVIDIA-A30', 'A30'],
    memorySlices: 4,
    computeSlices: 4,
    profiles: [
      profile([1, 1, 6, 4, [0, 1, 2, 3]]),
      profile([1, 1, 6, 4, [0, 1, 2, 3]], true),
      profile([2, 2, 12, 2, [0, 2]]),
      profile([2, 2, 12, 2, [0, 2]], true),
      profile([4, 4, 24, 1, [0]]),
    ],
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
