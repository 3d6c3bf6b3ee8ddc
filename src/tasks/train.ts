/**
 * `kind: train` task: train a finite-width MLP (activation φ, default ReLU) with full-batch
 * gradient descent on `ℒ = 1/(2N) Σ‖f(x_i) − y_i‖²` and stream how far it moves from its
 * initialization.
 *
 * ## Params (flat, docs/conventions.md §2 names; unknown keys such as `t` are ignored)
 * - `width` (int ≥ 1), `depth` (int ≥ 1), `lr` (> 0), `steps` (int ≥ 0): required. Training time is
 *   `t = lr·steps`.
 * - `seed` (int ≥ 0, default 0): initialization seed.
 * - `activation` (default `relu`) with its `activation_*` params, `sigma_w` (default 1),
 *   `sigma_b` (default 0), `parameterization` (`'ntk'` default | `'standard'`,
 *   see `src/nn/mlp.ts`).
 * - `log_every` (int ≥ 1) **or** `log_points` (int ≥ 2, default 20): metrics are evaluated at
 *   `0, log_every, 2·log_every, …, steps`, or at log-spaced steps including 0 and `steps`
 *   (`src/nn/schedule.ts`). Setting both is an error.
 * - `probe` (int ≥ 1, default 32): the first `min(probe, n_test)` test points are the probe set of
 *   the activation and empirical-NTK metrics.
 * - `checkpoint_every` (int ≥ 0, default 0 = never): save the training state (step and weights)
 *   through `reporter.checkpoint` every this many steps; see "Checkpoints" below.
 * - Data: `dataset`, `n_train`, `n_test`, `data_seed`, `classes`, `center`, `unit_norm`, `d`,
 *   `target`, `path`, `train_path`, `test_path`, `label_column` → `loadDataset` (`src/data`).
 *
 * ## Metrics (sent with `reporter.metrics` at each logged step `s`; `MetricRow.step = s`)
 * - `train_loss`, `test_loss` (same `1/(2N)Σ‖f − y‖²` normalization, over the test set),
 *   `test_acc` (argmax, or sign for one output).
 * - Per layer, named `<base>_l<l>` plus a last-hidden-layer alias `<base>` (naming rule in
 *   `src/nn/metrics.ts`): `act_dev_max`, `act_dev_norm`, `act_norm`, `weight_rel_change`.
 * - `ntk_rel_change` (full `[P·k, P·k]` empirical NTK), `ntk_rel_change_mean` (mean of the
 *   diagonal output blocks).
 * - `ntk_init_rel_err` (step 0 only, NTK parameterization): `‖Θ̂_0 − Θ‖_F/‖Θ‖_F` on the probe set,
 *   output-mean block of the empirical NTK at init vs the analytic `Θ^L` (`src/nn/metrics.ts`).
 * - `kernel_gap` (NTK parameterization and `n_test ≥ 1` only) = RMS over test points and outputs of
 *   `f_net(t) − f_ntk(t)`, where `f_ntk` is the infinite-width NTK gradient-flow prediction
 *   (`src/ntk`, `src/nn/kernel-gap.ts`) at `t = lr·s`, started from the network's own `f_0` on
 *   train and test points. Reported at every logged step `s` (0 at `s = 0`); the value at
 *   `s = steps` is the end-of-training gap.
 *
 * ## Checkpoints
 * At every step `c` that is a positive multiple of `checkpoint_every` and `< steps`, after the
 * metrics of every logged step `<= c` have been sent, the task sends `encodeTrainState` (`src/nn/checkpoint.ts`) of
 * its state through `reporter.checkpoint` (at most one in flight; the next one waits for it).
 * Given `input.checkpoint` (the latest checkpoint of an interrupted execution), the task
 * recomputes the step-0 references, restores the state at `c` and sends only the metrics of the
 * logged steps `> c`: together with those stored before the checkpoint, the series is exactly
 * the one of an uninterrupted run, bit for bit. A checkpoint that does not fit (wrong shapes, step
 * beyond `steps`, another byte order, or made with another linear-algebra backend, whose numbers
 * differ in the last bits) is ignored and the task starts from step 0.
 *
 * ## End
 * `{status: 'done'}`, or `{status: 'diverged', step, reason}` when the training loss at some step
 * is NaN/Inf or exceeds `1e6 ×` the initial loss (`src/nn/divergence.ts`); metrics of the
 * diverged step itself are not sent. Divergence never throws. Bad params throw `RangeError`;
 * data problems throw `DataError` (from `src/data`). An aborted `ctx.signal` makes the task throw
 * an `Error` named `'AbortError'` at the next step boundary.
 */
import { loadDataset } from '../data/index.js';
import { linalg } from '../linalg/index.js';
import { activationOfParams, type Activation } from '../ntk/index.js';
import type { Dataset } from '../data/index.js';
import { divergenceReason } from '../nn/divergence.js';
import { advanceInPlace, initialState, makeGdWorkspace } from '../nn/gd.js';
import type { GdProblem, TrainState } from '../nn/gd.js';
import { accuracy, deviationMetrics, ntkInitRelError, takeInitSnapshot } from '../nn/metrics.js';
import { forward, initMlp, mseLoss } from '../nn/mlp.js';
import type { MlpArchitecture } from '../nn/mlp.js';
import { decodeTrainState, encodeTrainState } from '../nn/checkpoint.js';
import { linearSchedule, logSchedule } from '../nn/schedule.js';
import { makeNtkReference, rmsDifference } from '../nn/kernel-gap.js';
import type { NtkReference } from '../nn/kernel-gap.js';
import { DEFAULT_LOG_POINTS, parseParams, type TrainTaskParams } from '../spec/params.js';
import type { MetricRow, Params, TaskContext, TaskInput } from './types.js';

/** Parsed params of a train task: the typed params of `spec/params.ts`, with the activation object. */
export interface TrainParams extends Omit<TrainTaskParams, 'activation'> {
  /** φ of the hidden layers (`activation`, default relu, with its `activation_*` params). */
  activation: Activation;
}

function trainActivation(params: Params): Activation {
  const act = activationOfParams(params);
  if (!act.has_ntk) throw new RangeError(`train task: param activation ${act.name} has no usable derivative (gradients vanish); it cannot be trained`);
  return act;
}

/**
 * Validate and default the params of a train task (see the module comment for the list): the
 * typed params of `parseParams('train', …)` plus the activation object.
 * @throws RangeError naming the offending param and what is expected.
 */
export function parseTrainParams(params: Params): TrainParams {
  return { ...parseParams('train', params), activation: trainActivation(params) };
}

/** The logging schedule of parsed params: strictly increasing steps from 0 to `steps`. */
export function trainSchedule(p: TrainParams): number[] {
  return p.log_every !== undefined ? linearSchedule(p.steps, p.log_every) : logSchedule(p.steps, p.log_points ?? DEFAULT_LOG_POINTS);
}

/** `Error` with `name === 'AbortError'`, thrown when the task's signal is aborted. */
function abortError(): Error {
  const e = new Error('train task aborted');
  e.name = 'AbortError';
  return e;
}

/** Minimum wall time between `progress` reports and event-loop yields, in milliseconds. */
const PROGRESS_INTERVAL_MS = 250;

/**
 * Run one train task: parse params, load data, initialize, train with full-batch GD and stream
 * metrics and progress through `ctx.reporter`, then `reporter.end` with `done` or `diverged`
 * (see the module comment for params, metrics and errors). The training loop yields to the event
 * loop at least every {@link PROGRESS_INTERVAL_MS} ms so an abort message can arrive; yielding
 * does not change any number (GD state is advanced in place and is split-invariant).
 *
 * Resume: the only evolving data is the {@link TrainState} `{step, params}`. Everything else the
 * metrics compare against (`W_0`, probe activations and `Θ̂_0`, the initial loss, `f_0` and the
 * analytic-NTK reference) is a deterministic function of the params and the seed, so a checkpoint
 * needs only the state, and continuing from it (`advanceInPlace` / `continueFrom` in
 * `src/nn/gd.ts`) reproduces an uninterrupted run bit for bit (same linalg backend and BLAS
 * thread count).
 * @throws RangeError on invalid params, DataError on data problems, an `AbortError` on abort.
 */
export async function runTrainTask(input: TaskInput, ctx: TaskContext): Promise<void> {
  const { id } = input;
  const { reporter, signal } = ctx;
  const tp = parseTrainParams(input.params);
  if (signal?.aborted) throw abortError();
  const ds: Dataset = loadDataset(tp.data);
  const spec: MlpArchitecture = {
    d: ds.d,
    width: tp.width,
    depth: tp.depth,
    k: ds.k,
    sigma_w: tp.sigma_w,
    sigma_b: tp.sigma_b,
    activation: tp.activation,
    parameterization: tp.parameterization,
  };
  const problem: GdProblem = { spec, x: ds.x_train, y: ds.y_train, n: ds.n_train, lr: tp.lr };
  const params0 = initMlp(spec, tp.seed);
  const p = Math.min(tp.probe, ds.n_test);
  const probeX = ds.x_test.subarray(0, p * ds.d);
  const snap = takeInitSnapshot(spec, params0, probeX, p);
  const schedule = trainSchedule(tp);
  const state: TrainState = initialState(params0);
  const ws = makeGdWorkspace(spec);

  let initialLoss = NaN;
  let reference: NtkReference | null = null;
  let lastReport = Date.now();
  reporter.progress(id, 0, `step 0/${tp.steps}`);

  const evaluate = (step: number): { rows: MetricRow[]; diverged: string | null } => {
    const fTrain = forward(spec, state.params, ds.x_train, ds.n_train).h[spec.depth];
    const trainLoss = mseLoss(fTrain, ds.y_train, ds.n_train);
    if (step === 0) initialLoss = trainLoss;
    const reason = divergenceReason(trainLoss, initialLoss);
    if (reason) return { rows: [], diverged: reason };
    const rows: MetricRow[] = [{ step, name: 'train_loss', value: trainLoss }];
    if (ds.n_test > 0) {
      const fTest = forward(spec, state.params, ds.x_test, ds.n_test).h[spec.depth];
      rows.push({ step, name: 'test_loss', value: mseLoss(fTest, ds.y_test, ds.n_test) });
      if (ds.task !== 'regression') rows.push({ step, name: 'test_acc', value: accuracy(fTest, ds.labels_test, ds.n_test, ds.k) });
      if (step === 0 && spec.parameterization === 'ntk') {
        reference = makeNtkReference({
          spec,
          x_train: ds.x_train,
          n_train: ds.n_train,
          x_test: ds.x_test,
          n_test: ds.n_test,
          y_train: ds.y_train,
          f0_train: fTrain,
          f0_test: fTest,
        });
      }
      if (reference) {
        const fNtk = (reference as NtkReference).predictTest(tp.lr * step);
        rows.push({ step, name: 'kernel_gap', value: rmsDifference(fTest, fNtk) });
      }
    }
    for (const [name, value] of deviationMetrics(snap, state.params)) rows.push({ step, name, value });
    if (step === 0) {
      const e = ntkInitRelError(snap);
      if (e !== null && Number.isFinite(e)) rows.push({ step, name: 'ntk_init_rel_err', value: e });
    }
    return { rows, diverged: null };
  };

  let divergedAt: { step: number; reason: string } | null = null;
  const observer = (step: number, loss: number): 'stop' | 'pause' | void => {
    if (signal?.aborted) throw abortError();
    const reason = divergenceReason(loss, initialLoss);
    if (reason) {
      divergedAt = { step, reason };
      return 'stop';
    }
    if (Date.now() - lastReport >= PROGRESS_INTERVAL_MS) return 'pause';
  };

  // Resume: the step-0 references (initial loss, NTK reference) come from the initial state, as
  // in an uninterrupted run; then the saved state replaces it.
  let resumedAt = 0;
  if (input.checkpoint && input.checkpoint.step > 0 && input.checkpoint.step <= tp.steps) {
    const saved = decodeTrainState(input.checkpoint.data, params0, linalg().name);
    if (saved && saved.step === input.checkpoint.step) {
      const init = evaluate(0);
      if (!init.diverged) {
        state.step = saved.step;
        state.params = saved.params;
        resumedAt = saved.step;
        reporter.progress(id, tp.steps > 0 ? resumedAt / tp.steps : 1, `resumed at step ${resumedAt}/${tp.steps}`);
      }
    }
  }

  const every = reporter.checkpoint ? tp.checkpoint_every : 0;
  let lastCheckpoint = resumedAt;
  let checkpointInFlight: Promise<void> | null = null;
  const checkpoint = async (): Promise<void> => {
    if (every <= 0 || state.step <= lastCheckpoint || state.step % every !== 0 || state.step >= tp.steps) return;
    lastCheckpoint = state.step;
    const data = encodeTrainState(state, linalg().name);
    if (checkpointInFlight) await checkpointInFlight;
    checkpointInFlight = reporter.checkpoint!(id, state.step, data).catch(() => undefined);
  };

  for (const target of schedule) {
    if (resumedAt > 0 && target <= resumedAt) continue; // its metrics were stored with the checkpoint
    while (state.step < target) {
      const until = every > 0 ? Math.min(target, (Math.floor(state.step / every) + 1) * every) : target;
      const outcome = advanceInPlace(problem, state, until, observer, ws);
      if (outcome === 'stopped') break;
      if (state.step < target) await checkpoint(); // a checkpoint at `target` waits for its metrics
      if (Date.now() - lastReport >= PROGRESS_INTERVAL_MS) {
        lastReport = Date.now();
        reporter.progress(id, tp.steps > 0 ? state.step / tp.steps : 1, `step ${state.step}/${tp.steps}`);
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (signal?.aborted) throw abortError();
      }
    }
    if (divergedAt) break;
    const { rows, diverged } = evaluate(state.step);
    if (diverged) {
      divergedAt = { step: state.step, reason: diverged };
      break;
    }
    reporter.metrics(id, rows);
    await checkpoint();
  }
  if (checkpointInFlight) await checkpointInFlight;

  if (divergedAt) {
    const d = divergedAt as { step: number; reason: string };
    reporter.end(id, { status: 'diverged', step: d.step, reason: d.reason });
    return;
  }
  reporter.progress(id, 1, `step ${tp.steps}/${tp.steps}`);
  reporter.end(id, { status: 'done' });
}
