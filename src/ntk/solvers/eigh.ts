/**
 * The eigh depth solver: one symmetric eigendecomposition of `K̄` per depth (two when the kernel
 * diagonal is not constant) serves the kernel statistics and the predictions at every `t`; exact
 * to rounding. Formulas: `predict.ts` (docs/conventions.md §8).
 */
import { linalg } from '../../linalg/index.js';
import { gradientFlowPredict } from '../predict.js';
import { flowTimes, scaledBlocks } from '../scale.js';
import { kernelStats } from '../stats.js';
import type { DepthSolution, DepthSolverInput } from './solver.js';

/**
 * {@link DepthSolver} by eigendecomposition: `kernelStats` of `K̄` from its eigenvalues, and
 * `gradientFlowPredict` on the flow kernel `K̃` (`K̄`, or `D K̄ D` for a per-point scale).
 * Does not modify its input blocks.
 * @throws Error from `eigh` if a block holds NaN/Inf.
 */
export function eighDepthSolver(input: DepthSolverInput): DepthSolution {
  const { kbar_train, kbar_cross, scale, n_train, n_test, n_out: k } = input;
  const eigBar = linalg().eigh(n_train, kbar_train);
  const stats = kernelStats(kbar_train, n_train, eigBar, input.limit);
  // Kernel used by the flow, and its eigendecomposition.
  let k_train = kbar_train;
  let k_cross = kbar_cross;
  let eig = eigBar;
  const c = scale.scale;
  if (c !== undefined) {
    ({ k_train, k_cross } = scaledBlocks(kbar_train, kbar_cross, c, n_train));
    eig = linalg().eigh(n_train, k_train);
  }
  const times = flowTimes(input.t, input.diag_reg, input.diag_reg_mode, scale);
  const flow = gradientFlowPredict({
    n_train,
    n_test,
    n_out: k,
    k_train,
    k_cross,
    y_train: input.y_train,
    t: times.t,
    diag_reg: times.diagReg,
    diag_reg_mode: times.mode,
    eig,
  });
  return {
    stats,
    predictions: flow.predictions,
    extra: flow.predictions.map(() => ({ n_null_modes: flow.n_null, kernel_scale_log10: scale.scaleLog10, solver_krylov: 0 })),
  };
}
