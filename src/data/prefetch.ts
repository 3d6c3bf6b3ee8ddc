/**
 * Reading a dataset's files before the first job needs them: a pool's worker threads warm up
 * while the sweep is registered (`engine/pool.ts` `warmPool`). With the pool's shared class cache
 * (`shared-classes.ts`) the threads take the classes in turn, each reading those no other thread
 * has taken, so together they read every class once.
 */
import { resolveDataParams } from './check.js';
import { fashionMnistClassBytes, fashionMnistClassIf } from './fashion-mnist.js';
import { mnistClassBytes, mnistClassIf } from './mnist.js';
import { createSharedDataCache, type SharedDataCache } from './shared-classes.js';
import type { DataParams } from './types.js';

/**
 * Read the image classes that `p` selects from (mnist, fashion-mnist) and that no thread of the
 * pool has read or is reading; classes another thread is reading are skipped, not waited for.
 * Other datasets: nothing (csv files are read by the job itself).
 * @throws DataError for invalid params or unreadable files (the job meets the same error).
 */
export function prefetchDataset(p: DataParams): void {
  if (p.dataset !== 'mnist' && p.dataset !== 'fashion-mnist') return;
  const r = resolveDataParams(p);
  const read = r.dataset === 'mnist' ? mnistClassIf : fashionMnistClassIf;
  for (const c of r.classes_sorted) read(c, false);
}

/** Shared slots for every class of the image datasets, for the threads of one pool (memory is committed as classes are read). */
export function createPoolDataCache(): SharedDataCache {
  return createSharedDataCache({ mnist: mnistClassBytes(), 'fashion-mnist': fashionMnistClassBytes() });
}
