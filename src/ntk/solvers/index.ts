/**
 * The kernel task's per-depth solvers behind one interface ({@link DepthSolver}), by name.
 */
import { eighDepthSolver } from './eigh.js';
import { krylovDepthSolver } from './krylov.js';
import type { DepthSolver, KernelSolver } from './solver.js';

export { eighDepthSolver } from './eigh.js';
export { krylovDepthSolver } from './krylov.js';
export { chooseKernelSolver, krylovThreshold, type DepthSolution, type DepthSolver, type DepthSolverInput, type KernelSolver } from './solver.js';

/** The solver of each {@link KernelSolver} name. */
export const DEPTH_SOLVERS: Readonly<Record<KernelSolver, DepthSolver>> = { eigh: eighDepthSolver, krylov: krylovDepthSolver };
