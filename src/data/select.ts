/**
 * Deterministic, seeded selection of train / test points from a finite pool.
 *
 * Rule (shared pool, mnist / fashion-mnist): draw one seeded permutation `perm` of the pool
 * `0..N-1` (Fisher–Yates from {@link Rng.shuffle}). The TRAIN set is the prefix
 * `perm[0], perm[1], ..., perm[n_train-1]`; the TEST set is read from the other end,
 * `perm[N-1], perm[N-2], ..., perm[N-n_test]`. Consequences, for fixed data seed and classes:
 *
 * - train and test are disjoint whenever `n_train + n_test <= N`;
 * - the train set does not depend on `n_test`, and the test set does not depend on `n_train`;
 * - nested subsets: the train set for `n_train = 100` is the first 100 rows (same order) of the
 *   train set for `n_train = 400`, and likewise the test set for a smaller `n_test` is a row prefix
 *   of the one for a larger `n_test`. Sweeping dataset size therefore only adds points.
 *
 * Separate pools (csv train / test parts): each part gets its own seeded permutation and the
 * selection is its prefix ({@link selectPrefix}), with the same nesting property.
 */
import type { Rng } from '../util/rng.js';
import { DataError } from './errors.js';

/** The seeded permutation of `0..n-1` (Int32Array [n]). */
export function permutation(n: number, rng: Rng): Int32Array {
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  return rng.shuffle(perm);
}

/**
 * Train / test pool indices from one shared pool of `poolSize` points (see the module comment).
 * @returns `train` Int32Array [n_train] and `test` Int32Array [n_test], indices into the pool.
 * @throws DataError if `n_train + n_test > poolSize` or a count is negative / not an integer.
 */
export function splitPool(poolSize: number, n_train: number, n_test: number, rng: Rng): { train: Int32Array; test: Int32Array } {
  checkCounts(n_train, n_test);
  if (n_train + n_test > poolSize) {
    throw new DataError(`n_train + n_test = ${n_train + n_test} exceeds the pool of ${poolSize} points`);
  }
  const perm = permutation(poolSize, rng);
  const train = perm.slice(0, n_train);
  const test = new Int32Array(n_test);
  for (let i = 0; i < n_test; i++) test[i] = perm[poolSize - 1 - i];
  return { train, test };
}

/**
 * The first `n` entries of a seeded permutation of `0..poolSize-1` (Int32Array [n]).
 * @throws DataError if `n > poolSize` or `n` is negative / not an integer.
 */
export function selectPrefix(poolSize: number, n: number, rng: Rng): Int32Array {
  checkCounts(n, 0);
  if (n > poolSize) throw new DataError(`requested ${n} points from a pool of ${poolSize}`);
  return permutation(poolSize, rng).slice(0, n);
}

function checkCounts(a: number, b: number): void {
  if (!Number.isInteger(a) || a < 0 || !Number.isInteger(b) || b < 0) {
    throw new DataError(`point counts must be non-negative integers, got ${a} and ${b}`);
  }
}
