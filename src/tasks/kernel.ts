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
 * - **eigh** (`n_train ≤` {@link krylovThreshold}, `ntk/solvers/eigh.ts`): one symmetric
 *   eigendecomposition per depth (two when the kernel diagonal is not constant), shared by every
 *   `t`; exact to rounding.
 * - **krylov** (larger `n_train`, where the `O(N³)` eigendecomposition dominates;
 *   `ntk/solvers/krylov.ts`): Cholesky and Lanczos for the statistics, block Lanczos for the
 *   predictions (`O(N²·s)`), with `t = ∞` as a Cholesky solve. Accuracy target: relative error
 *   ≤ 1e-6 of the predictions and of `lambda_min`/`lambda_max` against the eigh path (measured
 *   ~1e-9 or better; `test/ntk-krylov.test.ts`, `test/kernel-task.test.ts`).
 *
 * This module is the orchestration: data, recursion, blocks and scale per depth, the solver, and
 * the metric rows.
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
 * `kernel: nngp | rho`) of which only the lower triangles are kept current, and the cross block
 * `[m, N]`. The train block has no buffer of its own except for `nngp`/`rho` below the largest
 * depth: at the largest depth it is compacted into the state's own buffer and the other one is
 * dropped (`takeNormalizedBlocks`); below it the NTK block is borrowed from the state's `Θ̄`
 * buffer, its lower triangle stashed in the free upper triangle of `θ` and restored after the
 * solve (`borrowNtkBlocks`). The krylov solver's Cholesky factor shares the train block's buffer
 * (factor in the lower triangle, the kernel in the upper one), and adds two Lanczos bases
 * `[≤ 1510, N]`; the eigh solver adds eigenvectors `[N, N]` plus LAPACK workspace (~`2N²`), ×2
 * for a non-constant diagonal. `tasks/memory.ts` estimates the peak from these buffers; the
 * README's performance section gives measured peaks.
 */
import { loadDataset } from '../data/index.js';
import { linalg } from '../linalg/index.js';
import {
  flowScale,
  normalizedBlocks,
  predictionMetrics,
  activationOfParams,
  depthProperties,
  kernelFold,
  kernelView,
  stateDistToLimit,
  takeNormalizedBlocks,
  borrowNtkBlocks,
} from '../ntk/index.js';
import type { DepthProperties, FlowScale, KernelName, KernelState, KernelStats } from '../ntk/index.js';
import { parseParams } from '../spec/params.js';
import type { KernelTaskParams } from './kinds/kernel.js';
import { chooseKernelSolver, DEPTH_SOLVERS, type DepthSolution, type DepthSolverInput, type KernelSolver } from '../ntk/solvers/index.js';
import type { MetricRow, TaskContext, TaskInput } from './types.js';

export { chooseKernelSolver, krylovThreshold, type KernelSolver } from '../ntk/solvers/index.js';

/** Options of {@link runKernelBatch} (tests and benchmarks; the engine passes none). */
export interface KernelBatchOptions {
  /** `auto` (default, see {@link chooseKernelSolver}), `eigh` or `krylov`. */
  solver?: 'auto' | KernelSolver;
  /** Lanczos tolerance of the flow (default 1e-8, see `krylovGradientFlow`). */
  krylov_tol?: number;
  /** Largest Lanczos basis per process (default 1500). */
  krylov_max_dim?: number;
}

/**
 * Run a batch of kernel grid points (same params except `depth` and `t`), reporting each point's
 * metrics and end through `ctx.reporter`.
 * @throws DataError for unusable data; RangeError for inconsistent params (a bug in expansion)
 *   or an unknown `NTK_SWEEP_KERNEL_SOLVER`.
 */
export async function runKernelBatch(tasks: TaskInput[], ctx: TaskContext, options: KernelBatchOptions = {}): Promise<void> {
  if (tasks.length === 0) return;
  const p = parseParams('kernel', tasks[0].params);
  const { kernel, time_scale: timeScale, sigma_w, sigma_b } = p;
  const data = loadDataset(p.data);
  const { n_train, n_test, d } = data;
  const n = n_train + n_test;
  const x = new Float64Array(n * d);
  x.set(data.x_train, 0);
  x.set(data.x_test, n_train * d);
  const solver = chooseKernelSolver(n_train, linalg().name, options.solver);

  const byDepth = new Map<number, TaskInput[]>();
  for (const t of tasks) {
    const depth = parseParams('kernel', t.params).depth;
    byDepth.set(depth, [...(byDepth.get(depth) ?? []), t]);
  }
  const lead = tasks[0].id;
  // The cross block is reused at every depth. The train block lives in the recursion's own buffers
  // (depthBlocks) except for nngp/rho below the largest depth, which reuse one [N, N] buffer.
  let kbarTrainBuf: Float64Array | null = null;
  const kbar_cross = new Float64Array(n_test * n_train);
  const maxDepth = Math.max(...byDepth.keys());

  const activation = activationOfParams(tasks[0].params);
  const props = depthProperties(activation, sigma_w, sigma_b, meanLogInputVariance(data.x_train, n_train, d, sigma_w, sigma_b));
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
      mirror: false,
      signal: ctx.signal,
      on_layer: (depth, max) => {
        if (depth % 10 === 0 || depth === max) ctx.reporter.progress(lead, depth / max, `depth ${depth}/${max}`);
      },
    },
    (depth, state) => {
      if (halfDepths.includes(depth)) halves.set(depth, stateDistToLimit(state, kernel, n_train, limit));
      const here = byDepth.get(depth);
      if (here === undefined) return;
      const depthRows = depthMetrics(props, depth, halves.get(Math.floor(depth / 2)), stateDistToLimit(state, kernel, n_train, limit));
      const scale = flowScale(kernelView(state, kernel), timeScale, n_train);
      const blocks = depthBlocks(state as KernelState, kernel, n_train, kbar_cross, depth === maxDepth, () => (kbarTrainBuf ??= new Float64Array(n_train * n_train)));
      if (depth === maxDepth) kbarTrainBuf = null;
      let solution: DepthSolution;
      try {
        solution = DEPTH_SOLVERS[solver](solverInput(here, p, { kbar_train: blocks.train, kbar_cross, scale, limit }, data, options, ctx.signal));
      } finally {
        blocks.restore?.();
      }
      const rows = here.map((task, i) => taskRows(task, solution.stats, data, solution.predictions[i], solution.extra[i]));
      for (const row of rows) row.rows.push(...depthRows);
      for (const row of rows) {
        ctx.reporter.metrics(row.id, row.rows);
        ctx.reporter.end(row.id, { status: 'done' });
      }
    },
  );
}

/**
 * The normalized train block `[N, N]` of one depth, the cross block written into `cross`, with
 * as little memory of its own as the state allows: at the largest depth the state is consumed
 * and the block compacted into its buffer (`takeNormalizedBlocks`); below it, the NTK block is
 * borrowed from `ntk_bar` (`borrowNtkBlocks`: call `restore` before the fold steps again), and
 * the `ρ` block of `nngp`/`rho` (angles must become cosines) goes into `buffer()`. The solver
 * may overwrite the block.
 */
function depthBlocks(
  state: KernelState,
  kernel: KernelName,
  n_train: number,
  cross: Float64Array,
  last: boolean,
  buffer: () => Float64Array,
): { train: Float64Array; restore?: () => void } {
  if (last) return { train: takeNormalizedBlocks(state, kernel, n_train, cross) };
  if (kernel === 'ntk') return borrowNtkBlocks(state, n_train, cross);
  const train = buffer();
  normalizedBlocks(state, kernel, n_train, train, cross);
  return { train };
}

/**
 * `log` of the mean over the training points of `Σ¹(x, x) = σ_w² |x|²/d + σ_b²` (the starting
 * variance of the depth properties).
 */
function meanLogInputVariance(x: Float64Array, n_train: number, d: number, sigma_w: number, sigma_b: number): number {
  let sum = 0;
  for (let i = 0; i < n_train; i++) {
    let sq = 0;
    for (let k = 0; k < d; k++) sq += x[i * d + k] * x[i * d + k];
    sum += (sigma_w * sigma_w * sq) / d + sigma_b * sigma_b;
  }
  return Math.log(sum / n_train);
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

/** The solver input of the tasks of one depth (their `t`; `diag_reg` and its mode are shared by the batch, `p`). */
function solverInput(
  tasks: TaskInput[],
  p: KernelTaskParams,
  blocks: { kbar_train: Float64Array; kbar_cross: Float64Array; scale: FlowScale; limit: number },
  data: ReturnType<typeof loadDataset>,
  options: KernelBatchOptions,
  signal?: AbortSignal,
): DepthSolverInput {
  return {
    ...blocks,
    n_train: data.n_train,
    n_test: data.n_test,
    n_out: data.k,
    y_train: data.y_train,
    t: tasks.map((task) => parseParams('kernel', task.params).t),
    diag_reg: p.diag_reg,
    diag_reg_mode: p.diag_reg_mode,
    krylov: { tol: options.krylov_tol, max_dim: options.krylov_max_dim },
    signal,
  };
}

function taskRows(
  task: TaskInput,
  stats: KernelStats,
  data: ReturnType<typeof loadDataset>,
  pred: { train: Float64Array; test: Float64Array },
  extra: Record<string, number>,
): { id: string; rows: MetricRow[] } {
  const { n_train, n_test, k } = data;
  // a NaN prediction would be stored as NULL metrics next to a finite, wrong test_acc
  if (!pred.train.every(Number.isFinite) || !pred.test.every(Number.isFinite)) {
    throw new RangeError(
      `kernel task: the predictions at depth ${task.params.depth}, t = ${task.params.t} are not finite numbers ` +
        `(kernel_scale_log10 = ${extra.kernel_scale_log10}; the flow kernel or the stopping time is out of float64 range)`,
    );
  }
  const train = predictionMetrics(pred.train, data.y_train, n_train, k);
  const test = predictionMetrics(pred.test, data.y_test, n_test, k);
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
