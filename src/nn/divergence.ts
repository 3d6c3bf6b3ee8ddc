/**
 * Divergence rule for GD training. A run has diverged at step `s` when its training loss
 * `ℒ(θ_s)` is NaN or ±Inf, or exceeds {@link DIVERGENCE_FACTOR} times the initial loss
 * `ℒ(θ_0)`. A diverged task ends with status `diverged` (never an exception).
 */

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
