/**
 * The properties of an architecture that decide what its kernels do at large depth, for inputs
 * of equal norm (on the sphere every diagonal is equal per layer, so each layer is a map of the
 * variance `q` and of the correlation `ρ` alone): mean-field signal propagation (Poole et al.
 * 2016, "Exponential expressivity in deep neural networks through transient chaos"; Schoenholz
 * et al. 2017, "Deep information propagation"), and the limit of the normalized kernels.
 *
 * - Variance map `q ↦ σ_w² E[φ(u)²] + σ_b²`, `u ~ N(0, q)`, iterated from the data's `Σ¹` to its
 *   fixed point `q*` (`0` or `∞` when it tends there).
 * - `χ` = slope of the normalized correlation map at `ρ = 1`, at `q*`:
 *   `χ = σ_w² q E[φ'²]/(σ_w² E[φ²] + σ_b²)`, which equals Poole's `σ_w² E[φ'(u)²]` at `q = q*`.
 *   `χ < 1` ordered, `χ = 1` edge of chaos, `χ > 1` chaotic. For a homogeneous activation without
 *   bias it does not depend on `q` (ReLU: exactly 1).
 * - `ρ*`: the fixed point the correlation map reaches: 1 in the ordered phase and at the edge
 *   (polynomially there), the attracting `ρ* < 1` in the chaotic phase (iterated from ρ = 0).
 * - `ξ = −1/ln χ` (ordered), `−1/ln χ_c` with `χ_c` the slope at `ρ*` (chaotic), `∞` at the edge.
 * - Limits of the normalized kernels, `a·11ᵀ + (1 − a)·I`: NNGP / ρ: `a = ρ*`. NTK: with
 *   `z = Σ/Θ → 1 − χ` (ordered; `Θ̄^{l+1} = χ Θ̄^l ḋ + (1 − χ) ρ`), `a = (1 − χ)ρ* / (1 − χ ḋ(ρ*))`,
 *   which is 1 when `ρ* = 1`; chaotic: `Θ^l_ii` grows like `χ^l` while `Θ̄` is damped by
 *   `ḋ(ρ*) < 1`: `a = 0`; at the edge with `ρ* = 1` for a degree-1 homogeneous activation (ReLU,
 *   leaky ReLU, abs, without bias): `a = 1/4` (`1 − ρ^l ~ c/l²`, `1 − ḋ^l ~ 3/l`, so
 *   `Θ̄^L ≈ (1/L) Σ_l (l/L)³ → 1/4`; St-Arnaud et al. arXiv:2511.07272). Elsewhere at the edge,
 *   and for maps without an attracting fixed point (the identity, or `q* = 0` without bias, where
 *   the network becomes linear), the limit depends on the data: NaN.
 */
import { DK, OMK, OPK, type Activation } from './activation.js';

/** Depth properties (snake_case names are the stored metric names). */
export interface DepthProperties {
  /** Variance fixed point `q*` (0 or Infinity when the variance map tends there; NaN for a homogeneous activation without bias, whose normalized maps do not depend on q). */
  q_star: number;
  /** Slope of the normalized correlation map at ρ = 1 at `q*` (Infinity when φ' is a delta). */
  chi: number;
  /** Depth scale `ξ` (layers); Infinity at the edge of chaos. */
  xi: number;
  /** Fixed point ρ* of the correlation map (NaN when it has no attracting one). */
  rho_star: number;
  /** Off-diagonal `a` of the limit of the normalized NNGP / correlation kernel. */
  limit_nngp: number;
  /** Off-diagonal `a` of the limit of the normalized NTK (NaN without an NTK). */
  limit_ntk: number;
}

const MAX_ITER = 100_000;
const LOG_Q_RANGE = 300;
/** How close to 1 a slope χ of closed-form duals must be to count as the edge of chaos (rounding). */
const CHI_TOL = 1e-12;
/** Points of the log-spaced grid on which {@link tendsToZero} compares the variance map with the identity. */
const ZERO_GRID = 600;

/**
 * Whether the variance map, iterated downwards from `exp(ell)` without settling, tends to 0: without
 * bias, and below the identity (`σ_w² E[φ²](q) < q`, to {@link CHI_TOL} in log space) at every point
 * of a log-spaced grid of `(exp(−LOG_Q_RANGE), exp(ell)]`, so no fixed point lies in between. This
 * catches the polynomial approach at a marginal `σ_w² φ'(0)² = 1` (tanh at σ_w = 1, σ_b = 0:
 * `q_l ≈ 1/(2l)`), which neither settles nor leaves the range within the iteration budget.
 */
function tendsToZero(act: Activation, logW2: number, logB2: number, ell: number, e: Float64Array): boolean {
  if (Number.isFinite(logB2) || act.homogeneous || !(varianceMap(act, logW2, logB2, ell, e).logS < ell)) return false;
  for (let i = 1; i <= ZERO_GRID; i++) {
    const x = ell - (i / ZERO_GRID) * (ell + LOG_Q_RANGE);
    if (varianceMap(act, logW2, logB2, x, e).logS - x > CHI_TOL) return false;
  }
  return true;
}

/** `log(σ_w² E[φ²](q) + σ_b²)` and `log σ_w² E[φ'²](q)` from `log q`. */
function varianceMap(act: Activation, logW2: number, logB2: number, ell: number, e: Float64Array): { logS: number; logDd: number; w2: number } {
  act.logDiag(ell, e);
  const a = logW2 + e[0];
  const r = Number.isFinite(logB2) ? Math.exp(logB2 - a) : 0;
  return { logS: a + Math.log1p(r), logDd: logW2 + e[1], w2: 1 / (1 + r) };
}

/**
 * Iterates the variance map from `log q = logQ1` to its fixed point: `q_star` (0 or Infinity when
 * the map tends there, NaN when it does not settle) and `ell`, the log variance at which the slopes
 * are then evaluated (clamped to ±LOG_Q_RANGE when the variance tends to 0 or ∞).
 */
function varianceFixedPoint(act: Activation, logW2: number, logB2: number, logQ1: number, e: Float64Array): { q_star: number; ell: number } {
  let ell = logQ1;
  for (let it = 0; it < MAX_ITER; it++) {
    const next = varianceMap(act, logW2, logB2, ell, e).logS;
    if (Math.abs(next - ell) <= 1e-15 * Math.max(1, Math.abs(ell))) return { q_star: Math.exp(next), ell: next };
    ell = next;
    if (ell < -LOG_Q_RANGE || ell > LOG_Q_RANGE) return { q_star: ell < 0 ? 0 : Infinity, ell: Math.sign(ell) * LOG_Q_RANGE };
  }
  if (tendsToZero(act, logW2, logB2, ell, e)) return { q_star: 0, ell: -LOG_Q_RANGE };
  return { q_star: NaN, ell };
}

/** One step of the normalized correlation map at variance `q`: `θ ↦ θ'` (equal diagonals). */
function correlationStep(act: Activation, q: number, w2: number, th: number, out: Float64Array): number {
  act.pair(q, q, th, Math.sin(th / 2), Math.cos(th / 2), out);
  const omr = w2 * out[OMK];
  const opr = w2 * out[OPK] + 2 * (1 - w2);
  return 2 * Math.atan2(Math.sqrt(omr), Math.sqrt(opr));
}

/**
 * Depth properties of `Dense(σ_w, σ_b) ∘ φ` stacks for inputs with `log Σ¹(x, x) = logQ1`
 * (module comment).
 * @throws RangeError on non-finite `logQ1` or invalid σ_w, σ_b.
 */
export function depthProperties(act: Activation, sigma_w: number, sigma_b: number, logQ1: number): DepthProperties {
  if (!Number.isFinite(logQ1)) throw new RangeError(`depthProperties: log Σ¹ must be finite, got ${logQ1}`);
  if (!(sigma_w > 0 && Number.isFinite(sigma_w) && sigma_b >= 0 && Number.isFinite(sigma_b))) {
    throw new RangeError(`depthProperties: need finite sigma_w > 0 and sigma_b >= 0, got ${sigma_w}, ${sigma_b}`);
  }
  const logW2 = 2 * Math.log(sigma_w);
  const logB2 = sigma_b > 0 ? 2 * Math.log(sigma_b) : -Infinity;
  const e = new Float64Array(2);
  const fixed = varianceFixedPoint(act, logW2, logB2, logQ1, e);
  const ell = fixed.ell;
  let qStar = fixed.q_star;
  if (act.homogeneous && sigma_b === 0) qStar = NaN;
  const at = varianceMap(act, logW2, logB2, ell, e);
  const q = Math.exp(ell);
  const chi = act.has_ntk ? Math.exp(logW2 + e[1] + ell - at.logS) : Infinity;
  const out = new Float64Array(3);
  const tol = Math.max(CHI_TOL, 100 * (act.dual_accuracy ?? 0));
  const critical = Math.abs(chi - 1) <= tol;
  let rhoStar = 1;
  let xi = critical ? Infinity : -1 / Math.log(chi);
  // a map that leaves ρ = 0 in place at χ = 1 is the identity (linear network): no attracting point
  const moves = Math.abs(Math.cos(correlationStep(act, q, at.w2, Math.PI / 2, out))) > 1e-13;
  if (chi <= 1 + tol && !moves) rhoStar = NaN;
  if (chi > 1 + tol) {
    let th = Math.PI / 2;
    for (let it = 0; it < MAX_ITER; it++) {
      const next = correlationStep(act, q, at.w2, th, out);
      const done = Math.abs(Math.cos(next) - Math.cos(th)) <= 1e-16;
      th = next;
      if (done) break;
    }
    rhoStar = Math.cos(th);
    // slope of the correlation map at ρ* by a central difference in ρ
    const dr = 1e-6;
    const f = (r: number): number => Math.cos(correlationStep(act, q, at.w2, Math.acos(Math.max(-1, Math.min(1, r))), out));
    const chiC = (f(rhoStar + dr) - f(rhoStar - dr)) / (2 * dr);
    xi = -1 / Math.log(Math.abs(chiC));
  }
  let limitNtk = NaN;
  if (act.has_ntk && Number.isFinite(rhoStar)) {
    if (critical) {
      limitNtk = rhoStar === 1 && act.homogeneous?.degree === 1 ? 0.25 : NaN;
    } else if (chi < 1) {
      if (rhoStar === 1) limitNtk = 1;
      else {
        act.pair(q, q, Math.acos(rhoStar), Math.sin(Math.acos(rhoStar) / 2), Math.cos(Math.acos(rhoStar) / 2), out);
        limitNtk = ((1 - chi) * rhoStar) / (1 - chi * out[DK]);
      }
    } else {
      limitNtk = 0;
    }
  }
  return { q_star: qStar, chi, xi, rho_star: rhoStar, limit_nngp: rhoStar, limit_ntk: limitNtk };
}
