/**
 * Kernel map of one `Dense(σ_w, σ_b) ∘ φ` layer for any {@link Activation}, in normalized,
 * underflow-free form (the general case of the ReLU map in `relu.ts`, which keeps its own code):
 *
 *   Σ^{l+1} = σ_w² E[φ(u)φ(v)] + σ_b²,  Σ̇^{l+1} = σ_w² E[φ'(u)φ'(v)],  Θ^{l+1} = Θ^l Σ̇^{l+1} + Σ^{l+1}
 *
 * with `(u, v) ~ N(0, Σ^l restricted to x_i, x_j)` (Jacot et al. 2018, Thm. 1; Lee et al. 2018).
 * Per point `i`, `w_i² = σ_w² E[φ²]/Σ^{l+1}_ii`, `c_i² = σ_b²/Σ^{l+1}_ii` (`w² + c² = 1`),
 * `p_i² = Θ^l_ii Σ̇_ii/Θ^{l+1}_ii`, `q_i² = Σ^{l+1}_ii/Θ^{l+1}_ii`; per pair, from the activation's
 * normalized duals `1 ∓ k̄` and `ḋ`:
 *
 *   1 − ρ^{l+1} = w_i w_j (1 − k̄) + ½((w_i − w_j)² + (c_i − c_j)²)
 *   1 + ρ^{l+1} = w_i w_j (1 + k̄) + ½((w_i − w_j)² + (c_i + c_j)²)
 *   Θ̄^{l+1}    = p_i p_j Θ̄^l ḋ + q_i q_j ρ^{l+1},   θ^{l+1} = 2 atan2(sqrt(1 − ρ), sqrt(1 + ρ))
 *
 * Every term is non-negative, so both complements keep full relative precision.
 */
import { NATIVE_ACTIVATIONS } from '../linalg/backend.js';
import { linalg } from '../linalg/index.js';
import { DK, OMK, OPK, type Activation } from './activation.js';
import { ddAdd, type KernelState } from './state.js';

/** Hyper-parameters of every `Dense(σ_w, σ_b)` layer. */
export interface LayerParams {
  /** Weight standard deviation σ_w (NTK parameterization); finite, > 0. */
  sigma_w: number;
  /** Bias standard deviation σ_b; finite, ≥ 0. */
  sigma_b: number;
}

/**
 * Range of the variances handed to the pair duals of a non-homogeneous activation: below 1e-150
 * its normalized duals equal their `q → 0` limit to ~1e-150 relative, and above 1e150 (only an
 * input layer of huge norm gets there; later layers of erf, sin, cos and the gaussian have
 * `Σ ≤ σ_w² + σ_b²`); in between, products of two variances stay in the float64 range.
 */
const Q_MIN = 1e-150;
const Q_MAX = 1e150;

/**
 * Per-point coefficients of one layer (module comment), arrays of length `n`. `qv` holds the
 * variances `Σ^l_ii` (clamped to [1e-150, 1e150]) the pair duals of a non-homogeneous activation read (unused otherwise).
 */
export interface LayerCoefficients {
  w: Float64Array;
  c: Float64Array;
  p: Float64Array;
  q: Float64Array;
  qv: Float64Array;
}

/**
 * Advance the per-point scales of `state` (log diagonals, `Σ/Θ` ratio) by one layer and return
 * the per-pair coefficients. With a homogeneous activation the logs are advanced in
 * double-double (`log Σ^{l+1} = k·log Σ^l + log(σ_w² C) + log(1 + r)`), as in the ReLU map.
 * Without an NTK (`has_ntk` false) the `Θ` scales become NaN and `p`, `q` are 0.
 */
export function advanceDiagonal(state: KernelState, act: Activation, lp: LayerParams): LayerCoefficients {
  const { n, nngp_ntk_ratio: z } = state;
  const logS = state.log_nngp_diag;
  const logSlo = state.log_nngp_diag_lo;
  const logT = state.log_ntk_diag;
  const logTlo = state.log_ntk_diag_lo;
  const logW2 = 2 * Math.log(lp.sigma_w);
  const logB2 = lp.sigma_b > 0 ? 2 * Math.log(lp.sigma_b) : -Infinity;
  const out: LayerCoefficients = { w: new Float64Array(n), c: new Float64Array(n), p: new Float64Array(n), q: new Float64Array(n), qv: new Float64Array(n) };
  const e = new Float64Array(2);
  const hom = act.homogeneous;
  for (let i = 0; i < n; i++) {
    const ell = logS[i] + logSlo[i];
    out.qv[i] = Math.min(Q_MAX, Math.max(Q_MIN, Math.exp(ell)));
    let a: number; // log σ_w² E[φ²]
    let ratio: number; // Σ^{l+1}_ii / (Σ^l_ii Σ̇_ii) without the (1 + r) factor
    if (hom) {
      a = logW2 + hom.log_c + hom.degree * ell;
      ratio = Math.exp(hom.log_c - hom.log_cd); // C/C_d (q cancels: φ' has degree k − 1)
    } else {
      act.logDiag(ell, e);
      a = logW2 + e[0];
      ratio = Math.exp(a - ell - (logW2 + e[1]));
    }
    const r = lp.sigma_b > 0 ? Math.exp(logB2 - a) : 0; // σ_b² / (σ_w² E[φ²])
    const l1p = Math.log1p(r);
    out.w[i] = 1 / Math.sqrt(1 + r);
    out.c[i] = 1 / Math.sqrt(1 + 1 / r);
    if (hom) {
      // exact scaling of the double-double by the degree (0, 1, 2), then the constants
      logS[i] *= hom.degree;
      logSlo[i] *= hom.degree;
      ddAdd(logS, logSlo, i, logW2 + hom.log_c);
      ddAdd(logS, logSlo, i, l1p);
    } else {
      logS[i] = a + l1p;
      logSlo[i] = 0;
    }
    if (!act.has_ntk) {
      z[i] = NaN;
      logT[i] = NaN;
      logTlo[i] = NaN;
      continue;
    }
    const y = z[i] * ratio * (1 + r); // Σ^{l+1}_ii / (Θ^l_ii Σ̇_ii)
    out.p[i] = 1 / Math.sqrt(1 + y);
    out.q[i] = 1 / Math.sqrt(1 + 1 / y);
    z[i] = y / (1 + y);
    logT[i] = logS[i];
    logTlo[i] = logSlo[i];
    ddAdd(logT, logTlo, i, -Math.log(z[i]));
  }
  return out;
}

/**
 * The pair part of one layer over the lower triangle (`j < i`) of the row-major `[n, n]` arrays
 * `theta` (angles, in place) and `ntkBar` (`Θ̄`, in place; null to skip), with the coefficients of
 * {@link advanceDiagonal}. Pure over typed arrays. The native backend's `activationPairs` replaces
 * it for the closed-form activations (same formulas, C library math: equal to rounding, not bit
 * for bit; the grid point records the backend), other activations always run this loop.
 */
export function advancePairs(n: number, theta: Float64Array, ntkBar: Float64Array | null, co: LayerCoefficients, act: Activation): void {
  const { w, c, p, q, qv } = co;
  const native = linalg().activationPairs;
  if (native && NATIVE_ACTIVATIONS.has(act.name)) {
    const [a, b] = act.name === 'abs' ? [-1, 1] : act.name === 'leaky_relu' ? [Number(act.params.activation_alpha), 1] : [0, 1];
    native(act.name, a, b, n, theta, ntkBar, w, c, p, q, qv);
    return;
  }
  const out = new Float64Array(3);
  for (let i = 1; i < n; i++) {
    const row = i * n;
    for (let j = 0; j < i; j++) {
      const idx = row + j;
      const th = theta[idx];
      const h = Math.sin(0.5 * th);
      const k = th <= Math.PI / 2 ? Math.sqrt(1 - h * h) : Math.cos(0.5 * th);
      act.pair(qv[i], qv[j], th, h, k, out);
      const ww = w[i] * w[j];
      const dw = w[i] - w[j];
      const dc = c[i] - c[j];
      const sc = c[i] + c[j];
      const omr = ww * out[OMK] + 0.5 * (dw * dw + dc * dc);
      const opr = ww * out[OPK] + 0.5 * (dw * dw + sc * sc);
      if (ntkBar !== null) {
        const rho = omr <= opr ? 1 - omr : opr - 1;
        ntkBar[idx] = p[i] * p[j] * ntkBar[idx] * out[DK] + q[i] * q[j] * rho;
      }
      theta[idx] = 2 * Math.atan2(Math.sqrt(omr), Math.sqrt(opr));
    }
  }
}

/**
 * Kernel map of one `Dense(σ_w, σ_b) ∘ φ` layer: advances `state` from depth `l` to `l + 1` in
 * place (lower triangles only, as the ReLU map). `Θ̄` is skipped when `state.ntk_bar` is null.
 * @returns the same state, `depth` incremented.
 */
export function activationKernelStep(state: KernelState, act: Activation, lp: LayerParams): KernelState {
  const co = advanceDiagonal(state, act, lp);
  advancePairs(state.n, state.theta, act.has_ntk ? state.ntk_bar : null, co, act);
  state.depth += 1;
  return state;
}
