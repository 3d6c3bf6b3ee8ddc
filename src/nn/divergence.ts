/**
 * Divergence rule for GD training. A run has diverged at step `s` when its training loss
 * `ℒ(θ_s)` is NaN or ±Inf, or exceeds {@link DIVERGENCE_FACTOR} times the initial loss
 * `ℒ(θ_0)`, or when the network is dead ({@link deadNetworkReason}). A diverged task ends with
 * status `diverged` (never an exception).
 */
import { mlpActivation, multiplyByDerivative, type ForwardCache, type MlpArchitecture } from './mlp.js';

/** Loss blow-up factor relative to the initial loss that counts as divergence. */
export const DIVERGENCE_FACTOR = 1e6;

/**
 * Why the run diverged, or `null` if it did not: `loss` is NaN/±Inf, or
 * `loss > factor · initialLoss` where `initialLoss = ℒ(θ_0)`. The relative test is skipped when
 * `initialLoss` is 0 or not finite (a zero-loss start has zero gradient and cannot blow up).
 * @returns a short human-readable reason (stored with the task's `diverged` end), or `null`.
 */
export function divergenceReason(loss: number, initialLoss: number, factor: number = DIVERGENCE_FACTOR): string | null {
  if (Number.isNaN(loss)) return 'training loss is NaN';
  if (!Number.isFinite(loss)) return 'training loss is infinite';
  if (initialLoss > 0 && loss > factor * initialLoss) {
    return `training loss ${loss.toExponential(3)} exceeds ${factor.toExponential(0)} × initial loss ${initialLoss.toExponential(3)}`;
  }
  return null;
}

/**
 * The dead-network rule. A network whose last hidden layer outputs `α^{L−1}(x_i) = 0` for every
 * train input `x_i`, with `φ'(h^{L−1}(x_i)) = 0` there as well, as the backward pass applies it (ReLU: every
 * pre-activation ≤ 0, relu'(0) = 0),
 * computes the constant `f(x) = σ_b·b^L`: the gradients of every weight and of every bias but the
 * output bias are exactly 0 (`∂ℒ/∂W^L ∝ α^{L−1}`, and the backpropagated signal below it is
 * multiplied by `φ'(h^{L−1})`), so no later step can revive it and its loss stays at (or, through the
 * output bias, goes to) the loss of the best constant predictor. It typically follows an
 * explosion (σ_w = 2 at depth 200: `ℒ(θ_0) ≈ 1e56`, then one step kills every unit). Such a run
 * ends as `diverged` with a reason that starts with `dead network`, at the first step where the
 * rule holds, instead of `done` with a loss that looks converged.
 *
 * @param cache the forward pass on the train set at that step (`α^{L−1} = cache.a[L−1]`,
 *   `h^{L−1} = cache.h[L−1]`, both `[N, n]` row-major).
 * @param loss the training loss at that step, for the message.
 * @returns the reason, or `null` when some unit is alive (the scan stops at the first one, so a
 *   live network costs a few reads) or the network has no hidden layer (depth 1).
 */
export function deadNetworkReason(arch: MlpArchitecture, cache: ForwardCache, loss: number): string | null {
  const L = arch.depth;
  if (L < 2) return null;
  const alpha = cache.a[L - 1];
  for (let i = 0; i < alpha.length; i++) if (alpha[i] !== 0) return null;
  // φ' as the backward pass applies it (ReLU: relu'(0) = 0)
  const slope = new Float64Array(alpha.length).fill(1);
  multiplyByDerivative(mlpActivation(arch), cache.h[L - 1], slope, 0, slope.length);
  for (let i = 0; i < slope.length; i++) if (slope[i] !== 0) return null;
  return `dead network: every unit of the last hidden layer outputs 0 on every train point, so the network is a constant and no weight can move again (training loss ${loss.toPrecision(6)})`;
}

/**
 * A train task's metric that is not a finite number at a logged step (every train metric is
 * defined whenever the training loss is finite: a NaN or ±∞ there means the network's outputs or
 * the reference flow left float64 range). The point then ends `diverged` naming the metric,
 * instead of storing NULL or ∞ next to finite values as if it were done.
 * @returns the reason, or `null` when every value is finite.
 */
export function nonFiniteMetricReason(rows: readonly { name: string; value: number; step: number }[]): string | null {
  const bad = rows.find((r) => !Number.isFinite(r.value));
  return bad ? `metric ${bad.name} is ${bad.value} at step ${bad.step} (the training loss is finite): a value out of float64 range` : null;
}
