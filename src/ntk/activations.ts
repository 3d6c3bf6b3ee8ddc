/**
 * The closed-form activations: φ, φ' and normalized, cancellation-free dual maps (see
 * `activation.ts` for the interface). Notation: `θ` the angle of the pair, `h = sin(θ/2)`,
 * `k = cos(θ/2)`, so `1 − cos θ = 2h²`, `1 + cos θ = 2k²` and `sin θ = 2hk` exactly;
 * `g(θ) = sin θ − θ cos θ` (series near 0, `trig.ts`); `m = sqrt(q_i q_j)`.
 */
import { DK, OMK, OPK, type Activation, type Homogeneous } from './activation.js';
import { arccos2Remainder, sinMinusThetaCos } from './trig.js';
import { looksLikeExpression, parseActivationExpression } from './activation-expression.js';
import { quadratureActivation } from './activation-quadrature.js';
import { isNumericalActivationName, numericalActivation, NUMERICAL_ACTIVATION_NAMES } from './activations-numerical.js';

const PI = Math.PI;
const INV_PI = 1 / Math.PI;
const LN2 = Math.LN2;

function homogeneousDiag(hom: Homogeneous): (logq: number, out: Float64Array) => void {
  return (logq, out) => {
    out[0] = hom.log_c + hom.degree * logq;
    out[1] = hom.log_cd + (hom.degree - 1) * logq;
  };
}

/** `1 − k̄_abs` of `|x|`, `k̄_abs = cos θ + (2/π) g(θ)`; reflected about π/2 (`|u||v|` is even in v). */
function absOneMinus(th: number, h: number, k: number, sinT: number, cosT: number): number {
  if (th <= PI / 2) return 2 * h * h - 2 * INV_PI * sinMinusThetaCos(th, sinT, cosT);
  // ε = π − θ: 1 − cos ε = 2k², g(ε) = sin θ + (π − θ) cos θ
  return 2 * k * k - 2 * INV_PI * sinMinusThetaCos(PI - th, sinT, -cosT);
}

/**
 * `φ(x) = a·x·1[x < 0] + b·x·1[x ≥ 0]` = `α x + β |x|` with `α = (a + b)/2`, `β = (b − a)/2`; the
 * odd and even parts are uncorrelated, so `k̄ = (α² cos θ + β² k̄_abs)/(α² + β²)` with the
 * arc-cosine kernel of degree 1 (Cho & Saul 2009, eq. (6)) giving
 * `E[|u||v|] = (2m/π)(sin θ + (π/2 − θ) cos θ)`; `ḋ = 1 − (a − b)² θ/((a² + b²) π)`.
 * `E[φ²] = (a² + b²) q/2`, `E[φ'²] = (a² + b²)/2`. neural-tangents `stax.ABRelu` has the same kernel.
 */
function abFamily(name: string, a: number, b: number, params: Record<string, number>): Activation {
  const alpha2 = ((a + b) / 2) ** 2;
  const beta2 = ((b - a) / 2) ** 2;
  const s = alpha2 + beta2;
  const slopeD = ((a - b) * (a - b)) / ((a * a + b * b) * PI);
  const hom: Homogeneous = { degree: 1, log_c: Math.log((a * a + b * b) / 2), log_cd: Math.log((a * a + b * b) / 2) };
  return {
    name,
    params,
    source: 'Cho & Saul 2009 (arc-cosine kernel, degree 1), split into odd and even parts; neural-tangents stax.ABRelu',
    phi: (x) => (x < 0 ? a * x : b * x),
    dphi: (x) => (x < 0 ? a : b),
    has_ntk: true,
    homogeneous: hom,
    logDiag: homogeneousDiag(hom),
    pair(_qi, _qj, th, h, k, out) {
      const sinT = 2 * h * k;
      const cosT = (k - h) * (k + h);
      const g = sinMinusThetaCos(th, sinT, cosT);
      out[OMK] = (alpha2 * 2 * h * h + beta2 * absOneMinus(th, h, k, sinT, cosT)) / s;
      out[OPK] = (alpha2 * 2 * k * k + beta2 * (2 * k * k + 2 * INV_PI * g)) / s;
      out[DK] = 1 - slopeD * th;
    },
  };
}

/** `identity`: the linear network, `k̄ = cos θ`, `ḋ = 1`. */
const IDENTITY: Activation = (() => {
  const hom: Homogeneous = { degree: 1, log_c: 0, log_cd: 0 };
  return {
    name: 'identity',
    params: {},
    source: 'E[uv] = c (linear network)',
    phi: (x: number) => x,
    dphi: () => 1,
    has_ntk: true,
    homogeneous: hom,
    logDiag: homogeneousDiag(hom),
    pair(_qi: number, _qj: number, _th: number, h: number, k: number, out: Float64Array) {
      out[OMK] = 2 * h * h;
      out[OPK] = 2 * k * k;
      out[DK] = 1;
    },
  };
})();

/**
 * `relu2` = `relu(x)²`, arc-cosine kernel of degree 2 (Cho & Saul 2009, eq. (6) with
 * `J₂ = 3 sin θ cos θ + (π − θ)(1 + 2cos²θ)`): `E[φ(u)φ(v)] = m² J₂(θ)/(2π)`, `k̄ = J₂/(3π)`,
 * `1 − k̄ = (2π sin²θ + h₂(θ))/(3π)`; `φ' = 2 relu`, so `ḋ` is the normalized degree-1 kernel.
 * `E[φ²] = 3q²/2`, `E[φ'²] = 2q`.
 */
const RELU2: Activation = (() => {
  const hom: Homogeneous = { degree: 2, log_c: Math.log(1.5), log_cd: LN2 };
  return {
    name: 'relu2',
    params: {},
    source: 'Cho & Saul 2009, arc-cosine kernel of degree 2 (eq. (6))',
    phi: (x: number) => (x > 0 ? x * x : 0),
    dphi: (x: number) => (x > 0 ? 2 * x : 0),
    has_ntk: true,
    homogeneous: hom,
    logDiag: homogeneousDiag(hom),
    pair(_qi: number, _qj: number, th: number, h: number, k: number, out: Float64Array) {
      const sinT = 2 * h * k;
      const cosT = (k - h) * (k + h);
      const omk = (2 * PI * sinT * sinT + arccos2Remainder(th, sinT, cosT)) / (3 * PI);
      const j2 = 3 * sinT * cosT + (PI - th) * (1 + 2 * cosT * cosT);
      out[OMK] = omk;
      out[OPK] = 1 + j2 / (3 * PI);
      out[DK] = 1 - (2 * h * h - INV_PI * sinMinusThetaCos(th, sinT, cosT));
    },
  };
})();

/**
 * `step` = `1[x > 0]`, arc-cosine kernel of degree 0 (Cho & Saul 2009): `E[φ(u)φ(v)] = (π − θ)/(2π)`,
 * `k̄ = 1 − θ/π`. Its derivative is a Dirac delta: no NTK (`has_ntk` false), NNGP only.
 */
const STEP: Activation = {
  name: 'step',
  params: {},
  source: 'Cho & Saul 2009, arc-cosine kernel of degree 0',
  phi: (x) => (x > 0 ? 1 : 0),
  dphi: () => 0,
  has_ntk: false,
  homogeneous: { degree: 0, log_c: -LN2, log_cd: NaN },
  logDiag(_logq, out) {
    out[0] = -LN2;
    out[1] = NaN;
  },
  pair(_qi, _qj, th, _h, _k, out) {
    out[OMK] = th * INV_PI;
    out[OPK] = 2 - th * INV_PI;
    out[DK] = NaN;
  },
};

/**
 * `erf` (Williams 1997, "Computing with infinite networks", eq. (11)):
 * `E[erf(u) erf(v)] = (2/π) asin(2c/sqrt((1 + 2q_i)(1 + 2q_j)))` and, with `φ' = (2/√π) e^{−x²}`,
 * `E[φ'(u)φ'(v)] = (4/π)/sqrt((1 + 2q_i)(1 + 2q_j) − 4c²)`. With `t_i = 2q_i/(1 + 2q_i)`,
 * `T = sqrt(t_i t_j)`, `k̄ = asin(T cos θ)/sqrt(asin t_i asin t_j)`; the difference
 * `asin T − asin(T cos θ) = asin(T sin²θ/(sqrt(1 − T² cos²θ) + cos θ sqrt(1 − T²)))` does not cancel.
 */
const ERF: Activation = {
  name: 'erf',
  params: {},
  source: 'Williams 1997, eq. (11); neural-tangents stax.Erf',
  phi: erf,
  dphi: (x) => (2 / Math.sqrt(PI)) * Math.exp(-x * x),
  has_ntk: true,
  homogeneous: null,
  logDiag(logq, out) {
    // log((2/π) asin t), t = 2q/(1 + 2q), in log space: q may be far below the float64 range
    const q = Math.exp(logq);
    const t = (2 * q) / (1 + 2 * q);
    const asinOverT = t > 1e-8 ? Math.asin(t) / t : 1 + (t * t) / 6;
    out[0] = Math.log(4 / PI) + logq - Math.log1p(2 * q) + Math.log(asinOverT);
    out[1] = Math.log(4 / PI) - 0.5 * Math.log1p(4 * q);
  },
  pair(qi, qj, th, h, k, out) {
    const ti = (2 * qi) / (1 + 2 * qi);
    const tj = (2 * qj) / (1 + 2 * qj);
    const T = Math.sqrt(ti * tj);
    const g = Math.sqrt(Math.asin(ti) * Math.asin(tj));
    const am = Math.asin(T);
    const cosT = (k - h) * (k + h);
    const sin2 = 4 * h * h * k * k;
    const ac = Math.abs(cosT);
    // asin T − asin(|cos θ| T) ≥ 0 and asin T + asin(|cos θ| T), without cancellation
    const diff = Math.asin((T * sin2) / (Math.sqrt(1 - T * T * ac * ac) + ac * Math.sqrt(1 - T * T)));
    const sum = am + Math.asin(ac * T);
    const points = g - am; // 0 when q_i = q_j
    out[OMK] = Math.max(0, (points + (cosT >= 0 ? diff : sum)) / g);
    out[OPK] = Math.max(0, (points + (cosT >= 0 ? sum : diff)) / g);
    // (1 + 2q_i)(1 + 2q_j) − 4c² = 1 + 2q_i + 2q_j + 4 q_i q_j sin²θ
    out[DK] = Math.sqrt(Math.sqrt((1 + 4 * qi) * (1 + 4 * qj)) / (1 + 2 * qi + 2 * qj + 4 * qi * qj * sin2));
  },
};

/** `log sinh(y)` for `y > 0` (no overflow). */
function logSinh(y: number): number {
  return y < 20 ? Math.log(Math.sinh(y)) : y - LN2 + Math.log1p(-Math.exp(-2 * y));
}
/** `log cosh(y)` (no overflow). */
function logCosh(y: number): number {
  const a = Math.abs(y);
  return a - LN2 + Math.log1p(Math.exp(-2 * a));
}

/**
 * `sin` and `cos`: `E[sin u sin v] = e^{−(q_i+q_j)/2} sinh c`, `E[cos u cos v] = e^{−(q_i+q_j)/2} cosh c`
 * (Gaussian characteristic function; neural-tangents `stax.Sin`). With `G = sqrt(f(q_i) f(q_j))`
 * (`f` = sinh or cosh), `1 ∓ k̄ = (G − f(m))/G + (f(m) ∓ f(m cos θ))/G`, and the second difference
 * is a product: `sinh m − sinh(m cos θ) = 2 cosh(m k²) sinh(m h²)`, `cosh m − cosh(m cos θ) =
 * 2 sinh(m k²) sinh(m h²)` (and likewise for the sums), computed in log space.
 */
function trigActivation(kind: 'sin' | 'cos'): Activation {
  const isSin = kind === 'sin';
  return {
    name: kind,
    params: {},
    source: 'E[e^{i(u±v)}] = e^{−(q_i + q_j ± 2c)/2} (Gaussian characteristic function); neural-tangents stax.Sin',
    phi: isSin ? Math.sin : Math.cos,
    dphi: isSin ? Math.cos : (x) => -Math.sin(x),
    has_ntk: true,
    homogeneous: null,
    logDiag(logq, out) {
      const q = Math.exp(logq);
      // log((1 − e^{−2q})/2) = log q + log(1 − q + …) for tiny q (q may underflow)
      const s = q < 1e-10 ? logq - q : Math.log(-Math.expm1(-2 * q)) - LN2;
      const c = Math.log1p(Math.exp(-2 * q)) - LN2; // log((1 + e^{−2q})/2)
      out[0] = isSin ? s : c;
      out[1] = isSin ? c : s;
    },
    pair(qi, qj, th, h, k, out) {
      const m = Math.sqrt(qi * qj);
      const cosT = (k - h) * (k + h);
      const lf = isSin ? logSinh : logCosh;
      const lg = isSin ? logCosh : logSinh; // the derivative's function
      const logG = 0.5 * (lf(qi) + lf(qj));
      const points = -Math.expm1(lf(m) - logG);
      const a = m * k * k; // m(1 + cos θ)/2
      const b = m * h * h; // m(1 − cos θ)/2
      const minus = b > 0 ? Math.exp(LN2 + (isSin ? logCosh(a) : logSinh(a)) + logSinh(b) - logG) : 0;
      const plus = a > 0 ? Math.exp(LN2 + (isSin ? logSinh(a) : logCosh(a)) + logCosh(b) - logG) : 0;
      out[OMK] = Math.max(0, points + minus);
      out[OPK] = Math.max(0, points + plus);
      // ḋ = g(m cos θ)/sqrt(g(q_i) g(q_j)), g = cosh (sin) or sinh (cos, odd: sign of cos θ)
      const mc = m * cosT;
      const mag = mc === 0 && !isSin ? 0 : Math.exp(lg(Math.abs(mc)) - 0.5 * (lg(qi) + lg(qj)));
      out[DK] = isSin || mc >= 0 ? mag : -mag;
    },
  };
}

/**
 * `gaussian` = `exp(−x²/2)`: `E[φ(u)φ(v)] = D^{−1/2}`, `E[φ'(u)φ'(v)] = c D^{−3/2}` with
 * `D = (1 + q_i)(1 + q_j) − c² = 1 + q_i + q_j + q_i q_j sin²θ` (Gaussian integral), so with
 * `D₀ = sqrt((1 + 2q_i)(1 + 2q_j))`: `k̄ = sqrt(D₀/D)`, `ḋ = cos θ (D₀/D)^{3/2}`, and
 * `D − D₀ = (q_i − q_j)²/(1 + q_i + q_j + D₀) + q_i q_j sin²θ` ≥ 0 without cancellation.
 */
const GAUSSIAN: Activation = {
  name: 'gaussian',
  params: {},
  source: 'Gaussian integral E[e^{−(u² + v²)/2}] = det(I + Σ)^{−1/2}; Williams 1997 (Gaussian transfer)',
  phi: (x) => Math.exp(-0.5 * x * x),
  dphi: (x) => -x * Math.exp(-0.5 * x * x),
  has_ntk: true,
  homogeneous: null,
  logDiag(logq, out) {
    const q = Math.exp(logq);
    out[0] = -0.5 * Math.log1p(2 * q);
    out[1] = logq - 1.5 * Math.log1p(2 * q);
  },
  pair(qi, qj, _th, h, k, out) {
    const sin2 = 4 * h * h * k * k;
    const d0 = Math.sqrt((1 + 2 * qi) * (1 + 2 * qj));
    const dmd0 = ((qi - qj) * (qi - qj)) / (1 + qi + qj + d0) + qi * qj * sin2;
    const dd = d0 + dmd0;
    const r = Math.sqrt(d0 / dd);
    out[OMK] = dmd0 / (Math.sqrt(dd) * (Math.sqrt(dd) + Math.sqrt(d0)));
    out[OPK] = 1 + r;
    out[DK] = (k - h) * (k + h) * r * r * r;
  },
};

/**
 * `E[φ(u)φ(v)]` and `E[φ'(u)φ'(v)]` of GELU for variances `a`, `b`, covariance `c` (derived here
 * by Gaussian integration by parts, as in Tsuchida et al. 2021, "Avoiding kernel fixed points"):
 * with `φ = x/2 + ψ/2`, `ψ = x erf(x/√2)`, `φ' = ½ + ½(erf(x/√2) + x√(2/π)e^{−x²/2})`,
 * `Δ = (1 + a)(1 + b) − c²`, `P = (2/π)/√Δ`, `A = (2/π) asin(c/√((1 + a)(1 + b)))`:
 * `E[ψψ] = P (ab − a c²/(1 + a) + c²/(1 + b)) + c A`,
 * `E[φ'φ'-part] = A + cP (1/(1 + a) + 1/(1 + b)) + (2/π) c/Δ^{3/2}`.
 */
function geluDual(a: number, b: number, c: number): { k: number; d: number } {
  const delta = (1 + a) * (1 + b) - c * c;
  const P = 2 / PI / Math.sqrt(delta);
  const A = (2 / PI) * Math.asin(Math.max(-1, Math.min(1, c / Math.sqrt((1 + a) * (1 + b)))));
  const psi = P * (a * b - (a * c * c) / (1 + a) + (c * c) / (1 + b)) + c * A;
  const chi = A + c * P * (1 / (1 + a) + 1 / (1 + b)) + ((2 / PI) * c) / (delta * Math.sqrt(delta));
  return { k: c / 4 + psi / 4, d: 0.25 + chi / 4 };
}

/**
 * `gelu` = `x Φ(x)` (Hendrycks & Gimpel 2016), duals of {@link geluDual}. Its normalized duals
 * are formed as `(G ∓ E[φφ])/G`, `G = sqrt(E[φ(u)²] E[φ(v)²])`, which is not cancellation-free
 * near ρ = 1: about 1e-16 absolute on `1 − ρ` per layer (duplicates stay exact).
 */
const GELU: Activation = {
  name: 'gelu',
  params: {},
  source: 'Hendrycks & Gimpel 2016 (GELU); dual by Gaussian integration by parts (Tsuchida et al. 2021)',
  phi: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  dphi: (x) => 0.5 * (1 + erf(x / Math.SQRT2)) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * PI),
  has_ntk: true,
  homogeneous: null,
  logDiag(logq, out) {
    // E[φ²]/q = ¼ + (1/2π)(2q/((1 + q)√(1 + 2q)) + asin(q/(1 + q))), in log space (q may underflow)
    const q = Math.exp(logq);
    const ratio = 0.25 + ((2 * q) / ((1 + q) * Math.sqrt(1 + 2 * q)) + Math.asin(q / (1 + q))) / (2 * PI);
    out[0] = logq + Math.log(ratio);
    out[1] = Math.log(geluDual(q, q, q).d);
  },
  pair(qi, qj, th, h, k, out) {
    if (th === 0 && qi === qj) {
      out[OMK] = 0;
      out[OPK] = 2;
      out[DK] = 1;
      return;
    }
    const cosT = (k - h) * (k + h);
    const ii = geluDual(qi, qi, qi);
    const jj = geluDual(qj, qj, qj);
    const ij = geluDual(qi, qj, cosT * Math.sqrt(qi * qj));
    const g = Math.sqrt(ii.k * jj.k);
    out[OMK] = Math.max(0, (g - ij.k) / g);
    out[OPK] = Math.max(0, (g + ij.k) / g);
    out[DK] = ij.d / Math.sqrt(ii.d * jj.d);
  },
};

/**
 * The error function to ~1 ulp (W. J. Cody's rational approximations are not in the JS standard
 * library): Maclaurin series for |x| < 2, continued fraction of erfc above.
 */
export function erf(x: number): number {
  const a = Math.abs(x);
  let r: number;
  if (a < 2) {
    // erf x = (2/√π) Σ (−1)^n x^{2n+1}/(n!(2n+1))
    const x2 = a * a;
    let term = a;
    let sum = a;
    for (let n = 1; n < 80; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    r = (2 / Math.sqrt(PI)) * sum;
  } else if (a < 27) {
    // erfc x = e^{−x²}/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + …)))) (Lentz)
    let f = a;
    let c = a;
    let d = 0;
    for (let n = 1; n < 300; n++) {
      const an = n / 2;
      d = a + an * d;
      d = d === 0 ? 1e-300 : 1 / d;
      c = a + an / c;
      const delta = c * d;
      f *= delta;
      if (Math.abs(delta - 1) < 1e-16) break;
    }
    r = 1 - Math.exp(-a * a) / (Math.sqrt(PI) * f);
  } else {
    r = 1;
  }
  return x < 0 ? -r : r;
}

/** Names of the closed-form activations (the `activation` param's values). */
export const ACTIVATION_NAMES = ['relu', 'leaky_relu', 'abs', 'erf', 'gelu', 'relu2', 'step', 'sin', 'cos', 'gaussian', 'identity'] as const;
export type ActivationName = (typeof ACTIVATION_NAMES)[number];

/** Activations whose NTK does not exist (φ' is not a function). */
export const NNGP_ONLY: readonly string[] = ['step'];

/** Which activation param each activation needs. */
export const ACTIVATION_PARAMS: Readonly<Record<string, readonly string[]>> = { leaky_relu: ['activation_alpha'] };

/** Every named activation: closed forms, then those by quadrature (`activations-numerical.ts`). */
export const ALL_ACTIVATION_NAMES: readonly string[] = [...ACTIVATION_NAMES, ...NUMERICAL_ACTIVATION_NAMES];

/**
 * The activation of an expression in `x` (`activation-expression.ts`), duals by quadrature.
 * @throws RangeError listing the expression's problems.
 */
export function expressionActivation(text: string): Activation {
  const parsed = parseActivationExpression(text);
  if ('problems' in parsed) throw new RangeError(`activation expression '${text}' ${parsed.problems.join('; ')}`);
  return quadratureActivation({
    name: parsed.canonical,
    source: `expression ${parsed.canonical}, φ' = ${parsed.derivative} (mathjs derivative); duals by 2-D quadrature`,
    phi: parsed.phi,
    dphi: parsed.dphi,
  });
}

/**
 * The activation named `name` with its parameters (`activation_alpha`: slope of `leaky_relu` for
 * `x < 0`, finite): a closed form, a named numerical activation (`tanh`, `softplus`, `swish`,
 * `mish`, `elu`, `selu`), or an expression in `x` (its `name` is then the canonical text).
 * @throws RangeError for an unknown name, an invalid expression or a missing / invalid parameter.
 */
export function activationOf(name: string, params: Readonly<Record<string, unknown>> = {}): Activation {
  switch (name) {
    case 'relu':
      return abFamily('relu', 0, 1, {});
    case 'leaky_relu': {
      const alpha = params.activation_alpha;
      if (typeof alpha !== 'number' || !Number.isFinite(alpha)) {
        throw new RangeError(`activation leaky_relu needs activation_alpha (the slope for x < 0), a finite number; got ${String(alpha)}`);
      }
      return abFamily('leaky_relu', alpha, 1, { activation_alpha: alpha });
    }
    case 'abs':
      return abFamily('abs', -1, 1, {});
    case 'erf':
      return ERF;
    case 'gelu':
      return GELU;
    case 'relu2':
      return RELU2;
    case 'step':
      return STEP;
    case 'sin':
    case 'cos':
      return trigActivation(name);
    case 'gaussian':
      return GAUSSIAN;
    case 'identity':
      return IDENTITY;
    default:
      if (isNumericalActivationName(name)) return numericalActivation(name);
      if (looksLikeExpression(name)) return expressionActivation(name);
      throw new RangeError(`unknown activation '${name}'; expected one of ${ALL_ACTIVATION_NAMES.join(', ')}, or an expression in x such as "x * tanh(log(1 + exp(x)))"`);
  }
}
