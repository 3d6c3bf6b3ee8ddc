/**
 * `kind: train`: finite-width MLPs trained by full-batch gradient descent, with training curves
 * written while they run and checkpoints to resume from; the task code is `tasks/train.ts`.
 */
import { z } from 'zod';
import { NNGP_ONLY } from '../../ntk/activations.js';
import { nonNegInt, posInt, posNum, type ParamDefs } from '../../spec/param-def.js';
import type { NetworkParams } from '../../spec/shared-params.js';
import { trainTaskBytes } from '../memory.js';
import type { PointKind } from './kind.js';

/** `log_points` of a train task that sets neither `log_every` nor `log_points`. */
export const DEFAULT_LOG_POINTS = 20;

/** Typed params of a train task. */
export interface TrainTaskParams extends NetworkParams {
  width: number;
  lr: number;
  steps: number;
  seed: number;
  parameterization: 'ntk' | 'standard';
  /** Exactly one of `log_every` / `log_points` is set; `log_points` is {@link DEFAULT_LOG_POINTS} when neither was. */
  log_every?: number;
  log_points?: number;
  probe: number;
  /** Checkpoint period in steps; 0 = never. */
  checkpoint_every: number;
}

const TRAIN_PARAMS: ParamDefs = {
  width: { doc: 'hidden-layer width n', schema: posInt.max(1_000_000), expected: 'a positive integer' },
  lr: { doc: 'gradient-descent learning rate η', schema: posNum, expected: 'a positive number' },
  steps: { doc: 'number of full-batch gradient-descent steps T', schema: nonNegInt, expected: 'a non-negative integer' },
  seed: { doc: 'initialization seed', schema: nonNegInt, expected: 'a non-negative integer', default: 0 },
  parameterization: { doc: 'ntk (docs/conventions.md §3) or standard', schema: z.enum(['ntk', 'standard']), expected: 'ntk or standard', default: 'ntk' },
  log_every: { doc: 'log metrics every this many steps', schema: posInt, expected: 'a positive integer' },
  log_points: {
    doc: `log metrics at this many log-spaced steps, 0 and steps included (default ${DEFAULT_LOG_POINTS} when log_every is not set)`,
    schema: z.number().int().min(2),
    expected: 'an integer >= 2 (the first and the last step)',
  },
  probe: { doc: 'number of test points used for activation and empirical-NTK metrics', schema: posInt, expected: 'a positive integer', default: 32 },
  checkpoint_every: { doc: 'save a checkpoint every this many steps (0 = never)', schema: nonNegInt, expected: 'a non-negative integer', default: 0, not_identity: true },
};

export const trainKind: PointKind<TrainTaskParams> = {
  name: 'train',
  doc: 'finite-width networks trained by gradient descent: deviation from the kernel regime, losses, accuracy',
  version: 1,
  sharedParams: ['data', 'network'],
  params: TRAIN_PARAMS,
  required: ['dataset', 'n_train', 'width', 'depth', 'lr', 'steps'],
  /** Either `log_every` or `log_points` (default {@link DEFAULT_LOG_POINTS}), not both. */
  typedParams(read, raw) {
    if (raw.log_every !== undefined && raw.log_points !== undefined) throw new RangeError('train task: set either log_every or log_points, not both');
    if (read.log_every === undefined) read.log_points ??= DEFAULT_LOG_POINTS;
    return read as unknown as TrainTaskParams;
  },
  /** An activation without a usable derivative (the step) cannot be trained. */
  specProblems: (values) =>
    values('activation')
      .map(String)
      .filter((a) => NNGP_ONLY.includes(a))
      .map((a) => `activation: ${a} cannot be trained by gradient descent (its derivative is 0 almost everywhere, a Dirac delta at 0)`),
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
  taskCode: { module: new URL('../train.js', import.meta.url).href, export: 'runTrainTask' },
};
