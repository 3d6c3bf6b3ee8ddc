/**
 * Kernel scales in log space (docs/conventions.md §5): the per-point factors that turn a
 * normalized kernel `K̄` back into `K̃_ij = K̄_ij s_i s_j` with train-diagonal mean 1, and the
 * time scale of the gradient flow. The one home of this arithmetic: `kernelMatrix`
 * (`train_diag_mean`) and the kernel task's flow both use it.
 *
 * Layout: row-major `Float64Array`; `n` points stacked `[train; test]`, the first `n_train` are
 * the training set.
 */

/**
 * Time scale of the kernel task: `normalized` (default) divides the kernel by
 * `mean(diag K_train)`, so `t` is in units where the kernel diagonal is 1 on average and depths
 * are comparable; `absolute` uses the raw kernel (`Θ`).
 */
export type TimeScale = 'normalized' | 'absolute';

/** `log(mean(exp(v[0..m−1])))` by log-sum-exp (no overflow/underflow). */
export function logMeanExp(v: Float64Array, m: number): number {
  let mx = -Infinity;
  for (let i = 0; i < m; i++) if (v[i] > mx) mx = v[i];
  if (!Number.isFinite(mx)) return mx;
  let sum = 0;
  for (let i = 0; i < m; i++) sum += Math.exp(v[i] - mx);
  return mx + Math.log(sum / m);
}

/**
 * Per-point factors `s_i = exp((ℓ_i − M)/2)` of a kernel whose diagonal is
 * `K(x_i, x_i) = exp(ℓ_i)`, `ℓ_i = logDiag[i] + logDiagLo[i]` (double-double), and
 * `M = log mean_{i < n_train} exp(ℓ_i)`: `K̄_ij s_i s_j = K_ij / mean(diag K_train)`, formed in
 * log space so it does not underflow at any depth. The logs are shifted by `ℓ_0` first (from the
 * double-double parts, so large logs do not cancel).
 * @param logDiag high parts of `ℓ`, length `n` (the number of points).
 * @param logDiagLo low parts of `ℓ`, length `n`.
 * @returns `s` (length `n`) and `logMeanRel = M − ℓ_0`.
 */
export function trainDiagMeanScale(
  logDiag: Float64Array,
  logDiagLo: Float64Array,
  n_train: number,
): { s: Float64Array; logMeanRel: number } {
  const n = logDiag.length;
  const rel = new Float64Array(n);
  for (let i = 0; i < n; i++) rel[i] = logDiag[i] - logDiag[0] + (logDiagLo[i] - logDiagLo[0]);
  const m = logMeanExp(rel, n_train);
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) s[i] = Math.exp(0.5 * (rel[i] - m));
  return { s, logMeanRel: m };
}

/** Whether every entry of `logDiag` equals the first to 1e-13 relative (a constant diagonal). */
function constantDiag(logDiag: Float64Array): boolean {
  for (let i = 1; i < logDiag.length; i++) if (Math.abs(logDiag[i] - logDiag[0]) > 1e-13 * Math.max(1, Math.abs(logDiag[0]))) return false;
  return true;
}

/**
 * How the flow kernel `K` relates to `K̄`: `K = e^{logTime} · K̃`, where `K̃ = K̄` (`scale`
 * undefined: a constant kernel diagonal) or `K̃_ij = K̄_ij s_i s_j` (`scale` per point over
 * `[train; test]`, train-diagonal mean 1: {@link trainDiagMeanScale}, as `kernelMatrix` with
 * `train_diag_mean`). `time_scale: normalized` has `logTime = 0`; `absolute` has `logTime` = ln
 * of the mean train diagonal of the raw kernel, which passes 709 (float64 overflow) at σ_w = 2,
 * depth ≈ 1,100. The factor is never applied to a matrix: gradient flow on `c·K̃` for time `t`
 * equals gradient flow on `K̃` for time `c·t` (`K(x,X) K⁻¹ (I − e^{−Kt/N})` is unchanged by
 * `K → cK, t → t/c`), with an absolute ridge `δ` becoming `δ/c` (see {@link flowTimes}).
 * `scaleLog10` is `logTime / ln 10` for the record (`kernel_scale_log10`).
 */
export interface FlowScale {
  scale: Float64Array | undefined;
  logTime: number;
  scaleLog10: number;
}

/**
 * The {@link FlowScale} of a kernel with diagonal `exp(logDiag[i] + logDiagLo[i])` over `n`
 * points (both null for `rho`, whose diagonal is 1: no scale), the first `n_train` of them
 * training points. Takes the diagonal as `kernelView` gives it.
 */
export function flowScale(
  diag: { logDiag: Float64Array | null; logDiagLo: Float64Array | null },
  timeScale: TimeScale,
  n_train: number,
): FlowScale {
  const { logDiag, logDiagLo } = diag;
  if (!logDiag || !logDiagLo) return { scale: undefined, logTime: 0, scaleLog10: 0 };
  const absolute = timeScale === 'absolute';
  if (constantDiag(logDiag)) {
    // When every point has the same kernel diagonal (unit-norm inputs), K = c·K̄ exactly and one
    // decomposition of K̄ serves statistics and flow.
    return { scale: undefined, logTime: absolute ? logDiag[0] : 0, scaleLog10: logDiag[0] / Math.LN10 };
  }
  const { s, logMeanRel } = trainDiagMeanScale(logDiag, logDiagLo, n_train);
  const logMean = logDiag[0] + logDiagLo[0] + logMeanRel;
  return { scale: s, logTime: absolute ? logMean : 0, scaleLog10: logMeanExp(logDiag, n_train) / Math.LN10 };
}

/**
 * The stopping times and ridge of the flow on `K̃` (see {@link FlowScale}): `t·e^{logTime}`,
 * computed as `exp(ln t + logTime)` (0 stays 0; a product past float64 is +∞, the t = ∞
 * predictor, which does not depend on the scale), and an absolute `diag_reg` divided by the same
 * factor (a relative one is scale-free).
 */
export function flowTimes(
  t: readonly number[],
  diag_reg: number,
  mode: 'relative' | 'absolute',
  scale: FlowScale,
): { t: number[]; diagReg: number; mode: 'relative' | 'absolute' } {
  const L = scale.logTime;
  const times = t.map((t0) => (L === 0 || t0 === 0 || t0 === Infinity ? t0 : Math.exp(Math.log(t0) + L)));
  return { t: times, diagReg: mode === 'absolute' && L !== 0 && diag_reg > 0 ? Math.exp(Math.log(diag_reg) - L) : diag_reg, mode };
}

/**
 * The flow blocks `K̃ = D K̄ D` (`D = diag(s)`) of the normalized train block `kbar_train`
 * `[N, N]` and cross block `kbar_cross` `[m, N]`, with `s` over `[train; test]` (length `N + m`):
 * `K_ij = K̄_ij s_hi s_lo` (hi = the larger point index: bit-identical to `kernelMatrix`).
 * Returns new buffers `k_train` `[N, N]`, `k_cross` `[m, N]`.
 */
export function scaledBlocks(kbar_train: Float64Array, kbar_cross: Float64Array, s: Float64Array, n_train: number): { k_train: Float64Array; k_cross: Float64Array } {
  const n_test = kbar_cross.length / n_train;
  const k_train = new Float64Array(n_train * n_train);
  for (let i = 0; i < n_train; i++) {
    const si = s[i];
    for (let j = 0; j < n_train; j++) {
      const v = kbar_train[i * n_train + j];
      k_train[i * n_train + j] = j < i ? v * si * s[j] : j > i ? v * s[j] * si : si * si;
    }
  }
  const k_cross = new Float64Array(n_test * n_train);
  for (let i = 0; i < n_test; i++) {
    const si = s[n_train + i];
    for (let j = 0; j < n_train; j++) k_cross[i * n_train + j] = kbar_cross[i * n_train + j] * si * s[j];
  }
  return { k_train, k_cross };
}
