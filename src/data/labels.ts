/**
 * Target encoding (docs/conventions.md §14). With `K` classes and label index `j` in `0..K-1`:
 *
 * - `K = 2`: one output (`k = 1`), target `-1` for label 0 and `+1` for label 1;
 * - `K >= 3`: `k = K` outputs, target row `e_j − 1/K` (one-hot minus 1/K), so every row sums to 0
 *   (up to rounding) and the targets are centred over classes.
 */
import { DataError } from './errors.js';

/** Number of outputs for `numClasses` classes: 1 for two classes, else `numClasses`. */
export function outputCount(numClasses: number): number {
  return numClasses === 2 ? 1 : numClasses;
}

/**
 * Encode label indices as targets.
 * @param labels Int32Array [n], values in `0..numClasses-1`.
 * @returns Float64Array [n, k] row-major, `k = outputCount(numClasses)`.
 * @throws DataError if `numClasses < 2` or a label is out of range.
 */
export function encodeTargets(labels: Int32Array, numClasses: number): Float64Array {
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw new DataError(`need at least 2 classes to build targets, got ${numClasses}`);
  }
  const n = labels.length;
  const k = outputCount(numClasses);
  const y = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    const j = labels[i];
    if (!(j >= 0 && j < numClasses)) throw new DataError(`label index ${j} at row ${i} is outside 0..${numClasses - 1}`);
    if (k === 1) {
      y[i] = j === 1 ? 1 : -1;
    } else {
      const off = -1 / k;
      for (let c = 0; c < k; c++) y[i * k + c] = c === j ? 1 + off : off;
    }
  }
  return y;
}
