/**
 * Gauss–Hermite quadrature for the standard normal: nodes `z_a` and weights `w_a` (summing to 1)
 * with `E[f(Z)] ≈ Σ_a w_a f(z_a)`, `Z ~ N(0, 1)`, exact for polynomials of degree `< 2m`.
 *
 * Nodes are the zeros of the Hermite polynomial `H_m` (weight `e^{−x²}`), isolated by bisection on the
 * Sturm sequence of the Jacobi matrix (Golub & Welsch 1969), then polished by Newton's method on
 * `H_m`, evaluated through the orthonormal Hermite functions `ψ_j(x) = p_j(x) e^{−x²/2}`
 * (three-term recurrence, no overflow). The weight of a zero is
 * `e^{−x²}/(m ψ_{m−1}(x)²)` (Christoffel–Darboux), then `z = √2 x` and `w / √π` for N(0, 1)
 * (Abramowitz & Stegun 25.4.46).
 */

/** A rule of order `m`: `z` and `w` of length `m`, `z` ascending, `Σ w = 1` (to rounding). */
export interface GaussHermiteRule {
  z: Float64Array;
  w: Float64Array;
}

const cache = new Map<number, GaussHermiteRule>();

/** `ψ_m(x)` and `ψ_{m−1}(x)` (orthonormal Hermite functions). */
function hermiteFunctions(m: number, x: number): [number, number] {
  let p0 = Math.PI ** -0.25 * Math.exp(-0.5 * x * x);
  let p1 = Math.SQRT2 * x * p0;
  if (m === 1) return [p1, p0];
  for (let j = 2; j <= m; j++) {
    const p2 = Math.sqrt(2 / j) * x * p1 - Math.sqrt((j - 1) / j) * p0;
    p0 = p1;
    p1 = p2;
  }
  return [p1, p0];
}

/**
 * Number of zeros of `H_m` below `x`: the eigenvalues of its Jacobi matrix (zero diagonal,
 * off-diagonal `sqrt(j/2)`) below `x`, by the Sturm sequence of `J − xI` (Golub & Welsch 1969).
 */
function zerosBelow(m: number, x: number): number {
  let count = 0;
  let d = -x;
  if (d < 0) count++;
  for (let j = 1; j < m; j++) {
    d = -x - j / 2 / (d === 0 ? 1e-300 : d);
    if (d < 0) count++;
  }
  return count;
}

/** The `i`-th smallest zero of `H_m` (`i = 0..m−1`) by bisection on {@link zerosBelow}. */
function bisectZero(m: number, i: number): number {
  let lo = -Math.sqrt(2 * m + 2);
  let hi = Math.sqrt(2 * m + 2);
  for (let it = 0; it < 200 && hi - lo > 1e-15 * Math.max(1, Math.abs(lo)); it++) {
    const mid = 0.5 * (lo + hi);
    if (zerosBelow(m, mid) > i) hi = mid;
    else lo = mid;
  }
  return 0.5 * (lo + hi);
}

/**
 * The Gauss–Hermite rule of order `m` for `N(0, 1)` (cached).
 * @throws RangeError unless `m` is an integer in [1, 400], or if Newton's method fails to
 *   separate the zeros (does not happen in that range).
 */
export function gaussHermite(m: number): GaussHermiteRule {
  if (!(Number.isInteger(m) && m >= 1 && m <= 400)) throw new RangeError(`gaussHermite: order must be an integer in [1, 400], got ${m}`);
  const hit = cache.get(m);
  if (hit) return hit;
  const x = new Float64Array(m);
  const wx = new Float64Array(m);
  const half = Math.floor(m / 2);
  for (let i = 1; i <= half; i++) {
    let r = bisectZero(m, m - i);
    for (let it = 0; it < 100; it++) {
      const [pm, pm1] = hermiteFunctions(m, r);
      const step = pm / (Math.sqrt(2 * m) * pm1); // Newton on the polynomial: H_m'/H_m = √(2m) ψ_{m−1}/ψ_m
      r -= step;
      if (Math.abs(step) <= 1e-15 * Math.max(1, Math.abs(r))) break;
    }
    const [, pm1] = hermiteFunctions(m, r);
    const wi = Math.exp(-r * r) / (m * pm1 * pm1);
    x[m - i] = r;
    x[i - 1] = -r;
    wx[m - i] = wi;
    wx[i - 1] = wi;
  }
  if (m % 2 === 1) {
    const [, pm1] = hermiteFunctions(m, 0);
    x[half] = 0;
    wx[half] = 1 / (m * pm1 * pm1);
  }
  for (let i = 1; i < m; i++) {
    if (!(x[i] > x[i - 1])) throw new RangeError(`gaussHermite: zeros of H_${m} not separated`);
  }
  const rule: GaussHermiteRule = { z: new Float64Array(m), w: new Float64Array(m) };
  for (let i = 0; i < m; i++) {
    rule.z[i] = Math.SQRT2 * x[i];
    rule.w[i] = wx[i] / Math.sqrt(Math.PI);
  }
  cache.set(m, rule);
  return rule;
}
