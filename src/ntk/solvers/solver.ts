/**
 * The interface of the kernel task's per-depth solvers ({@link DepthSolver}: `eigh.ts`,
 * `krylov.ts`) and which one a kernel task uses for `n_train` points: one eigendecomposition per
 * depth (eigh) or Cholesky + Lanczos (krylov). The rule lives in this small module so the
 * coordinator's memory estimate (`tasks/memory.ts`) follows it without loading the solvers.
 *
 * Layout: row-major `Float64Array`; `N = n_train`, `m = n_test`, `k = n_out`.
 */
import type { DiagRegMode } from '../predict.js';
import type { FlowScale } from '../scale.js';
import type { KernelStats } from '../stats.js';

/** Solver of the kernel task (module comment). */
export type KernelSolver = 'eigh' | 'krylov';

/**
 * Largest `n_train` solved by eigendecomposition for a backend; above it the krylov solver runs.
 * The eigh path grows as N³, the krylov path (Cholesky + statistics + flow) more slowly, and it
 * overtakes the JS backend's eigh at a smaller N than OpenBLAS's, hence the lower JS threshold.
 * Up to the threshold the exact eigh path is kept (comparable cost); beyond it the krylov path
 * wins by a growing factor. `scripts/bench/flow.ts` times both paths side by side.
 */
export function krylovThreshold(backendName: string): number {
  return backendName === 'openblas' ? 2500 : 1600;
}

/**
 * The solver for `n_train` points on the active backend: `NTK_SWEEP_KERNEL_SOLVER` (`eigh` |
 * `krylov` | `auto`, default `auto`) or `override` forces one; `auto` compares `n_train` with
 * {@link krylovThreshold}.
 * @throws RangeError for an unknown value.
 */
export function chooseKernelSolver(n_train: number, backendName: string, override?: string): KernelSolver {
  const choice = (override ?? process.env.NTK_SWEEP_KERNEL_SOLVER ?? 'auto').trim().toLowerCase() || 'auto';
  if (choice === 'eigh' || choice === 'krylov') return choice;
  if (choice !== 'auto') throw new RangeError(`NTK_SWEEP_KERNEL_SOLVER=${choice} is not one of auto, eigh, krylov`);
  return n_train > krylovThreshold(backendName) ? 'krylov' : 'eigh';
}

/** Inputs of a {@link DepthSolver}: the normalized blocks of one depth and the flow settings. */
export interface DepthSolverInput {
  /**
   * Normalized train block `K̄(X, X)` `[N, N]`, both triangles, unit diagonal. The krylov solver
   * overwrites it (its Cholesky factor shares the buffer; the caller rebuilds the block from the
   * recursion state at the next depth); the eigh solver does not.
   */
  kbar_train: Float64Array;
  /** Normalized cross block `K̄(X_test, X)` `[m, N]`. Not modified. */
  kbar_cross: Float64Array;
  /** How the flow kernel relates to `K̄` (per-point scale and time factor). */
  scale: FlowScale;
  n_train: number;
  n_test: number;
  n_out: number;
  /** Training labels `[N, k]` (f₀ = 0). */
  y_train: Float64Array;
  /** Stopping times `t = lr·steps` of the flow on the kernel at the task's `time_scale` (≥ 0, `Infinity` allowed). */
  t: readonly number[];
  /** `diag_reg` and its mode, as in the task params. */
  diag_reg: number;
  diag_reg_mode: DiagRegMode;
  /** Off-diagonal `a` of the kernel's large-depth limit (`dist_to_limit`). */
  limit: number;
  /** Lanczos tolerance and largest basis of the krylov flow (defaults of `krylovGradientFlow`). */
  krylov?: { tol?: number; max_dim?: number };
  signal?: AbortSignal;
}

/** What a {@link DepthSolver} returns for one depth. */
export interface DepthSolution {
  /** Statistics of `K̄`. */
  stats: KernelStats;
  /** Predictions per requested `t`, in order: `train` `[N, k]`, `test` `[m, k]`. */
  predictions: { train: Float64Array; test: Float64Array }[];
  /** Bookkeeping metrics per requested `t` (`n_null_modes`, `kernel_scale_log10`, `solver_krylov`, …). */
  extra: Record<string, number>[];
}

/** Kernel statistics and gradient-flow predictions at every `t` of one depth. */
export type DepthSolver = (input: DepthSolverInput) => DepthSolution;
