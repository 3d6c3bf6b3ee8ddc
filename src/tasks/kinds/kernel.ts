/**
 * `kind: kernel`: infinite-width networks. The grid points of a batch (same params but `depth`
 * and `t`) share one kernel recursion and, per depth, one solver for every `t`
 * (docs/architecture.md §4); the task code is `tasks/kernel.ts`.
 */
import { z } from 'zod';
import { NNGP_ONLY } from '../../ntk/activations.js';
import { nonNegNum, type ParamDefs } from '../../spec/param-def.js';
import type { NetworkParams } from '../../spec/shared-params.js';
import { kernelJobBytes } from '../memory.js';
import type { BatchKind } from './kind.js';

/** Typed params of a kernel task (one grid point). */
export interface KernelTaskParams extends NetworkParams {
  kernel: 'ntk' | 'nngp' | 'rho';
  /** Stopping time of the gradient flow; `Infinity` (the kernel-regression limit) when unset. */
  t: number;
  time_scale: 'normalized' | 'absolute';
  diag_reg: number;
  diag_reg_mode: 'relative' | 'absolute';
}

const KERNEL_PARAMS: ParamDefs = {
  kernel: { doc: 'kernel used for statistics and predictions: ntk | nngp | rho', schema: z.enum(['ntk', 'nngp', 'rho']), expected: 'one of ntk, nngp, rho', default: 'ntk' },
  time_scale: {
    doc: 'normalized: t in units where the kernel diagonal is 1 (depths comparable); absolute: raw Θ',
    schema: z.enum(['normalized', 'absolute']),
    expected: 'normalized or absolute',
    default: 'normalized',
  },
  diag_reg: { doc: 'ridge added to the kernel diagonal', schema: nonNegNum, expected: 'a non-negative number', default: 0 },
  diag_reg_mode: {
    doc: 'relative: diag_reg × mean(diag K); absolute: diag_reg as is',
    schema: z.enum(['relative', 'absolute']),
    expected: 'relative or absolute',
    default: 'relative',
  },
};

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

export const kernelKind: BatchKind<KernelTaskParams> = {
  name: 'kernel',
  doc: 'infinite-width kernels (NNGP, NTK): statistics and gradient-flow predictions at every depth and t',
  // 2: above `krylovThreshold` the predictions and statistics come from the Krylov/Cholesky path
  // (≤ 1e-6 relative to the eigendecomposition), not eigh
  version: 2,
  sharedParams: ['data', 'network'],
  params: KERNEL_PARAMS,
  required: ['dataset', 'n_train', 'depth'],
  /** `t` unset is the kernel-regression limit, `t = ∞`. */
  typedParams: (read) => ({ ...read, t: read.t ?? Infinity }) as unknown as KernelTaskParams,
  /** The NTK of an activation without one (the step, whose derivative is a Dirac delta). */
  specProblems(values) {
    if (!values('kernel').map(String).includes('ntk')) return [];
    return values('activation')
      .map(String)
      .filter((a) => NNGP_ONLY.includes(a))
      .map((a) => `activation: ${a} has no NTK (its derivative is a Dirac delta); with activation ${a} use kernel: nngp or rho`);
  },
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
    kernelJobBytes(num(p.n_train), num(p.n_test), backendName, new Set(batch.map((q) => q.depth)).size, String(p.kernel ?? KERNEL_PARAMS.kernel.default), typeof p.d === 'number' ? p.d : 784),
  taskCode: { module: new URL('../kernel.js', import.meta.url).href, export: 'runKernelBatch' },
};
