/**
 * Symmetric eigendecomposition for the pure-TypeScript backend (the LAPACK `dsyev` pipeline):
 *
 * 1. copy the lower triangle, reject NaN/Inf, and rescale by a power of two if the largest
 *    entry is outside [2⁻⁵⁰⁰, 2⁵⁰⁰] (as `dsyev` does with `dlascl`; exact, undone at the end);
 * 2. Householder tridiagonalisation `A = Q T Qᵀ` ({@link householderTridiagonalize}, `dsytd2`);
 * 3. explicit `Qᵀ` ({@link formQTransposed}, `dorgtr`);
 * 4. implicit QL with Wilkinson shifts on T, rotations accumulated into the rows of `Qᵀ`
 *    ({@link tridiagonalQL}, `dsteqr`);
 * 5. sort eigenvalues ascending and transpose `Zᵀ` into the interface's layout
 *    (column j = eigenvector j), in cache-sized tiles.
 *
 * Cost: about `9n³` flops (Golub & Van Loan §8.3.6: `4n³/3` for step 2, `4n³/3` for step 3,
 * about `6n³` for step 4). Memory: two `[n, n]` buffers (one becomes `vectors`).
 */
import type { SymmetricEigen } from '../backend.js';
import { checkDims } from './gemm.js';
import { formQTransposed, householderTridiagonalize } from './tridiagonal.js';
import { tridiagonalQL } from './tridiagonal-ql.js';

const BIG = 2 ** 500;
const SMALL = 2 ** -500;

/**
 * Eigenvalues (ascending) and orthonormal eigenvectors (row-major `[n, n]`, column j is the
 * eigenvector of `values[j]`) of the symmetric `[n, n]` row-major matrix `a`. Only the lower
 * triangle (`a[i*n + j]`, j ≤ i) is read; `a` is not modified.
 *
 * Accuracy (backward stable, Golub & Van Loan Thm 8.3.2 / §8.3.6): the results are the exact
 * decomposition of `A + E` with `‖E‖₂ = O(n·ε·‖A‖₂)`, so `‖A V − V Λ‖ = O(n·ε·‖A‖)`,
 * `‖VᵀV − I‖ = O(n·ε)`, and each eigenvalue is within `O(n·ε·‖A‖₂)` of the exact one (Weyl).
 * Eigenvectors of clustered eigenvalues are determined only up to a rotation within the cluster
 * (and every eigenvector up to sign). The test suite checks, for n ≤ 200: eigenvalues within
 * `1e-10·‖A‖_F` of ml-matrix's, `‖A V − V Λ‖_F ≤ 1e-12·n·‖A‖_F`, `‖VᵀV − I‖_F ≤ 1e-12·n`
 * (measured values are about 100× smaller).
 *
 * @throws Error if an entry of the lower triangle is NaN or ±Infinity, or if the QL iteration
 *   fails to converge (30·n sweeps).
 * @throws RangeError if `n` is not a non-negative integer or `a` is shorter than `n²`.
 */
export function eigh(n: number, a: Float64Array): SymmetricEigen {
  checkDims('eigh', n);
  if (a.length < n * n) throw new RangeError(`eigh: A has ${a.length} elements, needs ${n * n} (${n}x${n})`);
  const w = new Float64Array(n * n);
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const r = i * n;
    for (let j = 0; j <= i; j++) {
      const v = a[r + j];
      if (!Number.isFinite(v)) throw new Error(`eigh: matrix entry [${i}, ${j}] is ${v}`);
      w[r + j] = v;
      const av = Math.abs(v);
      if (av > amax) amax = av;
    }
  }
  if (n === 0) return { values: new Float64Array(0), vectors: w };
  if (n === 1) {
    w[0] = 1;
    return { values: Float64Array.of(a[0]), vectors: w };
  }

  let scale = 1;
  if (amax > BIG || (amax > 0 && amax < SMALL)) {
    scale = 2 ** -Math.round(Math.log2(amax));
    for (let i = 0; i < n; i++) for (let j = 0, r = i * n; j <= i; j++) w[r + j] *= scale;
  }

  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const h = new Float64Array(n);
  householderTridiagonalize(n, w, d, e, h);
  const zt = new Float64Array(n * n);
  formQTransposed(n, w, h, zt);
  tridiagonalQL(n, d, e, zt);

  // Ascending order; ties keep the QL order (deterministic).
  const order = Array.from({ length: n }, (_, i) => i).sort((p, q) => d[p] - d[q] || p - q);
  const values = new Float64Array(n);
  for (let j = 0; j < n; j++) values[j] = d[order[j]] / scale;

  // vectors[i, j] = zt[order[j], i], by 32 × 32 tiles; reuse w for the output.
  const vectors = w;
  const T = 32;
  for (let j0 = 0; j0 < n; j0 += T) {
    const j1 = Math.min(n, j0 + T);
    for (let i0 = 0; i0 < n; i0 += T) {
      const i1 = Math.min(n, i0 + T);
      for (let j = j0; j < j1; j++) {
        const src = order[j] * n;
        for (let i = i0; i < i1; i++) vectors[i * n + j] = zt[src + i];
      }
    }
  }
  return { values, vectors };
}
