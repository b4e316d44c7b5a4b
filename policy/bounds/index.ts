// Lower bounds no scheduler can beat: energy (closed form) and tardiness (MIP, small instances); docs/bounds.md.
export * from './makespan.js';
export * from './energy.js';
export * from './tardiness.js';
