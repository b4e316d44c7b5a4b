// Pure: a DRA node's MIG state in the extender's terms (policy/placement/node-score.ts NodeMigState's
// `allocatable`, `used` and `gpus`), from what the API server holds: the devices NVIDIA's DRA driver publishes
// in the node's pool, the devices smartmig's DeviceTaintRules taint (dra/steering.ts), and the devices allocated
// claims hold (docs/adr/0003-mig-on-dra.md, design point 2; docs/extender.md, "DRA nodes").
//
// - A *steered* GPU (at least one of its devices tainted): steering leaves exactly its target layout's
//   placements untainted, so the layout is those placements; a tainted placement a claim still holds counts
//   too (it stays in use until its pod ends, as an instance of an old layout does on a device-plugin node).
// - An *unsteered* GPU (no rule touches it; nobody manages it): the allocator may use any placement that fits
//   the memory slices no claim holds. Each profile is offered as many times as its placements fit there side
//   by side, so a pod of any profile the allocator could place passes the filter. The profiles overlap, so the
//   node looks larger than it is to the packing and slice-size heuristics: fit is exact, scores approximate.
// - The whole GPU allocated (`gpu-<i>`): none of its placements is offered.
import type { GpuModel } from '../policy/mig/catalog.js';
import { memorySlicesOf, parseDeviceName, type GpuDevice } from './devices.js';

export interface DraNodeMig {
  readonly allocatable: Map<string, number>;
  readonly used: Map<string, number>;
  /** GPUs that publish devices. */
  readonly gpus: number;
}

type MigDevice = Extract<GpuDevice, { kind: 'mig' }>;

interface GpuDevices {
  readonly mig: { readonly d: MigDevice; readonly tainted: boolean; readonly allocated: boolean }[];
  steered: boolean;
  wholeAllocated: boolean;
}

const add = (m: Map<string, number>, k: string, n = 1) => m.set(k, (m.get(k) ?? 0) + n);

/**
 * The node's MIG state from the device names its pool publishes, those tainted by smartmig, and those
 * allocated to claims. Names `model` does not know are ignored.
 */
export function draNodeMig(
  model: GpuModel,
  devices: Iterable<string>,
  tainted: ReadonlySet<string>,
  allocated: ReadonlySet<string>,
): DraNodeMig {
  const gpus = new Map<number, GpuDevices>();
  for (const name of new Set(devices)) {
    const d = parseDeviceName(model, name);
    if (!d) continue;
    let g = gpus.get(d.gpu);
    if (!g) gpus.set(d.gpu, (g = { mig: [], steered: false, wholeAllocated: false }));
    const isTainted = tainted.has(name);
    if (isTainted) g.steered = true;
    if (d.kind === 'gpu') g.wholeAllocated ||= allocated.has(name);
    else g.mig.push({ d, tainted: isTainted, allocated: allocated.has(name) });
  }
  const allocatable = new Map<string, number>();
  const used = new Map<string, number>();
  for (const g of gpus.values()) {
    if (g.wholeAllocated) continue;
    for (const m of g.mig) {
      if (!m.allocated) continue;
      add(allocatable, m.d.profile.name);
      add(used, m.d.profile.name);
    }
    if (g.steered) {
      for (const m of g.mig) if (!m.tainted && !m.allocated) add(allocatable, m.d.profile.name);
      continue;
    }
    // Unsteered: per profile, how many of its placements fit side by side in the memory slices left free.
    const busy = new Set(g.mig.filter((m) => m.allocated).flatMap((m) => memorySlicesOf(model, m.d)));
    const offered = new Map<string, MigDevice[]>();
    for (const m of g.mig) {
      if (m.allocated || memorySlicesOf(model, m.d).some((s) => busy.has(s))) continue;
      const list = offered.get(m.d.profile.name) ?? [];
      list.push(m.d);
      offered.set(m.d.profile.name, list);
    }
    for (const [profile, list] of offered) {
      // Placements of one profile have one size: taking them by start, each one past the last one's end,
      // packs the most.
      let end = -1;
      let n = 0;
      for (const d of list.sort((a, b) => a.start - b.start)) {
        if (d.start < end) continue;
        n++;
        end = d.start + d.profile.memorySlices;
      }
      if (n > 0) add(allocatable, profile, n);
    }
  }
  return { allocatable, used, gpus: gpus.size };
}
