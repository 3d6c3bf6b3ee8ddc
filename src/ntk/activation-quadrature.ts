/**
 * Dual maps of any activation φ by numerical expectation (the `activation.ts` interface for
 * activations without a closed form: `tanh`, `softplus`, `swish`, …, and expressions in `x`).
 *
 * For `(u, v) ~ N(0, [[q_i, c], [c, q_j]])`, `c = cos θ sqrt(q_i q_j)`, the Cholesky factor of the
 * 2×2 covariance gives `u = √q_i z₁`, `v = √q_j (cos θ z₁ + sin θ z₂)` with independent standard
 * normals, and a tensor rule in `(z₁, z₂)` computes, with `φ̃ = φ/sqrt(E[φ²])` normalized by the
 * same rule,
 *
 *   1 − k̄ = ½ E[(φ̃(u) − φ̃(v))²],   1 + k̄ = ½ E[(φ̃(u) + φ̃(v))²],   ḋ = E[φ̃'(u) φ̃'(v)]
 *
 * so both complements are sums of non-negative terms (no cancellation as ρ → ±1), and at θ = 0,
 * `v = u` node by node. The factor `sin θ` never enters a square root, so the rule stays accurate
 * as the correlation tends to 1.
 *
 * The rule is the trapezoidal rule for the Gaussian weight, nodes `z = kh`, `|z| ≤ 9`, weights
 * `∝ e^{−z²/2}` summing to 1: for integrands analytic in a strip `|Im z| < δ` its error is
 * `O(e^{−2πδ/h})` (Trefethen & Weideman 2014, "The exponentially convergent trapezoidal rule"),
 * geometric in the number of nodes, where Gauss–Hermite converges only like `e^{−c√m}` for
 * activations with complex poles (tanh, softplus, swish: poles at distance `~π/(2√q)`; accuracy
 * study in `scripts/bench/quadrature-activation.ts`). The step `h` is chosen per variance: the
 * largest of `0.5·2^{−j/2}` at which the 1-D means `E[φ(√q z)²]` and `E[φ'(√q z)²]` agree with the
 * step `h/2` to {@link STEP_TOL}, and at least {@link MIN_STEP}. The diagonal (`logDiag`) uses the
 * same rule, in log space, with the `q → 0` limit taken analytically where `√q` would underflow.
 *
 * Cost: `(18/h)²` evaluations of φ and φ' per pair (about 8,000 for tanh at `q = 1`). When both
 * variances of a pair are equal (inputs on the sphere: one variance per layer), the three
 * normalized duals are instead read from a table over θ built once per variance (piecewise
 * Chebyshev interpolation on `P` panels of `[0, π]`, degree 15, checked against the direct rule at
 * two points per panel and refined until they agree to {@link TABLE_TOL}); the table stores
 * `(1 − k̄)/(2 sin²(θ/2))`, so `1 − k̄` keeps its relative precision as θ → 0, and for odd φ
 * `1 + k̄(θ) = 1 − k̄(π − θ)`.
 */
import { DK, OMK, OPK, type Activation } from './activation.js';

/** What a numerical activation is made of. */
export interface NumericalActivationSpec {
  /** The `activation` param value (a name, or the canonical text of an expression). */
  name: string;
  params?: Readonly<Record<string, number>>;
  source: string;
  phi(x: number): number;
  dphi(x: number): number;
  /** Tolerance of the step choice (default {@link STEP_TOL}); larger values give coarser, cheaper rules. */
  step_tol?: number;
}

/** Agreement of the 1-D means at steps `h` and `h/2` that accepts `h`. */
export const STEP_TOL = 2e-15;
/** Smallest step (289 nodes per dimension): variances at which φ varies on a finer scale lose accuracy. */
export const MIN_STEP = 1 / 16;
/** Half-width of the node range (the Gaussian weight beyond is below 1e-17). */
const Z_MAX = 9;
/** Largest disagreement between a θ table and the direct rule that is accepted. */
export const TABLE_TOL = 1e-13;
/** Pairs of equal variance seen before a table is built for that variance (else the direct rule). */
const TABLE_AFTER = 256;
const TABLE_DEGREE = 15;
const TABLE_MAX_PANELS = 512;
/** Relative tolerance within which two variances are treated as one (a table's error from it is far below TABLE_TOL). */
const SAME_Q = 1e-14;
/** Below this `√q` the diagonal is taken from its `q → 0` limit (`q` may underflow in deep stacks). */
const TINY_SCALE = 1e-80;

/** A trapezoidal rule for N(0, 1): nodes `kh`, `|kh| ≤ Z_MAX`, weights summing to 1. */
export interface TrapezoidRule {
  h: number;
  z: Float64Array;
  w: Float64Array;
}

const rules = new Map<number, TrapezoidRule>();
/** The trapezoidal rule of step `h` (cached). */
export function trapezoidRule(h: number): TrapezoidRule {
  const hit = rules.get(h);
  if (hit) return hit;
  const k = Math.floor(Z_MAX / h);
  const n = 2 * k + 1;
  const rule: TrapezoidRule = { h, z: new Float64Array(n), w: new Float64Array(n) };
  let sum = 0;
  for (let i = 0; i < n; i++) {
    rule.z[i] = (i - k) * h;
    rule.w[i] = Math.exp(-0.5 * rule.z[i] * rule.z[i]);
    sum += rule.w[i];
  }
  for (let i = 0; i < n; i++) rule.w[i] /= sum;
  rules.set(h, rule);
  return rule;
}

/** `E[g(s z)²]` by the rule. */
function meanSquare(rule: TrapezoidRule, g: (x: number) => number, s: number): number {
  let acc = 0;
  for (let a = 0; a < rule.z.length; a++) {
    const v = g(s * rule.z[a]);
    acc += rule.w[a] * v * v;
  }
  return acc;
}

/** φ and φ' at `√q z_a` for the nodes of the rule, normalized (`Σ w φ̃² = 1`). */
interface Nodes {
  f: Float64Array;
  d: Float64Array;
  /** sqrt(Σ w φ(√q z)²), sqrt(Σ w φ'(√q z)²) */
  nf: number;
  nd: number;
}

/** A θ table at one variance: Chebyshev coefficients per panel of A = (1 − k̄)/(2h²), 1 + k̄ (unless odd) and ḋ. */
interface ThetaTable {
  q: number;
  panels: number;
  a: Float64Array;
  b: Float64Array | null;
  d: Float64Array;
}

/** `(D + 1)` Chebyshev coefficients of the values at the first-kind nodes `cos(π(k + ½)/(D + 1))`. */
function chebCoefficients(values: Float64Array, out: Float64Array, off: number): void {
  const n = values.length;
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += values[k] * Math.cos((Math.PI * j * (k + 0.5)) / n);
    out[off + j] = ((j === 0 ? 1 : 2) / n) * s;
  }
}

/** Clenshaw sum of the `n` coefficients at `off` at `t ∈ [−1, 1]`. */
function clenshaw(c: Float64Array, off: number, n: number, t: number): number {
  let b1 = 0;
  let b2 = 0;
  const t2 = 2 * t;
  for (let j = n - 1; j >= 1; j--) {
    const b0 = t2 * b1 - b2 + c[off + j];
    b2 = b1;
    b1 = b0;
  }
  return t * b1 - b2 + c[off];
}

/** Whether φ is odd (to rounding) on a grid: then `k̄(π − θ) = −k̄(θ)`. */
function isOdd(phi: (x: number) => number): boolean {
  for (let x = 0.01; x < 30; x *= 1.37) {
    const a = phi(x);
    const b = phi(-x);
    if (!(Math.abs(a + b) <= 1e-15 * Math.abs(a))) return false;
  }
  return true;
}

/**
 * Build an {@link Activation} whose duals come from Gauss–Hermite quadrature (module comment).
 * The NTK exists (`has_ntk`): φ' must be a function, finite where φ is evaluated (the expression
 * checks in `activation-expression.ts` make sure of that for user expressions).
 * @throws RangeError when a dual is not finite (e.g. φ grows too fast for the variance reached).
 */
export function quadratureActivation(spec: NumericalActivationSpec): Activation {
  const { phi, dphi } = spec;
  const stepTol = spec.step_tol ?? STEP_TOL;
  const odd = isOdd(phi);
  const nodeCache = new Map<string, Nodes>();
  const stepCache = new Map<number, TrapezoidRule>();
  const tables: ThetaTable[] = [];
  const seen = new Map<number, number>();
  let current: ThetaTable | null = null;

  /** The rule for variance `q` (module comment: the step at which the 1-D means have converged). */
  function ruleFor(q: number): TrapezoidRule {
    const hit = stepCache.get(q);
    if (hit) return hit;
    const s = Math.sqrt(q);
    let j = 0;
    for (; 0.5 * 2 ** (-j / 2) > MIN_STEP; j++) {
      const h = 0.5 * 2 ** (-j / 2);
      let ok = true;
      for (const g of [phi, dphi]) {
        const a = meanSquare(trapezoidRule(h), g, s);
        const b = meanSquare(trapezoidRule(h / 2), g, s);
        if (!(Math.abs(a - b) <= stepTol * b)) ok = false;
      }
      if (ok) break;
    }
    const rule = trapezoidRule(Math.max(MIN_STEP, 0.5 * 2 ** (-j / 2)));
    if (stepCache.size > 4096) stepCache.clear();
    stepCache.set(q, rule);
    return rule;
  }

  function nodesAt(q: number, rule: TrapezoidRule): Nodes {
    const key = `${q} ${rule.h}`;
    const hit = nodeCache.get(key);
    if (hit) return hit;
    const m = rule.z.length;
    const s = Math.sqrt(q);
    const f = new Float64Array(m);
    const d = new Float64Array(m);
    let sf = 0;
    let sd = 0;
    for (let a = 0; a < m; a++) {
      f[a] = phi(s * rule.z[a]);
      d[a] = dphi(s * rule.z[a]);
      sf += rule.w[a] * f[a] * f[a];
      sd += rule.w[a] * d[a] * d[a];
    }
    const nf = Math.sqrt(sf);
    const nd = Math.sqrt(sd);
    for (let a = 0; a < m; a++) {
      f[a] /= nf;
      d[a] /= nd;
    }
    const out = { f, d, nf, nd };
    if (nodeCache.size > 4096) nodeCache.clear();
    nodeCache.set(key, out);
    return out;
  }

  /** The direct tensor rule (module comment) for the pair. */
  function direct(qi: number, qj: number, cosT: number, sinT: number, out: Float64Array): void {
    const ri = ruleFor(qi);
    const rj = ruleFor(qj);
    const rule = ri.h <= rj.h ? ri : rj;
    const I = nodesAt(qi, rule);
    const J = nodesAt(qj, rule);
    const sq = Math.sqrt(qj);
    const { z, w } = rule;
    const m = z.length;
    const wMin = 1e-18 * w[(m - 1) >> 1];
    let omk = 0;
    let opk = 0;
    let dd = 0;
    for (let a = 0; a < m; a++) {
      const fa = I.f[a];
      const base = cosT * z[a];
      const cut = wMin / w[a]; // nodes whose joint weight is below 1e-18 of the largest are left out
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let b = 0; b < m; b++) {
        if (w[b] < cut) continue;
        const v = sq * (base + sinT * z[b]);
        const fv = phi(v) / J.nf;
        const e = fa - fv;
        const p = fa + fv;
        s1 += w[b] * e * e;
        s2 += w[b] * p * p;
        s3 += w[b] * dphi(v);
      }
      omk += w[a] * s1;
      opk += w[a] * s2;
      dd += w[a] * I.d[a] * s3;
    }
    out[OMK] = 0.5 * omk;
    out[OPK] = 0.5 * opk;
    out[DK] = dd / J.nd;
    if (!(Number.isFinite(out[OMK]) && Number.isFinite(out[OPK]) && Number.isFinite(out[DK]))) {
      throw new RangeError(`activation ${spec.name}: its dual is not finite at variances ${qi}, ${qj} (φ or φ' overflows there)`);
    }
  }

  /** Fill panel values of the table at variance `q` with `panels` panels; returns null when the midpoint check fails. */
  function buildTable(q: number, panels: number): ThetaTable | null {
    const n = TABLE_DEGREE + 1;
    const t: ThetaTable = { q, panels, a: new Float64Array(panels * n), b: odd ? null : new Float64Array(panels * n), d: new Float64Array(panels * n) };
    const va = new Float64Array(n);
    const vb = new Float64Array(n);
    const vd = new Float64Array(n);
    const o = new Float64Array(3);
    const width = Math.PI / panels;
    for (let p = 0; p < panels; p++) {
      const mid = (p + 0.5) * width;
      for (let k = 0; k < n; k++) {
        const th = mid + 0.5 * width * Math.cos((Math.PI * (k + 0.5)) / n);
        const h = Math.sin(0.5 * th);
        direct(q, q, Math.cos(th), Math.sin(th), o);
        va[k] = o[OMK] / (2 * h * h);
        vb[k] = o[OPK];
        vd[k] = o[DK];
      }
      chebCoefficients(va, t.a, p * n);
      if (t.b) chebCoefficients(vb, t.b, p * n);
      chebCoefficients(vd, t.d, p * n);
    }
    // check: between the nodes, at two points per panel
    const got = new Float64Array(3);
    for (let p = 0; p < panels; p++) {
      for (const f of [0.37, 0.81]) {
        const th = (p + f) * width;
        direct(q, q, Math.cos(th), Math.sin(th), o);
        fromTable(t, th, Math.sin(0.5 * th), Math.cos(0.5 * th), got);
        for (let s = 0; s < 3; s++) if (!(Math.abs(got[s] - o[s]) <= TABLE_TOL * Math.max(1, Math.abs(o[s])))) return null;
      }
    }
    return t;
  }

  function tableFor(q: number): ThetaTable | null {
    for (const t of tables) if (Math.abs(t.q - q) <= SAME_Q * q) return t;
    const key = Math.round(Math.log(q) * 1e13);
    const count = (seen.get(key) ?? 0) + 1;
    seen.set(key, count);
    if (count < TABLE_AFTER) return null;
    seen.delete(key);
    let t: ThetaTable | null = null;
    for (let panels = 8; panels <= TABLE_MAX_PANELS && t === null; panels *= 2) t = buildTable(q, panels);
    // a variance whose duals no table resolves keeps the direct rule: remember it as a table-less entry
    const entry = t ?? { q, panels: 0, a: new Float64Array(0), b: null, d: new Float64Array(0) };
    tables.unshift(entry);
    if (tables.length > 8) tables.pop();
    return entry;
  }

  function fromTable(t: ThetaTable, th: number, h: number, k: number, out: Float64Array): void {
    const n = TABLE_DEGREE + 1;
    const width = Math.PI / t.panels;
    const p = Math.min(t.panels - 1, Math.floor(th / width));
    const x = (th - (p + 0.5) * width) / (0.5 * width);
    out[OMK] = 2 * h * h * clenshaw(t.a, p * n, n, x);
    if (t.b) {
      out[OPK] = clenshaw(t.b, p * n, n, x);
    } else {
      // odd φ: 1 + k̄(θ) = 1 − k̄(π − θ) = 2 cos²(θ/2) A(π − θ)
      const th2 = Math.PI - th;
      const p2 = Math.min(t.panels - 1, Math.floor(th2 / width));
      out[OPK] = 2 * k * k * clenshaw(t.a, p2 * n, n, (th2 - (p2 + 0.5) * width) / (0.5 * width));
    }
    out[DK] = clenshaw(t.d, p * n, n, x);
  }

  /** log E[g(√q z)²] by the rule of q; g(0) = 0 is scaled out when √q is tiny. */
  function logMeanSquare(g: (x: number) => number, logq: number): number {
    let s = Math.exp(0.5 * logq);
    let shift = 0;
    if (s < TINY_SCALE && g(0) === 0) {
      shift = logq - 2 * Math.log(TINY_SCALE);
      s = TINY_SCALE;
    }
    return Math.log(meanSquare(ruleFor(s * s), g, s)) + shift;
  }

  return {
    name: spec.name,
    params: spec.params ?? {},
    source: spec.source,
    phi,
    dphi,
    has_ntk: true,
    homogeneous: null,
    dual_accuracy: TABLE_TOL,
    logDiag(logq, out) {
      out[0] = logMeanSquare(phi, logq);
      out[1] = logMeanSquare(dphi, logq);
      if (!(Number.isFinite(out[0]) && Number.isFinite(out[1]))) {
        throw new RangeError(`activation ${spec.name}: E[φ²] or E[φ'²] is not finite or zero at variance exp(${logq})`);
      }
    },
    pair(qi, qj, th, h, k, out) {
      const cosT = (k - h) * (k + h);
      const sinT = 2 * h * k;
      if (Math.abs(qi - qj) <= SAME_Q * qi) {
        let t = current;
        if (t === null || !(Math.abs(t.q - qi) <= SAME_Q * qi)) {
          t = tableFor(qi);
          if (t !== null) current = t;
        }
        if (t !== null && t.panels > 0) {
          fromTable(t, th, h, k, out);
          return;
        }
      }
      direct(qi, qj, cosT, sinT, out);
    },
  };
}
