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
 * Eigenvectors: the rotations of each QL sweep are recorded and applied to `Zᵀ` (eigenvectors
 * stored as rows, so each rotation combines two contiguous rows) with
 * {@link applyRotationChain}, several sweeps at a time over column strips that stay in cache.
 * Deferring them does not change any result: each element receives the same operations in
 * the same order as with immediate application.
 */
import { applyRotationChain } from './plane-rotations.js';

/** Unit roundoff of float64 (2⁻⁵²), the deflation threshold of `tql2`. */
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
 * rotations into the rows of `zt` (row-major `[n, n]`): on entry `zt` holds `Qᵀ` (or `I`), on
 * exit row `k` of `zt` is the eigenvector of `d[k]` (`Zᵀ` with `Z = Q · W`).
 *
 * On exit `d` holds the eigenvalues, **unsorted**, and `e` is destroyed.
 * @throws Error if the iteration does not converge within 30·n sweeps (e.g. NaN in d or e).
 */
export function tridiagonalQL(n: number, d: Float64Array, e: Float64Array, zt: Float64Array): void {
  if (n <= 1) return;
  const chain = new RotationBuffer(n, zt);
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
      const base = chain.begin();
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
        chain.cs[base + i] = c;
        chain.sn[base + i] = s;
      }
      if (i >= l) {
        d[i + 1] -= p;
        e[m] = 0;
        chain.end(m - 1, i + 1);
        continue;
      }
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
      chain.end(m - 1, l);
    }
  }
  chain.flush();
}

/** Sweeps buffered before the rotations are applied to the eigenvector matrix. */
const SWEEPS_PER_FLUSH = 8;
/** Target size of one column strip of the active rows (bytes), about half of L2. */
const STRIP_BYTES = 256 * 1024;

/**
 * Records the rotation chains of up to {@link SWEEPS_PER_FLUSH} sweeps and applies them to
 * `zt` strip by strip: for each strip of columns, every buffered chain in order. A strip of the
 * rows touched by the buffered sweeps is sized to stay in cache across them.
 */
class RotationBuffer {
  readonly cs: Float64Array;
  readonly sn: Float64Array;
  private readonly hi = new Int32Array(SWEEPS_PER_FLUSH);
  private readonly lo = new Int32Array(SWEEPS_PER_FLUSH);
  private count = 0;

  constructor(
    private readonly n: number,
    private readonly zt: Float64Array,
  ) {
    this.cs = new Float64Array(SWEEPS_PER_FLUSH * n);
    this.sn = new Float64Array(SWEEPS_PER_FLUSH * n);
  }

  /** Offset to add to a rotation index to store the current sweep's rotation. */
  begin(): number {
    return this.count * this.n;
  }

  /** Close the current sweep: its rotations are `hi … lo` (descending); empty if `hi < lo`. */
  end(hi: number, lo: number): void {
    if (hi < lo) return;
    this.hi[this.count] = hi;
    this.lo[this.count] = lo;
    if (++this.count === SWEEPS_PER_FLUSH) this.flush();
  }

  /** Apply all buffered sweeps, in order, to `zt`. */
  flush(): void {
    const { n, zt, count } = this;
    if (count === 0) return;
    let rowMin = n;
    let rowMax = 0;
    for (let s = 0; s < count; s++) {
      rowMin = Math.min(rowMin, this.lo[s]);
      rowMax = Math.max(rowMax, this.hi[s] + 1);
    }
    const rows = rowMax - rowMin + 1;
    const width = count === 1 ? n : Math.max(16, Math.floor(STRIP_BYTES / (8 * rows)));
    for (let j0 = 0; j0 < n; j0 += width) {
      const j1 = Math.min(n, j0 + width);
      for (let s = 0; s < count; s++) {
        applyRotationChain(zt, n, this.cs, this.sn, s * n, this.hi[s], this.lo[s], j0, j1);
      }
    }
    this.count = 0;
  }
}
