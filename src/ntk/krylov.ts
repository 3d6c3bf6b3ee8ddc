/**
 * Krylov (block Lanczos) evaluation of kernel gradient-flow predictions and of extreme kernel
 * eigenvalues, for train sets too large for one `O(N³)` eigendecomposition per depth.
 * Same quantities as {@link gradientFlowPredict} (`predict.ts`, docs/conventions.md §8):
 *
 *   x_t = A⁻¹ (I − e^{−A t/N}) r = f_t(A) r,   A = K + δI,   f_t(μ) = (1 − e^{−μ t/N})/μ,
 *   f_t(X) − f_0(X) = K x_t = h_t(A) r,  h_t(μ) = (μ − δ) f_t(μ),   f_t(x) − f_0(x) = K(x, X) x_t,
 *
 * with the eigenvalue handling of {@link flowWeight} (`|μ| ≤ N ε max|μ|` counts as zero).
 *
 * Method (Golub & Van Loan, *Matrix Computations*, 4th ed., §10.3 block Lanczos; Saad,
 * *Iterative Methods for Sparse Linear Systems*, 2nd ed., §6.6; the Lanczos approximation of a
 * matrix function `f(A) b ≈ Q f(T) Qᵀ b`, Higham, *Functions of Matrices*, §13.2):
 *
 * - The `k` right-hand sides (label columns) start one **block** Krylov space
 *   `span{R, AR, A²R, …}`; one basis `Q` (`s` orthonormal vectors) and its Rayleigh quotient
 *   `T = QᵀAQ` (`s × s`, banded) serve **every** `t`: `x_t ≈ Q f_t(T) Qᵀ R`, from one small
 *   eigendecomposition of `T` per convergence check. Cost `O(N² s)` for the products with `A`
 *   (as `gemm` with `k` columns) plus `O(N s²)` for the orthogonalization.
 * - Full reorthogonalization (block classical Gram–Schmidt, twice) against the whole basis, so `T`
 *   is the true Rayleigh quotient and no spurious Ritz copies appear. Linearly dependent
 *   directions (e.g. one-hot-minus-1/k label columns sum to 0) are deflated.
 * - Convergence: at geometrically spaced checks (basis grown by ≥ 25 %), the coefficients
 *   `f_t(T) Qᵀ R` are compared with those of the previous check; the relative Frobenius change
 *   is the error estimate `err_est` (the standard a-posteriori estimate for Lanczos matrix
 *   functions). A `t` is converged when `err_est ≤ tol` for both `f_t` and `h_t`.
 * - Large `t` (`f_t ≈ 1/μ`) converge slowly on the spectrum of `A` (about `sqrt(λ_max/λ_min)`
 *   steps). When a Cholesky factor of `A + σI` is available (LAPACK `dpotrf`/`dpotrs`; σ = 0, or
 *   a small σ > 0 for a singular A), a **shift-invert** Lanczos process on `(A + σI)⁻¹` runs
 *   alongside for the `t` with `t λ_max/N ≥ 10` (`f_t(μ)` as a function of `ν = 1/(μ + σ)` is
 *   smooth where large `t` are hard; small `t` are resolved badly there), and each `t` takes the
 *   process that converges first. `t = ∞` is the direct solve `x = A⁻¹ r` when σ = 0, else
 *   Lanczos with `f(μ) = 1/μ` (0 on numerically zero modes: the pseudo-inverse, as the
 *   eigendecomposition path).
 * - Accuracy target (checked against the eigendecomposition path in `test/ntk-krylov.test.ts`
 *   and `test/kernel-task.test.ts`): relative error ≤ 1e-6 of the predictions at every converged
 *   `t`; measured 1e-8…1e-14 on MNIST NTKs with the default `tol = 1e-8`.
 *
 * Vectors are stored as **rows**: a block of `p` vectors of length `n` is a row-major `[p, n]`
 * `Float64Array`; for a symmetric `A` the product of every vector with `A` is the row-major
 * product `V·A`, one `gemm` with no transposes.
 */
import { linalg } from '../linalg/index.js';
import { makeRng } from '../data/rng.js';
import { flowWeight, type GradientFlowPrediction } from './predict.js';

/** A symmetric linear operator `A` on `Rⁿ`, applied to blocks of vectors stored as rows. */
export interface SymOp {
  /** Dimension n. */
  readonly n: number;
  /**
   * `out[i, :] = A · v[i, :]` for the `rows` rows of `v` (`[rows, n]` row-major); `out` is
   * `[rows, n]`, overwritten, and does not alias `v`. `v` is not modified.
   */
  apply(v: Float64Array, rows: number, out: Float64Array): void;
}

/** Diagonal scaling of an operator: a scalar `c` (`c·B`), or per-point `s` (`D B D`, `D = diag(s)`). */
export type OpScale = number | Float64Array;

function checkScale(where: string, n: number, scale: OpScale | undefined): void {
  if (scale === undefined) return;
  if (typeof scale === 'number') {
    if (!(Number.isFinite(scale) && scale > 0)) throw new RangeError(`${where}: scale must be finite and > 0, got ${scale}`);
  } else if (scale.length !== n) {
    throw new RangeError(`${where}: scale has length ${scale.length}, expected n = ${n}`);
  }
}

/**
 * The operator `A = D B D + shift·I` (or `c·B + shift·I` for a scalar scale) of the dense
 * symmetric `[n, n]` row-major matrix `b` (both triangles read; not modified, not copied).
 * One `apply` of `p` rows costs one `gemm` `[p, n] × [n, n]` (`2pn²` flops) plus `O(pn)`.
 * @throws RangeError on a wrong length of `b` or `scale`, a non-positive scale, or a
 *   non-finite shift.
 */
export function denseSymOp(n: number, b: Float64Array, options: { scale?: OpScale; shift?: number } = {}): SymOp {
  if (!(Number.isInteger(n) && n >= 1) || b.length !== n * n) {
    throw new RangeError(`denseSymOp: b has length ${b.length}, expected n² for n = ${n}`);
  }
  const { scale, shift = 0 } = options;
  checkScale('denseSymOp', n, scale);
  if (!Number.isFinite(shift)) throw new RangeError(`denseSymOp: shift must be finite, got ${shift}`);
  let tmp = new Float64Array(0);
  return {
    n,
    apply(v, rows, out) {
      if (rows === 0) return;
      if (scale === undefined || typeof scale === 'number') {
        linalg().gemm(false, false, rows, n, n, scale ?? 1, v, b, 0, out);
      } else {
        if (tmp.length < rows * n) tmp = new Float64Array(rows * n);
        for (let i = 0; i < rows; i++) {
          const o = i * n;
          for (let j = 0; j < n; j++) tmp[o + j] = v[o + j] * scale[j];
        }
        linalg().gemm(false, false, rows, n, n, 1, tmp, b, 0, out);
        for (let i = 0; i < rows; i++) {
          const o = i * n;
          for (let j = 0; j < n; j++) out[o + j] *= scale[j];
        }
      }
      if (shift !== 0) for (let i = 0; i < rows * n; i++) out[i] += shift * v[i];
    },
  };
}

/**
 * The inverse `A⁻¹ = D⁻¹ B⁻¹ D⁻¹` (or `B⁻¹/c`) of `A = D B D` (or `c·B`), given the Cholesky
 * factor `l` of `B` (`B = L Lᵀ`, `linalg().cholesky` layout: `[n, n]` row-major lower). One
 * `apply` of `p` rows is one `linalg().choleskySolve` with `p` right-hand sides (LAPACK `dpotrs`:
 * two triangular solves, `2pn²` flops) plus two `[p, n]` transposes.
 * @throws RangeError on a wrong length of `l` or `scale`, or a non-positive scale.
 */
export function choleskyInverseOp(n: number, l: Float64Array, options: { scale?: OpScale } = {}): SymOp {
  if (!(Number.isInteger(n) && n >= 1) || l.length !== n * n) {
    throw new RangeError(`choleskyInverseOp: l has length ${l.length}, expected n² for n = ${n}`);
  }
  const { scale } = options;
  checkScale('choleskyInverseOp', n, scale);
  let buf = new Float64Array(0);
  return {
    n,
    apply(v, rows, out) {
      if (rows === 0) return;
      if (buf.length < rows * n) buf = new Float64Array(rows * n);
      const b = buf.subarray(0, rows * n);
      const s = scale instanceof Float64Array ? scale : null;
      // b [n, rows] = (D⁻¹ v)ᵀ
      for (let i = 0; i < rows; i++) {
        const o = i * n;
        if (s) for (let j = 0; j < n; j++) b[j * rows + i] = v[o + j] / s[j];
        else for (let j = 0; j < n; j++) b[j * rows + i] = v[o + j];
      }
      linalg().choleskySolve(n, l, rows, b);
      const inv = typeof scale === 'number' ? 1 / scale : 1;
      for (let i = 0; i < rows; i++) {
        const o = i * n;
        if (s) for (let j = 0; j < n; j++) out[o + j] = b[j * rows + i] / s[j];
        else if (inv !== 1) for (let j = 0; j < n; j++) out[o + j] = b[j * rows + i] * inv;
        else for (let j = 0; j < n; j++) out[o + j] = b[j * rows + i];
      }
    },
  };
}

/**
 * Threshold, relative to a new vector's own norm (`‖A q‖`, or a start vector's norm), below which
 * its remainder after orthogonalization counts as linearly dependent and is deflated. Relative
 * to the vector, not to `‖A‖`: a threshold relative to `‖A‖` also deflates the small-eigenvalue
 * directions of an operator with a wide spectrum (e.g. a shift-invert operator, whose norm is
 * `1/σ`), which ends the iteration early with wrong results. Numerically null directions of a
 * singular A are therefore not deflated: they cost iterations, not accuracy.
 */
const DEFLATION_TOL = 1e-13;

/**
 * An orthonormal basis of the block Krylov space `span{S, AS, A²S, …}` of the `k` start vectors
 * `S` (rows), built by block Lanczos with full reorthogonalization, and the Rayleigh quotient
 * `T = Q A Qᵀ` of its processed part (rows of `Q` are the basis vectors).
 *
 * Invariants after every {@link step}: rows `0 .. processed − 1` of `q` are orthonormal, their
 * images under `A` are known, and `A Q_pᵀ = Q_pᵀ T + Q_newᵀ B` where `Q_new` (rows
 * `processed .. size − 1`) is the newest, not yet processed block and `B = lastB`
 * (`[size − processed, p_last]`). `size === processed` means an invariant subspace was found
 * (the Krylov space is exhausted: results are exact up to rounding).
 */
export class BlockKrylovBasis {
  /** Basis vectors as rows, capacity `[capacity + k, n]`. */
  readonly q: Float64Array;
  /** Rayleigh quotient, dense `[cap, cap]` with row stride `cap = capacity + k`. */
  private readonly t: Float64Array;
  private readonly cap: number;
  /** Rows of `q` in use (processed + newest block). */
  size = 0;
  /** Rows of `q` whose images under A are known (the dimension of `T`). */
  processed = 0;
  /** Start of the last processed block. */
  private lastStart = 0;
  /** Coupling of the newest block to the last processed one, `[size − processed, processed − lastStart]`. */
  lastB: Float64Array = new Float64Array(0);
  /** Start block coefficients `[p0, k]`: `S = B0ᵀ · q[0 .. p0 − 1]`. */
  readonly b0: Float64Array;
  /** Number of independent start vectors. */
  readonly p0: number;
  /** Number of `A` applications (in vectors, i.e. block size summed over steps). */
  matvecs = 0;
  private w: Float64Array;

  /**
   * @param op the operator A.
   * @param start the `k` start vectors as rows, `[k, n]` (not modified).
   * @param k number of start vectors ≥ 1.
   * @param capacity largest basis dimension (rows) that {@link step} may reach before it refuses.
   * @throws RangeError on inconsistent sizes.
   */
  constructor(
    readonly op: SymOp,
    start: Float64Array,
    readonly k: number,
    readonly capacity: number,
  ) {
    const n = op.n;
    if (!(Number.isInteger(k) && k >= 1) || start.length !== k * n) {
      throw new RangeError(`BlockKrylovBasis: start has length ${start.length}, expected [k, n] = [${k}, ${n}]`);
    }
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new RangeError(`BlockKrylovBasis: capacity must be an integer >= 1, got ${capacity}`);
    this.cap = Math.min(capacity, n) + k;
    this.q = new Float64Array(this.cap * n);
    this.t = new Float64Array(this.cap * this.cap);
    this.w = new Float64Array(k * n);
    const norms = new Float64Array(k);
    for (let i = 0; i < k; i++) norms[i] = rowNorm(start, i, n);
    this.w.set(start);
    const { count, coef } = this.orthonormalizeNew(this.w, k, norms, 0);
    this.b0 = coef.subarray(0, count * k);
    this.p0 = count;
    this.size = count;
  }

  /** Whether the Krylov space is exhausted (an invariant subspace: results are exact). */
  get exhausted(): boolean {
    return this.size === this.processed && this.processed > 0;
  }

  /** Whether another {@link step} is possible (not exhausted, capacity left). */
  canStep(): boolean {
    const p = this.size - this.processed;
    return p > 0 && this.size + p <= this.cap;
  }

  /**
   * Process the newest block: apply A, orthogonalize against the whole basis (twice), record the
   * projections in `T`, and append the orthonormalized remainder as the next block.
   * @throws Error if {@link canStep} is false.
   */
  step(): void {
    if (!this.canStep()) throw new Error('BlockKrylovBasis.step: exhausted or at capacity');
    const n = this.op.n;
    const a = this.processed;
    const p = this.size - a;
    const s = this.size;
    const la = linalg();
    if (this.w.length < p * n) this.w = new Float64Array(p * n);
    const w = this.w.subarray(0, p * n);
    this.op.apply(this.q.subarray(a * n, s * n), p, w);
    this.matvecs += p;
    const norms = new Float64Array(p);
    for (let i = 0; i < p; i++) norms[i] = rowNorm(w, i, n);
    const qs = this.q.subarray(0, s * n);
    // block classical Gram–Schmidt, twice: H = Q Wᵀ, W ← W − Hᵀ Q
    const h = new Float64Array(s * p);
    const h2 = new Float64Array(s * p);
    la.gemm(false, true, s, p, n, 1, qs, w, 0, h);
    la.gemm(true, false, p, n, s, -1, h, qs, 1, w);
    la.gemm(false, true, s, p, n, 1, qs, w, 0, h2);
    la.gemm(true, false, p, n, s, -1, h2, qs, 1, w);
    for (let i = 0; i < h.length; i++) h[i] += h2[i];
    const cap = this.cap;
    for (let i = 0; i < s; i++) {
      for (let j = 0; j < p; j++) {
        const v = i >= a ? 0.5 * (h[i * p + j] + h[(a + j) * p + (i - a)]) : h[i * p + j];
        this.t[i * cap + a + j] = v;
        this.t[(a + j) * cap + i] = v;
      }
    }
    this.processed = s;
    this.lastStart = a;
    const { count, coef } = this.orthonormalizeNew(w, p, norms, s);
    for (let i = 0; i < count; i++) {
      for (let j = 0; j < p; j++) {
        this.t[(s + i) * cap + a + j] = coef[i * p + j];
        this.t[(a + j) * cap + s + i] = coef[i * p + j];
      }
    }
    this.lastB = coef.subarray(0, count * p);
    this.size = s + count;
  }

  /**
   * Orthonormalize the `p` rows of `w` (already orthogonal to rows `0 .. s − 1` of `q`, or
   * `s = 0`) by modified Gram–Schmidt, twice, dropping rows whose remainder has norm
   * `≤ DEFLATION_TOL · norms[i]` (the row's norm before any orthogonalization); accepted rows are cleaned once more against the whole basis
   * and written to `q` from row `s`. Returns the count and `coef` `[count, p]` with
   * `w_i = Σ_l coef[l, i] · q_{s+l}`.
   */
  private orthonormalizeNew(w: Float64Array, p: number, norms: Float64Array, s: number): { count: number; coef: Float64Array } {
    const n = this.op.n;
    const q = this.q;
    const coef = new Float64Array(p * p);
    let count = 0;
    for (let i = 0; i < p; i++) {
      const dst = (s + count) * n;
      q.set(w.subarray(i * n, (i + 1) * n), dst);
      for (let pass = 0; pass < 2; pass++) {
        for (let l = 0; l < count; l++) {
          const src = (s + l) * n;
          let c = 0;
          for (let j = 0; j < n; j++) c += q[src + j] * q[dst + j];
          for (let j = 0; j < n; j++) q[dst + j] -= c * q[src + j];
          coef[l * p + i] += c;
        }
      }
      const nu = rowNorm(q, s + count, n);
      if (nu > DEFLATION_TOL * norms[i] && nu > 0 && Number.isFinite(nu)) {
        const inv = 1 / nu;
        for (let j = 0; j < n; j++) q[dst + j] *= inv;
        coef[count * p + i] = nu;
        count++;
      }
    }
    if (count > 0 && s > 0) {
      // one more projection of the new rows against the old basis (rounding of the in-block
      // step), then renormalize; the coefficients are at rounding level and are dropped.
      const la = linalg();
      const qs = q.subarray(0, s * n);
      const nw = q.subarray(s * n, (s + count) * n);
      const hh = new Float64Array(s * count);
      la.gemm(false, true, s, count, n, 1, qs, nw, 0, hh);
      la.gemm(true, false, count, n, s, -1, hh, qs, 1, nw);
      for (let i = 0; i < count; i++) {
        const dst = (s + i) * n;
        for (let l = 0; l < i; l++) {
          const src = (s + l) * n;
          let c = 0;
          for (let j = 0; j < n; j++) c += q[src + j] * q[dst + j];
          for (let j = 0; j < n; j++) q[dst + j] -= c * q[src + j];
        }
        const inv = 1 / rowNorm(q, s + i, n);
        for (let j = 0; j < n; j++) q[dst + j] *= inv;
      }
    }
    // zero the rows of q that the rejected candidates used
    q.fill(0, (s + count) * n, Math.min(q.length, (s + p) * n));
    return { count, coef };
  }

  /**
   * Eigendecomposition of the processed Rayleigh quotient `T` (`linalg().eigh`, ascending),
   * and the residual norm `‖A y − θ y‖` of every Ritz pair (`y = Qᵀ S_j`): `‖B · S[last block, j]‖`
   * (0 when exhausted).
   */
  ritz(): { s: number; values: Float64Array; vectors: Float64Array; residuals: Float64Array } {
    const s = this.processed;
    const tc = new Float64Array(s * s);
    for (let i = 0; i < s; i++) tc.set(this.t.subarray(i * this.cap, i * this.cap + s), i * s);
    const { values, vectors } = linalg().eigh(s, tc);
    const residuals = new Float64Array(s);
    const pl = s - this.lastStart;
    const pn = this.size - this.processed;
    if (pn > 0) {
      for (let j = 0; j < s; j++) {
        let sq = 0;
        for (let r = 0; r < pn; r++) {
          let v = 0;
          for (let c = 0; c < pl; c++) v += this.lastB[r * pl + c] * vectors[(this.lastStart + c) * s + j];
          sq += v * v;
        }
        residuals[j] = Math.sqrt(sq);
      }
    }
    return { s, values, vectors, residuals };
  }

  /**
   * Coefficients `C = φ(T) E₁ B0` (`[s, k]`, `s = processed`) of `φ(A) S ≈ Q_pᵀ C` for each
   * vectorized scalar function `φ` (given all Ritz values, returns `φ(θ_j)`), from one
   * {@link ritz} decomposition.
   */
  functionCoefficients(r: ReturnType<BlockKrylovBasis['ritz']>, fns: readonly ((theta: Float64Array) => Float64Array)[]): Float64Array[] {
    const { s, values, vectors } = r;
    const k = this.k;
    const la = linalg();
    // Z = S[0:p0, :]ᵀ B0  [s, k]
    const z = new Float64Array(s * k);
    if (this.p0 > 0) la.gemm(true, false, s, k, this.p0, 1, vectors.subarray(0, this.p0 * s), this.b0, 0, z);
    const fz = new Float64Array(s * k);
    return fns.map((fn) => {
      const f = fn(values);
      for (let j = 0; j < s; j++) for (let c = 0; c < k; c++) fz[j * k + c] = f[j] * z[j * k + c];
      const out = new Float64Array(s * k);
      la.gemm(false, false, s, k, s, 1, vectors, fz, 0, out);
      return out;
    });
  }

  /** Rows `[k, n]` of `Q_pᵀ C` for coefficients `C` `[s, k]` (`s ≤ processed`). */
  combine(c: Float64Array, s: number): Float64Array {
    const n = this.op.n;
    const out = new Float64Array(this.k * n);
    if (s > 0) linalg().gemm(true, false, this.k, n, s, 1, c, this.q.subarray(0, s * n), 0, out);
    return out;
  }
}

function rowNorm(a: Float64Array, row: number, n: number): number {
  // scaled sum of squares (no overflow/underflow for any finite row)
  let scale = 0;
  let ssq = 1;
  const o = row * n;
  for (let j = 0; j < n; j++) {
    const v = Math.abs(a[o + j]);
    if (v === 0) continue;
    if (scale < v) {
      ssq = 1 + ssq * (scale / v) * (scale / v);
      scale = v;
    } else {
      ssq += (v / scale) * (v / scale);
    }
  }
  return scale * Math.sqrt(ssq);
}

/** Relative Frobenius change `‖c − [prev; 0]‖/‖c‖` (`c` `[s, k]`, `prev` `[sPrev, k]`, sPrev ≤ s). */
function relChange(c: Float64Array, prev: Float64Array | undefined): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < c.length; i++) {
    const d = c[i] - (prev !== undefined && i < prev.length ? prev[i] : 0);
    num += d * d;
    den += c[i] * c[i];
  }
  if (den === 0) return num === 0 ? 0 : Infinity;
  return Math.sqrt(num / den);
}

/** Options of the Lanczos iterations. */
export interface LanczosOptions {
  /** Convergence tolerance (relative change of the coefficients; relative residual for eigenvalues). */
  tol?: number;
  /** Largest basis dimension. */
  max_dim?: number;
  /** Checked before every block step; throws `signal.reason` once aborted. */
  signal?: AbortSignal;
}

/** Extreme eigenvalues of a symmetric operator by single-vector Lanczos ({@link lanczosExtremes}). */
export interface LanczosExtremes {
  /** Largest Ritz value (a lower bound on `λ_max`). */
  max: number;
  /** Smallest Ritz value (an upper bound on `λ_min`). */
  min: number;
  /** Residual norm `‖A y − θ y‖` of the largest Ritz pair; some eigenvalue lies within it of `max`. */
  resid_max: number;
  /** Residual norm of the smallest Ritz pair. */
  resid_min: number;
  /** Basis dimension used. */
  dim: number;
  /** Whether the requested extreme(s) met `resid ≤ tol·|θ|`. */
  converged: boolean;
}

/**
 * Extreme eigenvalues of the symmetric operator `op` by (block) Lanczos with full
 * reorthogonalization from `block` seeded random start vectors (`makeRng({ purpose:
 * 'lanczos-extremes', n, seed, block })`, deterministic; default 1). A block of a few vectors
 * costs about as much per step as one when `op` is memory-bound (a dense `[n, n]` product or
 * Cholesky solve reads the matrix once per step) and needs fewer steps. Stops when the requested extreme Ritz value(s) have residual
 * `‖A y − θ y‖ ≤ tol·|θ|` (default `tol = 1e-10`; by the Kato–Temple/Weyl bounds the eigenvalue
 * error is at most the residual, and about residual²/gap for an isolated eigenvalue), or at
 * `max_dim` (default `300·block`). Cost: `dim/block` applications of `op` (`block` vectors
 * each) plus `O(n·dim²)`.
 * @throws RangeError on bad options.
 */
export function lanczosExtremes(
  op: SymOp,
  options: LanczosOptions & { which?: 'max' | 'min' | 'both'; seed?: number; block?: number } = {},
): LanczosExtremes {
  const n = op.n;
  const tol = options.tol ?? 1e-10;
  const block = Math.max(1, Math.min(n, options.block ?? 1));
  const maxDim = Math.min(n, options.max_dim ?? 300 * block);
  const which = options.which ?? 'both';
  if (!(tol > 0) || !(maxDim >= 1)) throw new RangeError(`lanczosExtremes: need tol > 0 and max_dim >= 1`);
  const start = makeRng({ purpose: 'lanczos-extremes', n, seed: options.seed ?? 0, block }).fillNormal(new Float64Array(block * n));
  const basis = new BlockKrylovBasis(op, start, block, maxDim);
  let nextCheck = 8 * block;
  for (;;) {
    options.signal?.throwIfAborted();
    const can = basis.canStep() && basis.processed < maxDim;
    if (can) basis.step();
    if (!can || basis.processed >= nextCheck || basis.exhausted) {
      const r = basis.ritz();
      const s = r.s;
      const out: LanczosExtremes = {
        max: r.values[s - 1],
        min: r.values[0],
        resid_max: r.residuals[s - 1],
        resid_min: r.residuals[0],
        dim: s,
        converged: false,
      };
      const okMax = out.resid_max <= tol * Math.abs(out.max);
      const okMin = out.resid_min <= tol * Math.abs(out.min);
      out.converged = which === 'max' ? okMax : which === 'min' ? okMin : okMax && okMin;
      if (out.converged || !can || basis.exhausted) return out;
      nextCheck = Math.max(basis.processed + 4 * block, Math.ceil(basis.processed * 1.25));
    }
  }
}

/** Inputs of {@link krylovGradientFlow}. */
export interface KrylovFlowInput {
  /** N, number of training points (the loss normalization `1/(2N)`). */
  n_train: number;
  /** m, number of test points (0 allowed). */
  n_test: number;
  /** k, number of outputs. */
  n_out: number;
  /** `A = K + δI` on the training points (`n = N`). */
  op: SymOp;
  /**
   * `(A + σI)⁻¹` with σ = `inverse_shift` (e.g. {@link choleskyInverseOp} of a Cholesky factor),
   * or null when no factor is available.
   */
  inverse?: SymOp | null;
  /**
   * Shift σ ≥ 0 of `inverse` (default 0). A singular or numerically indefinite A (duplicate
   * points, linear kernels with N > d) has no Cholesky factor, but `A + σI` with a small σ (the
   * kernel task uses `1e-8 λ_max`) has; the shift-invert process maps its Ritz values back by
   * `μ = 1/ν − σ` (absolute rounding ~ε(λ + σ), far below the zero threshold `N ε λ_max` of
   * {@link flowWeight}, so null modes are still recognized). With σ > 0 there is no direct
   * solve: `t = ∞` (the pseudo-inverse) is evaluated by both Lanczos processes.
   */
  inverse_shift?: number;
  /** The ridge δ ≥ 0 included in `op` (train predictions use `K = A − δI`). */
  diag_reg_abs: number;
  /**
   * Test-point product: `out` rows `[k, m]` = `(K(X_test, X) x)ᵀ` for `x` rows `[k, N]`
   * (`out` overwritten). Not called when `n_test = 0`.
   */
  cross: (x: Float64Array, out: Float64Array) => void;
  /** Residual `r = y − f_0(X)`, `[N, k]` row-major. */
  y_train: Float64Array;
  /** Stopping times (≥ 0, `Infinity` allowed). */
  t: readonly number[];
  /**
   * Convergence tolerance on the relative change of the coefficients between two checks
   * (default 1e-8; the change at a check bounds the error of the previous check's iterate, and
   * the iterate kept is the newer one, typically 10–1000× more accurate).
   */
  tol?: number;
  /** Largest basis dimension of each Lanczos process (default `min(N, 1500)`). */
  max_dim?: number;
  /**
   * Largest eigenvalue of A if known (e.g. from {@link lanczosExtremes}): decides which `t` the
   * shift-invert process takes (`t λ_max / N ≥ 10`) and sets the zero threshold `N ε λ_max` of
   * {@link flowWeight} there. Default: estimated by {@link lanczosExtremes} (to 1e-6) when an
   * inverse is given.
   */
  lambda_max?: number;
  signal?: AbortSignal;
}

/** How one `t` was evaluated. */
export interface KrylovTimeInfo {
  t: number;
  /** `lanczos` (on A), `inverse-lanczos` (on (A + σI)⁻¹), `solve` (t = ∞, Cholesky), `zero` (t = 0). */
  method: 'lanczos' | 'inverse-lanczos' | 'solve' | 'zero';
  /**
   * Error estimate: for Lanczos the relative coefficient change at the accepting check
   * (Infinity if only one check was possible); for `solve` the relative residual
   * `‖r − A x‖/‖r‖`; 0 for `zero`.
   */
  err_est: number;
  /** Whether `err_est ≤ tol` (always true for `zero`). */
  converged: boolean;
}

/** Output of {@link krylovGradientFlow}. */
export interface KrylovFlowResult {
  /** One entry per requested `t`, in order; `train` `[N, k]`, `test` `[m, k]`. */
  predictions: GradientFlowPrediction[];
  /** One entry per requested `t`. */
  info: KrylovTimeInfo[];
  /** Basis dimension reached by the Lanczos on A (0 if not run). */
  dim: number;
  /** Basis dimension reached by the shift-invert Lanczos on A⁻¹ (0 if not run). */
  dim_inverse: number;
  /** Products with A plus solves with A (in vectors), the main cost. */
  matvecs: number;
}

/** Smallest `τ λ_max` (τ = t/N) for which the shift-invert process is run (see krylovGradientFlow). */
const INVERSE_MIN_TAU_LAMBDA = 10;

/** One Lanczos process evaluating `f_t` and `h_t` for a set of stopping times. */
class FlowProcess {
  readonly basis: BlockKrylovBasis;
  /** Indices (into `ts`) still handled by this process. */
  readonly active = new Set<number>();
  private prev = new Map<number, [Float64Array, Float64Array]>();
  /** Latest coefficients `[s, k]` of `f_t` and `h_t`, the `s` they belong to, and the error estimate. */
  readonly latest = new Map<number, { x: Float64Array; h: Float64Array; s: number; err: number }>();
  private nextCheck: number;
  /** No further progress possible (exhausted, at capacity, or nothing left to do). */
  finished = false;

  constructor(
    op: SymOp,
    r: Float64Array,
    k: number,
    private readonly maxDim: number,
    indices: number[],
    /** Per Ritz values θ of the operator and index i: the weights of `f_{t_i}` and `h_{t_i}`. */
    private readonly weights: (theta: Float64Array, i: number) => [Float64Array, Float64Array],
  ) {
    this.basis = new BlockKrylovBasis(op, r, k, indices.length > 0 ? maxDim : 1);
    for (const i of indices) this.active.add(i);
    this.nextCheck = Math.min(maxDim, 4 * Math.max(1, this.basis.p0));
    if (this.basis.p0 === 0 || indices.length === 0) this.finished = true;
  }

  /** One block step, then a convergence check when due. Returns the indices that converged now. */
  advance(tol: number): number[] {
    if (this.finished) return [];
    const b = this.basis;
    const can = b.canStep() && b.processed < this.maxDim;
    if (can) b.step();
    if (can && !b.exhausted && b.processed < this.nextCheck) return [];
    const rz = b.ritz();
    const idx = [...this.active];
    const fns: ((theta: Float64Array) => Float64Array)[] = [];
    for (const i of idx) {
      const [f, h] = this.weights(rz.values, i);
      fns.push(() => f, () => h);
    }
    const coef = b.functionCoefficients(rz, fns);
    const done: number[] = [];
    idx.forEach((i, j) => {
      const x = coef[2 * j];
      const h = coef[2 * j + 1];
      const p = this.prev.get(i);
      const err = b.exhausted ? 0 : Math.max(relChange(x, p?.[0]), relChange(h, p?.[1]));
      this.prev.set(i, [x, h]);
      this.latest.set(i, { x, h, s: rz.s, err });
      if (err <= tol) done.push(i);
    });
    for (const i of done) this.active.delete(i);
    if (!can || b.exhausted || this.active.size === 0) this.finished = true;
    this.nextCheck = Math.max(b.processed + 2 * b.p0, Math.ceil(b.processed * 1.25));
    return done;
  }

  /** Stop handling `i` (another process converged for it). */
  drop(i: number): void {
    this.active.delete(i);
    if (this.active.size === 0) this.finished = true;
  }
}

/**
 * Gradient-flow predictions `f_t − f_0` for every `t` (pass `y − f_0` as `y_train` and add `f_0`
 * back for a non-zero `f_0`), by block Lanczos (module comment).
 *
 * Schedule: every `t > 0` is evaluated by a Lanczos process on `A`; when `inverse` is given,
 * a shift-invert process on `(A + σI)⁻¹` runs **interleaved** with it (one block step each in
 * turn), `t = ∞` is the direct solve `x = A⁻¹ r` if σ = 0, and each other `t` with `t λ_max/N ≥ 10`
 * (smaller `t` are nearly constant functions that shift-invert resolves badly) is taken from
 * whichever process converges first for it (small `t` converge fast on `A`, large `t` on `A⁻¹`). A process stops
 * when none of its `t` is left, when the Krylov space is exhausted, or at `max_dim`; then the
 * estimate with the smaller error wins and `info[i].converged` says whether it met `tol`.
 *
 * Accuracy (documented target, checked against the eigendecomposition path in
 * `test/ntk-krylov.test.ts`): relative Frobenius error of the train and test predictions
 * ≤ 1e-6 for every converged `t`; measured ~1e-12…1e-14 on MNIST NTKs.
 *
 * Cost: per block step one product with A or one Cholesky solve (`2N²k` flops each), plus the
 * reorthogonalization (`8Nsk` per step) and at checks (basis grown ≥ 25 %) one `eigh` of the
 * `s × s` Rayleigh quotient; finally per `t` two `[k, s] × [s, N]` products and one cross
 * product. Memory: each process's basis `[min(N, max_dim) + k, N]` and Rayleigh quotient.
 * @throws RangeError on inconsistent sizes or a negative/NaN `t`; `signal.reason` when aborted.
 */
export function krylovGradientFlow(input: KrylovFlowInput): KrylovFlowResult {
  const { n_train: N, n_test: m, n_out: k, op } = input;
  if (!(Number.isInteger(N) && N >= 1 && Number.isInteger(m) && m >= 0 && Number.isInteger(k) && k >= 1)) {
    throw new RangeError(`krylovGradientFlow: need integers n_train >= 1, n_test >= 0, n_out >= 1; got ${N}, ${m}, ${k}`);
  }
  if (op.n !== N) throw new RangeError(`krylovGradientFlow: op.n = ${op.n}, expected n_train = ${N}`);
  if (input.inverse && input.inverse.n !== N) throw new RangeError(`krylovGradientFlow: inverse.n = ${input.inverse.n}, expected ${N}`);
  if (input.y_train.length !== N * k) throw new RangeError(`krylovGradientFlow: y_train has length ${input.y_train.length}, expected [${N}, ${k}]`);
  for (const t of input.t) if (!(t >= 0)) throw new RangeError(`krylovGradientFlow: every t must be >= 0 or Infinity, got ${t}`);
  const delta = input.diag_reg_abs;
  if (!(Number.isFinite(delta) && delta >= 0)) throw new RangeError(`krylovGradientFlow: diag_reg_abs must be finite and >= 0, got ${delta}`);
  const tol = input.tol ?? 1e-8;
  if (!(tol > 0)) throw new RangeError(`krylovGradientFlow: tol must be > 0, got ${tol}`);
  const maxDim = Math.max(1, Math.min(N, input.max_dim ?? 1500));
  const inverse = input.inverse ?? null;
  const sigma = input.inverse_shift ?? 0;
  if (!(Number.isFinite(sigma) && sigma >= 0)) throw new RangeError(`krylovGradientFlow: inverse_shift must be finite and >= 0, got ${sigma}`);

  // residual as rows [k, N]
  const r = new Float64Array(k * N);
  for (let i = 0; i < N; i++) for (let c = 0; c < k; c++) r[c * N + i] = input.y_train[i * k + c];

  const ts = input.t;
  const xRows: (Float64Array | null)[] = ts.map(() => null);
  const trainRows: (Float64Array | null)[] = ts.map(() => null);
  const info: KrylovTimeInfo[] = ts.map((t) => ({ t, method: t === 0 ? 'zero' : 'lanczos', err_est: t === 0 ? 0 : Infinity, converged: t === 0 }));
  let matvecs = 0;

  // t = ∞ with an unshifted inverse: the direct solve
  if (inverse !== null && sigma === 0) {
    for (let i = 0; i < ts.length; i++) {
      if (ts[i] !== Infinity) continue;
      const x = new Float64Array(k * N);
      inverse.apply(r, k, x);
      const ax = new Float64Array(k * N);
      op.apply(x, k, ax);
      matvecs += 2 * k;
      let num = 0;
      let den = 0;
      for (let j = 0; j < ax.length; j++) {
        num += (r[j] - ax[j]) ** 2;
        den += r[j] * r[j];
        ax[j] -= delta * x[j];
      }
      xRows[i] = x;
      trainRows[i] = ax;
      const resid = den > 0 ? Math.sqrt(num / den) : 0;
      info[i] = { t: Infinity, method: 'solve', err_est: resid, converged: resid <= tol };
    }
  }

  const lanczosIdx = ts.map((_t, i) => i).filter((i) => ts[i] !== 0 && xRows[i] === null);
  let lambdaMax = input.lambda_max ?? 0;
  const direct = new FlowProcess(op, r, k, maxDim, lanczosIdx, (theta, i) => {
    let mx = 0;
    for (const v of theta) mx = Math.max(mx, Math.abs(v));
    lambdaMax = Math.max(lambdaMax, mx);
    const zeroTol = N * Number.EPSILON * mx;
    const f = theta.map((mu) => flowWeight(mu, ts[i], N, zeroTol));
    return [f, theta.map((mu, j) => (mu - delta) * f[j])];
  });
  // The shift-invert process only takes t with τ λ_max ≥ INVERSE_MIN_TAU_LAMBDA (τ = t/N): for
  // smaller t, f_t(μ) ≈ τ − τ²μ/2 + … is nearly constant and its μ-dependence is a negative power
  // of ν = 1/μ, which Krylov spaces of A⁻¹ resolve badly and (measured) can stagnate at a few %
  // error while the coefficients barely change; those t converge in a few steps on A anyway.
  const invIdx =
    inverse === null
      ? []
      : lanczosIdx.filter((i) => {
          if (ts[i] === Infinity) return true;
          if (input.lambda_max === undefined && lambdaMax === 0) lambdaMax = lanczosExtremes(op, { which: 'max', tol: 1e-6, signal: input.signal }).max;
          return (ts[i] / N) * lambdaMax >= INVERSE_MIN_TAU_LAMBDA;
        });
  const inv =
    inverse === null || invIdx.length === 0
      ? null
      : new FlowProcess(inverse, r, k, maxDim, invIdx, (nu, i) => {
          // Ritz values ν of (A + σI)⁻¹ → μ = 1/ν − σ
          const mu = nu.map((v) => (v !== 0 ? 1 / v - sigma : Infinity));
          let mx = lambdaMax;
          for (const v of mu) if (Number.isFinite(v)) mx = Math.max(mx, Math.abs(v));
          const zeroTol = N * Number.EPSILON * mx;
          const f = mu.map((v) => (Number.isFinite(v) ? flowWeight(v, ts[i], N, zeroTol) : 0));
          return [f, mu.map((v, j) => (Number.isFinite(v) ? (v - delta) * f[j] : 0))];
        });
  const procs = inv === null ? [direct] : [direct, inv];
  while (procs.some((p) => !p.finished)) {
    input.signal?.throwIfAborted();
    for (const p of procs) {
      for (const i of p.advance(tol)) for (const other of procs) if (other !== p) other.drop(i);
    }
  }
  for (const i of lanczosIdx) {
    let best: { x: Float64Array; h: Float64Array; s: number; err: number } | undefined;
    let from: FlowProcess = direct;
    for (const p of procs) {
      const l = p.latest.get(i);
      if (l && (best === undefined || l.err < best.err)) {
        best = l;
        from = p;
      }
    }
    if (best === undefined) continue; // r = 0: predictions stay 0
    xRows[i] = from.basis.combine(best.x, best.s);
    trainRows[i] = from.basis.combine(best.h, best.s);
    info[i] = { t: ts[i], method: from === direct ? 'lanczos' : 'inverse-lanczos', err_est: best.err, converged: best.err <= tol };
  }
  matvecs += direct.basis.matvecs + (inv?.basis.matvecs ?? 0);

  const testRows = new Float64Array(k * m);
  const predictions = ts.map((t, i) => {
    const train = new Float64Array(N * k);
    const test = new Float64Array(m * k);
    const x = xRows[i];
    const tr = trainRows[i];
    if (x !== null && tr !== null) {
      for (let p = 0; p < N; p++) for (let c = 0; c < k; c++) train[p * k + c] = tr[c * N + p];
      if (m > 0) {
        input.cross(x, testRows);
        for (let p = 0; p < m; p++) for (let c = 0; c < k; c++) test[p * k + c] = testRows[c * m + p];
      }
    }
    return { t, train, test };
  });
  return { predictions, info, dim: direct.basis.processed, dim_inverse: inv?.basis.processed ?? 0, matvecs };
}
