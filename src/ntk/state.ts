/**
 * The state of the infinite-width kernel recursion over `n` points in normalized form (angles
 * `θ`, normalized NTK `Θ̄`, per-point log scales), and the helpers that keep it: double-double
 * log accumulation and mirroring of the lower triangle. Formulas: `relu.ts`, `layer.ts`.
 */
import { linalg } from '../linalg/index.js';
import { mirrorLower } from '../linalg/mirror.js';

/**
 * The kernels of a depth-`depth` network over `n` points, in normalized form.
 *
 * Between steps only the lower triangle (`j ≤ i`) of `theta` and `ntk_bar` is current;
 * {@link kernelFold} mirrors both before handing the state to its callback (unless told
 * `mirror: false`), and {@link symmetrizeLower} does it on demand. The diagonal is exact: `theta[i,i] === 0`,
 * `ntk_bar[i,i] === 1`.
 */
export interface KernelState {
  /** Number of points. */
  n: number;
  /** Network depth `l` (number of weight layers) these kernels belong to; `l = 1` is linear. */
  depth: number;
  /**
   * `θ^l(x_i, x_j)`, the angle between `x_i` and `x_j` under `Σ^l`, radians in `[0, π]`,
   * row-major `[n, n]`. The correlation (`rho`) kernel is `ρ^l = cos θ^l = Σ̄^l`, and
   * `1 − ρ^l = 2 sin²(θ^l/2)` without cancellation. See {@link kernelMatrix} in
   * `kernel-matrix.ts` for `ρ`, `Σ`, `Θ` as matrices.
   */
  theta: Float64Array;
  /**
   * Normalized NTK `Θ̄^l(x_i,x_j) = Θ^l(x_i,x_j)/sqrt(Θ^l(x_i,x_i) Θ^l(x_j,x_j))`, row-major
   * `[n, n]`, diagonal exactly 1; `null` when the state was built with `ntk: false`.
   */
  ntk_bar: Float64Array | null;
  /** `log Σ^l(x_i, x_i)` (natural log), length n, rounded to nearest. */
  log_nngp_diag: Float64Array;
  /**
   * Low-order part of `log Σ^l(x_i, x_i)` (double-double accumulation over the layers, so 10⁴
   * additions do not pile up ~10⁴ roundings of a number of size ~10⁴): the log is
   * `log_nngp_diag[i] + log_nngp_diag_lo[i]`, `|lo| ≤ ulp(hi)/2`. Only needed when ~1e-16
   * relative accuracy of differences between points' scales matters.
   */
  log_nngp_diag_lo: Float64Array;
  /** `log Θ^l(x_i, x_i)` (natural log), length n, rounded to nearest. */
  log_ntk_diag: Float64Array;
  /** Low-order part of `log Θ^l(x_i, x_i)`, as {@link KernelState.log_nngp_diag_lo}. */
  log_ntk_diag_lo: Float64Array;
  /**
   * `z_i = Σ^l(x_i,x_i)/Θ^l(x_i,x_i)` in `(0, 1]`, length n, carried by its own recursion
   * (`z^{l+1} = y/(1 + y)`, `y = z^l Σ^{l+1}_ii/((σ_w²/2) Σ^l_ii)`, from
   * `Θ^{l+1}_ii = (σ_w²/2) Θ^l_ii + Σ^{l+1}_ii`) so it does not inherit the rounding of the
   * difference of two large logarithms; `log Θ^l_ii = log Σ^l_ii − log z_i`.
   */
  nngp_ntk_ratio: Float64Array;
}

/** Options of {@link inputKernel} (and of `kernelFold`, which extends them). */
export interface InputOptions {
  /** Also carry the normalized NTK `Θ̄` (an extra `[n, n]` buffer and ~25% more time). Default true. */
  ntk?: boolean;
  /**
   * Default true: states are returned (and handed out by `kernelFold`) with both triangles of
   * `theta` and `ntk_bar` current. `false`: only the lower triangles (`j ≤ i`) are current, and
   * the strict upper triangles are free scratch for the caller (the recursion never reads them),
   * which saves one mirror of each `[n, n]` buffer per handed-out depth.
   */
  mirror?: boolean;
}

/**
 * `(hi[i], lo[i]) += x` in double-double arithmetic (Knuth's TwoSum, then renormalization), so
 * the running sum keeps ~2⁻¹⁰⁶ relative accuracy however many terms are added.
 */
export function ddAdd(hi: Float64Array, lo: Float64Array, i: number, x: number): void {
  const a = hi[i];
  const s = a + x;
  const bp = s - a;
  const err = a - (s - bp) + (x - bp);
  const l = lo[i] + err;
  const h = s + l;
  lo[i] = l - (h - s);
  hi[i] = h;
}

/** Mirror `theta` and `ntk_bar` of `state` so both triangles are current. Returns `state`. */
export function symmetrizeLower(state: KernelState): KernelState {
  mirrorLowerFast(state.n, state.theta);
  if (state.ntk_bar !== null) mirrorLowerFast(state.n, state.ntk_bar);
  return state;
}

/** `linalg/mirror.ts` `mirrorLower` of the row-major `[n, n]` `a`, natively when the backend has it. Returns `a`. */
export function mirrorLowerFast(n: number, a: Float64Array): Float64Array {
  return (linalg().mirrorLower ?? mirrorLower)(n, a);
}

