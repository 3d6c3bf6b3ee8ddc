/**
 * Eigenvalues and eigenvectors of a symmetric tridiagonal matrix by the implicit QL iteration
 * with Wilkinson shifts, for the pure-TypeScript eigensolver.
 *
 * Algorithm: Golub & Van Loan, *Matrix Computations* 4th ed., §8.3.5 (implicit symmetric QR
 * step with Wilkinson shift, Algorithm 8.3.2), in its QL orientation as in EISPACK `tql2` /
 * `imtql2` and LAPACK `dsteqr` (QL branch): deflation is tested from the top of the unreduced
 * block, the shift is the eigenvalue of the leading 2 × 2 block closer to its first diagonal
 * entry, and the bulge is chased from the bottom of the block upwards with plane rotations.
 *
 * Eigenvectors: the rotations of each QL sweep are recorded, then applied at the end of the
 * sweep to `Zᵀ` (eigenvectors stored as rows, so each rotation combines two contiguous rows)
 * by {@link applyRotationChain}, four rotations per pass over the rows. (Deferring several
 * sweeps and applying them per cache-sized column strip was tried and was not measurably
 * faster: the kernel is bound by arithmetic more than by memory. Callers should use a row
 * stride that is not close to a multiple of 4 KiB; see `paddedStride` in `eigh.ts`.)
 */
import { applyRotationChain } from './plane-rotations.js';

/** Machine epsilon of float64 (2⁻⁵²), the relative deflation threshold (as in `tql2`). */
const EPS = 2 ** -52;
/** Iteration budget: 30 QL sweeps per eigenvalue on average (as LAPACK `dsteqr`'s MAXIT·n). */
const MAX_SWEEPS_PER_EIGENVALUE = 30;

/** `sqrt(a² + b²)` without destructive overflow or underflow (LAPACK `dlapy2`). */
function pythag(a: number, b: number): number {
  const x = Math.abs(a);
  const y = Math.abs(b);
  if (x > y) {
    const t = y / x;
    return x * Math.sqrt(1 + t * t);
  }
  if (y === 0) return x;
  const t = x / y;
  return y * Math.sqrt(1 + t * t);
}

/**
 * Diagonalise the symmetric tridiagonal matrix with diagonal `d` (length n) and subdiagonal
 * `e` (`e[k] = T[k+1, k]`, length ≥ n; `e[n−1]` is used as scratch), accumulating the
 * rotations into the rows of `zt` (row-major `[n, n]` with row stride `ld ≥ n`): on entry `zt`
 * holds `Qᵀ` (or `I`), on exit row `k` of `zt` is the eigenvector of `d[k]` (`Zᵀ` with
 * `Z = Q · W`).
 *
 * On exit `d` holds the eigenvalues, **unsorted**, and `e` is destroyed.
 * @throws Error if the iteration does not converge within 30·n sweeps (e.g. NaN in d or e).
 */
export function tridiagonalQL(n: number, d: Float64Array, e: Float64Array, zt: Float64Array, ld = n): void {
  if (n <= 1) return;
  const cs = new Float64Array(n);
  const sn = new Float64Array(n);
  const maxSweeps = MAX_SWEEPS_PER_EIGENVALUE * n;
  let sweeps = 0;
  e[n - 1] = 0;
  for (let l = 0; l < n; l++) {
    for (;;) {
      // Smallest m ≥ l with a negligible e[m] (m = n − 1 if none): the unreduced block [l, m].
      let m = l;
      for (; m < n - 1; m++) {
        const dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
        if (Math.abs(e[m]) <= EPS * dd) {
          e[m] = 0;
          break;
        }
      }
      if (m === l) break;
      if (++sweeps > maxSweeps) {
        throw new Error(
          `eigh: tridiagonal QL iteration did not converge after ${maxSweeps} sweeps ` +
            `(eigenvalue ${l} of ${n}); the matrix may contain values too large or too small to represent`,
        );
      }
      // Wilkinson shift: eigenvalue of [[d_l, e_l], [e_l, d_{l+1}]] closer to d_l.
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = pythag(g, 1);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let i = m - 1;
      for (; i >= l; i--) {
        const f = s * e[i];
        const b = c * e[i];
        r = pythag(f, g);
        e[i + 1] = r;
        if (r === 0) break; // underflow: e[i+1] = 0 splits the block, restart on [l, i+1]
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        cs[i] = c;
        sn[i] = s;
      }
      if (i >= l) {
        d[i + 1] -= p;
        e[m] = 0;
        applyRotationChain(zt, ld, cs, sn, 0, m - 1, i + 1, 0, n);
        continue;
      }
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
      applyRotationChain(zt, ld, cs, sn, 0, m - 1, l, 0, n);
    }
  }
}
