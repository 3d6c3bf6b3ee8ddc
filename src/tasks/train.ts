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
 * is NaN/Inf or exceeds `1e6 ×` the initial loss, or the network is dead (`src/nn/divergence.ts`); metrics of the
 * diverged step itself are not sent. Divergence never throws. Bad params throw `RangeError`;
 * data problems throw `DataError` (from `src/data`). An aborted `ctx.signal` makes the task throw
 * an `Error` named `'AbortError'` at the next step boundary.
 */
import { loadDataset } from '../data/index.js';
import { linalg } from '../linalg/index.js';
import { activationOfParams, type Activation } from '../ntk/index.js';
import type { Dataset } from '../data/index.js';
import { deadNetworkReason, divergenceReason, nonFiniteMetricReason } from '../nn/divergence.js';
import { advanceInPlace, initialState, makeGdWorkspace } from '../nn/gd.js';
import type { GdProblem, TrainState } from '../nn/gd.js';
import { accuracy, deviationMetrics, ntkInitRelError, takeInitSnapshot, type InitSnapshot } from '../nn/metrics.js';
import { forward, initMlp, mseLoss } from '../nn/mlp.js';
import type { MlpArchitecture, MlpParams } from '../nn/mlp.js';
import { decodeTrainState, encodeTrainState } from '../nn/checkpoint.js';
import { linearSchedule, logSchedule } from '../nn/schedule.js';
import { makeNtkReference, rmsDifference } from '../nn/kernel-gap.js';
import type { NtkReference } from '../nn/kernel-gap.js';
import { parseParams } from '../spec/params.js';
import { DEFAULT_LOG_POINTS, type TrainTaskParams } from './kinds/train.js';
import type { MetricRow, Params, TaskContext, TaskInput } from './types.js';

/** Parsed params of a train task: its typed params (`tasks/kinds/train.ts`), with the activation object. */
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
  const run = setUpRun(tp);
  const { arch, state } = run;
  const problem: GdProblem = { arch, x: run.ds.x_train, y: run.ds.y_train, n: run.ds.n_train, lr: tp.lr };
  const ws = makeGdWorkspace(arch);
  const metrics = new StepMetrics(run);
  let lastReport = Date.now();
  reporter.progress(id, 0, `step 0/${tp.steps}`);

  let divergedAt: { step: number; reason: string } | null = null;
  const observer = (step: number, loss: number): 'stop' | 'pause' | void => {
    if (signal?.aborted) throw abortError();
    const reason = divergenceReason(loss, metrics.initialLoss) ?? deadNetworkReason(arch, ws.cache!, loss);
    if (reason) {
      divergedAt = { step, reason };
      return 'stop';
    }
    if (Date.now() - lastReport >= PROGRESS_INTERVAL_MS) return 'pause';
  };

  const resumedAt = resume(run, input, metrics, (at) => reporter.progress(id, tp.steps > 0 ? at / tp.steps : 1, `resumed at step ${at}/${tp.steps}`));
  const checkpoints = new Checkpointer(run, id, reporter, resumedAt);
  for (const target of trainSchedule(tp)) {
    if (resumedAt > 0 && target <= resumedAt) continue; // its metrics were stored with the checkpoint
    while (state.step < target) {
      const outcome = advanceInPlace(problem, state, checkpoints.until(target), observer, ws);
      if (outcome === 'stopped') break;
      if (state.step < target) await checkpoints.save(); // a checkpoint at `target` waits for its metrics
      if (Date.now() - lastReport >= PROGRESS_INTERVAL_MS) {
        lastReport = Date.now();
        reporter.progress(id, tp.steps > 0 ? state.step / tp.steps : 1, `step ${state.step}/${tp.steps}`);
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (signal?.aborted) throw abortError();
      }
    }
    if (divergedAt) break;
    const { rows, diverged } = metrics.evaluate(state.step);
    if (diverged) {
      divergedAt = { step: state.step, reason: diverged };
      break;
    }
    reporter.metrics(id, rows);
    await checkpoints.save();
  }
  await checkpoints.settled();

  if (divergedAt) {
    const d = divergedAt as { step: number; reason: string };
    reporter.end(id, { status: 'diverged', step: d.step, reason: d.reason });
    return;
  }
  reporter.progress(id, 1, `step ${tp.steps}/${tp.steps}`);
  reporter.end(id, { status: 'done' });
}

/** What a train run computes on: params, data, architecture, the evolving state and the step-0 snapshot. */
interface TrainRun {
  tp: TrainParams;
  ds: Dataset;
  arch: MlpArchitecture;
  /** Initial parameters (seeded by `tp.seed`). */
  params0: MlpParams;
  /** The evolving state, advanced in place. */
  state: TrainState;
  /** Step-0 references of the deviation and empirical-NTK metrics (probe set: first `min(probe, n_test)` test points). */
  snap: InitSnapshot;
}

/** Load the data, build the architecture, initialize the network and take the step-0 snapshot. */
function setUpRun(tp: TrainParams): TrainRun {
  const ds: Dataset = loadDataset(tp.data);
  const arch: MlpArchitecture = {
    d: ds.d,
    width: tp.width,
    depth: tp.depth,
    k: ds.k,
    sigma_w: tp.sigma_w,
    sigma_b: tp.sigma_b,
    activation: tp.activation,
    parameterization: tp.parameterization,
  };
  const params0 = initMlp(arch, tp.seed);
  const p = Math.min(tp.probe, ds.n_test);
  const x_probe = ds.x_test.subarray(0, p * ds.d);
  const snap = takeInitSnapshot(arch, params0, x_probe, p);
  return { tp, ds, arch, params0, state: initialState(params0), snap };
}

/**
 * The metrics of a logged step (module comment), keeping what step 0 fixes: the initial loss
 * (divergence test) and the analytic-NTK reference of `kernel_gap`.
 */
class StepMetrics {
  /** Training loss at step 0 (NaN until step 0 is evaluated). */
  initialLoss = NaN;
  private reference: NtkReference | null = null;

  constructor(private readonly run: TrainRun) {}

  /** Metric rows of the current state at `step`, or the divergence reason (then no rows). */
  evaluate(step: number): { rows: MetricRow[]; diverged: string | null } {
    const { arch, ds, state, snap, tp } = this.run;
    const trainPass = forward(arch, state.params, ds.x_train, ds.n_train);
    const f_train = trainPass.h[arch.depth];
    const trainLoss = mseLoss(f_train, ds.y_train, ds.n_train);
    if (step === 0) this.initialLoss = trainLoss;
    const reason = divergenceReason(trainLoss, this.initialLoss) ?? deadNetworkReason(arch, trainPass, trainLoss);
    if (reason) return { rows: [], diverged: reason };
    const rows: MetricRow[] = [{ step, name: 'train_loss', value: trainLoss }];
    if (ds.n_test > 0) {
      const f_test = forward(arch, state.params, ds.x_test, ds.n_test).h[arch.depth];
      rows.push({ step, name: 'test_loss', value: mseLoss(f_test, ds.y_test, ds.n_test) });
      if (ds.task !== 'regression') rows.push({ step, name: 'test_acc', value: accuracy(f_test, ds.labels_test, ds.n_test, ds.k) });
      if (step === 0 && arch.parameterization === 'ntk') {
        this.reference = makeNtkReference({
          arch,
          x_train: ds.x_train,
          n_train: ds.n_train,
          x_test: ds.x_test,
          n_test: ds.n_test,
          y_train: ds.y_train,
          f0_train: f_train,
          f0_test: f_test,
        });
      }
      if (this.reference) {
        const f_ntk = this.reference.predictTest(tp.lr * step);
        rows.push({ step, name: 'kernel_gap', value: rmsDifference(f_test, f_ntk) });
      }
    }
    for (const [name, value] of deviationMetrics(snap, state.params)) rows.push({ step, name, value });
    if (step === 0) {
      const e = ntkInitRelError(snap);
      if (e !== null && Number.isFinite(e)) rows.push({ step, name: 'ntk_init_rel_err', value: e });
    }
    return { rows, diverged: nonFiniteMetricReason(rows) };
  }
}

/**
 * Continue from `input.checkpoint` when it fits (module comment, "Checkpoints"): the step-0
 * references come from the initial state, as in an uninterrupted run, then the saved state
 * replaces it. Returns the step resumed at (0 = from the start).
 */
function resume(run: TrainRun, input: TaskInput, metrics: StepMetrics, resumed: (step: number) => void): number {
  const { tp, state } = run;
  if (!(input.checkpoint && input.checkpoint.step > 0 && input.checkpoint.step <= tp.steps)) return 0;
  const saved = decodeTrainState(input.checkpoint.data, run.params0, linalg().name);
  if (!(saved && saved.step === input.checkpoint.step)) return 0;
  const init = metrics.evaluate(0);
  if (init.diverged) return 0;
  state.step = saved.step;
  state.params = saved.params;
  resumed(saved.step);
  return saved.step;
}

/** Sends the state every `checkpoint_every` steps (module comment), at most one in flight. */
class Checkpointer {
  private readonly every: number;
  private last: number;
  private inFlight: Promise<void> | null = null;

  constructor(
    private readonly run: TrainRun,
    private readonly id: string,
    private readonly reporter: TaskContext['reporter'],
    resumedAt: number,
  ) {
    this.every = reporter.checkpoint ? run.tp.checkpoint_every : 0;
    this.last = resumedAt;
  }

  /** The step to advance to on the way to `target`: the next checkpoint step if it comes first. */
  until(target: number): number {
    const { every } = this;
    return every > 0 ? Math.min(target, (Math.floor(this.run.state.step / every) + 1) * every) : target;
  }

  /** Send a checkpoint if the current step is due for one (waits for the previous one first). */
  async save(): Promise<void> {
    const { every } = this;
    const { state, tp } = this.run;
    if (every <= 0 || state.step <= this.last || state.step % every !== 0 || state.step >= tp.steps) return;
    this.last = state.step;
    const data = encodeTrainState(state, linalg().name);
    if (this.inFlight) await this.inFlight;
    this.inFlight = this.reporter.checkpoint!(this.id, state.step, data).catch(() => undefined);
  }

  /** Resolves when the last checkpoint sent has been handled. */
  async settled(): Promise<void> {
    if (this.inFlight) await this.inFlight;
  }
}
