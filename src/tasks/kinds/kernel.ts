/**
 * `kind: kernel`: infinite-width networks. The grid points of a batch (same params but `depth`
 * and `t`) share one kernel recursion and, per depth, one solver for every `t`
 * (docs/architecture.md §4); the task code is `tasks/kernel.ts`.
 */
import { kernelJobBytes } from '../memory.js';
import type { BatchKind } from './kind.js';

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

export const kernelKind: BatchKind = {
  name: 'kernel',
  doc: 'infinite-width kernels (NNGP, NTK): statistics and gradient-flow predictions at every depth and t',
  // 2: above `krylovThreshold` the predictions and statistics come from the Krylov/Cholesky path
  // (≤ 1e-6 relative to the eigendecomposition), not eigh
  version: 2,
  required: ['dataset', 'n_train', 'depth'],
  needsData: true,
  sharedWork: { perPoint: ['depth', 't'], order: 'depth' },
  execution: 'batch',
  report: {
    metrics: ['test_acc', 'test_mse', 'pred_spread', 'dist_to_limit', 'offdiag_mean', 'lambda_min'],
    x: ['depth', 't', 'n_train'],
    color: ['t', 'tau', 'depth'],
  },
  /** `(n_train + n_test)³ / 1e9`: the eigendecomposition dominates. */
  cost: (p) => (Number(p.n_train) + Number(p.n_test)) ** 3 / 1e9,
  memoryBytes: (p, backendName, batch) =>
    kernelJobBytes(num(p.n_train), num(p.n_test), backendName, new Set(batch.map((q) => q.depth)).size, String(p.kernel ?? 'ntk'), typeof p.d === 'number' ? p.d : 784),
  load: async () => (await import('../kernel.js')).runKernelBatch,
};
