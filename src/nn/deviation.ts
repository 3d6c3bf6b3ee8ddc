/**
 * Deviation-from-initialization metrics (the paper's claim 1, docs/conventions.md §1): how far
 * hidden activations, weights and the empirical NTK moved during training.
 */

/** Activation deviation of one hidden layer on `p` probe inputs of width `n`. */
export interface ActivationDeviation {
  /** `max_{i, j} |α_j(t; x_i) − α_j(0; x_i)|` over probe inputs `i` and neurons `j`. */
  actDevMax: number;
  /** `(1/p) Σ_i ‖α(t; x_i) − α(0; x_i)‖₂`. */
  actDevNorm: number;
  /** `(1/p) Σ_i ‖α(0; x_i)‖₂`. */
  actNorm: number;
}

/**
 * Compare activations `at` (time t) with `a0` (init), both `[p, n]` row-major. For `p = 0` every
 * value is `NaN`. NaN entries propagate into `actDevNorm` and `actDevMax` (not silently skipped).
 * @throws RangeError if the lengths differ from `p·n`.
 */
export function activationDeviation(a0: Float64Array, at: Float64Array, p: number, n: number): ActivationDeviation {
  if (a0.length !== p * n || at.length !== p * n) {
    throw new RangeError(`activationDeviation: expected length p·n = ${p * n}, got ${a0.length} and ${at.length}`);
  }
  if (p === 0) return { actDevMax: NaN, actDevNorm: NaN, actNorm: NaN };
  let max = 0;
  let devSum = 0;
  let normSum = 0;
  for (let i = 0; i < p; i++) {
    let dev2 = 0;
    let norm2 = 0;
    const off = i * n;
    for (let j = 0; j < n; j++) {
      const v0 = a0[off + j];
      const dv = at[off + j] - v0;
      const ad = Math.abs(dv);
      if (ad > max || Number.isNaN(ad)) max = Number.isNaN(max) ? max : ad;
      dev2 += dv * dv;
      norm2 += v0 * v0;
    }
    devSum += Math.sqrt(dev2);
    normSum += Math.sqrt(norm2);
  }
  return { actDevMax: max, actDevNorm: devSum / p, actNorm: normSum / p };
}

/**
 * Relative Frobenius change `‖X_t − X_0‖_F / ‖X_0‖_F` of two equally shaped arrays (weights or a
 * kernel matrix). Returns `NaN` if `‖X_0‖_F = 0` and `X_t ≠ X_0`, and 0 if both are zero.
 * @throws RangeError if the lengths differ.
 */
export function relativeFrobeniusChange(x0: Float64Array, xt: Float64Array): number {
  if (x0.length !== xt.length) throw new RangeError(`relativeFrobeniusChange: lengths ${x0.length} and ${xt.length} differ`);
  let d2 = 0;
  let n2 = 0;
  for (let i = 0; i < x0.length; i++) {
    const d = xt[i] - x0[i];
    d2 += d * d;
    n2 += x0[i] * x0[i];
  }
  if (n2 === 0) return d2 === 0 ? 0 : NaN;
  return Math.sqrt(d2 / n2);
}
