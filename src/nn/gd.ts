/**
 * Full-batch gradient descent on `ℒ = 1/(2N) Σ_i ‖f(x_i) − y_i‖²` (docs/conventions.md §7), written as an
 * explicit state (`step` + parameters) and a pure "continue from state" function. Full-batch GD
 * draws no randomness after initialization, so running `0 → T` in one call, or `0 → s` then
 * `s → T` from a saved state, gives bit-identical parameters (the property checkpoint/resume
 * relies on). `T` steps with learning rate `lr` correspond to gradient-flow time `t = lr·T`.
 */
import { backward, cloneParams, forward, mseLoss, zeroGrads } from './mlp.js';
import type { ForwardCache, MlpGrads, MlpParams, MlpArchitecture } from './mlp.js';

/** A training problem: network, full training set and learning rate. */
export interface GdProblem {
  arch: MlpArchitecture;
  /** Training inputs `[n, d]` row-major. */
  x: Float64Array;
  /** Training targets `[n, k]` row-major. */
  y: Float64Array;
  /** Number of training points `N`. */
  n: number;
  /** Learning rate `η` (`lr`); a step is `θ ← θ − η ∇ℒ(θ)`. */
  lr: number;
}

/**
 * Training state after `step` GD updates: everything that evolves during training (a checkpoint).
 * Only {@link advanceInPlace} mutates a state; {@link continueFrom} works on a copy.
 */
export interface TrainState {
  /** Number of GD updates applied to the initial parameters. */
  step: number;
  params: MlpParams;
}

/**
 * Called once per update with the step index `s` and the training loss `ℒ(θ_s)` computed in that
 * step's forward pass, before update `s` is applied. Return `'stop'` to end the run **without**
 * applying update `s` (the run ends in state `s`, e.g. on divergence), `'pause'` to apply update
 * `s` and then return (state `s + 1`, e.g. to yield to the event loop), or nothing to go on.
 * May throw (e.g. on abort); the error propagates.
 */
export type StepObserver = (step: number, loss: number) => 'stop' | 'pause' | void;

/** Reusable buffers for {@link gdStepInPlace}; create with {@link makeGdWorkspace}. */
export interface GdWorkspace {
  cache?: ForwardCache;
  grads: MlpGrads;
}

/** Fresh workspace for `arch`. */
export function makeGdWorkspace(arch: MlpArchitecture): GdWorkspace {
  return { grads: zeroGrads(arch) };
}

/**
 * Loss and gradients at `params` (forward on the training set, then backward), using the
 * workspace buffers. The returned gradients alias `ws.grads`.
 * @throws RangeError on shape mismatches.
 */
export function lossAndGrads(problem: GdProblem, params: MlpParams, ws: GdWorkspace): { loss: number; grads: MlpGrads } {
  const { arch, x, y, n } = problem;
  const cache = forward(arch, params, x, n, ws.cache);
  ws.cache = cache;
  return backward(arch, params, cache, y, ws.grads);
}

/** In-place update `θ ← θ − η·g` for every weight matrix and bias vector. */
export function applyUpdate(params: MlpParams, grads: MlpGrads, lr: number): void {
  for (let l = 0; l < params.W.length; l++) {
    const W = params.W[l];
    const gW = grads.W[l];
    for (let i = 0; i < W.length; i++) W[i] -= lr * gW[i];
    const b = params.b[l];
    const gb = grads.b[l];
    for (let i = 0; i < b.length; i++) b[i] -= lr * gb[i];
  }
}

/**
 * One GD update applied **in place** to `params`: forward on the training set, backward, then
 * `W ← W − η ∂ℒ/∂W`, `b ← b − η ∂ℒ/∂b`. Returns the loss **before** the update.
 * @throws RangeError on shape mismatches.
 */
export function gdStepInPlace(problem: GdProblem, params: MlpParams, ws: GdWorkspace = makeGdWorkspace(problem.arch)): number {
  const { loss, grads } = lossAndGrads(problem, params, ws);
  applyUpdate(params, grads, problem.lr);
  return loss;
}

/** State 0 from initial parameters (copied, so later training never aliases them). */
export function initialState(params: MlpParams): TrainState {
  return { step: 0, params: cloneParams(params) };
}

/** Why {@link advanceInPlace} / {@link continueFrom} returned. */
export type AdvanceOutcome = 'reached' | 'stopped' | 'paused';

/**
 * Advance `state` **in place** (its `step` and parameter arrays are mutated) towards `untilStep`.
 * For each `s = state.step .. untilStep − 1`: compute `ℒ(θ_s)` and `∇ℒ(θ_s)`, call
 * `observer(s, ℒ(θ_s))`, then (unless it returned `'stop'`) apply `θ_{s+1} = θ_s − η ∇ℒ(θ_s)`.
 * Returns `'reached'` when `state.step === untilStep`, `'stopped'` (state is `s`, update not
 * applied) or `'paused'` (state is `s + 1`). Splitting a run into several calls gives
 * bit-identical parameters to a single call.
 * @throws RangeError if `untilStep` is not an integer `>= state.step`; rethrows observer errors
 * (the state is then the last fully applied step).
 */
export function advanceInPlace(
  problem: GdProblem,
  state: TrainState,
  untilStep: number,
  observer?: StepObserver,
  ws: GdWorkspace = makeGdWorkspace(problem.arch),
): AdvanceOutcome {
  if (!Number.isInteger(untilStep) || untilStep < state.step) {
    throw new RangeError(`advance: untilStep must be an integer >= state.step (${state.step}), got ${untilStep}`);
  }
  while (state.step < untilStep) {
    const { loss, grads } = lossAndGrads(problem, state.params, ws);
    const verdict = observer ? observer(state.step, loss) : undefined;
    if (verdict === 'stop') return 'stopped';
    applyUpdate(state.params, grads, problem.lr);
    state.step++;
    if (verdict === 'pause' && state.step < untilStep) return 'paused';
  }
  return 'reached';
}

/**
 * Pure "continue from state": like {@link advanceInPlace} on a deep copy, so `state` is never
 * modified and the returned state owns fresh arrays. Full-batch GD has no randomness after init,
 * so `continueFrom(continueFrom(s0, a).state, b)` equals `continueFrom(s0, b)` bit for bit.
 * @throws RangeError if `untilStep` is not an integer `>= state.step`; rethrows observer errors.
 */
export function continueFrom(
  problem: GdProblem,
  state: TrainState,
  untilStep: number,
  observer?: StepObserver,
): { state: TrainState; outcome: AdvanceOutcome } {
  const next: TrainState = { step: state.step, params: cloneParams(state.params) };
  const outcome = advanceInPlace(problem, next, untilStep, observer);
  return { state: next, outcome };
}

/** Training loss `ℒ(θ)` on the problem's training set (one forward pass, no update). */
export function trainLoss(problem: GdProblem, params: MlpParams): number {
  const cache = forward(problem.arch, params, problem.x, problem.n);
  return mseLoss(cache.h[problem.arch.depth], problem.y, problem.n);
}
