// Power models and energy accounting (docs/model.md §3).
export * from './power.js';
export * from './meter.js';
