/**
 * Public API of the data layer (docs/conventions.md §14): datasets, seeded selection, preprocessing and
 * target encoding. See `dataset.ts` for the pipeline and the selection rule.
 */
export type { DataParams, Dataset } from './types.js';
export { DATASETS } from './types.js';
export { DataError } from './errors.js';
export { loadDataset } from './dataset.js';
export { checkDataParams, formatClasses } from './check.js';
export { createPoolDataCache, prefetchDataset } from './prefetch.js';
export { installSharedDataCache, type SharedDataCache } from './shared-classes.js';
export { makeRng, type Rng } from '../util/rng.js';
