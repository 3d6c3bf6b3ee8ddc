/**
 * Code-affecting versions, part of every task id (docs/conventions.md §12): bump a kind's number when a
 * change alters the numbers its tasks produce, so old results are not mixed with new ones.
 *
 * History: kernel 2 — above `krylovThreshold` the predictions and statistics come from the
 * Krylov/Cholesky path (≤ 1e-6 relative to the eigendecomposition, measured 5e-8), not eigh.
 */
export const TASK_VERSIONS = { kernel: 2, train: 1, debug: 1 } as const;
