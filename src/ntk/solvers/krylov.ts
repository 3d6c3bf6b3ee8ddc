/**
 * The krylov depth solver of the kernel task, for train sets too large for one `O(N³)`
 * eigendecomposition per depth: Cholesky factors, Lanczos extremes and the block-Lanczos
 * gradient flow (`ntk/krylov-flow.ts`, on the operators of `linalg/krylov.ts`).
 */
import { linalg } from '../../linalg/index.js';
import { choleskyInverseOp, denseSymOp, factorSharedInPlace, lanczosExtremes, type SymOp } from '../../linalg/krylov.js';
import { krylovGradientFlow } from '../krylov-flow.js';
import { absoluteRidge } from '../predict.js';
import { flowTimes } from '../scale.js';
import { offDiagStats, spectrumStats, type KernelStats } from '../stats.js';
import type { DepthSolution, DepthSolverInput } from './solver.js';

/**
 * Lanczos settings of the kernel statistics: blocks of 4 vectors (a step reads the `[N, N]` matrix
 * or factor once, so 4 vectors cost little more than 1 and converge in fewer steps: measured
 * 2.3 s instead of 4.2 s for λ_min at N = 4000), residual tolerance 1e-8 relative (eigenvalue
 * error ≤ residual; measured identical digits to 1e-10).
 */
const EXTREMES = { block: 4, tol: 1e-8 } as const;

/**
 * `1/cond` below which a factored kernel is treated as numerically singular (shifted factor,
 * pseudo-inverse at t = ∞): a Cholesky solve has relative error up to ~`cond·ε` (2e-8 at 1e8).
 * Also the relative shift `σ/λ_max` of {@link shiftedCholesky}.
 */
const MAX_SOLVE_COND_INV = 1e-8;

/**
 * Cholesky factor of the symmetric `[N, N]` matrix B sharing its buffer `a` (B in the strict upper
 * triangle, its diagonal `diag`; {@link factorSharedInPlace}), shifted if need be: B itself, else
 * `B + σI` with σ = `1e-8 λ_max`, then 100σ. σ is far above the rounding that makes a singular
 * Gram matrix numerically indefinite (~`N ε λ_max`), and small enough that the shift-invert
 * operator `(B + σI)⁻¹` (spectrum spread ≤ 1e8) keeps its Ritz values, mapped back by
 * `μ = 1/ν − σ`, accurate to ~`ε λ/σ` ≤ 2e-8 relative; null modes come out at `|μ| ~ εσ`, far
 * below the zero threshold `N ε λ_max`. On success the factor is the lower triangle of `a`
 * (`l === a`); null (lower triangle garbage, diagonal `diag`) when all three fail. `forceShift` skips the
 * unshifted attempt.
 */
function shiftedCholesky(N: number, a: Float64Array, diag: Float64Array, lambdaMax: number, forceShift = false): { l: Float64Array; shift: number } | null {
  if (!forceShift && factorSharedInPlace(N, a, diag)) return { l: a, shift: 0 };
  const base = MAX_SOLVE_COND_INV * Math.abs(lambdaMax);
  for (const shift of [base, 100 * base]) {
    if (!(shift > 0)) break;
    if (factorSharedInPlace(N, a, diag, shift)) return { l: a, shift };
  }
  // no factor: a clean diagonal for the products that read it (upper_diag corrects it to diag)
  for (let i = 0; i < N; i++) a[i * N + i] = diag[i];
  return null;
}

/**
 * Depth solver by Cholesky and Lanczos (`O(N²·s)` instead of `O(N³)`): a Cholesky factor
 * of `K̄` (LAPACK `dpotrf`) gives `logdet` and, by shift-invert Lanczos, `lambda_min`; Lanczos on
 * `K̄` gives `lambda_max`; the predictions come from block Lanczos (`krylovGradientFlow`), with
 * `t = ∞` as a Cholesky solve. Accuracy target: relative error ≤ 1e-6 of the predictions and of
 * `lambda_min`/`lambda_max` against the eigh solver (`test/ntk-krylov.test.ts`,
 * `test/kernel-task.test.ts`). Extra metrics: `krylov_dim`, `krylov_err_est`,
 * `krylov_converged`, `lambda_err_est` (see `tasks/kernel.ts`).
 *
 * Memory: no `[N, N]` buffer of its own. The factor shares `kbar_train`: its strict upper triangle
 * keeps `K̄` (later the flow kernel `A`), its lower triangle and diagonal receive the Cholesky
 * factor, and every product with `K̄` or `A` reads the upper triangle
 * (`denseSymOp(…, { upper_diag })`). So `kbar_train` is overwritten (the caller rebuilds it from
 * the recursion state at the next depth).
 * @throws RangeError when a per-point scale underflowed or overflowed; `signal.reason` when aborted.
 */
export function krylovDepthSolver(input: DepthSolverInput): DepthSolution {
  const { kbar_train, scale, signal } = input;
  const N = input.n_train;
  const st = krylovStats(N, kbar_train, input.limit, signal);
  // from here on kbar_train's lower triangle is a factor (or garbage): K̄ is its strict upper one
  // --- flow on A = K̃ + δI, K̃ = K̄ or D K̄ D (the time-scale factor is in the times)
  const c = scale.scale;
  let meanDiagK = 1;
  if (c !== undefined) {
    let sum = 0;
    for (let i = 0; i < N; i++) sum += c[i] * c[i];
    meanDiagK = sum / N;
  }
  const times = flowTimes(input.t, input.diag_reg, input.diag_reg_mode, scale);
  const delta = absoluteRidge(times.diagReg, times.mode, meanDiagK);
  const sTrain = c?.subarray(0, N);
  const { op, inverse, inverseShift } = flowOperators(N, kbar_train, st, delta, sTrain);
  const flow = krylovGradientFlow({
    n_train: N,
    n_test: input.n_test,
    n_out: input.n_out,
    op,
    inverse,
    inverse_shift: inverseShift,
    diag_reg_abs: delta,
    cross: scaledCross(input, sTrain, c?.subarray(N)),
    y_train: input.y_train,
    t: times.t,
    tol: input.krylov?.tol,
    max_dim: input.krylov?.max_dim,
    lambda_max: sTrain ? undefined : st.lambdaMax + delta,
    signal,
  });
  return {
    stats: st.stats,
    predictions: flow.predictions,
    extra: flow.predictions.map((_p, i) => ({
      // positive definite when A itself was factored; otherwise how many modes were dropped is unknown
      n_null_modes: inverse !== null && inverseShift === 0 ? 0 : NaN,
      kernel_scale_log10: scale.scaleLog10,
      solver_krylov: 1,
      krylov_dim: flow.dim + flow.dim_inverse,
      krylov_err_est: flow.info[i].err_est,
      krylov_converged: flow.info[i].converged ? 1 : 0,
      lambda_err_est: st.lambdaErr,
    })),
  };
}

/** Statistics of `K̄` by Lanczos and Cholesky, and the factor the flow may reuse. */
interface KrylovStats {
  stats: KernelStats;
  /** Largest Ritz value of `K̄` (`lambda_max`). */
  lambdaMax: number;
  /** Largest relative residual of the two extreme Ritz pairs (`lambda_err_est`). */
  lambdaErr: number;
  /** Cholesky factor of `K̄ + shift·I` (shift 0 when `K̄` is well-conditioned), or null. */
  fac: { l: Float64Array; shift: number } | null;
  /** `K̄` numerically singular: no unshifted factor, or one too ill-conditioned to solve with. */
  singular: boolean;
}

/**
 * Statistics of the normalized train block `K̄` `[N, N]`: Lanczos `λ_max`; Cholesky
 * log-determinant; shift-invert Lanczos `λ_min` (or plain Lanczos when no factor exists, an upper
 * bound then); off-diagonal statistics from {@link kernelStats}.
 */
function krylovStats(N: number, kbar_train: Float64Array, limit: number, signal?: AbortSignal): KrylovStats {
  // entry-wise statistics and λ_max while both triangles still hold K̄
  const entries = offDiagStats(kbar_train, N, limit);
  const top = lanczosExtremes(denseSymOp(N, kbar_train), { ...EXTREMES, which: 'max', signal });
  const ones = new Float64Array(N).fill(1);
  let fac = shiftedCholesky(N, kbar_train, ones, top.max);
  let lambdaErr = top.resid_max / Math.abs(top.max);
  let lambdaMin = NaN;
  let logdet = -Infinity; // numerically singular unless K̄ itself has a factor
  if (fac) {
    const inv = lanczosExtremes(choleskyInverseOp(N, fac.l), { ...EXTREMES, which: 'max', signal });
    lambdaMin = 1 / inv.max - fac.shift;
    lambdaErr = Math.max(lambdaErr, inv.resid_max / Math.abs(inv.max));
    if (fac.shift === 0) {
      logdet = 0;
      for (let i = 0; i < N; i++) logdet += Math.log(fac.l[i * N + i]);
      logdet *= 2;
      if (lambdaMin < MAX_SOLVE_COND_INV * top.max) {
        // factored, but too ill-conditioned for K̄⁻¹ to be trusted (rounding made a singular K̄
        // pass dpotrf): the flow uses a shifted factor and treats null modes as the eigh path does.
        fac = shiftedCholesky(N, kbar_train, ones, top.max, true);
      }
    }
  } else {
    // no factor even with a shift: the smallest Ritz value is only an upper bound on λ_min
    const both = lanczosExtremes(denseSymOp(N, kbar_train, { upper_diag: ones }), { ...EXTREMES, which: 'both', signal });
    lambdaMin = both.min;
    lambdaErr = Math.max(lambdaErr, both.resid_min / Math.max(Math.abs(both.min), Number.MIN_VALUE));
  }
  // the spectrum known here holds only the two extreme eigenvalues, so its logdet is replaced by
  // the Cholesky one
  const spectrum = new Float64Array(N).fill(top.max);
  spectrum[0] = Math.min(lambdaMin, top.max);
  const stats: KernelStats = { ...entries, ...spectrumStats(spectrum), logdet };
  return { stats, lambdaMax: top.max, lambdaErr, fac, singular: !(fac && fac.shift === 0) };
}

/**
 * The flow operator `A = D K̄ D + δI` (`D = diag(sTrain)`, identity when undefined) and, when a
 * Cholesky factor exists, `(A + σI)⁻¹` with its shift σ. Reuses the factor of `K̄` when `A = K̄`;
 * otherwise writes `A` over `K̄` in the strict upper triangle of `kbar_train` (it is rebuilt from
 * the state at the next depth) and factors it in the lower one, so `A` and its factor share the
 * one `[N, N]` buffer.
 * @throws RangeError when a per-point scale underflowed or overflowed.
 */
function flowOperators(
  N: number,
  kbar_train: Float64Array,
  st: KrylovStats,
  delta: number,
  sTrain: Float64Array | undefined,
): { op: SymOp; inverse: SymOp | null; inverseShift: number } {
  let sMax2 = 1;
  if (sTrain) {
    if (!sTrain.every((v) => v > 0 && Number.isFinite(v))) {
      throw new RangeError('kernel task: a per-point kernel scale relative to the mean diagonal underflowed or overflowed (the inputs\' norms differ too much for this depth)');
    }
    sMax2 = 0;
    for (const v of sTrain) sMax2 = Math.max(sMax2, v * v);
  }
  const diag = new Float64Array(N).fill(1);
  if (delta === 0 && sTrain === undefined) {
    // A = K̄: its factor (of K̄ + σI) serves as (A + σI)⁻¹
    const fac = st.fac;
    return { op: denseSymOp(N, kbar_train, { upper_diag: diag }), inverse: fac ? choleskyInverseOp(N, fac.l) : null, inverseShift: fac ? fac.shift : 0 };
  }
  st.fac = null;
  for (let i = 0; i < N; i++) {
    if (sTrain) for (let j = i + 1; j < N; j++) kbar_train[i * N + j] *= sTrain[i] * sTrain[j];
    if (sTrain) diag[i] *= sTrain[i] * sTrain[i];
    diag[i] += delta;
  }
  // D K̄ D has the null space of K̄ (D is invertible): shift it likewise when there is no ridge
  const facA = shiftedCholesky(N, kbar_train, diag, sMax2 * st.lambdaMax + delta, st.singular && delta === 0);
  return { op: denseSymOp(N, kbar_train, { upper_diag: diag }), inverse: facA ? choleskyInverseOp(N, facA.l) : null, inverseShift: facA ? facA.shift : 0 };
}

/**
 * The test-point product of the flow: `out` rows `[k, m]` = `(D_test K̄(X_test, X) D x)ᵀ` for `x`
 * rows `[k, N]`, with `D = diag(sTrain)`, `D_test = diag(sTest)` (identities when undefined).
 */
function scaledCross(
  input: DepthSolverInput,
  sTrain: Float64Array | undefined,
  sTest: Float64Array | undefined,
): (xRows: Float64Array, out: Float64Array) => void {
  const { kbar_cross, n_train: N, n_test: m, n_out: k } = input;
  const la = linalg();
  let xs = new Float64Array(0);
  return (xRows, out) => {
    let src = xRows;
    if (sTrain) {
      if (xs.length !== xRows.length) xs = new Float64Array(xRows.length);
      for (let r = 0; r < k; r++) for (let j = 0; j < N; j++) xs[r * N + j] = xRows[r * N + j] * sTrain[j];
      src = xs;
    }
    la.gemm(false, true, k, m, N, 1, src, kbar_cross, 0, out);
    if (sTest) for (let r = 0; r < k; r++) for (let j = 0; j < m; j++) out[r * m + j] *= sTest[j];
  };
}
