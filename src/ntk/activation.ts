/**
 * An activation function φ as one object: its forward map φ and derivative φ' (used by the finite
 * network in `src/nn`), and its **dual maps** (used by the infinite-width kernels), in the manner
 * of neural-tangents `stax.Elementwise(fn, nngp_fn, d_nngp_fn)`.
 *
 * For `(u, v) ~ N(0, [[q_i, c], [c, q_j]])` with `c = ρ sqrt(q_i q_j)`, `ρ = cos θ`, a dual map gives
 * `E[φ(u)φ(v)]` and `E[φ'(u)φ'(v)]`. Deep stacks need them in **normalized, cancellation-free**
 * form, so an activation supplies
 *
 *   - {@link Activation.logDiag}: `log E[φ(u)²]` and `log E[φ'(u)²]` for `u ~ N(0, q)`, from `log q`
 *     (so nothing under- or overflows at any depth);
 *   - {@link Activation.pair}: for the normalized dual `k̄ = E[φ(u)φ(v)]/sqrt(E[φ(u)²] E[φ(v)²])`,
 *     the two complements `1 − k̄` and `1 + k̄`, each computed without cancellation from the angle
 *     θ (given with `sin(θ/2)`, `cos(θ/2)`), and the normalized derivative dual
 *     `ḋ = E[φ'(u)φ'(v)]/sqrt(E[φ'(u)²] E[φ'(v)²])`.
 *
 * Carrying both complements keeps `ρ → 1` (deep layers, the diagonal) and `ρ → −1` (antipodal
 * inputs of odd activations) at full relative precision. The layer map that combines them with
 * σ_w, σ_b is `src/ntk/layer.ts`.
 */

/** Output slots of {@link Activation.pair}. */
export const OMK = 0; // 1 − k̄
export const OPK = 1; // 1 + k̄
export const DK = 2; // ḋ

/**
 * A positively homogeneous activation, `φ(λx) = λ^k φ(x)` for `λ > 0`: then
 * `E[φ(u)²] = C q^k` and `E[φ'(u)²] = C_d q^{k−1}`, and the normalized duals do not depend on `q`.
 */
export interface Homogeneous {
  /** Degree `k` (0 for the step, 1 for ReLU-like, 2 for ReLU²). */
  degree: number;
  /** `log C`, `E[φ(u)²] = C q^k`. */
  log_c: number;
  /** `log C_d`, `E[φ'(u)²] = C_d q^{k−1}` (NaN when φ' is not a function). */
  log_cd: number;
}

export interface Activation {
  /** The `activation` param value, e.g. `relu`, `leaky_relu`. */
  name: string;
  /** Its parameters as spec params (e.g. `{ activation_alpha: 0.1 }`); empty when none. */
  params: Readonly<Record<string, number>>;
  /** Where the dual maps come from (paper, equation). */
  source: string;
  /** φ(x). */
  phi(x: number): number;
  /** φ'(x) (almost everywhere; at a kink the right derivative is not implied, see each activation). */
  dphi(x: number): number;
  /**
   * Whether the NTK exists: φ' is a function with finite `E[φ'(u)²]`. False for the step, whose
   * derivative is a Dirac delta (its NNGP is fine).
   */
  has_ntk: boolean;
  /** Set for positively homogeneous activations (then `logDiag` and `pair` ignore `q`). */
  homogeneous: Homogeneous | null;
  /**
   * Relative accuracy of the duals when they are not closed forms (quadrature); absent for closed
   * forms, which are exact to rounding. Decides how close to 1 a slope must be to count as 1.
   */
  dual_accuracy?: number;
  /**
   * `out[0] = log E[φ(u)²]`, `out[1] = log E[φ'(u)²]` for `u ~ N(0, exp(logq))`.
   * @param out length ≥ 2, overwritten.
   */
  logDiag(logq: number, out: Float64Array): void;
  /**
   * Normalized duals of the pair `(u, v)` with variances `qi`, `qj` and correlation `cos θ`:
   * `out[OMK] = 1 − k̄`, `out[OPK] = 1 + k̄` (both ≥ 0, without cancellation), `out[DK] = ḋ`
   * (NaN when `has_ntk` is false). `h = sin(θ/2)`, `k = cos(θ/2)`.
   * @param out length ≥ 3, overwritten.
   */
  pair(qi: number, qj: number, th: number, h: number, k: number, out: Float64Array): void;
}
