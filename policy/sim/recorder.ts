// Accumulates what a run measures: tardiness, on-time completions and energy, in total and per hour.
import type { Job } from '../workload/job.js';

export interface HourStats {
  readonly hour: number;
  arrivals: number;
  completions: number;
  late: number;
  tardinessMin: number;
  energyWmin: number;
}

export class Recorder {
  readonly hours: HourStats[] = [];
  completed = 0;
  onTime = 0;
  tardinessSum = 0;
  maxTardiness = 0;
  lastCompletion = 0;

  arrival(job: Job): void {
    this.hour(job.release).arrivals++;
  }

  completion(job: Job, time: number): void {
    const tardiness = Math.max(0, time - job.deadline);
    const h = this.hour(time);
    h.completions++;
    h.tardinessMin += tardiness;
    this.completed++;
    this.tardinessSum += tardiness;
    if (tardiness > 0) h.late++;
    else this.onTime++;
    if (tardiness > this.maxTardiness) this.maxTardiness = tardiness;
    if (time > this.lastCompletion) this.lastCompletion = time;
  }

  /** Splits the energy of constant power over [from, to) across hour buckets. */
  energy(from: number, to: number, watts: number): void {
    let t = from;
    while (t < to) {
      const end = Math.min(to, (Math.floor(t / 60) + 1) * 60);
      this.hour(t).energyWmin += watts * (end - t);
      t = end;
    }
  }

  private hour(time: number): HourStats {
    const h = Math.max(0, Math.floor(time / 60));
    while (this.hours.length <= h) {
      this.hours.push({
        hour: this.hours.length,
        arrivals: 0,
        completions: 0,
        late: 0,
        tardinessMin: 0,
        energyWmin: 0,
      });
    }
    return this.hours[h] as HourStats;
  }
}
