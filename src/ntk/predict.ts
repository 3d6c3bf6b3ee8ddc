/**
 * Gradient-flow predictions of the linearized (kernel) model, docs/conventions.md §8, Lee et al. 2019
 * ("Wide Neural Networks of Any Depth Evolve as Linear Models Under Gradient Descent", eq. (16)
 * with the loss `ℒ = 1/(2N) Σ ‖f(x_i) − y_i‖²`; same as neural-tangents
 * `predict.gradient_descent_mse` with `learning_rate·steps = t` and its `1/N` loss scaling):
 *
 *   f_t(x) = f_0(x) + K(x,X) K⁻¹ (I − exp(−K t/N)) (y − f_0(X)),   f_∞(x) = f_0(x) + K(x,X) K⁻¹ (y − f_0(X)).
 *
 * One eigendecomposition `K = V diag(λ) Vᵀ` serves every `t` (and every `diag_reg`):
 * `f_t(x) − f_0(x) = K(x,X) V diag(g_t(λ + δ)) Vᵀ (y − f_0(X))` with the flow weight
 * `g_t(μ) = (1 − e^{−μ t/N})/μ` ({@link flowWeight}); on the training points
 * `f_t(X) − f_0(X) = V diag(λ g_t(λ + δ)) Vᵀ (y − f_0(X))`. The ridge `δ` (`diag_reg`) is
 * applied spectrally (`K + δI` has the same eigenvectors), so the model is
 * `f(x) = f_0(x) + K(x,X) α` with `α` from the flow on `K + δI`, for test and train alike.
 *
 * Layout: row-major `Float64Array`; `N = n_train`, `m = n_test`, `k = n_out` outputs.
 */
import { linalg, type SymmetricEigen } from '../linalg/index.js';

/** Whether `diag_reg` is multiplied by `mean(diag K_train)` (`relative`) or used as is (`absolute`). */
export type DiagRegMode = 'relative' | 'absolute';

/**
 * The absolute ridge `δ` of `diag_reg` under `mode`: `diag_reg · meanDiagK` for `relative`
 * (`meanDiagK` = `mean(diag K_train)` of the kernel the ridge is added to), `diag_reg` for
 * `absolute`. The one place that applies the rule.
 */
export function absoluteRidge(diag_reg: number, mode: DiagRegMode, meanDiagK: number): number {
  return mode === 'relative' ? diag_reg * meanDiagK : diag_reg;
}

/**
 * Flow weight `g_t(μ) = (1 − e^{−μ t/N})/μ = ∫_0^t e^{−μ s/N} ds / N` of one eigenvalue `μ` of
 * `K + δI`, computed as `−expm1(−μ t/N)/μ` (no cancellation for small `μ t/N`).
 *
 * Handling, explicitly:
 * - `t = 0`: 0.
 * - `|μ| ≤ tol` (numerically zero): finite `t` gives `t/N`, the exact value for `μ = 0` (and the
 *   `μ → 0` limit); such modes lie in the numerical null space of K, where `K(x,X) v` is at
 *   rounding level, so their contribution is negligible unless `t·tol/N ≳ 1` (far beyond
 *   convergence of every resolvable mode; use `diag_reg` there). `t = ∞` gives 0: the
 *   pseudo-inverse drops these modes.
 * - `μ > tol`: the formula; `t = ∞` gives `1/μ`.
 * - `μ < −tol` (K not positive semi-definite): finite `t` uses the same formula, which is the
 *   exact flow and grows like `e^{|μ| t/N}/|μ|` (gradient flow diverges along that mode);
 *   `t = ∞` gives `1/μ`, the value of `K⁻¹` (the kernel-regression solution), although the flow
 *   itself has no limit.
 *
 * @param t time `η·steps` (≥ 0, `Infinity` allowed).
 * @param n_train N, the loss normalization `1/(2N)`.
 * @param tol threshold below which `|μ|` counts as zero (≥ 0).
 */
export function flowWeight(mu: number, t: number, n_train: number, tol: number): number {
  if (t === 0) return 0;
  if (Math.abs(mu) <= tol) return t === Infinity ? 0 : t / n_train;
  if (t === Infinity) return 1 / mu;
  return -Math.expm1((-mu * t) / n_train) / mu;
}

/** Inputs of {@link gradientFlowPredict}. */
export interface GradientFlowInput {
  /** N, number of training points. */
  n_train: number;
  /** m, number of test points (0 allowed). */
  n_test: number;
  /** k, number of outputs (label columns). */
  n_out: number;
  /** `K(X, X)` `[N, N]`, symmetric; only the lower triangle is read. Not modified. */
  k_train: Float64Array;
  /** `K(X_test, X)` `[m, N]`. Not modified. */
  k_cross: Float64Array;
  /** Training labels `[N, k]`. */
  y_train: Float64Array;
  /** `f_0` on the training points `[N, k]`; zeros when omitted. */
  f0_train?: Float64Array;
  /** `f_0` on the test points `[m, k]`; zeros when omitted. */
  f0_test?: Float64Array;
  /** Stopping times (each ≥ 0; `Infinity` for the `t = ∞` kernel-regression limit). */
  t: readonly number[];
  /** Ridge `δ ≥ 0` added to the diagonal of K (default 0). */
  diag_reg?: number;
  /** How `diag_reg` is scaled (default `relative`: `δ = diag_reg · mean(diag K)`). */
  diag_reg_mode?: DiagRegMode;
  /**
   * Eigendecomposition of `k_train` **without** ridge (ascending values; `linalg().eigh` layout),
   * e.g. shared with `kernelStats`; computed when omitted.
   */
  eig?: SymmetricEigen;
}

/** Predictions at one stopping time. */
export interface GradientFlowPrediction {
  t: number;
  /** `f_t` on the training points `[N, k]`. */
  train: Float64Array;
  /** `f_t` on the test points `[m, k]`. */
  test: Float64Array;
}

/** Output of {@link gradientFlowPredict}. */
export interface GradientFlowResult {
  /** The eigendecomposition of `k_train` used (without ridge), for reuse. */
  eig: SymmetricEigen;
  /** The absolute ridge `δ` that was added. */
  diag_reg_abs: number;
  /** Zero threshold on `|λ + δ|`: `N · ε · max_i |λ_i + δ|` (ε = 2⁻⁵²). */
  tol: number;
  /** Number of modes with `|λ + δ| ≤ tol` (see {@link flowWeight}). */
  n_null: number;
  /** Number of modes with `λ + δ < −tol` (K not PSD; the flow diverges along them). */
  n_negative: number;
  /** One entry per requested `t`, in the order given. */
  predictions: GradientFlowPrediction[];
}

/**
 * Gradient-flow predictions `f_t` on train and test points for every `t` from one shared
 * eigendecomposition (module comment; eigenvalue handling in {@link flowWeight}).
 * Cost: one `eigh` (unless `eig` is given), then per `t` three `gemm`s
 * (`2 N² k + m N k` flops).
 *
 * @throws RangeError on inconsistent lengths, a `t` that is negative or NaN, or a `diag_reg`
 *   that is negative or not finite; Error from `eigh` if `k_train` has NaN/Inf.
 */
export function gradientFlowPredict(input: GradientFlowInput): GradientFlowResult {
  const { n_train: N, n_test: m, n_out: k } = input;
  if (!(Number.isInteger(N) && N >= 1 && Number.isInteger(m) && m >= 0 && Number.isInteger(k) && k >= 1)) {
    throw new RangeError(`gradientFlowPredict: need integers n_train >= 1, n_test >= 0, n_out >= 1; got ${N}, ${m}, ${k}`);
  }
  checkMatrix('gradientFlowPredict', 'k_train', input.k_train, N, N);
  checkMatrix('gradientFlowPredict', 'k_cross', input.k_cross, m, N);
  checkMatrix('gradientFlowPredict', 'y_train', input.y_train, N, k);
  if (input.f0_train) checkMatrix('gradientFlowPredict', 'f0_train', input.f0_train, N, k);
  if (input.f0_test) checkMatrix('gradientFlowPredict', 'f0_test', input.f0_test, m, k);
  for (const t of input.t) {
    if (!(t >= 0)) throw new RangeError(`gradientFlowPredict: every t must be >= 0 or Infinity, got ${t}`);
  }
  const reg = input.diag_reg ?? 0;
  if (!(Number.isFinite(reg) && reg >= 0)) {
    throw new RangeError(`gradientFlowPredict: diag_reg must be finite and >= 0, got ${reg}`);
  }
  const mode = input.diag_reg_mode ?? 'relative';
  if (mode !== 'relative' && mode !== 'absolute') {
    throw new RangeError(`gradientFlowPredict: unknown diag_reg_mode '${String(mode)}'`);
  }
  const delta = absoluteRidge(reg, mode, meanDiag(input.k_train, N));

  const la = linalg();
  const eig = input.eig ?? la.eigh(N, input.k_train);
  if (eig.values.length !== N || eig.vectors.length !== N * N) {
    throw new RangeError(`gradientFlowPredict: eig does not match n_train = ${N}`);
  }
  const lambda = eig.values;
  const V = eig.vectors;
  const mu = new Float64Array(N);
  let muMax = 0;
  for (let i = 0; i < N; i++) {
    mu[i] = lambda[i] + delta;
    muMax = Math.max(muMax, Math.abs(mu[i]));
  }
  const tol = N * Number.EPSILON * muMax;
  let nNull = 0;
  let nNeg = 0;
  for (let i = 0; i < N; i++) {
    if (Math.abs(mu[i]) <= tol) nNull++;
    else if (mu[i] < 0) nNeg++;
  }

  // residual r = y − f0(X), rotated: rt = Vᵀ r  [N, k]
  const r = Float64Array.from(input.y_train);
  if (input.f0_train) for (let i = 0; i < r.length; i++) r[i] -= input.f0_train[i];
  const rt = new Float64Array(N * k);
  la.gemm(true, false, N, k, N, 1, V, r, 0, rt);

  const scaled = new Float64Array(N * k);
  const alpha = new Float64Array(N * k);
  const predictions: GradientFlowPrediction[] = [];
  for (const t of input.t) {
    const train = input.f0_train ? Float64Array.from(input.f0_train) : new Float64Array(N * k);
    const test = input.f0_test ? Float64Array.from(input.f0_test) : new Float64Array(m * k);
    if (t !== 0) {
      // test: f0 + K(test, X) V diag(g) rt
      for (let i = 0; i < N; i++) {
        const gi = flowWeight(mu[i], t, N, tol);
        for (let c = 0; c < k; c++) scaled[i * k + c] = gi * rt[i * k + c];
      }
      la.gemm(false, false, N, k, N, 1, V, scaled, 0, alpha);
      if (m > 0) la.gemm(false, false, m, k, N, 1, input.k_cross, alpha, 1, test);
      // train: f0 + V diag(λ g) rt
      for (let i = 0; i < N; i++) {
        const ei = lambda[i] * flowWeight(mu[i], t, N, tol);
        for (let c = 0; c < k; c++) scaled[i * k + c] = ei * rt[i * k + c];
      }
      la.gemm(false, false, N, k, N, 1, V, scaled, 1, train);
    }
    predictions.push({ t, train, test });
  }
  return { eig, diag_reg_abs: delta, tol, n_null: nNull, n_negative: nNeg, predictions };
}

function meanDiag(a: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[i * n + i];
  return s / n;
}

function checkMatrix(where: string, name: string, a: Float64Array, rows: number, cols: number): void {
  if (a.length !== rows * cols) {
    throw new RangeError(`${where}: ${name} has length ${a.length}, expected [${rows}, ${cols}] = ${rows * cols}`);
  }
}
