/**
 * `kind: kernel` tasks: infinite-width network (activation `activation`, default ReLU) on a
 * dataset.
 *
 * A batch is a set of grid points that differ only in `depth` and `t`. One kernel recursion runs
 * to the largest depth over the stacked `[train; test]` points; at every requested depth the
 * train block `K̄(X, X)` `[N, N]` and the cross block `K̄(X_test, X)` `[m, N]` are built straight
 * from the recursion state into two buffers reused across depths (no full `[n, n]` copy), and one
 * of two solvers serves the kernel statistics and the gradient-flow predictions at every
 * requested `t` of that depth:
 *
 * - **eigh** (`n_train ≤` {@link krylovThreshold}): one symmetric eigendecomposition per depth
 *   (two when the kernel diagonal is not constant), shared by every `t`; exact to rounding.
 * - **krylov** (larger `n_train`, where the `O(N³)` eigendecomposition dominates): a Cholesky
 *   factor of `K̄` (LAPACK `dpotrf`) gives `logdet` and, by shift-invert Lanczos, `lambda_min`;
 *   Lanczos on `K̄` gives `lambda_max`; the predictions come from block Lanczos
 *   (`ntk/krylov.ts`, `O(N²·s)`), with `t = ∞` as a Cholesky solve. Accuracy target: relative
 *   error ≤ 1e-6 of the predictions and of `lambda_min`/`lambda_max` against the eigh path
 *   (measured ~1e-9 or better; `test/ntk-krylov.test.ts`, `test/kernel-task.test.ts`).
 *
 * Metrics per grid point (step 0): kernel statistics of the normalized train Gram of `kernel`
 * (`offdiag_mean, offdiag_min, offdiag_max, dist_to_limit, lambda_min, lambda_max, cond, logdet`),
 * prediction metrics at `t` (`train_mse, test_mse, test_acc, test_r2, pred_spread`), and
 * bookkeeping: `n_null_modes` (eigenvalues treated as zero; krylov: 0 when the Cholesky factor
 * exists, else NaN = unknown), `kernel_scale_log10` (the divisor of the time scale, log10),
 * `solver_krylov` (0 = eigh, 1 = krylov). The krylov solver also stores `krylov_dim` (Lanczos
 * basis dimensions summed over its processes for this depth), `krylov_err_est` (error estimate of
 * this `t`: relative coefficient change at convergence, or the relative residual of the Cholesky
 * solve for `t = ∞`), `krylov_converged` (1/0) and `lambda_err_est` (largest relative residual
 * `‖K̄y − θy‖/θ` of the two extreme Ritz pairs).
 *
 * Conventions: f₀ = 0 (the mean of the infinite-width network at initialization), so predictions
 * are `K(x,X) K⁻¹ (I − e^{−Kt/N}) y`. `time_scale: normalized` divides the kernel by the mean of
 * its train diagonal, so `t` is in units where the diagonal is 1 and depths are comparable.
 *
 * Memory (8-byte floats, `n = N + m`): the recursion state, two `[n, n]` buffers (one for
 * `kernel: nngp | rho`), and the cross block `[m, N]`. Below the largest depth the train block is
 * a separate `[N, N]` buffer; at the largest depth it is compacted into the state's own buffer
 * and the other one is dropped (`takeNormalizedBlocks`), so a one-depth batch never holds a
 * separate copy. The solver adds eigh: eigenvectors `[N, N]` plus LAPACK workspace (~`2N²`), ×2
 * for a non-constant diagonal; krylov: the Cholesky factor `[N, N]` plus two Lanczos bases
 * `[≤ 1510, N]`. `tasks/memory.ts` estimates the peak from these buffers; the README's
 * performance section gives measured peaks.
 */
import { DATA_PARAM_KEYS, loadDataset, type DataParams } from '../data/index.js';
import { linalg } from '../linalg/index.js';
import {
  choleskyInverseOp,
  denseSymOp,
  gradientFlowPredict,
  kernelStats,
  krylovGradientFlow,
  lanczosExtremes,
  logMeanExp,
  predictionMetrics,
  activationOfParams,
  depthProperties,
  kernelFold,
  kernelView,
  stateDistToLimit,
  takeNormalizedBlocks,
} from '../ntk/index.js';
import type { DepthProperties, KernelName, KernelStats, KernelState, SymOp, TimeScale } from '../ntk/index.js';
import { chooseKernelSolver, type KernelSolver } from './kernel-solver.js';
import type { MetricRow, Params, TaskContext, TaskInput } from './types.js';

/** Data params of a task's params (the `dataset` block fields). */
export function dataParamsOf(p: Params): DataParams {
  return Object.fromEntries(DATA_PARAM_KEYS.filter((k) => p[k] !== undefined).map((k) => [k, p[k]])) as unknown as DataParams;
}

export { chooseKernelSolver, krylovThreshold, type KernelSolver } from './kernel-solver.js';

/** Options of {@link runKernelBatch} (tests and benchmarks; the engine passes none). */
export interface KernelBatchOptions {
  /** `auto` (default, see {@link chooseKernelSolver}), `eigh` or `krylov`. */
  solver?: 'auto' | KernelSolver;
  /** Lanczos tolerance of the flow (default 1e-8, see `krylovGradientFlow`). */
  krylov_tol?: number;
  /** Largest Lanczos basis per process (default 1500). */
  krylov_max_dim?: number;
}

function constantDiag(logDiag: Float64Array): boolean {
  for (let i = 1; i < logDiag.length; i++) if (Math.abs(logDiag[i] - logDiag[0]) > 1e-13 * Math.max(1, Math.abs(logDiag[0]))) return false;
  return true;
}

/**
 * Run a batch of kernel grid points (same params except `depth` and `t`), reporting each point's
 * metrics and end through `ctx.reporter`.
 * @throws DataError for unusable data; RangeError for inconsistent params (a bug in expansion)
 *   or an unknown `NTK_SWEEP_KERNEL_SOLVER`.
 */
export async function runKernelBatch(tasks: TaskInput[], ctx: TaskContext, options: KernelBatchOptions = {}): Promise<void> {
  if (tasks.length === 0) return;
  const p = tasks[0].params;
  const kernel = String(p.kernel ?? 'ntk') as KernelName;
  const timeScale = String(p.time_scale ?? 'normalized') as TimeScale;
  const data = loadDataset(dataParamsOf(p));
  const { nTrain, nTest, d } = data;
  const n = nTrain + nTest;
  const x = new Float64Array(n * d);
  x.set(data.xTrain, 0);
  x.set(data.xTest, nTrain * d);
  const solver = chooseKernelSolver(nTrain, linalg().name, options.solver);

  const byDepth = new Map<number, TaskInput[]>();
  for (const t of tasks) byDepth.set(Number(t.params.depth), [...(byDepth.get(Number(t.params.depth)) ?? []), t]);
  const lead = tasks[0].id;
  // The cross block is reused at every depth; the train block too below the largest depth, while at
  // the largest depth it is the recursion's own buffer (takeNormalizedBlocks: no [N, N] copy).
  let kbarTrainBuf: Float64Array | null = null;
  const kbarCross = new Float64Array(nTest * nTrain);
  const maxDepth = Math.max(...byDepth.keys());

  const sigma_w = Number(p.sigma_w ?? 1);
  const sigma_b = Number(p.sigma_b ?? 0);
  const activation = activationOfParams(p);
  const props = depthProperties(activation, sigma_w, sigma_b, meanLogInputVariance(data.xTrain, nTrain, d, sigma_w, sigma_b));
  const limit = kernel === 'ntk' ? props.limit_ntk : props.limit_nngp;
  // dist_to_limit also at ⌊L/2⌋ gives the measured convergence rate at each depth L
  const halves = new Map<number, number>();
  const halfDepths = [...byDepth.keys()].map((L) => Math.floor(L / 2)).filter((h) => h >= 1);

  kernelFold(
    x,
    n,
    d,
    {
      sigma_w,
      sigma_b,
      activation,
      depths: [...byDepth.keys(), ...halfDepths],
      ntk: kernel === 'ntk',
      signal: ctx.signal,
      on_layer: (depth, max) => {
        if (depth % 10 === 0 || depth === max) ctx.reporter.progress(lead, depth / max, `depth ${depth}/${max}`);
      },
    },
    (depth, state) => {
      if (halfDepths.includes(depth)) halves.set(depth, stateDistToLimit(state, kernel, nTrain, limit));
      const here = byDepth.get(depth);
      if (here === undefined) return;
      const depthRows = depthMetrics(props, depth, halves.get(Math.floor(depth / 2)), stateDistToLimit(state, kernel, nTrain, limit));
      const scale = flowScale(state, kernel, timeScale, nTrain);
      let kbarTrain: Float64Array;
      if (depth === maxDepth) {
        kbarTrainBuf = null;
        kbarTrain = takeNormalizedBlocks(state as KernelState, kernel, nTrain, kbarCross);
      } else {
        kbarTrain = kbarTrainBuf ??= new Float64Array(nTrain * nTrain);
        normalizedBlocks(state, kernel, nTrain, kbarTrain, kbarCross);
      }
      const args = { kbarTrain, kbarCross, scale, data, tasks: here, limit };
      const rows = solver === 'eigh' ? eighDepthMetrics(args) : krylovDepthMetrics(args, options, ctx.signal);
      for (const row of rows) row.rows.push(...depthRows);
      for (const row of rows) {
        ctx.reporter.metrics(row.id, row.rows);
        ctx.reporter.end(row.id, { status: 'done' });
      }
    },
  );
}

/**
 * `log` of the mean over the training points of `Σ¹(x, x) = σ_w² |x|²/d + σ_b²` (the starting
 * variance of the depth properties).
 */
function meanLogInputVariance(x: Float64Array, nTrain: number, d: number, sigma_w: number, sigma_b: number): number {
  let sum = 0;
  for (let i = 0; i < nTrain; i++) {
    let sq = 0;
    for (let k = 0; k < d; k++) sq += x[i * d + k] * x[i * d + k];
    sum += (sigma_w * sigma_w * sq) / d + sigma_b * sigma_b;
  }
  return Math.log(sum / nTrain);
}

/**
 * Depth-property metrics of one depth: the architecture's `q_star, chi, xi, rho_star,
 * limit_nngp, limit_ntk` (the same at every depth), and the measured convergence of
 * `dist_to_limit` between `h = ⌊L/2⌋` and `L`: `dist_rate_poly = ln(d_h/d_L)/ln(L/h)` (the
 * exponent p of `d ~ L^{−p}`) and `dist_rate_exp = ln(d_h/d_L)/(L − h)` (the rate c of
 * `d ~ e^{−cL}`); NaN at depth 1. The distance at `L` is that of the train Gram's off-diagonal.
 */
function depthMetrics(props: DepthProperties, depth: number, distHalf: number | undefined, dist: number): MetricRow[] {
  const h = Math.floor(depth / 2);
  const ratio = distHalf === undefined ? NaN : Math.log(distHalf / dist);
  const values: Record<string, number> = {
    ...props,
    dist_rate_poly: h >= 1 ? ratio / Math.log(depth / h) : NaN,
    dist_rate_exp: h >= 1 ? ratio / (depth - h) : NaN,
  };
  return Object.entries(values).map(([name, value]) => ({ step: 0, name, value }));
}

/**
 * The normalized train block `K̄(X, X)` → `train` `[N, N]` and cross block `K̄(X_test, X)` →
 * `cross` `[m, N]` of `kernel` (`ntk`: `Θ̄`; `nngp`, `rho`: `ρ = cos θ`), read from a state
 * over the stacked `[train; test]` points with both triangles current (as handed out by
 * `kernelFold`). Same values as `kernelMatrix(state, kernel, 'normalized')` sliced by
 * `splitTrainTest`, without the `[n, n]` intermediate. Diagonal exactly 1.
 */
export function normalizedBlocks(
  state: Readonly<KernelState>,
  kernel: KernelName,
  nTrain: number,
  train: Float64Array,
  cross: Float64Array,
): void {
  const n = state.n;
  const nTest = n - nTrain;
  if (train.length !== nTrain * nTrain || cross.length !== nTest * nTrain) {
    throw new RangeError(`normalizedBlocks: buffers have lengths ${train.length}, ${cross.length}; expected [${nTrain}, ${nTrain}] and [${nTest}, ${nTrain}]`);
  }
  const { src, isAngle } = kernelView(state, kernel);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    const dst = i < nTrain ? train : cross;
    const o = (i < nTrain ? i : i - nTrain) * nTrain;
    if (isAngle) {
      for (let j = 0; j < nTrain; j++) dst[o + j] = j === i ? 1 : Math.cos(src[row + j]);
    } else {
      dst.set(src.subarray(row, row + nTrain), o);
      if (i < nTrain) dst[o + i] = 1;
    }
  }
}

/**
 * How the flow kernel `K` relates to `K̄`: `K = e^{logTime} · K̃`, where `K̃ = K̄` (`scale`
 * undefined: a constant kernel diagonal) or `K̃_ij = K̄_ij s_i s_j` (`scale` per point over
 * `[train; test]`, train-diagonal mean 1: the formula of `kernelMatrix` with `train_diag_mean`).
 * `time_scale: normalized` has `logTime = 0`; `absolute` has `logTime` = ln of the mean train
 * diagonal of the raw kernel, which passes 709 (float64 overflow) at σ_w = 2, depth ≈ 1,100.
 * The factor is never applied to a matrix: gradient flow on `c·K̃` for time `t` equals gradient
 * flow on `K̃` for time `c·t` (`K(x,X) K⁻¹ (I − e^{−Kt/N})` is unchanged by `K → cK, t → t/c`),
 * with an absolute ridge `δ` becoming `δ/c` (see {@link flowTimes}). `scaleLog10` is
 * `logTime / ln 10` for the record (`kernel_scale_log10`).
 */
interface FlowScale {
  scale: Float64Array | undefined;
  logTime: number;
  scaleLog10: number;
}

function flowScale(state: Readonly<KernelState>, kernel: KernelName, timeScale: TimeScale, nTrain: number): FlowScale {
  const { logDiag, logDiagLo } = kernelView(state, kernel);
  if (!logDiag || !logDiagLo) return { scale: undefined, logTime: 0, scaleLog10: 0 };
  const absolute = timeScale === 'absolute';
  if (constantDiag(logDiag)) {
    // When every point has the same kernel diagonal (unit-norm inputs), K = c·K̄ exactly and one
    // decomposition of K̄ serves statistics and flow.
    return { scale: undefined, logTime: absolute ? logDiag[0] : 0, scaleLog10: logDiag[0] / Math.LN10 };
  }
  const n = state.n;
  const s = new Float64Array(n);
  const rel = new Float64Array(n);
  for (let i = 0; i < n; i++) rel[i] = logDiag[i] - logDiag[0] + (logDiagLo[i] - logDiagLo[0]);
  const m = logMeanExp(rel, nTrain);
  for (let i = 0; i < n; i++) s[i] = Math.exp(0.5 * (rel[i] - m));
  const logMean = logDiag[0] + logDiagLo[0] + m;
  return { scale: s, logTime: absolute ? logMean : 0, scaleLog10: logMeanExp(logDiag, nTrain) / Math.LN10 };
}

/**
 * The stopping times and ridge of the flow on `K̃` (see {@link FlowScale}): `t·e^{logTime}`,
 * computed as `exp(ln t + logTime)` (0 stays 0; a product past float64 is +∞, the t = ∞
 * predictor, which does not depend on the scale), and an absolute `diag_reg` divided by the same
 * factor (a relative one is scale-free).
 */
function flowTimes(tasks: TaskInput[], scale: FlowScale): { t: number[]; diagReg: number; mode: 'relative' | 'absolute' } {
  const mode = (tasks[0].params.diag_reg_mode ?? 'relative') as 'relative' | 'absolute';
  const reg = Number(tasks[0].params.diag_reg ?? 0);
  const L = scale.logTime;
  const t = tasks.map((task) => {
    const t0 = Number(task.params.t ?? Infinity);
    return L === 0 || t0 === 0 || t0 === Infinity ? t0 : Math.exp(Math.log(t0) + L);
  });
  return { t, diagReg: mode === 'absolute' && L !== 0 && reg > 0 ? Math.exp(Math.log(reg) - L) : reg, mode };
}

/** `K_ij = K̄_ij s_hi s_lo` (hi = the larger point index: bit-identical to `kernelMatrix`). */
function scaledBlocks(kbarTrain: Float64Array, kbarCross: Float64Array, s: Float64Array, nTrain: number): { kTrain: Float64Array; kCross: Float64Array } {
  const nTest = kbarCross.length / nTrain;
  const kTrain = new Float64Array(nTrain * nTrain);
  for (let i = 0; i < nTrain; i++) {
    const si = s[i];
    for (let j = 0; j < nTrain; j++) {
      const v = kbarTrain[i * nTrain + j];
      kTrain[i * nTrain + j] = j < i ? v * si * s[j] : j > i ? v * s[j] * si : si * si;
    }
  }
  const kCross = new Float64Array(nTest * nTrain);
  for (let i = 0; i < nTest; i++) {
    const si = s[nTrain + i];
    for (let j = 0; j < nTrain; j++) kCross[i * nTrain + j] = kbarCross[i * nTrain + j] * si * s[j];
  }
  return { kTrain, kCross };
}

interface DepthArgs {
  kbarTrain: Float64Array;
  kbarCross: Float64Array;
  scale: FlowScale;
  data: ReturnType<typeof loadDataset>;
  tasks: TaskInput[];
  /** Off-diagonal `a` of the kernel's large-depth limit (`dist_to_limit`). */
  limit: number;
}

type DepthRows = { id: string; rows: MetricRow[] }[];

function eighDepthMetrics({ kbarTrain, kbarCross, scale, data, tasks, limit }: DepthArgs): DepthRows {
  const { nTrain, nTest, k } = data;
  const eigBar = linalg().eigh(nTrain, kbarTrain);
  const stats = kernelStats(kbarTrain, nTrain, eigBar, limit);
  // Kernel used by the flow, and its eigendecomposition.
  let kTrain = kbarTrain;
  let kCross = kbarCross;
  let eig = eigBar;
  const c = scale.scale;
  if (c !== undefined) {
    ({ kTrain, kCross } = scaledBlocks(kbarTrain, kbarCross, c, nTrain));
    eig = linalg().eigh(nTrain, kTrain);
  }
  const times = flowTimes(tasks, scale);
  const flow = gradientFlowPredict({
    n_train: nTrain,
    n_test: nTest,
    n_out: k,
    k_train: kTrain,
    k_cross: kCross,
    y_train: data.yTrain,
    t: times.t,
    diag_reg: times.diagReg,
    diag_reg_mode: times.mode,
    eig,
  });
  return tasks.map((task, i) =>
    taskRows(task, stats, data, flow.predictions[i], { n_null_modes: flow.n_null, kernel_scale_log10: scale.scaleLog10, solver_krylov: 0 }),
  );
}

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
 * Cholesky factor of the symmetric `[N, N]` matrix in `a` (lower triangle read), shifted if need
 * be: `a` itself, else `a + σI` with σ = `1e-8 λ_max`, then 100σ. σ is far above the rounding
 * that makes a singular Gram matrix numerically indefinite (~`N ε λ_max`), and small enough that
 * the shift-invert operator `(A + σI)⁻¹` (spectrum spread ≤ 1e8) keeps its Ritz values, mapped
 * back by `μ = 1/ν − σ`, accurate to ~`ε λ/σ` ≤ 2e-8 relative; null modes come out at
 * `|μ| ~ εσ`, far below the zero threshold `N ε λ_max`. The diagonal of `a` is restored exactly.
 * Null when all three fail. `forceShift` skips the unshifted attempt.
 */
function shiftedCholesky(N: number, a: Float64Array, lambdaMax: number, forceShift = false): { l: Float64Array; shift: number } | null {
  const la = linalg();
  const l = forceShift ? null : la.cholesky(N, a);
  if (l) return { l, shift: 0 };
  const diag = new Float64Array(N);
  for (let i = 0; i < N; i++) diag[i] = a[i * N + i];
  const base = MAX_SOLVE_COND_INV * Math.abs(lambdaMax);
  try {
    for (const shift of [base, 100 * base]) {
      if (!(shift > 0)) break;
      for (let i = 0; i < N; i++) a[i * N + i] = diag[i] + shift;
      const ls = la.cholesky(N, a);
      if (ls) return { l: ls, shift };
    }
  } finally {
    for (let i = 0; i < N; i++) a[i * N + i] = diag[i];
  }
  return null;
}

function krylovDepthMetrics({ kbarTrain, kbarCross, scale, data, tasks, limit }: DepthArgs, options: KernelBatchOptions, signal?: AbortSignal): DepthRows {
  const { nTrain: N, nTest: m, k } = data;
  const la = linalg();
  // --- statistics of K̄: Lanczos λ_max; Cholesky log-determinant; shift-invert Lanczos λ_min
  const top = lanczosExtremes(denseSymOp(N, kbarTrain), { ...EXTREMES, which: 'max', signal });
  let fac = shiftedCholesky(N, kbarTrain, top.max);
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
        // (Drop the old factor first, so two [N, N] factors are never referenced at once.)
        fac = null;
        fac = shiftedCholesky(N, kbarTrain, top.max, true);
      }
    }
  } else {
    // no factor even with a shift: the smallest Ritz value is only an upper bound on λ_min
    const both = lanczosExtremes(denseSymOp(N, kbarTrain), { ...EXTREMES, which: 'both', signal });
    lambdaMin = both.min;
    lambdaErr = Math.max(lambdaErr, both.resid_min / Math.max(Math.abs(both.min), Number.MIN_VALUE));
  }
  // numerically singular: no unshifted factor, or one too ill-conditioned to solve with
  const singular = !(fac && fac.shift === 0);
  // kernelStats supplies the off-diagonal statistics; the spectrum it is given holds only the two
  // extreme eigenvalues, so its logdet is replaced by the Cholesky one.
  const spectrum = new Float64Array(N).fill(top.max);
  spectrum[0] = Math.min(lambdaMin, top.max);
  const stats: KernelStats = { ...kernelStats(kbarTrain, N, { values: spectrum }, limit), logdet };

  // --- flow on A = K̃ + δI, K̃ = K̄ or D K̄ D (the time-scale factor is in the times)
  const c = scale.scale;
  let meanDiagK = 1;
  if (c !== undefined) {
    let sum = 0;
    for (let i = 0; i < N; i++) sum += c[i] * c[i];
    meanDiagK = sum / N;
  }
  const times = flowTimes(tasks, scale);
  const delta = times.mode === 'relative' ? times.diagReg * meanDiagK : times.diagReg;
  const sTrain = c?.subarray(0, N);
  const sTest = c?.subarray(N);
  let sMax2 = 1;
  if (sTrain) {
    if (!sTrain.every((v) => v > 0 && Number.isFinite(v))) {
      throw new RangeError('kernel task: a per-point kernel scale relative to the mean diagonal underflowed or overflowed (the inputs\' norms differ too much for this depth)');
    }
    sMax2 = 0;
    for (const v of sTrain) sMax2 = Math.max(sMax2, v * v);
  }
  let op: SymOp;
  let inverse: SymOp | null = null;
  let inverseShift = 0;
  if (delta === 0 && sTrain === undefined) {
    // A = K̄: its factor (of K̄ + σI) serves as (A + σI)⁻¹
    op = denseSymOp(N, kbarTrain);
    if (fac) {
      inverse = choleskyInverseOp(N, fac.l);
      inverseShift = fac.shift;
    }
  } else {
    // A = D K̄ D + δI needs its own factor: overwrite the train block with A (it is rebuilt from
    // the state at the next depth) after dropping the factor of K̄, so one [N, N] factor lives.
    fac = null;
    for (let i = 0; i < N; i++) {
      if (sTrain) for (let j = 0; j < N; j++) kbarTrain[i * N + j] *= sTrain[i] * sTrain[j];
      kbarTrain[i * N + i] += delta;
    }
    // D K̄ D has the null space of K̄ (D is invertible): shift it likewise when there is no ridge
    const facA = shiftedCholesky(N, kbarTrain, sMax2 * top.max + delta, singular && delta === 0);
    op = denseSymOp(N, kbarTrain);
    if (facA) {
      inverse = choleskyInverseOp(N, facA.l);
      inverseShift = facA.shift;
    }
  }
  let xs = new Float64Array(0);
  const cross = (xRows: Float64Array, out: Float64Array): void => {
    let src = xRows;
    if (sTrain) {
      if (xs.length !== xRows.length) xs = new Float64Array(xRows.length);
      for (let r = 0; r < k; r++) for (let j = 0; j < N; j++) xs[r * N + j] = xRows[r * N + j] * sTrain[j];
      src = xs;
    }
    la.gemm(false, true, k, m, N, 1, src, kbarCross, 0, out);
    if (sTest) for (let r = 0; r < k; r++) for (let j = 0; j < m; j++) out[r * m + j] *= sTest[j];
  };
  const flow = krylovGradientFlow({
    n_train: N,
    n_test: m,
    n_out: k,
    op,
    inverse,
    inverse_shift: inverseShift,
    diag_reg_abs: delta,
    cross,
    y_train: data.yTrain,
    t: times.t,
    tol: options.krylov_tol,
    max_dim: options.krylov_max_dim,
    lambda_max: sTrain ? undefined : top.max + delta,
    signal,
  });
  return tasks.map((task, i) =>
    taskRows(task, stats, data, flow.predictions[i], {
      // positive definite when A itself was factored; otherwise how many modes were dropped is unknown
      n_null_modes: inverse !== null && inverseShift === 0 ? 0 : NaN,
      kernel_scale_log10: scale.scaleLog10,
      solver_krylov: 1,
      krylov_dim: flow.dim + flow.dim_inverse,
      krylov_err_est: flow.info[i].err_est,
      krylov_converged: flow.info[i].converged ? 1 : 0,
      lambda_err_est: lambdaErr,
    }),
  );
}

function taskRows(
  task: TaskInput,
  stats: KernelStats,
  data: ReturnType<typeof loadDataset>,
  pred: { train: Float64Array; test: Float64Array },
  extra: Record<string, number>,
): { id: string; rows: MetricRow[] } {
  const { nTrain, nTest, k } = data;
  // a NaN prediction would be stored as NULL metrics next to a finite, wrong test_acc
  if (!pred.train.every(Number.isFinite) || !pred.test.every(Number.isFinite)) {
    throw new RangeError(
      `kernel task: the predictions at depth ${task.params.depth}, t = ${task.params.t} are not finite numbers ` +
        `(kernel_scale_log10 = ${extra.kernel_scale_log10}; the flow kernel or the stopping time is out of float64 range)`,
    );
  }
  const train = predictionMetrics(pred.train, data.yTrain, nTrain, k);
  const test = predictionMetrics(pred.test, data.yTest, nTest, k);
  const values: Record<string, number> = {
    ...stats,
    train_mse: train.mse,
    test_mse: test.mse,
    ...(data.task === 'regression' ? {} : { test_acc: test.test_acc }),
    test_r2: test.test_r2,
    pred_spread: test.pred_spread,
    ...extra,
  };
  return { id: task.id, rows: Object.entries(values).map(([name, value]) => ({ step: 0, name, value })) };
}
