/**
 * Statistics of a normalized train kernel `K̄` (unit diagonal), the quantities claim 2 and 4 of
 * docs/conventions.md §1 are about: how far the kernel is from the deep-ReLU limit `¼·11ᵀ + ¾·I`
 * (off-diagonal → 1/4 for the NTK in the NTK parameterization, St-Arnaud et al.
 * arXiv:2511.07272), its spectrum, conditioning and log-determinant.
 */
import { linalg, type SymmetricEigen } from '../linalg/index.js';

/** Kernel statistics (snake_case names are the stored metric names). */
export interface KernelStats {
  /** Mean of `K̄_ij` over `i ≠ j` (NaN when n = 1). */
  offdiag_mean: number;
  /** Minimum of `K̄_ij` over `i ≠ j` (NaN when n = 1). */
  offdiag_min: number;
  /** Maximum of `K̄_ij` over `i ≠ j` (NaN when n = 1). */
  offdiag_max: number;
  /** `max_ij |K̄_ij − (¼ + ¾ δ_ij)|`, the max-norm distance to `¼·11ᵀ + ¾·I` (diagonal included). */
  dist_to_limit: number;
  /** Smallest eigenvalue of `K̄`. */
  lambda_min: number;
  /** Largest eigenvalue of `K̄`. */
  lambda_max: number;
  /** `lambda_max / lambda_min`; `Infinity` when `lambda_min ≤ 0`. */
  cond: number;
  /**
   * `Σ_i log λ_i` (natural log) = `log det K̄`; **`-Infinity`** (never NaN) when
   * `lambda_min ≤ 0`: a Gram matrix is positive semi-definite, so a non-positive computed
   * eigenvalue is a rounded (numerically) zero one and the determinant is taken as 0.
   */
  logdet: number;
}

/**
 * Statistics of the symmetric `[n, n]` row-major normalized kernel `kbar`. Only the lower
 * triangle (`j ≤ i`) is read (as `eigh` does).
 *
 * @param eig eigendecomposition of `kbar` (only `values`, ascending, is used), so the caller's
 *   single `linalg().eigh` serves both statistics and predictions; computed when omitted.
 * @throws RangeError if `kbar.length ≠ n²` or `eig.values.length ≠ n`; Error from `eigh` if
 *   `kbar` contains NaN/Inf.
 */
export function kernelStats(
  kbar: Float64Array,
  n: number,
  eig?: Pick<SymmetricEigen, 'values'>,
): KernelStats {
  if (!(Number.isInteger(n) && n >= 1) || kbar.length !== n * n) {
    throw new RangeError(`kernelStats: kbar has length ${kbar.length}, expected n² for n = ${n}`);
  }
  const values = (eig ?? linalg().eigh(n, kbar)).values;
  if (values.length !== n) {
    throw new RangeError(`kernelStats: eig.values has length ${values.length}, expected ${n}`);
  }
  let sum = 0;
  let mn = Infinity;
  let mx = -Infinity;
  let dist = 0;
  for (let i = 0; i < n; i++) {
    const row = i * n;
    let rowSum = 0; // per-row partial sums keep the rounding of the mean small
    for (let j = 0; j < i; j++) {
      const v = kbar[row + j];
      rowSum += v;
      if (v < mn) mn = v;
      if (v > mx) mx = v;
      const e = Math.abs(v - 0.25);
      if (e > dist || Number.isNaN(e)) dist = e;
    }
    sum += rowSum;
    const e = Math.abs(kbar[row + i] - 1);
    if (e > dist || Number.isNaN(e)) dist = e;
  }
  const pairs = (n * (n - 1)) / 2;
  let lambdaMin = Infinity;
  let lambdaMax = -Infinity;
  for (let i = 0; i < n; i++) {
    if (values[i] < lambdaMin) lambdaMin = values[i];
    if (values[i] > lambdaMax) lambdaMax = values[i];
  }
  let logdet = -Infinity;
  if (lambdaMin > 0) {
    logdet = 0;
    for (let i = 0; i < n; i++) logdet += Math.log(values[i]);
  }
  return {
    offdiag_mean: pairs > 0 ? sum / pairs : NaN,
    offdiag_min: pairs > 0 ? mn : NaN,
    offdiag_max: pairs > 0 ? mx : NaN,
    dist_to_limit: dist,
    lambda_min: lambdaMin,
    lambda_max: lambdaMax,
    cond: lambdaMin > 0 ? lambdaMax / lambdaMin : Infinity,
    logdet,
  };
}
