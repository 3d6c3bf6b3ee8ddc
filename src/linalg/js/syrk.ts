/**
 * Symmetric rank-k update (Gram matrix) for the pure-TypeScript backend.
 *
 * Algorithm: BLAS `dsyrk` (lower, no transpose) by blocks of rows: for each block of `SYRK_ROWS`
 * rows `I`, the blocked {@link gemmStrided} computes `C[I, 0:end(I)] ← alpha · A[I, :] ·
 * A[0:end(I), :]ᵀ + beta · C[I, 0:end(I)]`, which covers the lower triangle (plus the upper
 * half of each diagonal block, wasted work of about `SYRK_ROWS / n`). The strict upper triangle
 * is then overwritten with the lower one, so the result is exactly symmetric.
 */
import { mirrorLower } from '../mirror.js';
import { checkDims, gemmStrided } from './gemm.js';

/** Rows per block (a multiple of the gemm register tile). */
const SYRK_ROWS = 64;

/**
 * Gram matrix `C ← alpha · A · Aᵀ + beta · C` (BLAS `dsyrk`, lower, then mirrored).
 * A is `[n, k]` row-major, C is `[n, n]` row-major. Only the lower triangle of the old C is
 * read (when `beta ≠ 0`); both triangles of C are written and `C[i, j] === C[j, i]` exactly.
 * @throws RangeError on a negative/non-integer dimension or a buffer shorter than its shape.
 */
export function syrk(n: number, k: number, alpha: number, a: Float64Array, beta: number, c: Float64Array): void {
  checkDims('syrk', n, k);
  if (a.length < n * k) throw new RangeError(`syrk: A has ${a.length} elements, needs ${n * k} (${n}x${k})`);
  if (c.length < n * n) throw new RangeError(`syrk: C has ${c.length} elements, needs ${n * n} (${n}x${n})`);
  for (let i0 = 0; i0 < n; i0 += SYRK_ROWS) {
    const i1 = Math.min(n, i0 + SYRK_ROWS);
    gemmStrided(false, true, i1 - i0, i1, k, alpha, a, i0 * k, k, a, 0, k, beta, c, i0 * n, n);
  }
  mirrorLower(n, c);
}
