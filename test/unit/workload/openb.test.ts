import { describe, expect, it } from 'vitest';
import { findGpuModel } from '../../../policy/mig/catalog.js';
import {
  coveringSlice,
  OPENB_COLUMNS,
  parseOpenbPods,
  ProfileBook,
  sliceSizes,
  WorkloadParseError,
  type OpenbOptions,
} from '../../../policy/workload/index.js';

const HEADER = OPENB_COLUMNS.join(',');
const A100 = findGpuModel('A100-40GB')!;
const A30 = findGpuModel('A30-24GB')!;
const book = new ProfileBook();

interface PodSpec {
  name?: string;
  gpus?: number;
  milli?: number;
  phase?: string;
  created?: number;
  scheduled?: number | '';
  deleted?: number | '';
}

/** One CSV row in the trace's column order; times in seconds. */
function pod(p: PodSpec): string {
  const created = p.created ?? 0;
  const scheduled = p.scheduled ?? created;
  const deleted = p.deleted ?? created + 600;
  return [
    p.name ?? 'pod',
    4000,
    8192,
    p.gpus ?? 1,
    p.milli ?? 1000,
    '',
    'LS',
    p.phase ?? 'Succeeded',
    created,
    deleted,
    scheduled,
  ].join(',');
}

function csv(...rows: string[]): string {
  return [HEADER, ...rows].join('\n') + '\n';
}

function parse(text: string, opts: Partial<OpenbOptions> = {}) {
  return parseOpenbPods(text, { seed: 1, ...opts });
}

/** The error a parse throws (fails the test if it does not throw one). */
function errorOf(text: string): WorkloadParseError {
  try {
    parse(text);
  } catch (err) {
    if (err instanceof WorkloadParseError) return err;
    throw err;
  }
  throw new Error('expected a WorkloadParseError');
}

// The first rows of openb_pod_list_default.csv, verbatim (with a trace-end row so nothing is censored).
const REAL = `name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time
openb-pod-0000,12000,16384,1,1000,,LS,Running,0,12537496,0
openb-pod-0001,6000,12288,1,460,,LS,Running,427061,12902960,427061
openb-pod-8150,3152,5600,1,590,,BE,Failed,12900505,12900526,12900505
openb-pod-8151,3152,5600,1,590,,BE,Failed,12901761,12901792,12901762
`;

describe('parseOpenbPods: slice mapping', () => {
  it.each([
    { name: 'a tenth of a GPU → 1g', milli: 100, k: 1 },
    { name: 'just under 1/7 → 1g', milli: 142, k: 1 },
    { name: 'just over 1/7 → 2g', milli: 143, k: 2 },
    { name: 'just over 2/7 → 3g', milli: 286, k: 3 },
    { name: 'openb 460 → 4g', milli: 460, k: 4 },
    { name: 'just under 4/7 → 4g', milli: 571, k: 4 },
    { name: 'openb 810 → 7g', milli: 810, k: 7 },
    { name: 'a whole GPU → 7g', milli: 1000, k: 7 },
  ])('$name', ({ milli, k }) => {
    const { jobs } = parse(csv(pod({ milli })));
    expect(jobs[0]?.minCompute).toBe(k);
  });

  it.each([
    { name: 'quarter → 1g', milli: 250, k: 1 },
    { name: 'over a quarter → 2g', milli: 251, k: 2 },
    { name: 'half → 2g', milli: 500, k: 2 },
    { name: 'over half → 4g', milli: 501, k: 4 },
  ])('A30: $name', ({ milli, k }) => {
    const { jobs } = parse(csv(pod({ milli })), { gpu: A30 });
    expect(jobs[0]?.minCompute).toBe(k);
  });

  it('lists the general compute sizes of a model', () => {
    expect(sliceSizes(A100)).toEqual([1, 2, 3, 4, 7]);
    expect(sliceSizes(A30)).toEqual([1, 2, 4]);
    expect(coveringSlice([1, 2, 3, 4, 7], 2 / 7)).toBe(2);
  });

  it('puts a multi-GPU pod on one whole GPU and says so', () => {
    const r = parse(csv(pod({ name: 'big', gpus: 8 })));
    expect(r.jobs[0]?.minCompute).toBe(7);
    expect(r.adjusted).toEqual([{ line: 2, name: 'big', reason: expect.stringContaining('8 GPUs') }]);
  });
});

describe('parseOpenbPods: times, work and deadlines', () => {
  it('sets release in minutes from the first creation, work so the pod runs as long on its slice', () => {
    const r = parse(
      csv(
        pod({ name: 'a', created: 6000, scheduled: 6060, deleted: 6060 + 1800, milli: 460 }),
        pod({ name: 'b', created: 600, deleted: 600 + 120, milli: 100 }),
      ),
    );
    expect(r.jobs.map((j) => [j.id, j.name, j.release])).toEqual([
      [0, 'b', 0],
      [1, 'a', 90],
    ]);
    const a = r.jobs[1]!;
    expect(book.duration(a, 4)).toBeCloseTo(30, 9);
    expect(book.duration(r.jobs[0]!, 1)).toBeCloseTo(2, 9);
    expect(r.spanMinutes).toBe(90);
  });

  it('sets deadlines 1 to 1.5 whole-GPU times after release', () => {
    const rows = Array.from({ length: 200 }, (_, i) => pod({ name: `p${i}`, created: i * 60, milli: 100 + i * 4 }));
    const { jobs } = parse(csv(...rows), { seed: 3 });
    expect(jobs).toHaveLength(200);
    for (const j of jobs) {
      const factor = (j.deadline - j.release) / book.duration(j, 7);
      expect(factor).toBeGreaterThanOrEqual(1 - 1e-12);
      expect(factor).toBeLessThan(1.5 + 1e-12);
    }
    const training = jobs.filter((j) => j.kind === 'training').length;
    expect(training).toBeGreaterThan(15);
    expect(training).toBeLessThan(70);
  });

  it('windows and rescales time, keeping each pod’s drawn attributes', () => {
    const rows = Array.from({ length: 30 }, (_, i) => pod({ name: `p${i}`, created: i * 3600 }));
    const all = parse(csv(...rows), { seed: 11 });
    const win = parse(csv(...rows), { seed: 11, fromMinute: 600, hours: 5, timeScale: 2 });
    expect(win.jobs.map((j) => j.name)).toEqual(['p10', 'p11', 'p12', 'p13', 'p14']);
    expect(win.jobs.map((j) => j.release)).toEqual([0, 30, 60, 90, 120]);
    expect(win.skipped.filter((s) => s.reason.includes('window'))).toHaveLength(25);
    for (const j of win.jobs) {
      const same = all.jobs.find((x) => x.name === j.name)!;
      expect([j.profile, j.work]).toEqual([same.profile, same.work]);
      expect((j.deadline - j.release) / book.duration(j, 7)).toBeCloseTo(
        (same.deadline - same.release) / book.duration(same, 7),
        9,
      );
    }
  });

  it('is deterministic per seed', () => {
    const rows = Array.from({ length: 50 }, (_, i) => pod({ name: `p${i}`, created: i * 60 }));
    expect(parse(csv(...rows), { seed: 4 })).toEqual(parse(csv(...rows), { seed: 4 }));
    expect(parse(csv(...rows), { seed: 4 }).jobs).not.toEqual(parse(csv(...rows), { seed: 5 }).jobs);
  });

  it('reads real openb rows', () => {
    const r = parse(REAL);
    expect(r.jobs.map((j) => [j.name, j.minCompute, j.release])).toEqual([
      ['openb-pod-0000', 7, 0],
      ['openb-pod-8150', 7, 12900505 / 60],
      ['openb-pod-8151', 7, 12901761 / 60],
    ]);
    expect(r.skipped).toEqual([{ line: 3, name: 'openb-pod-0001', reason: expect.stringContaining('still running') }]);
    expect(book.duration(r.jobs[2]!, 7)).toBeCloseTo(30 / 60, 9);
  });
});

describe('parseOpenbPods: skipped rows', () => {
  it.each([
    { name: 'CPU-only', row: pod({ gpus: 0, milli: 0 }), opts: {}, reason: 'CPU-only' },
    { name: 'never scheduled', row: pod({ phase: 'Pending', scheduled: '' }), opts: {}, reason: 'never scheduled' },
    { name: 'no deletion time', row: pod({ deleted: '' }), opts: {}, reason: 'no deletion time' },
    { name: 'zero run time', row: pod({ created: 5, deleted: 5 }), opts: {}, reason: 'zero run time' },
    { name: 'a long service', row: pod({ deleted: 7200 }), opts: { maxRunMinutes: 60 }, reason: 'longer than' },
    { name: 'outside the window', row: pod({ created: 3600 }), opts: { hours: 0.5 }, reason: 'window' },
  ])('$name', ({ row, opts, reason }) => {
    // A short pod at time 0 first, so the window starts before the row under test.
    const r = parse(csv(pod({ name: 'anchor', created: 0, deleted: 60 }), row), opts);
    expect(r.skipped).toEqual([{ line: 3, name: 'pod', reason: expect.stringContaining(reason) }]);
  });

  it('accounts for every data row', () => {
    const rows = [pod({ gpus: 0, milli: 0 }), pod({ phase: 'Pending', scheduled: '' }), pod({}), pod({ gpus: 4 })];
    const r = parse(csv(...rows));
    expect(r.jobs.length + r.skipped.length).toBe(rows.length);
  });
});

describe('parseOpenbPods: input format', () => {
  it('accepts columns in any order, CRLF and quoted fields', () => {
    const cols = [...OPENB_COLUMNS].reverse();
    const values: Record<string, string> = {
      name: '"pod, quoted ""x"""',
      cpu_milli: '1000',
      memory_mib: '10',
      num_gpu: '1',
      gpu_milli: '300',
      gpu_spec: '"V100M16|V100M32"',
      qos: 'BE',
      pod_phase: 'Succeeded',
      creation_time: '60',
      deletion_time: '180',
      scheduled_time: '60',
    };
    const text = `${cols.join(',')}\r\n${cols.map((c) => values[c]).join(',')}\r\n\r\n`;
    const r = parse(text);
    expect(r.jobs.map((j) => [j.name, j.minCompute, j.release])).toEqual([['pod, quoted "x"', 3, 0]]);
  });

  it.each([
    { name: 'empty file', text: '', code: 'E_CSV_EMPTY', line: 1 },
    { name: 'unknown column', text: HEADER.replace('qos', 'priority') + '\n', code: 'E_CSV_HEADER', line: 1 },
    { name: 'missing column', text: HEADER.replace(',qos', '') + '\n', code: 'E_CSV_HEADER', line: 1 },
    { name: 'too few fields', text: csv(pod({}), 'x,1,2'), code: 'E_CSV_COLUMNS', line: 3 },
    {
      name: 'non-numeric time',
      text: csv(pod({}), pod({}).replace(/,0,600,0$/, ',soon,600,0')),
      code: 'E_CSV_NUMBER',
      line: 3,
    },
    { name: 'negative gpu count', text: csv(pod({ gpus: -1 })), code: 'E_CSV_NUMBER', line: 2 },
    { name: 'fractional gpu count', text: csv(pod({ gpus: 1.5 })), code: 'E_CSV_NUMBER', line: 2 },
    { name: 'gpu_milli above 1000', text: csv(pod({ milli: 1200 })), code: 'E_CSV_NUMBER', line: 2 },
    {
      name: 'deletion before creation',
      text: csv(pod({ created: 100, deleted: 50 })),
      code: 'E_CSV_TIME_ORDER',
      line: 2,
    },
    {
      name: 'scheduled after deletion',
      text: csv(pod({ scheduled: 900, deleted: 600 })),
      code: 'E_CSV_TIME_ORDER',
      line: 2,
    },
    { name: 'unclosed quote', text: csv(pod({}), '"open,1'), code: 'E_CSV_QUOTE', line: 3 },
  ])('rejects $name with its line', ({ text, code, line }) => {
    const err = errorOf(text);
    expect([err.code, err.line]).toEqual([code, line]);
    expect(err.message).toContain(`line ${line}`);
  });

  it.each([
    { name: 'a zero time scale', opts: { timeScale: 0 } },
    { name: 'a negative window start', opts: { fromMinute: -5 } },
    { name: 'an empty window', opts: { hours: 0 } },
  ])('rejects $name', ({ opts }) => {
    expect(() => parse(csv(pod({})), opts)).toThrow(/openb:/);
  });
});
