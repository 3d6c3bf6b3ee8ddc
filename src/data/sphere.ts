/**
 * Synthetic data on the unit sphere S^{d−1} (docs/conventions.md §14).
 *
 * Points: each point is a vector of `d` i.i.d. standard normals divided by its norm, which is
 * uniform on the sphere. Train and test points come from two independent seeded streams
 * (`makeRng({ purpose: 'data-sphere-points', part, d, data_seed })`), drawn point after point, so
 * the first 100 training points are the same whatever `n_train` is (nested subsets) and the test
 * points do not depend on `n_train` (and vice versa).
 *
 * Target (`makeRng({ purpose: 'data-sphere-target', target, d, data_seed })`), label `sign(f(x))`
 * with `sign(0) = +1`:
 * - `linear`: `f(x) = w·x`, `w ~ N(0, I_d)`;
 * - `quadratic`: `f(x) = xᵀGx − tr(G)/d`, `G` a d×d matrix of i.i.d. N(0, 1) (only the symmetric
 *   part matters). Since `E[xᵀGx] = tr(G)/d` for `x` uniform on the sphere, `f` has mean 0.
 * Labels are computed on the raw sphere points, before any `center` / `unit_norm` preprocessing.
 */
import { makeRng, type Rng } from '../util/rng.js';
import { accurateNorm } from './preprocess.js';

/** Largest `d` allowed with the quadratic target (its d×d matrix is d²·8 bytes: 128 MiB here). */
export const SPHERE_QUADRATIC_MAX_D = 4096;

/**
 * `n` points uniform on S^{d−1}: Float64Array [n, d] row-major, every row of norm 1 (to ~1e-16).
 * Point `i` uses the draws after those of points `0..i-1` (a zero vector, probability 0, is
 * redrawn).
 */
export function spherePoints(n: number, d: number, rng: Rng): Float64Array {
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const row = i * d;
    let r = 0;
    do {
      for (let j = 0; j < d; j++) x[row + j] = rng.normal();
      r = accurateNorm(x, row, d);
    } while (r === 0);
    for (let j = 0; j < d; j++) x[row + j] /= r;
  }
  return x;
}

/** A seeded target function on R^d; `f(x, offset)` reads `x[offset .. offset+d)`. */
export type SphereTarget = (x: Float64Array, offset: number) => number;

/**
 * The seeded target function `f` (see the module comment). Labels are `f(x) >= 0 ? +1 : -1`.
 */
export function sphereTarget(kind: 'linear' | 'quadratic', d: number, data_seed: number): SphereTarget {
  const rng = makeRng({ purpose: 'data-sphere-target', target: kind, d, data_seed });
  if (kind === 'linear') {
    const w = rng.fillNormal(new Float64Array(d));
    return (x, off) => {
      let s = 0;
      for (let j = 0; j < d; j++) s += w[j] * x[off + j];
      return s;
    };
  }
  const g = rng.fillNormal(new Float64Array(d * d));
  let trace = 0;
  for (let j = 0; j < d; j++) trace += g[j * d + j];
  const shift = trace / d;
  return (x, off) => {
    let s = 0;
    for (let a = 0; a < d; a++) {
      let ga = 0;
      const row = a * d;
      for (let b = 0; b < d; b++) ga += g[row + b] * x[off + b];
      s += x[off + a] * ga;
    }
    return s - shift;
  };
}

/**
 * Train and test points plus ±1 label indices for the sphere dataset.
 * @returns x* Float64Array [n*, d], labels* Int32Array [n*] with 1 for `f(x) >= 0` (+1) and 0 for −1.
 */
export function sphereData(
  d: number, n_train: number, n_test: number, data_seed: number, kind: 'linear' | 'quadratic',
): { x_train: Float64Array; x_test: Float64Array; labels_train: Int32Array; labels_test: Int32Array } {
  const f = sphereTarget(kind, d, data_seed);
  const make = (part: 'train' | 'test', n: number) => {
    const x = spherePoints(n, d, makeRng({ purpose: 'data-sphere-points', part, d, data_seed }));
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) labels[i] = f(x, i * d) >= 0 ? 1 : 0;
    return { x, labels };
  };
  const tr = make('train', n_train);
  const te = make('test', n_test);
  return { x_train: tr.x, x_test: te.x, labels_train: tr.labels, labels_test: te.labels };
}
