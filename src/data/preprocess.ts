/**
 * Preprocessing (docs/conventions.md §14), applied in this order after selection:
 *
 * 1. `center`: subtract the mean of the TRAIN points (per feature) from train and test points;
 *    the mean is accumulated with compensated (Neumaier) summation.
 * 2. `unit_norm`: divide every point by its Euclidean norm, computed with compensated summation
 *    (with exact power-of-two rescaling near overflow/underflow), so norms are 1 to about 1e-16.
 *
 * A point whose norm is exactly 0 at step 2 (e.g. `center` with `n_train = 1`, or a point equal
 * to the train mean) cannot be projected to the sphere. This is an ERROR ({@link DataError}), not
 * silently left at 0: a zero input makes the NTK angle undefined downstream.
 */
import { DataError } from './errors.js';

/**
 * Per-feature mean of `x` [n, d] row-major (compensated summation).
 * @returns Float64Array [d]; all zeros when `n = 0`.
 */
export function featureMean(x: Float64Array, n: number, d: number): Float64Array {
  const sum = new Float64Array(d);
  const comp = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const row = i * d;
    for (let j = 0; j < d; j++) {
      const v = x[row + j];
      const s = sum[j];
      const t = s + v;
      comp[j] += Math.abs(s) >= Math.abs(v) ? s - t + v : v - t + s;
      sum[j] = t;
    }
  }
  const mean = new Float64Array(d);
  if (n > 0) for (let j = 0; j < d; j++) mean[j] = (sum[j] + comp[j]) / n;
  return mean;
}

/** Subtract `mean` [d] from every row of `x` [n, d] in place. */
export function subtractRowVector(x: Float64Array, n: number, d: number, mean: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const row = i * d;
    for (let j = 0; j < d; j++) x[row + j] -= mean[j];
  }
}

/**
 * Euclidean norm of `x[offset .. offset+d)`, accurate to about one rounding: compensated sum of
 * squares, with exact power-of-two rescaling when the largest entry is beyond 1e±150.
 */
export function accurateNorm(x: Float64Array, offset: number, d: number): number {
  let m = 0;
  for (let j = 0; j < d; j++) {
    const a = Math.abs(x[offset + j]);
    if (a > m) m = a;
  }
  if (m === 0 || !Number.isFinite(m)) return m;
  // Rescale by a power of two (exact) only when squares could overflow or underflow.
  const scale = m > 1e150 || m < 1e-150 ? 2 ** Math.floor(Math.log2(m)) : 1;
  let s = 0;
  let c = 0;
  for (let j = 0; j < d; j++) {
    const v = x[offset + j] / scale;
    const sq = v * v;
    const t = s + sq;
    c += s >= sq ? s - t + sq : sq - t + s;
    s = t;
  }
  return scale * Math.sqrt(s + c);
}

/**
 * Divide every row of `x` [n, d] by its Euclidean norm, in place.
 * @param what name used in errors, e.g. `'train'`.
 * @throws DataError naming the row if a row has norm 0 (or a non-finite norm).
 */
export function normalizeRows(x: Float64Array, n: number, d: number, what: string): void {
  for (let i = 0; i < n; i++) {
    const row = i * d;
    const r = accurateNorm(x, row, d);
    if (r === 0 || !Number.isFinite(r)) {
      throw new DataError(
        `unit_norm: ${what} point ${i} has norm ${r}${r === 0 ? ' (after centering, if center is on; e.g. a point equal to the train mean, or n_train = 1 with center)' : ''}; it cannot be projected to the unit sphere`,
      );
    }
    for (let j = 0; j < d; j++) x[row + j] /= r;
  }
}

/**
 * Apply `center` then `unit_norm` (see the module comment) to train [n_train, d] and test
 * [n_test, d], in place.
 * @returns the train mean that was subtracted (Float64Array [d]), or `null` when `center` is off.
 * @throws DataError on zero-norm points when `unit_norm` is on.
 */
export function preprocess(
  x_train: Float64Array, n_train: number, x_test: Float64Array, n_test: number, d: number,
  opts: { center: boolean; unit_norm: boolean },
): Float64Array | null {
  let mean: Float64Array | null = null;
  if (opts.center) {
    mean = featureMean(x_train, n_train, d);
    subtractRowVector(x_train, n_train, d, mean);
    subtractRowVector(x_test, n_test, d, mean);
  }
  if (opts.unit_norm) {
    normalizeRows(x_train, n_train, d, 'train');
    normalizeRows(x_test, n_test, d, 'test');
  }
  return mean;
}
