// What GPU feature discovery and mig-parted would read off each emulated GPU model: the product label, the
// PCI device id that mig-parted's `device-filter` matches, memory and architecture. Values of the SXM boards
// where a model has several (H100-94GB: the H100 NVL; RTX-PRO-6000-96GB: the Server Edition). Memory is what
// nvidia-smi reports for the board; device ids are those in the GPU operator's default mig-parted config.
import type { GpuModel, GpuModelName } from '../policy/mig/catalog.js';

export interface GpuHardware {
  /** `nvidia.com/gpu.product` as GFD writes it (spaces become dashes). */
  readonly product: string;
  /** PCI device and vendor id as mig-parted spells it in `device-filter`, e.g. `0x20B010DE`. */
  readonly deviceId: string;
  /** `nvidia.com/gpu.memory`: total memory in MiB as NVML reports it. */
  readonly memoryMiB: number;
  readonly family: string;
  readonly computeMajor: number;
  readonly computeMinor: number;
}

const HARDWARE: Readonly<Record<GpuModelName, GpuHardware>> = {
  'A100-40GB': {
    product: 'NVIDIA-A100-SXM4-40GB',
    deviceId: '0x20B010DE',
    memoryMiB: 40960,
    family: 'ampere',
    computeMajor: 8,
    computeMinor: 0,
  },
  'A100-80GB': {
    product: 'NVIDIA-A100-SXM4-80GB',
    deviceId: '0x20B210DE',
    memoryMiB: 81920,
    family: 'ampere',
    computeMajor: 8,
    computeMinor: 0,
  },
  'H100-80GB': {
    product: 'NVIDIA-H100-80GB-HBM3',
    deviceId: '0x233010DE',
    memoryMiB: 81559,
    family: 'hopper',
    computeMajor: 9,
    computeMinor: 0,
  },
  'H100-94GB': {
    product: 'NVIDIA-H100-NVL',
    deviceId: '0x232110DE',
    memoryMiB: 95830,
    family: 'hopper',
    computeMajor: 9,
    computeMinor: 0,
  },
  'H200-141GB': {
    product: 'NVIDIA-H200',
    deviceId: '0x233510DE',
    memoryMiB: 143771,
    family: 'hopper',
    computeMajor: 9,
    computeMinor: 0,
  },
  'B200-180GB': {
    product: 'NVIDIA-B200',
    deviceId: '0x290110DE',
    memoryMiB: 183359,
    family: 'blackwell',
    computeMajor: 10,
    computeMinor: 0,
  },
  'GB200-186GB': {
    product: 'NVIDIA-GB200',
    deviceId: '0x294110DE',
    memoryMiB: 189471,
    family: 'blackwell',
    computeMajor: 10,
    computeMinor: 0,
  },
  'A30-24GB': {
    product: 'NVIDIA-A30',
    deviceId: '0x20B710DE',
    memoryMiB: 24576,
    family: 'ampere',
    computeMajor: 8,
    computeMinor: 0,
  },
  'RTX-PRO-6000-96GB': {
    product: 'NVIDIA-RTX-PRO-6000-Blackwell-Server-Edition',
    deviceId: '0x2BB510DE',
    memoryMiB: 97887,
    family: 'blackwell',
    computeMajor: 12,
    computeMinor: 0,
  },
};

export function gpuHardware(model: GpuModel): GpuHardware {
  return HARDWARE[model.name];
}
