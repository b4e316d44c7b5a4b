// MIG geometry: GPU models and profiles, layouts, validation, enumeration, named and paper layouts.
export * from './catalog.js';
export * from './layout.js';
export * from './validate.js';
export * from './enumerate.js';
export * from './paper12.js';
export * from './named.js';
export * from './layout-text.js';
