// Simulator speed and memory (issue 2): the paper's day on 8 GPUs, and cluster mode with 1,024 GPUs at
// 128× the paper's load for 24 h.
import { performance } from 'node:perf_hooks';
import { powerModel } from '../../policy/energy/power.js';
import { findGpuModel, type GpuModel } from '../../policy/mig/catalog.js';
import { paper12Layout } from '../../policy/mig/paper12.js';
import type { SimConfig, SimMode } from '../../policy/sim/config.js';
import { PAPER_ET_WEIGHT } from '../../policy/sim/config.js';
import { staticRepartitioner } from '../../policy/repartition/static.js';
import { simulate } from '../../policy/sim/simulator.js';
import { generatePaperWorkload } from '../../policy/workload/paper-generator.js';
import { ProfileBook, type Job } from '../../policy/workload/job.js';
import { median, peakRssMiB, printFigures } from './report.js';

const model = findGpuModel('A100-40GB') as GpuModel;
const PAPER = [1, 1, 2, 3, 3, 5, 5, 10];

function config(jobs: Job[], gpus: number, mode: SimMode): SimConfig {
  return {
    gpus: Array.from({ length: gpus }, (_, i) => ({ model, layout: paper12Layout(model, PAPER[i % 8] as number)! })),
    jobs,
    profiles: new ProfileBook(),
    mode,
    placement: 'cedf',
    repartitioner: staticRepartitioner(),
    seed: 1,
    horizonMin: 1440,
    reconfigureMin: mode === 'paper' ? 4 / 60 : 0.5,
    etWeight: PAPER_ET_WEIGHT,
    powerTable: (m) => powerModel(m).table,
  };
}

const day = generatePaperWorkload({ seed: 1 });
const times: number[] = [];
let events = 0;
for (let i = 0; i < 12; i++) {
  const t0 = performance.now();
  events = simulate(config(day, 8, 'paper')).events;
  if (i >= 2) times.push(performance.now() - t0); // the first runs warm the JIT
}
const dayMs = median(times);

const big = generatePaperWorkload({ seed: 1, multiplier: 20 * 128 });
const t0 = performance.now();
const r = simulate(config(big, 1024, 'cluster'));
const bigS = (performance.now() - t0) / 1000;

printFigures('simulator (CEDF, static paper layouts)', [
  { name: 'paper day, 8 GPUs, paper mode: median run', value: dayMs, unit: 'ms', target: '< 50 ms', met: dayMs < 50 },
  { name: 'paper day: jobs / events', value: day.length, unit: `jobs, ${events} events` },
  { name: 'paper day: events per second', value: Math.round(events / (dayMs / 1000)), unit: 'events/s' },
  { name: '1,024 GPUs, 128× load, cluster mode: run', value: bigS, unit: 's', target: '< 60 s', met: bigS < 60 },
  { name: '1,024 GPUs: jobs', value: big.length, unit: 'jobs' },
  { name: '1,024 GPUs: events per second', value: Math.round(r.events / bigS), unit: 'events/s' },
  {
    name: 'peak resident memory (whole process)',
    value: peakRssMiB(),
    unit: 'MiB',
    target: '< 1024 MiB',
    met: peakRssMiB() < 1024,
  },
]);
