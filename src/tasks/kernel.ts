/**
 * `kind: kernel` tasks: infinite-width ReLU network on a dataset (design.md §2).
 *
 * A batch is a set of grid points that differ only in `depth` and `t`. One kernel recursion runs
 * to the largest depth over the stacked `[train; test]` points; at every requested depth one
 * symmetric eigendecomposition of the train Gram serves the kernel statistics and the
 * gradient-flow predictions at every requested `t`. Each grid point's metrics are reported
 * separately (results and resume stay per point).
 *
 * Metrics per grid point (step 0): kernel statistics of the normalized train Gram of `kernel`
 * (`offdiag_mean, offdiag_min, offdiag_max, dist_to_limit, lambda_min, lambda_max, cond, logdet`),
 * prediction metrics at `t` (`train_mse, test_mse, test_acc, test_r2, pred_spread`), and
 * bookkeeping (`n_null_modes`: eigenvalues treated as zero; `kernel_scale`: the divisor of the
 * time scale, log10).
 *
 * Conventions: f₀ = 0 (the mean of the infinite-width network at initialization), so predictions
 * are `K(x,X) K⁻¹ (I − e^{−Kt/N}) y`. `time_scale: normalized` divides the kernel by the mean of
 * its train diagonal, so `t` is in units where the diagonal is 1 and depths are comparable.
 */
import { loadDataset, type DataParams } from '../data/index.js';
import { linalg } from '../linalg/index.js';
import { gradientFlowPredict, kernelMatrix, kernelStats, logMeanExp, predictionMetrics, reluKernelFold, splitTrainTest } from '../ntk/index.js';
import type { KernelName, ReluKernelState, TimeScale } from '../ntk/index.js';
import type { MetricRow, Params, TaskContext, TaskInput } from './types.js';

/** Data params of a task's params (the `dataset` block fields). */
export function dataParamsOf(p: Params): DataParams {
  const keys = ['dataset', 'n_train', 'n_test', 'data_seed', 'classes', 'center', 'unit_norm', 'd', 'target', 'path', 'train_path', 'test_path', 'label_column'];
  return Object.fromEntries(keys.filter((k) => p[k] !== undefined).map((k) => [k, p[k]])) as unknown as DataParams;
}

function constantDiag(logDiag: Float64Array): boolean {
  for (let i = 1; i < logDiag.length; i++) if (Math.abs(logDiag[i] - logDiag[0]) > 1e-13 * Math.max(1, Math.abs(logDiag[0]))) return false;
  return true;
}

/**
 * Run a batch of kernel grid points (same params except `depth` and `t`), reporting each point's
 * metrics and end through `ctx.reporter`.
 * @throws DataError for unusable data; RangeError for inconsistent params (a bug in expansion).
 */
export async function runKernelBatch(tasks: TaskInput[], ctx: TaskContext): Promise<void> {
  if (tasks.length === 0) return;
  const p = tasks[0].params;
  const kernel = String(p.kernel ?? 'ntk') as KernelName;
  const timeScale = String(p.time_scale ?? 'normalized') as TimeScale;
  const data = loadDataset(dataParamsOf(p));
  const { nTrain, nTest, d, k } = data;
  const n = nTrain + nTest;
  const x = new Float64Array(n * d);
  x.set(data.xTrain, 0);
  x.set(data.xTest, nTrain * d);

  const byDepth = new Map<number, TaskInput[]>();
  for (const t of tasks) byDepth.set(Number(t.params.depth), [...(byDepth.get(Number(t.params.depth)) ?? []), t]);
  const lead = tasks[0].id;

  reluKernelFold(
    x,
    n,
    d,
    {
      sigma_w: Number(p.sigma_w ?? 1),
      sigma_b: Number(p.sigma_b ?? 0),
      depths: [...byDepth.keys()],
      ntk: kernel === 'ntk',
      signal: ctx.signal,
      on_layer: (depth, max) => {
        if (depth % 10 === 0 || depth === max) ctx.reporter.progress(lead, depth / max, `depth ${depth}/${max}`);
      },
    },
    (depth, state) => {
      for (const row of depthMetrics(state, kernel, timeScale, data, byDepth.get(depth)!)) {
        ctx.reporter.metrics(row.id, row.rows);
        ctx.reporter.end(row.id, { status: 'done' });
      }
    },
  );
}

function depthMetrics(
  state: Readonly<ReluKernelState>,
  kernel: KernelName,
  timeScale: TimeScale,
  data: ReturnType<typeof loadDataset>,
  tasks: TaskInput[],
): { id: string; rows: MetricRow[] }[] {
  const { nTrain, nTest, k } = data;
  const kbar = kernelMatrix(state, kernel, 'normalized');
  const { k_train: kbarTrain, k_cross: kbarCross } = splitTrainTest(kbar, nTrain, nTest);
  const eigBar = linalg().eigh(nTrain, kbarTrain);
  const stats = kernelStats(kbarTrain, nTrain, eigBar);

  const logDiag = kernel === 'ntk' ? state.log_ntk_diag : kernel === 'nngp' ? state.log_nngp_diag : null;
  // Kernel used by the flow, and its eigendecomposition. When every point has the same kernel
  // diagonal (unit-norm inputs), K = c·K̄ exactly and the one eigendecomposition serves both.
  let kTrain = kbarTrain;
  let kCross = kbarCross;
  let eig = eigBar;
  let scaleLog10 = 0;
  if (logDiag && constantDiag(logDiag)) {
    const c = timeScale === 'absolute' ? Math.exp(logDiag[0]) : 1;
    scaleLog10 = logDiag[0] / Math.LN10;
    if (c !== 1) {
      kTrain = kbarTrain.map((v) => v * c);
      kCross = kbarCross.map((v) => v * c);
      eig = { values: eigBar.values.map((v) => v * c), vectors: eigBar.vectors };
    }
  } else if (logDiag) {
    const full = kernelMatrix(state, kernel, timeScale === 'absolute' ? 'absolute' : 'train_diag_mean', { n_train: nTrain });
    ({ k_train: kTrain, k_cross: kCross } = splitTrainTest(full, nTrain, nTest));
    eig = linalg().eigh(nTrain, kTrain);
    scaleLog10 = logMeanExp(logDiag, nTrain) / Math.LN10;
  }
  const diagReg = Number(tasks[0].params.diag_reg ?? 0);
  const ts = tasks.map((t) => Number(t.params.t ?? Infinity));
  const flow = gradientFlowPredict({
    n_train: nTrain,
    n_test: nTest,
    n_out: k,
    k_train: kTrain,
    k_cross: kCross,
    y_train: data.yTrain,
    t: ts,
    diag_reg: diagReg,
    diag_reg_mode: (tasks[0].params.diag_reg_mode ?? 'relative') as 'relative' | 'absolute',
    eig,
  });
  return tasks.map((task, i) => {
    const pred = flow.predictions[i];
    const train = predictionMetrics(pred.train, data.yTrain, nTrain, k);
    const test = predictionMetrics(pred.test, data.yTest, nTest, k);
    const values: Record<string, number> = {
      ...stats,
      train_mse: train.mse,
      test_mse: test.mse,
      test_acc: test.test_acc,
      test_r2: test.test_r2,
      pred_spread: test.pred_spread,
      n_null_modes: flow.n_null,
      kernel_scale_log10: scaleLog10,
    };
    return { id: task.id, rows: Object.entries(values).map(([name, value]) => ({ step: 0, name, value })) };
  });
}
