/**
 * Per-step training metrics of a finite-width network relative to its initialization,
 * and the one naming rule for per-layer metrics.
 *
 * **Naming rule.** A per-layer metric is named `<base>_l<l>` with `l` the 1-based layer index of
 * docs/conventions.md §3 (`α^l = relu(h^l)`, `h^l` produced by weight layer `W^l`): `act_dev_max_l1`,
 * `act_dev_max_l2`, …; select a family with `name LIKE 'act_dev_max_l%'` and parse the layer with
 * `CAST(substr(name, length('act_dev_max_l') + 1) AS INTEGER)`. Activation metrics exist for
 * hidden layers `l = 1..L−1`; `weight_rel_change_l<l>` exists for every weight layer
 * `l = 1..L` (`l = L` is the linear readout). In addition the bare name (`act_dev_max`,
 * `act_dev_norm`, `act_norm`, `weight_rel_change`) is an alias for the **last hidden layer**
 * `l = L−1`, the layer the paper's claim 1 is about; aliases are absent for `L = 1`.
 */
import { activationDeviation, relativeFrobeniusChange } from './deviation.js';
import { empiricalNtk, outputMeanBlock } from './empirical-ntk.js';
import { analyticNtk } from './kernel-gap.js';
import { forward, layerSizes } from './mlp.js';
import type { MlpParams, MlpArchitecture } from './mlp.js';

/** Per-layer metric families (see the naming rule in the module comment). */
export const LAYER_METRICS = ['act_dev_max', 'act_dev_norm', 'act_norm', 'weight_rel_change'] as const;
export type LayerMetric = (typeof LAYER_METRICS)[number];

/** Name of a per-layer metric: `layerMetricName('act_dev_max', 2) === 'act_dev_max_l2'`. */
export function layerMetricName(base: LayerMetric, layer: number): string {
  return `${base}_l${layer}`;
}

/** What is kept from initialization to measure deviations later. Arrays are owned copies. */
export interface InitSnapshot {
  arch: MlpArchitecture;
  /** Probe inputs `[p, d]` row-major (the same inputs at every step). */
  x_probe: Float64Array;
  p: number;
  /** `α^l(0)` on the probe set, `[p, width]`, for hidden layers `l = 1..L−1` (index `l − 1`). */
  probeActs: Float64Array[];
  /** `W^l(0)` for `l = 1..L` (index `l − 1`). */
  W0: Float64Array[];
  /** Full empirical NTK `Θ̂_0` `[p·k, p·k]` on the probe set, or `null` when `p = 0` or disabled. */
  ntk0: Float64Array | null;
  /** Output-mean block of `Θ̂_0`, `[p, p]`, or `null`. */
  ntk0Mean: Float64Array | null;
}

/**
 * Record the initial state needed by {@link deviationMetrics}. `x_probe` is `[p, d]` and is
 * copied. The empirical NTK is computed only if `withNtk` and `p > 0`.
 * @throws RangeError if `x_probe.length !== p·d`.
 */
export function takeInitSnapshot(arch: MlpArchitecture, params0: MlpParams, x_probe: Float64Array, p: number, withNtk = true): InitSnapshot {
  const x = x_probe.slice();
  const cache = forward(arch, params0, x, p);
  const probeActs = cache.a.slice(1).map((a) => a.slice());
  const ntk0 = withNtk && p > 0 ? empiricalNtk(arch, params0, x, p, cache) : null;
  return {
    arch,
    x_probe: x,
    p,
    probeActs,
    W0: params0.W.map((w) => w.slice()),
    ntk0,
    ntk0Mean: ntk0 ? outputMeanBlock(ntk0, p, arch.k) : null,
  };
}

/**
 * Deviation metrics of `params` (the network at some step) relative to `snap`, as ordered
 * `[name, value]` pairs:
 * - for hidden layers `l = 1..L−1` (only if `p > 0`): `act_dev_max_l<l>` = max over probe inputs
 *   and neurons of `|α_i(t) − α_i(0)|`; `act_dev_norm_l<l>` = mean over probe inputs of
 *   `‖α(t) − α(0)‖₂`; `act_norm_l<l>` = mean over probe inputs of `‖α(0)‖₂`;
 * - `weight_rel_change_l<l>` = `‖W^l_t − W^l_0‖_F / ‖W^l_0‖_F` for `l = 1..L`;
 * - the last-hidden-layer aliases `act_dev_max`, `act_dev_norm`, `act_norm`, `weight_rel_change`
 *   (if `L ≥ 2`);
 * - if the snapshot has `Θ̂_0`: `ntk_rel_change` = `‖Θ̂_t − Θ̂_0‖_F / ‖Θ̂_0‖_F` on the full
 *   `[p·k, p·k]` empirical NTK, and `ntk_rel_change_mean` = the same on the `[p, p]` mean of the
 *   diagonal output blocks.
 */
export function deviationMetrics(snap: InitSnapshot, params: MlpParams): Array<[string, number]> {
  const { arch, p } = snap;
  const L = arch.depth;
  const width = layerSizes(arch)[1];
  const out: Array<[string, number]> = [];
  const alias: Array<[string, number]> = [];
  const cache = p > 0 ? forward(arch, params, snap.x_probe, p) : null;
  if (cache) {
    for (let l = 1; l < L; l++) {
      const dev = activationDeviation(snap.probeActs[l - 1], cache.a[l], p, width);
      out.push([layerMetricName('act_dev_max', l), dev.actDevMax]);
      out.push([layerMetricName('act_dev_norm', l), dev.actDevNorm]);
      out.push([layerMetricName('act_norm', l), dev.actNorm]);
      if (l === L - 1) alias.push(['act_dev_max', dev.actDevMax], ['act_dev_norm', dev.actDevNorm], ['act_norm', dev.actNorm]);
    }
  }
  for (let l = 1; l <= L; l++) {
    const v = relativeFrobeniusChange(snap.W0[l - 1], params.W[l - 1]);
    out.push([layerMetricName('weight_rel_change', l), v]);
    if (l === L - 1) alias.push(['weight_rel_change', v]);
  }
  out.push(...alias);
  if (cache && snap.ntk0 && snap.ntk0Mean) {
    const ntk = empiricalNtk(arch, params, snap.x_probe, p, cache);
    out.push(['ntk_rel_change', relativeFrobeniusChange(snap.ntk0, ntk)]);
    out.push(['ntk_rel_change_mean', relativeFrobeniusChange(snap.ntk0Mean, outputMeanBlock(ntk, p, arch.k))]);
  }
  return out;
}

/**
 * `ntk_init_rel_err` = `‖Θ̂_0 − Θ‖_F / ‖Θ‖_F` on the probe set: the output-mean block of the
 * empirical NTK at initialization against the analytic infinite-width NTK `Θ^L` (`src/ntk`),
 * which it approaches as `O(width^{−1/2})`. `null` if the snapshot has no `Θ̂_0` or the network
 * is not in the NTK parameterization.
 */
export function ntkInitRelError(snap: InitSnapshot): number | null {
  if (!snap.ntk0Mean || snap.arch.parameterization !== 'ntk') return null;
  return relativeFrobeniusChange(analyticNtk(snap.arch, snap.x_probe, snap.p), snap.ntk0Mean);
}

/**
 * Test accuracy of outputs `f` `[n, k]` against label indices `labels` `[n]`: for `k = 1` the
 * prediction is label 1 if `f > 0` else 0 (labels ±1 encoded as index 1/0); for `k > 1` it is the
 * argmax over outputs (first maximum on ties). Returns `NaN` for `n = 0`.
 * @throws RangeError on a length mismatch.
 */
export function accuracy(f: Float64Array, labels: Int32Array, n: number, k: number): number {
  if (f.length !== n * k || labels.length !== n) throw new RangeError(`accuracy: expected f [${n}, ${k}] and labels [${n}]`);
  if (n === 0) return NaN;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let pred: number;
    if (k === 1) pred = f[i] > 0 ? 1 : 0;
    else {
      pred = 0;
      for (let a = 1; a < k; a++) if (f[i * k + a] > f[i * k + pred]) pred = a;
    }
    if (pred === labels[i]) correct++;
  }
  return correct / n;
}
