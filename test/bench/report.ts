// How benchmarks print: one aligned line per figure, with the target beside it when there is one.
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** e.g. "< 200 ms" */
  target?: string;
  met?: boolean;
}

export function printFigures(title: string, figures: Figure[]): void {
  console.log(title);
  const w = Math.max(...figures.map((f) => f.name.length));
  for (const f of figures) {
    const v = Number.isInteger(f.value) ? String(f.value) : f.value.toFixed(f.value < 10 ? 2 : 1);
    const target = f.target ? `   target ${f.target}: ${f.met ? 'met' : 'NOT met'}` : '';
    console.log(`  ${f.name.padEnd(w)}  ${v.padStart(10)} ${f.unit}${target}`);
  }
}

/** Peak resident memory of this process so far, MiB. */
export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}
