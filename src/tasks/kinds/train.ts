/**
 * `kind: train`: finite-width MLPs trained by full-batch gradient descent, with training curves
 * written while they run and checkpoints to resume from; the task code is `tasks/train.ts`.
 */
import { trainTaskBytes } from '../memory.js';
import type { PointKind } from './kind.js';

export const trainKind: PointKind = {
  name: 'train',
  doc: 'finite-width networks trained by gradient descent: deviation from the kernel regime, losses, accuracy',
  version: 1,
  required: ['dataset', 'n_train', 'width', 'depth', 'lr', 'steps'],
  needsData: true,
  metricsFlushMs: 1000,
  execution: 'each',
  report: {
    metrics: ['act_dev_max', 'act_dev_norm', 'weight_rel_change', 'ntk_rel_change', 'kernel_gap', 'train_loss', 'test_acc'],
    x: ['width', 'depth', 'n_train', 't', 'steps', 'lr'],
    color: ['depth', 'lr'],
  },
  /** `width²·depth·steps·n_train / 1e9`: the matrix products of the steps. */
  cost: (p) => (Number(p.width) ** 2 * Number(p.depth) * Number(p.steps) * Number(p.n_train)) / 1e9,
  memoryBytes: (p) => trainTaskBytes(p),
  /** `t = lr·steps`: filled in, or checked when the spec sets `t` too. */
  complete(p) {
    if (typeof p.lr !== 'number' || typeof p.steps !== 'number') return [];
    const t = p.lr * p.steps;
    if (p.t === undefined) p.t = t;
    else if (typeof p.t === 'number' && Math.abs(p.t - t) > 1e-9 * Math.max(1, t)) {
      return [`t: for train tasks t = lr·steps, but t = ${p.t} while lr·steps = ${t} (derive steps from t, e.g. steps: "round(t / lr)")`];
    }
    return [];
  },
  load: async () => (await import('../train.js')).runTrainTask,
};
