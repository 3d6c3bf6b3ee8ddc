/**
 * Statistics of a normalized train kernel `K̄` (unit diagonal), the quantities claims 2 and 4 of
 * the paper (St-Arnaud et al. arXiv:2511.07272) are about: how far the kernel is from its
 * large-depth limit `a·11ᵀ + (1 − a)·I` (`depth-properties.ts`; `a = ¼` for the ReLU NTK without
 * bias), diagonal dominance, its spectrum, conditioning and log-determinant.
 */
import { linalg, type SymmetricEigen } from '../linalg/index.js';
import type { KernelName } from './kernel-matrix.js';
import { kernelView } from './kernel-matrix.js';
import type { KernelState } from './state.js';

/** Kernel statistics (snake_case names are the stored metric names). */
export interface KernelStats {
  /** Mean of `K̄_ij` over `i ≠ j` (NaN when n = 1). */
  offdiag_mean: number;
  /** Minimum of `K̄_ij` over `i ≠ j` (NaN when n = 1). */
  offdiag_min: number;
  /** Maximum of `K̄_ij` over `i ≠ j` (NaN when n = 1). */
  offdiag_max: number;
  /**
   * `max_ij |K̄_ij − (a + (1 − a) δ_ij)|`, the max-norm distance to the limit `a·11ᵀ + (1 − a)·I`
   * (diagonal included); NaN when the limit is not known (`a` NaN).
   */
  dist_to_limit: number;
  /** `min_i (K̄_ii − Σ_{j≠i} |K̄_ij|)`: > 0 when `K̄` is strictly diagonally dominant. */
  diag_dominance: number;
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
 * @param limit off-diagonal `a` of the limit `a·11ᵀ + (1 − a)·I` that `dist_to_limit` measures
 *   against (`DepthProperties.limit_ntk` / `limit_nngp`).
 * @throws RangeError if `kbar.length ≠ n²` or `eig.values.length ≠ n`; Error from `eigh` if
 *   `kbar` contains NaN/Inf.
 */
export function kernelStats(
  kbar: Float64Array,
  n: number,
  eig: Pick<SymmetricEigen, 'values'> | undefined,
  limit: number,
): KernelStats {
  if (!(Number.isInteger(n) && n >= 1) || kbar.length !== n * n) {
    throw new RangeError(`kernelStats: kbar has length ${kbar.length}, expected n² for n = ${n}`);
  }
  const values = (eig ?? linalg().eigh(n, kbar)).values;
  if (values.length !== n) {
    throw new RangeError(`kernelStats: eig.values has length ${values.length}, expected ${n}`);
  }
  return { ...offDiagStats(kbar, n, limit), ...spectrumStats(values) };
}

/** The entry-wise part of {@link KernelStats}. */
export type OffDiagStats = Pick<KernelStats, 'offdiag_mean' | 'offdiag_min' | 'offdiag_max' | 'dist_to_limit' | 'diag_dominance'>;

/**
 * The entry-wise statistics of the symmetric row-major `[n, n]` normalized kernel `kbar`
 * (`offdiag_*`, `dist_to_limit`, `diag_dominance`; see {@link KernelStats}). Reads the lower
 * triangle and the diagonal only.
 */
export function offDiagStats(kbar: Float64Array, n: number, limit: number): OffDiagStats {
  let sum = 0;
  let mn = Infinity;
  let mx = -Infinity;
  let dist = 0;
  const b = 1 - limit;
  const absRow = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    let rowSum = 0; // per-row partial sums keep the rounding of the mean small
    for (let j = 0; j < i; j++) {
      const v = kbar[row + j];
      rowSum += v;
      if (v < mn) mn = v;
      if (v > mx) mx = v;
      const e = Math.abs(v - limit);
      if (e > dist || Number.isNaN(e)) dist = e;
      absRow[i] += Math.abs(v);
      absRow[j] += Math.abs(v);
    }
    sum += rowSum;
    const e = Math.abs(kbar[row + i] - (limit + b));
    if (e > dist || Number.isNaN(e)) dist = e;
  }
  const pairs = (n * (n - 1)) / 2;
  let dominance = Infinity;
  for (let i = 0; i < n; i++) dominance = Math.min(dominance, kbar[i * n + i] - absRow[i]);
  return {
    offdiag_mean: pairs > 0 ? sum / pairs : NaN,
    offdiag_min: pairs > 0 ? mn : NaN,
    offdiag_max: pairs > 0 ? mx : NaN,
    dist_to_limit: dist,
    diag_dominance: dominance,
  };
}

/**
 * The spectral part of {@link KernelStats} from eigenvalues (any order; a partial spectrum gives
 * its extremes): `lambda_min`, `lambda_max`, `cond`, and `logdet` (`-Infinity` unless all > 0).
 */
export function spectrumStats(values: Float64Array): Pick<KernelStats, 'lambda_min' | 'lambda_max' | 'cond' | 'logdet'> {
  const n = values.length;
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
    lambda_min: lambdaMin,
    lambda_max: lambdaMax,
    cond: lambdaMin > 0 ? lambdaMax / lambdaMin : Infinity,
    logdet,
  };
}

/**
 * `max_{i ≠ j < n_train} |K̄_ij − a|` of `kernel` read straight from a recursion state (its lower
 * triangle), the off-diagonal part of `dist_to_limit` without building the matrix
 * (`O(n_train²)`): used at extra depths to measure how fast the distance falls.
 */
export function stateDistToLimit(state: Readonly<KernelState>, kernel: KernelName, n_train: number, a: number): number {
  const { src, isAngle } = kernelView(state, kernel);
  const n = state.n;
  let dist = 0;
  for (let i = 1; i < n_train; i++) {
    for (let j = 0; j < i; j++) {
      const v = isAngle ? Math.cos(src[i * n + j]) : src[i * n + j];
      const e = Math.abs(v - a);
      if (e > dist || Number.isNaN(e)) dist = e;
    }
  }
  return dist;
}
