/**
 * Cancellation-free pieces of the arc-cosine kernels (Cho & Saul 2009), shared by the ReLU layer
 * map and the closed-form activations.
 */

// Taylor coefficients of sin θ − θ cos θ = Σ_{k≥1} (−1)^{k+1} 2k θ^{2k+1}/(2k+1)!  (k = 1..8).
const G1 = 1 / 3;
const G2 = -1 / 30;
const G3 = 1 / 840;
const G4 = -1 / 45360;
const G5 = 1 / 3991680;
const G6 = -1 / 518918400;
const G7 = 1 / 93405312000;
const G8 = -1 / 22230464256000;
/** Below this angle `sin θ − θ cos θ` comes from its series (truncation < 1e-17 relative). */
export const SERIES_THETA = 0.5;

/**
 * `g(θ) = sin θ − θ cos θ` for `θ ∈ [0, π]` given `sin θ`, `cos θ`: from its Taylor series below
 * {@link SERIES_THETA} (where the difference cancels), directly above. `g ≥ 0` on `[0, π]`.
 */
export function sinMinusThetaCos(th: number, sinT: number, cosT: number): number {
  if (th < SERIES_THETA) {
    const t2 = th * th;
    return t2 * th * (G1 + t2 * (G2 + t2 * (G3 + t2 * (G4 + t2 * (G5 + t2 * (G6 + t2 * (G7 + t2 * G8)))))));
  }
  return sinT - th * cosT;
}

/**
 * `h₂(θ) = 3(θ − sin θ cos θ) − 2θ sin²θ` (the part of `3π − J₂(θ)` beyond `2π sin²θ`, arc-cosine
 * degree 2), `O(θ⁵)` at 0: with `φ = 2θ`, `h₂ = Σ_{k≥2} (−1)^k (k − 1) φ^{2k+1}/(2k+1)!` below
 * θ = 0.5 (11 terms, truncation < 1e-19 relative), directly above.
 */
export function arccos2Remainder(th: number, sinT: number, cosT: number): number {
  if (th < SERIES_THETA) {
    const f = 2 * th;
    const f2 = f * f;
    let term = (f2 * f2 * f) / 120; // φ⁵/5!
    let sum = term; // k = 2: (k − 1) = 1
    for (let k = 3; k <= 13; k++) {
      term *= -f2 / ((2 * k) * (2 * k + 1));
      sum += (k - 1) * term;
    }
    return sum;
  }
  return 3 * (th - sinT * cosT) - 2 * th * sinT * sinT;
}
