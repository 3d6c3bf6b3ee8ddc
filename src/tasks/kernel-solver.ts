/**
 * Which solver a kernel task uses for `n_train` points: one eigendecomposition per depth (eigh)
 * or Cholesky + Lanczos (krylov). A module of its own so the coordinator's memory estimate
 * (`memory.ts`) follows the same rule without loading the kernel code.
 */

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
export function chooseKernelSolver(nTrain: number, backendName: string, override?: string): KernelSolver {
  const choice = (override ?? process.env.NTK_SWEEP_KERNEL_SOLVER ?? 'auto').trim().toLowerCase() || 'auto';
  if (choice === 'eigh' || choice === 'krylov') return choice;
  if (choice !== 'auto') throw new RangeError(`NTK_SWEEP_KERNEL_SOLVER=${choice} is not one of auto, eigh, krylov`);
  return nTrain > krylovThreshold(backendName) ? 'krylov' : 'eigh';
}
