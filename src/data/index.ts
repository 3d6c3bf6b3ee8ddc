/**
 * Public API of the data layer (design.md §4): datasets, seeded selection, preprocessing and
 * target encoding. See `dataset.ts` for the pipeline and the selection rule.
 */
export type { DataParams, Dataset } from './types.js';
export { DATA_PARAM_KEYS } from './types.js';
export { DataError } from './errors.js';
export { loadDataset } from './dataset.js';
export { checkDataParams, formatClasses, DATASETS } from './check.js';
export { makeRng, type Rng } from './rng.js';

import { clearMnistCache } from './mnist.js';
import { clearFashionMnistCache } from './fashion-mnist.js';
import { clearCsvCache } from './csv.js';

/**
 * Drop every per-thread data cache (mnist ≈ 63 MB, fashion-mnist ≈ 55 MB when fully loaded,
 * parsed csv files). The next `loadDataset` reads the files again.
 */
export function clearDataCache(): void {
  clearMnistCache();
  clearFashionMnistCache();
  clearCsvCache();
}
