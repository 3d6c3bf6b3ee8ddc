/**
 * Cholesky factorisation and solve for the pure-TypeScript backend.
 *
 * Factorisation: right-looking blocked Cholesky as in LAPACK `dpotrf` (lower) — Golub & Van Loan,
 * *Matrix Computations* 4th ed., §4.2.9 (Algorithm 4.2.4, block Cholesky). For each block
 * column `K` of `CHOL_BLOCK` columns: factor the diagonal block (`dpotf2`, row-wise dot
 * products), solve the panel below it (`dtrsm`, each row independently), and update the trailing
 * lower triangle with the blocked {@link gemmStrided} (`dsyrk`). About `n³/3` flops, most of them
 * in the gemm micro-kernel.
 *
 * Solve: forward then backward substitution (LAPACK `dpotrs`), row-oriented so that L is always
 * read along its rows and B along its rows.
 */
import { checkDims, gemmStrided } from './gemm.js';

/** Columns per block column. */
const CHOL_BLOCK = 64;
/** Rows per gemm call in the trailing update. */
const UPDATE_ROWS = 128;

/**
 * Cholesky factor `A = L Lᵀ` (LAPACK `dpotrf`, lower) of the symmetric positive-definite
 * `[n, n]` row-major matrix `a`. Only the lower triangle of `a` is read; `a` is not modified.
 *
 * @returns a new `[n, n]` row-major L with zeros above the diagonal, or `null` if a pivot is
 *   not strictly positive (`dpotrf`'s test: `a_jj − Σ l_jp² ≤ 0` or NaN), i.e. `a` is not
 *   numerically positive definite.
 * @throws Error if the lower triangle of `a` contains NaN or ±Infinity.
 * @throws RangeError if `n` is not a non-negative integer or `a` is shorter than `n²`.
 */
export function cholesky(n: number, a: Float64Array): Float64Array | null {
  checkDims('cholesky', n);
  if (a.length < n * n) throw new RangeError(`cholesky: A has ${a.length} elements, needs ${n * n} (${n}x${n})`);
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) l.set(a.subarray(i * n, i * n + i + 1), i * n);
  return choleskyInPlace(n, l) ? l : null;
}

/**
 * Cholesky factor `A = L Lᵀ` of the symmetric positive-definite row-major `[n, n]` matrix `a`,
 * in place (LAPACK `dpotrf`, lower): the lower triangle, diagonal included, is read and
 * overwritten with L; the strict upper triangle is neither read nor written (so it may hold
 * another matrix, e.g. A itself, see `linalg/krylov.ts`).
 *
 * @returns true, or false if a pivot is not strictly positive (`a` is not numerically positive
 *   definite; the lower triangle then holds a partial factor).
 * @throws Error if the lower triangle of `a` contains NaN or ±Infinity.
 * @throws RangeError if `n` is not a non-negative integer or `a` is shorter than `n²`.
 */
export function choleskyInPlace(n: number, a: Float64Array): boolean {
  checkDims('choleskyInPlace', n);
  if (a.length < n * n) throw new RangeError(`choleskyInPlace: A has ${a.length} elements, needs ${n * n} (${n}x${n})`);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = a[i * n + j];
      if (!Number.isFinite(v)) throw new Error(`cholesky: matrix entry [${i}, ${j}] is ${v}`);
    }
  }
  for (let k0 = 0; k0 < n; k0 += CHOL_BLOCK) {
    const k1 = Math.min(n, k0 + CHOL_BLOCK);
    if (!factorBlockColumn(n, a, k0, k1)) return false;
    // Trailing update of the lower triangle: A[I, k1:end(I)] -= L[I, K] · L[k1:end(I), K]ᵀ, the
    // rectangle left of each row band's diagonal block by gemm, the block itself row by row (so
    // nothing above the diagonal is written).
    for (let r0 = k1; r0 < n; r0 += UPDATE_ROWS) {
      const r1 = Math.min(n, r0 + UPDATE_ROWS);
      if (r0 > k1) gemmStrided(false, true, r1 - r0, r0 - k1, k1 - k0, -1, a, r0 * n + k0, n, a, k1 * n + k0, n, 1, a, r0 * n + k1, n);
      for (let i = r0; i < r1; i++) {
        const ri = i * n;
        for (let j = r0; j <= i; j++) {
          const rj = j * n;
          let s = 0;
          for (let p = k0; p < k1; p++) s += a[ri + p] * a[rj + p];
          a[ri + j] -= s;
        }
      }
    }
  }
  return true;
}

/**
 * Columns `k0 .. k1 − 1` of L, once every earlier block column has updated them: the diagonal
 * block (`dpotf2`, row-wise dot products), then the panel below it (`dtrsm`, each row on its own).
 * False on a pivot that is not strictly positive.
 */
function factorBlockColumn(n: number, l: Float64Array, k0: number, k1: number): boolean {
  for (let i = k0; i < k1; i++) {
    const ri = i * n;
    for (let j = k0; j <= i; j++) {
      const rj = j * n;
      let s = l[ri + j];
      for (let p = k0; p < j; p++) s -= l[ri + p] * l[rj + p];
      if (j < i) {
        l[ri + j] = s / l[rj + j];
      } else {
        if (!(s > 0)) return false;
        l[ri + i] = Math.sqrt(s);
      }
    }
  }
  for (let i = k1; i < n; i++) {
    const ri = i * n;
    for (let j = k0; j < k1; j++) {
      const rj = j * n;
      let s = l[ri + j];
      for (let p = k0; p < j; p++) s -= l[ri + p] * l[rj + p];
      l[ri + j] = s / l[rj + j];
    }
  }
  return true;
}

/**
 * Solve `A X = B` given the Cholesky factor `l` of A (LAPACK `dpotrs`, lower): `L Y = B` by
 * forward substitution, then `Lᵀ X = Y` by backward substitution. `l` is `[n, n]` row-major
 * (only its lower triangle is read), `b` is `[n, nrhs]` row-major and is overwritten with X.
 * No pivot checks: a zero on L's diagonal gives ±Infinity/NaN in X. Each column of X gets the
 * same operations in the same order whatever `nrhs` is, so results do not depend on batching.
 * @returns `b`.
 * @throws RangeError on a negative/non-integer dimension or a buffer shorter than its shape.
 */
export function choleskySolve(n: number, l: Float64Array, nrhs: number, b: Float64Array): Float64Array {
  checkDims('choleskySolve', n, nrhs);
  if (l.length < n * n) throw new RangeError(`choleskySolve: L has ${l.length} elements, needs ${n * n}`);
  if (b.length < n * nrhs) throw new RangeError(`choleskySolve: B has ${b.length} elements, needs ${n * nrhs} (${n}x${nrhs})`);
  if (nrhs === 1) {
    for (let i = 0; i < n; i++) {
      const ri = i * n;
      let s = b[i];
      for (let p = 0; p < i; p++) s -= l[ri + p] * b[p];
      b[i] = s / l[ri + i];
    }
    for (let i = n - 1; i >= 0; i--) {
      const ri = i * n;
      const x = b[i] / l[ri + i];
      b[i] = x;
      for (let p = 0; p < i; p++) b[p] -= l[ri + p] * x;
    }
    return b;
  }
  // Forward: row i of Y = (B[i, :] − Σ_{p<i} L[i, p] · Y[p, :]) / L[i, i].
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    const bi = i * nrhs;
    for (let p = 0; p < i; p++) {
      const f = l[ri + p];
      const bp = p * nrhs;
      for (let r = 0; r < nrhs; r++) b[bi + r] -= f * b[bp + r];
    }
    const d = l[ri + i];
    for (let r = 0; r < nrhs; r++) b[bi + r] /= d;
  }
  // Backward: X[i, :] = Y[i, :] / L[i, i], then Y[p, :] −= L[i, p] · X[i, :] for p < i.
  for (let i = n - 1; i >= 0; i--) {
    const ri = i * n;
    const bi = i * nrhs;
    const d = l[ri + i];
    for (let r = 0; r < nrhs; r++) b[bi + r] /= d;
    for (let p = 0; p < i; p++) {
      const f = l[ri + p];
      const bp = p * nrhs;
      for (let r = 0; r < nrhs; r++) b[bp + r] -= f * b[bi + r];
    }
  }
  return b;
}
