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
 * Method (the block Lanczos basis of `linalg/krylov.ts`; the Lanczos approximation of a
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
import { BlockKrylovBasis, lanczosExtremes, type SymOp } from '../linalg/krylov.js';
import { flowWeight, type GradientFlowPrediction } from './predict.js';

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
  const { n_train: N, n_out: k } = input;
  const { delta, tol, maxDim, inverse, sigma } = checkFlowInput(input);

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
      const solved = directSolve(input.op, inverse, r, k, delta, tol);
      xRows[i] = solved.x;
      trainRows[i] = solved.train;
      info[i] = solved.info;
      matvecs += 2 * k;
    }
  }

  const lanczosIdx = ts.map((_t, i) => i).filter((i) => ts[i] !== 0 && xRows[i] === null);
  const procs = flowProcesses(input, r, lanczosIdx, { delta, maxDim, inverse, sigma });
  const [direct, inv] = procs;
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
  const predictions = ts.map((t, i) => predictionOf(input, t, xRows[i], trainRows[i]));
  return { predictions, info, dim: direct.basis.processed, dim_inverse: inv?.basis.processed ?? 0, matvecs };
}

/**
 * The checked settings of a {@link KrylovFlowInput}.
 * @throws RangeError on inconsistent sizes, a negative/NaN `t`, or a bad ridge, tolerance or shift.
 */
function checkFlowInput(input: KrylovFlowInput): { delta: number; tol: number; maxDim: number; inverse: SymOp | null; sigma: number } {
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
  const sigma = input.inverse_shift ?? 0;
  if (!(Number.isFinite(sigma) && sigma >= 0)) throw new RangeError(`krylovGradientFlow: inverse_shift must be finite and >= 0, got ${sigma}`);
  return { delta, tol, maxDim, inverse: input.inverse ?? null, sigma };
}

/**
 * `t = ∞` by the direct solve `x = A⁻¹ r` (`r` rows `[k, N]`): coefficients `x`, train rows
 * `K x = A x − δx`, and the relative residual `‖r − A x‖/‖r‖` as the error estimate.
 */
function directSolve(op: SymOp, inverse: SymOp, r: Float64Array, k: number, delta: number, tol: number): { x: Float64Array; train: Float64Array; info: KrylovTimeInfo } {
  const x = new Float64Array(r.length);
  inverse.apply(r, k, x);
  const ax = new Float64Array(r.length);
  op.apply(x, k, ax);
  let num = 0;
  let den = 0;
  for (let j = 0; j < ax.length; j++) {
    num += (r[j] - ax[j]) ** 2;
    den += r[j] * r[j];
    ax[j] -= delta * x[j];
  }
  const resid = den > 0 ? Math.sqrt(num / den) : 0;
  return { x, train: ax, info: { t: Infinity, method: 'solve', err_est: resid, converged: resid <= tol } };
}

/**
 * The Lanczos process on `A` for the stopping times `lanczosIdx` (indices into `input.t`) and,
 * when `inverse` is given, the shift-invert process on `(A + σI)⁻¹` for those of them with
 * `t λ_max/N ≥ 10` (see {@link krylovGradientFlow}). Returns `[direct]` or `[direct, inverse]`.
 */
function flowProcesses(
  input: KrylovFlowInput,
  r: Float64Array,
  lanczosIdx: number[],
  o: { delta: number; maxDim: number; inverse: SymOp | null; sigma: number },
): [FlowProcess] | [FlowProcess, FlowProcess] {
  const { n_train: N, n_out: k, op, t: ts } = input;
  const { delta, maxDim, inverse, sigma } = o;
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
  if (inverse === null || invIdx.length === 0) return [direct];
  const inv = new FlowProcess(inverse, r, k, maxDim, invIdx, (nu, i) => {
    // Ritz values ν of (A + σI)⁻¹ → μ = 1/ν − σ
    const mu = nu.map((v) => (v !== 0 ? 1 / v - sigma : Infinity));
    let mx = lambdaMax;
    for (const v of mu) if (Number.isFinite(v)) mx = Math.max(mx, Math.abs(v));
    const zeroTol = N * Number.EPSILON * mx;
    const f = mu.map((v) => (Number.isFinite(v) ? flowWeight(v, ts[i], N, zeroTol) : 0));
    return [f, mu.map((v, j) => (Number.isFinite(v) ? (v - delta) * f[j] : 0))];
  });
  return [direct, inv];
}

/** The prediction at `t` from coefficient rows `x` and train rows (`[k, N]`; null: zero predictions). */
function predictionOf(input: KrylovFlowInput, t: number, x: Float64Array | null, tr: Float64Array | null): GradientFlowPrediction {
  const { n_train: N, n_test: m, n_out: k } = input;
  const train = new Float64Array(N * k);
  const test = new Float64Array(m * k);
  if (x !== null && tr !== null) {
    for (let p = 0; p < N; p++) for (let c = 0; c < k; c++) train[p * k + c] = tr[c * N + p];
    if (m > 0) {
      const testRows = new Float64Array(k * m);
      input.cross(x, testRows);
      for (let p = 0; p < m; p++) for (let c = 0; c < k; c++) test[p * k + c] = testRows[c * m + p];
    }
  }
  return { t, train, test };
}
