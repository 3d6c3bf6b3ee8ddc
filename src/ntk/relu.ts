/**
 * Infinite-width kernels of a fully connected ReLU network in NTK parameterization: the NNGP
 * `Σ^l` and the NTK `Θ^l` of docs/conventions.md §4, in the style of neural-tangents `stax`
 * (`stax.Dense` + `stax.Relu`): the kernel map of one layer is a function from one
 * {@link KernelState} to the next ({@link reluKernelStep}), the inputs enter through
 * {@link inputKernel}, and depth is a fold over the step ({@link kernelFold}).
 *
 * Formulas (Jacot et al. 2018, "Neural Tangent Kernel", Thm. 1; arc-cosine kernel of degree 1 from
 * Cho & Saul 2009, eq. (6); same recursion as neural-tangents `stax.Relu`/`stax.Dense` with
 * `parameterization='ntk'`), for `l ≥ 1`:
 *
 *   Σ^1(x,x') = σ_w² x·x'/d + σ_b²,  Θ^1 = Σ^1
 *   θ^l       = angle between x and x' under Σ^l, cos θ^l = ρ^l = Σ^l(x,x')/sqrt(Σ^l(x,x) Σ^l(x',x'))
 *   Σ^{l+1}   = σ_w²/(2π) sqrt(Σ^l(x,x) Σ^l(x',x')) (sin θ + (π − θ) cos θ) + σ_b²
 *   Σ̇^{l+1}  = σ_w² (π − θ)/(2π)
 *   Θ^{l+1}   = Θ^l Σ̇^{l+1} + Σ^{l+1}
 *
 * Normalized, underflow-free form. With `J(θ) = (sin θ + (π − θ) cos θ)/π` (so `J(0) = 1`) and,
 * per point `i`, `w_i² = (σ_w²/2) Σ^l_ii / Σ^{l+1}_ii`, `c_i² = σ_b² / Σ^{l+1}_ii`
 * (`w_i² + c_i² = 1`), `p_i² = (σ_w²/2) Θ^l_ii / Θ^{l+1}_ii`, `q_i² = Σ^{l+1}_ii / Θ^{l+1}_ii`
 * (`p_i² + q_i² = 1`), the recursion divides out exactly into
 *
 *   ρ^{l+1}_ij     = w_i w_j J(θ_ij) + c_i c_j
 *   1 − ρ^{l+1}_ij = w_i w_j (1 − J(θ_ij)) + ½((w_i − w_j)² + (c_i − c_j)²)
 *   Θ̄^{l+1}_ij     = p_i p_j Θ̄^l_ij (1 − θ_ij/π) + q_i q_j ρ^{l+1}_ij
 *   1 − J(θ)       = (1 − cos θ) − (sin θ − θ cos θ)/π
 *
 * Every term on the right of `1 − ρ^{l+1}` is non-negative, so it is computed without
 * cancellation; `1 − cos θ = 2 sin²(θ/2)`, and `sin θ − θ cos θ` is summed from its Taylor series
 * `Σ_{k≥1} (−1)^{k+1} 2k θ^{2k+1}/(2k+1)!` for `θ < 0.5`. The new angle is
 * `θ^{l+1} = 2 asin(sqrt((1 − ρ^{l+1})/2))`, which is well conditioned because `ρ^{l+1} ≥ 0` for
 * a ReLU layer. The state therefore carries the **angle** `θ^l` itself (not `ρ^l`): it represents
 * `1 − ρ = 2 sin²(θ/2)` and `1 + ρ = 2 cos²(θ/2)` to full relative precision, so neither
 * `ρ → 1` (the diagonal, deep layers) nor `ρ → −1` (antipodal inputs) loses digits. Per-point
 * scales are kept as logarithms, so nothing underflows at any depth (`Θ^L(x,x) = L/(d 2^{L−1})`
 * for `σ_w = 1, σ_b = 0` and unit `x` underflows float64 near `L ≈ 1000`).
 *
 * Matrix layout: every matrix is a row-major `Float64Array`; a kernel over `n` points is `[n, n]`.
 */
import { linalg } from '../linalg/index.js';
import { checkParams } from './input.js';
import type { LayerParams } from './layer.js';
import type { KernelState } from './state.js';
import { ddAdd } from './state.js';
import { sinMinusThetaCos } from './trig.js';

const PI = Math.PI;
const HALF_PI = Math.PI / 2;
const INV_PI = 1 / Math.PI;

/**
 * Kernel map of one `Dense(σ_w, σ_b) ∘ ReLU` layer: advances `state` from depth `l` to `l + 1`
 * **in place** (recursion in the module comment; Jacot et al. 2018 / Cho & Saul 2009; the
 * neural-tangents `stax.Relu` + `stax.Dense` kernel transform, in normalized form).
 *
 * Only the lower triangle (`j < i`) of `theta` and `ntk_bar` is read and written; the upper
 * triangle is left stale (see {@link symmetrizeLower}). Per pair: one `sin`, one `asin`, two
 * `sqrt`, no allocation. Accuracy: a few ulps per layer on `θ` (relative) and on `Θ̄`
 * (absolute); measured against a 28-digit decimal.js recursion (`test/ntk-relu.test.ts`) the
 * absolute error on `ρ` and `Θ̄` stays below 5e-15 up to 10⁴ layers (the target is 1e-12), and
 * the log scales are correct to ~1e-16 relative (double-double accumulation).
 *
 * @returns the same `state` object, with `depth` incremented.
 * @throws RangeError on invalid `sigma_w`/`sigma_b`.
 */
export function reluKernelStep(state: KernelState, params: LayerParams): KernelState {
  checkParams('reluKernelStep', params);
  const { n, theta: T, ntk_bar: B, nngp_ntk_ratio: z } = state;
  const logS = state.log_nngp_diag;
  const logSlo = state.log_nngp_diag_lo;
  const logT = state.log_ntk_diag;
  const logTlo = state.log_ntk_diag_lo;
  const halfW2 = 0.5 * params.sigma_w * params.sigma_w;
  const logHalfW2 = Math.log(halfW2);
  const logB2 = params.sigma_b > 0 ? 2 * Math.log(params.sigma_b) : -Infinity;
  // Per-point mixing coefficients of this layer (module comment): w, c for ρ; p, q for Θ̄.
  const w = new Float64Array(n);
  const c = new Float64Array(n);
  const p = new Float64Array(n);
  const q = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // r = σ_b² / ((σ_w²/2) Σ^l_ii); Σ^{l+1}_ii = (σ_w²/2) Σ^l_ii (1 + r)
    const r = Math.exp(logB2 - logHalfW2 - (logS[i] + logSlo[i]));
    w[i] = 1 / Math.sqrt(1 + r);
    c[i] = Math.sqrt(r / (1 + r));
    ddAdd(logS, logSlo, i, logHalfW2);
    ddAdd(logS, logSlo, i, Math.log1p(r));
    // y = Σ^{l+1}_ii / ((σ_w²/2) Θ^l_ii); Θ^{l+1}_ii = (σ_w²/2) Θ^l_ii (1 + y)
    const y = z[i] * (1 + r);
    p[i] = 1 / Math.sqrt(1 + y);
    q[i] = Math.sqrt(y / (1 + y));
    z[i] = y / (1 + y);
    // log Θ^{l+1}_ii = log Σ^{l+1}_ii − log z^{l+1}: anchored to Σ and z, both of which
    // self-correct (a running sum of log((σ_w²/2)(1 + y)) would drift, e.g. ~1e-14 after 10³
    // layers at a σ_b > 0 fixed point, because nothing feeds its errors back).
    logT[i] = logS[i];
    logTlo[i] = logSlo[i];
    ddAdd(logT, logTlo, i, -Math.log(z[i]));
  }
  const native = linalg().reluPairs;
  if (native) native(n, T, B, w, c, p, q);
  else reluPairs(n, T, B, w, c, p, q);
  state.depth += 1;
  return state;
}

/**
 * The pair part of {@link reluKernelStep} over the lower triangle (`j < i`) of the row-major
 * `[n, n]` arrays `T` (angles θ, in place) and `B` (`Θ̄`, in place; null to skip), with the
 * per-point coefficients `w, c, p, q` of one layer (length n). The portable path; the native
 * backend's `reluPairs` (native/src/recursion.cc) computes the same bits.
 */
export function reluPairs(
  n: number,
  T: Float64Array,
  B: Float64Array | null,
  w: Float64Array,
  c: Float64Array,
  p: Float64Array,
  q: Float64Array,
): void {
  for (let i = 1; i < n; i++) {
    const row = i * n;
    const wi = w[i];
    const ci = c[i];
    const pi = p[i];
    const qi = q[i];
    for (let j = 0; j < i; j++) {
      const idx = row + j;
      const th = T[idx];
      let h: number; // sin(θ/2)
      let k: number; // cos(θ/2)
      if (th <= HALF_PI) {
        h = Math.sin(0.5 * th);
        k = Math.sqrt(1 - h * h); // 1 − h² ≥ ½ here: no cancellation
      } else {
        h = Math.sin(0.5 * th);
        k = Math.cos(0.5 * th);
      }
      const u = 2 * h * h; // 1 − cos θ
      const sinT = 2 * h * k;
      const cosT = 1 - u;
      const g = sinMinusThetaCos(th, sinT, cosT);
      const oneMinusJ = u - g * INV_PI;
      const wj = w[j];
      const cj = c[j];
      const ww = wi * wj;
      const dw = wi - wj;
      const dc = ci - cj;
      const oneMinusRho = ww * oneMinusJ + 0.5 * (dw * dw + dc * dc);
      if (B !== null) {
        const rho = 1 - oneMinusRho; // ρ^{l+1}; exactly 1 for duplicate points
        B[idx] = pi * p[j] * B[idx] * (1 - th * INV_PI) + qi * q[j] * rho;
      }
      const hn = Math.sqrt(0.5 * oneMinusRho);
      T[idx] = 2 * Math.asin(hn < 1 ? hn : 1);
    }
  }
}
