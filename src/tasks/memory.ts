/**
 * Estimated peak memory of a job, for the coordinator's memory budget (an NTK kernel job at
 * n_train 20,000 holds ~2.2 × 8·N² ≈ 7 GiB, so two of them on two pool threads come close to a
 * 24 GiB machine, and one at 30,000 (~16 GiB) must run alone). Estimates count the large `Float64Array` buffers a task allocates (8 bytes per
 * float64) plus a fixed allowance for the worker thread itself; they aim to be a little above
 * the measured peak, never far below it.
 */
import { chooseKernelSolver } from '../ntk/solvers/solver.js';
import type { Params } from './types.js';

/** Worker thread, modules and small buffers. */
export const BASE_BYTES = 200 * 2 ** 20;

/** Lanczos basis rows per basis of the krylov solver (`tasks/kernel.ts`). */
const LANCZOS_ROWS = 1510;

const num = (v: unknown, fallback = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);

/**
 * Bytes of one kernel batch on linear-algebra backend `backendName`: `n = N + m` (`N = n_train`,
 * `m = n_test`), `depths` distinct depths, `kernel` `ntk` (recursion state `θ` and `Θ̄`, `2n²`)
 * or `nngp`/`rho` (`θ` only, `n²`). The solver's part, as {@link chooseKernelSolver} picks: eigh,
 * eigenvectors and LAPACK workspace `3N²`; krylov, two Lanczos bases `2·1510·N` (its Cholesky
 * factor shares the train block's buffer). The train block has no buffer of its own: at the
 * largest depth it is compacted into the state's own buffer (`takeNormalizedBlocks`; the other
 * buffer is dropped, but counted, since nothing forces its collection before the solve ends),
 * below it the NTK block is borrowed from the live state (`borrowNtkBlocks`); only `nngp`/`rho`
 * with several depths add an `[N, N]` buffer for their cosines. The peak is
 * `state + mN + solver` (+ `N²` for those), plus three `[n, d]` copies of the points and
 * {@link BASE_BYTES}. Measured with `scripts/bench/peak-rss.js` (Fashion-MNIST, m = 1,000, NTK):
 * see the README's performance section for the figures.
 */
export function kernelJobBytes(n_train: number, n_test: number, backendName: string, depths = 1, kernel = 'ntk', d = 784): number {
  const n = n_train + n_test;
  const solver = chooseKernelSolver(n_train, backendName) === 'eigh' ? 3 * n_train * n_train : 2 * LANCZOS_ROWS * n_train;
  const state = (kernel === 'ntk' ? 2 : 1) * n * n;
  const cosines = depths > 1 && kernel !== 'ntk' ? n_train * n_train : 0;
  const cross = n_test * n_train;
  // the points: the dataset's arrays, the stacked [n, d] copy and the input layer's scaled copy
  const points = 3 * n * d;
  return 8 * (state + cosines + cross + solver + points) + BASE_BYTES;
}

/**
 * Bytes of one training task: weights, gradients and the initial weights kept for deviation
 * metrics (`3P` with `P ≈ d·w + (L − 2)·w² + w·k`), activations and their gradients
 * (`3·N·w·L`), and the infinite-width kernel of `kernel_gap` (`3n²`, `n = N + m`).
 */
export function trainTaskBytes(p: Params): number {
  const w = num(p.width);
  const depth = Math.max(1, num(p.depth, 1));
  const n_train = num(p.n_train);
  const n = n_train + num(p.n_test);
  const d = num(p.d, 784);
  const k = 10;
  const weights = d * w + Math.max(0, depth - 2) * w * w + w * k;
  return 8 * (3 * weights + 3 * n_train * w * depth + 3 * n * n) + BASE_BYTES;
}

/**
 * Estimated peak bytes of a job of `kind` running `tasks` on backend `backendName`: the largest
 * of its points' estimates (`TaskKind.memoryBytes`; a kernel batch shares one recursion, and the
 * points of a chunk run one after the other). Debug tasks declare theirs with `mem_mb` (for
 * tests of the budget).
 * @throws RangeError for an unknown `NTK_SWEEP_KERNEL_SOLVER` (as the kernel task would).
 */
export function estimateJobBytes(kind: { memoryBytes(p: Params, backendName: string, batch: readonly Params[]): number }, tasks: Params[], backendName: string): number {
  let peak = 0;
  for (const p of tasks) peak = Math.max(peak, kind.memoryBytes(p, backendName, tasks));
  return peak;
}
