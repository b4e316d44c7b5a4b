// Power models and energy accounting (MODEL.md §3).
export * from './power.js';
export * from './meter.js';
