// Jobs, speed-up profiles, the paper's generator and the openb trace reader (docs/model.md §2, docs/workloads.md).
export * from './job.js';
export * from './csv.js';
export * from './paper-generator.js';
export * from './openb.js';
export * from './profile-sources.js';
