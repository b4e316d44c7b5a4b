// `smartmig layouts`: the maximal MIG layouts of a GPU model, as a table or JSON.
import { parseFlags, stringFlag, type FlagSpec } from '../args.js';
import type { Command } from '../command.js';
import { UsageError } from '../usage-error.js';
import type { GpuModel } from '../../policy/mig/index.js';
import {
  GPU_MODELS,
  describeCompute,
  findGpuModel,
  findProfile,
  formatLayout,
  maximalLayouts,
  paperConfigNumber,
  profileSet,
} from '../../policy/mig/index.js';

const DEFAULT_GPU = 'A100-40GB';

const help = `Usage: smartmig layouts [--gpu MODEL] [--profiles P1,P2,...] [--json]

Lists every maximal positional MIG layout of a GPU model: valid layouts to which no further instance
of the chosen profiles can be added, ordered by position with larger instances first.

Flags:
  --gpu MODEL        GPU model (${GPU_MODELS.join(', ')}) or a product name
                     such as NVIDIA-A100-SXM4-40GB; default ${DEFAULT_GPU}
  --profiles LIST    comma-separated MIG profiles to build layouts from; default: all profiles
                     without media extensions (+me)
  --json             one JSON array: {index, compute, paper, slices: [{profile, start}]} per layout

The paper column gives the SMART-MIG configuration number (1..12) of a layout, where it is one.`;

function gpuFrom(name: string): GpuModel {
  const model = findGpuModel(name);
  if (!model) throw new UsageError(`--gpu: unknown GPU model "${name}" (valid: ${GPU_MODELS.join(', ')})`);
  return model;
}

function profilesFrom(model: GpuModel, text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0) throw new UsageError('--profiles: give at least one profile');
  const unknown = names.find((n) => !findProfile(model, n));
  if (unknown !== undefined) {
    const valid = model.profiles.map((p) => p.name).join(', ');
    throw new UsageError(`--profiles: ${model.name} has no MIG profile "${unknown}" (valid: ${valid})`);
  }
  return names;
}

interface Row {
  index: number;
  compute: string;
  paper: number | null;
  slices: { profile: string; start: number }[];
}

function table(model: GpuModel, profiles: string[], rows: Row[]): string {
  const width = Math.max('compute'.length, ...rows.map((r) => r.compute.length));
  const lines = [
    `${model.name}: ${rows.length} maximal layouts over ${profiles.join(', ')}`,
    '',
    `  #  ${'compute'.padEnd(width)}  paper  slices`,
    ...rows.map(
      (r) =>
        `${String(r.index).padStart(3)}  ${r.compute.padEnd(width)}  ${String(r.paper ?? '').padEnd(5)}  ` +
        formatLayout({ slices: r.slices }),
    ),
  ];
  return lines.join('\n');
}

const FLAGS = {
  gpu: { type: 'string' },
  profiles: { type: 'string' },
  json: { type: 'boolean' },
} satisfies FlagSpec;

export const command: Command = {
  name: 'layouts',
  help,
  flags: FLAGS,
  run(argv) {
    const parsed = parseFlags(argv, FLAGS);
    const model = gpuFrom(stringFlag(parsed, 'gpu', DEFAULT_GPU));
    const profiles = profilesFrom(model, stringFlag(parsed, 'profiles'));
    const rows: Row[] = maximalLayouts(model, profiles).map((layout, i) => ({
      index: i + 1,
      compute: describeCompute(model, layout),
      paper: paperConfigNumber(model, layout) ?? null,
      slices: layout.slices.map((s) => ({ profile: s.profile, start: s.start })),
    }));
    const chosen = new Set(profileSet(model, profiles));
    const names = model.profiles.filter((p) => chosen.has(p)).map((p) => p.name);
    console.log(parsed.values['json'] === true ? JSON.stringify(rows, null, 2) : table(model, names, rows));
    return Promise.resolve(0);
  },
};
