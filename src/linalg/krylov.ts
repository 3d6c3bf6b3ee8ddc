/**
 * Krylov-subspace linear algebra on symmetric operators: the operator interface ({@link SymOp})
 * with dense and Cholesky-inverse operators, an orthonormal block Krylov basis built by block
 * Lanczos with full reorthogonalization ({@link BlockKrylovBasis}), and extreme eigenvalues by
 * Lanczos ({@link lanczosExtremes}). The kernel gradient flow on top of it is `ntk/krylov-flow.ts`.
 *
 * Method: Golub & Van Loan, *Matrix Computations*, 4th ed., §10.3 (block Lanczos); Saad,
 * *Iterative Methods for Sparse Linear Systems*, 2nd ed., §6.6; matrix functions
 * `f(A) b ≈ Q f(T) Qᵀ b`: Higham, *Functions of Matrices*, §13.2. Full reorthogonalization (block
 * classical Gram–Schmidt, twice) against the whole basis keeps `T` the true Rayleigh quotient, so
 * no spurious Ritz copies appear; linearly dependent directions are deflated.
 *
 * Vectors are stored as **rows**: a block of `p` vectors of length `n` is a row-major `[p, n]`
 * `Float64Array`; for a symmetric `A` the product of every vector with `A` is the row-major
 * product `V·A`, one `gemm` with no transposes.
 */
import { linalg } from './index.js';
import { makeRng } from '../util/rng.js';
import { copyTriangleTransposed } from './mirror.js';

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
 * symmetric `[n, n]` row-major matrix `b` (not modified, not copied). By default both triangles
 * of `b` are read and one `apply` of `p` rows costs one `gemm` `[p, n] × [n, n]` (`2pn²` flops)
 * plus `O(pn)`. With `upper_diag`, only the strict upper triangle of `b` is read and the diagonal
 * of B is `upper_diag` (length n): the lower triangle and diagonal of `b` may hold a Cholesky
 * factor sharing the buffer (see {@link factorSharedInPlace}); one `apply` is then one
 * `linalg().symmUpper` plus an `O(pn)` diagonal correction.
 * @throws RangeError on a wrong length of `b`, `scale` or `upper_diag`, a non-positive scale, or
 *   a non-finite shift.
 */
export function denseSymOp(n: number, b: Float64Array, options: { scale?: OpScale; shift?: number; upper_diag?: Float64Array } = {}): SymOp {
  if (!(Number.isInteger(n) && n >= 1) || b.length !== n * n) {
    throw new RangeError(`denseSymOp: b has length ${b.length}, expected n² for n = ${n}`);
  }
  const { scale, shift = 0, upper_diag: diag } = options;
  checkScale('denseSymOp', n, scale);
  if (!Number.isFinite(shift)) throw new RangeError(`denseSymOp: shift must be finite, got ${shift}`);
  if (diag !== undefined && diag.length !== n) throw new RangeError(`denseSymOp: upper_diag has length ${diag.length}, expected n = ${n}`);
  let tmp = new Float64Array(0);
  const product = (src: Float64Array, rows: number, alpha: number, out: Float64Array): void => {
    if (diag === undefined) {
      linalg().gemm(false, false, rows, n, n, alpha, src, b, 0, out);
      return;
    }
    linalg().symmUpper(rows, n, src, b, out);
    for (let i = 0; i < rows; i++) {
      const o = i * n;
      for (let j = 0; j < n; j++) out[o + j] += (diag[j] - b[j * n + j]) * src[o + j];
      if (alpha !== 1) for (let j = 0; j < n; j++) out[o + j] *= alpha;
    }
  };
  return {
    n,
    apply(v, rows, out) {
      if (rows === 0) return;
      if (scale === undefined || typeof scale === 'number') {
        product(v, rows, scale ?? 1, out);
      } else {
        if (tmp.length < rows * n) tmp = new Float64Array(rows * n);
        for (let i = 0; i < rows; i++) {
          const o = i * n;
          for (let j = 0; j < n; j++) tmp[o + j] = v[o + j] * scale[j];
        }
        product(tmp, rows, 1, out);
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
 * Cholesky factor of `B + shift·I` sharing `B`'s buffer: `a` row-major `[n, n]` holds B in its
 * strict upper triangle and B's diagonal is `diag`; the strict upper triangle is copied onto the
 * lower one, the diagonal set to `diag + shift`, and the lower triangle factored in place
 * (`linalg().choleskyInPlace`). Afterwards the lower triangle with the diagonal is L
 * (`B + shift·I = L Lᵀ`, the layout {@link choleskyInverseOp} reads) and the strict upper
 * triangle still holds B, so {@link denseSymOp} with `upper_diag: diag` still applies B: one
 * `[n, n]` buffer serves both. Returns false (lower triangle and diagonal then garbage) when
 * `B + shift·I` is not numerically positive definite.
 * @throws Error on NaN/Inf in B.
 */
export function factorSharedInPlace(n: number, a: Float64Array, diag: Float64Array, shift = 0): boolean {
  copyTriangleTransposed(n, a, a, 'upper-to-lower');
  for (let i = 0; i < n; i++) a[i * n + i] = diag[i] + shift;
  return linalg().choleskyInPlace(n, a);
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
