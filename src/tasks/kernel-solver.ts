/**
 * Which solver a kernel task uses for `n_train` points: one eigendecomposition per depth (eigh)
 * or Cholesky + Lanczos (krylov). A module of its own so the coordinator's memory estimate
 * (`memory.ts`) follows the same rule without loading the kernel code.
 */

/** Solver of the kernel task (module comment). */
export type KernelSolver = 'eigh' | 'krylov';

/**
 * Largest `n_train` solved by eigendecomposition for a backend; above it the krylov solver runs.
 * Measured on the shared 2-core machine (`scripts/bench/flow.js`, 50 stopping times, MNIST
 * depth-3 NTK): native OpenBLAS eigh path 3.5 s at N = 2000 and 27 s at 4000 (it grows as N³),
 * krylov path (Cholesky + statistics + flow) 2.2 s and ~9 s; JS backend eigh path 32 s at 2000,
 * krylov path 16 s. Up to the threshold the exact eigh path is kept (cost comparable); beyond it
 * the krylov path wins by a growing factor.
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
