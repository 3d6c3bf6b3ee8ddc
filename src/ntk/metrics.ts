/**
 * Metrics of predictions `f` against labels `y`, both row-major `[m, k]` (m points, k outputs).
 * Labels follow docs/conventions.md §14: one-hot minus `1/k` for `k ≥ 2` classes, `±1` for two classes with
 * `k = 1`, or real targets for regression.
 */

/** Prediction metrics (snake_case names are the stored metric names). */
export interface PredictionMetrics {
  /**
   * Mean squared error over **all** `m·k` entries, `Σ_ic (f_ic − y_ic)² / (m k)` (scikit-learn
   * `mean_squared_error`, `multioutput='uniform_average'`). Twice the training loss of
   * docs/conventions.md §7 divided by k.
   */
  mse: number;
  /**
   * Classification accuracy in [0, 1]: for `k ≥ 2`, `argmax_c f_ic = argmax_c y_ic` (ties go to
   * the first index, as numpy `argmax`); for `k = 1`, `sign(f_i) = sign(y_i)` with ±1 labels
   * (a prediction of exactly 0 counts as wrong).
   */
  test_acc: number;
  /**
   * `1 − SS_res/SS_tot`, `SS_res = Σ_ic (f_ic − y_ic)²`, `SS_tot = Σ_ic (y_ic − ȳ_c)²` with
   * `ȳ_c` the per-output mean of the labels (the best constant predictor; scikit-learn `r2_score`
   * with `multioutput='variance_weighted'`). NaN when `SS_tot = 0`.
   */
  test_r2: number;
  /**
   * Spread of the predictions relative to the labels, pooled over outputs:
   * `sqrt(Σ_ic (f_ic − f̄_c)² / Σ_ic (y_ic − ȳ_c)²)` (per-output means `f̄_c`, `ȳ_c`), i.e. the
   * pooled standard deviation over points of f divided by that of y. Near 0 means a nearly
   * constant predictor (docs/conventions.md §1 claim 2). NaN when the labels are constant.
   */
  pred_spread: number;
}

/**
 * Metrics of `pred` against `labels`, both `[m, k]` row-major.
 * @throws RangeError if `m < 1`, `k < 1`, or a length is not `m·k`.
 */
export function predictionMetrics(
  pred: Float64Array,
  labels: Float64Array,
  m: number,
  k: number,
): PredictionMetrics {
  if (!(Number.isInteger(m) && m >= 1 && Number.isInteger(k) && k >= 1)) {
    throw new RangeError(`predictionMetrics: need integers m >= 1 and k >= 1, got m=${m}, k=${k}`);
  }
  if (pred.length !== m * k || labels.length !== m * k) {
    throw new RangeError(
      `predictionMetrics: pred/labels have lengths ${pred.length}/${labels.length}, expected m*k = ${m * k}`,
    );
  }
  const meanF = new Float64Array(k);
  const meanY = new Float64Array(k);
  for (let i = 0; i < m; i++) {
    for (let c = 0; c < k; c++) {
      meanF[c] += pred[i * k + c];
      meanY[c] += labels[i * k + c];
    }
  }
  for (let c = 0; c < k; c++) {
    meanF[c] /= m;
    meanY[c] /= m;
  }
  let ssRes = 0;
  let ssTot = 0;
  let ssF = 0;
  let correct = 0;
  for (let i = 0; i < m; i++) {
    const row = i * k;
    let bestF = 0;
    let bestY = 0;
    for (let c = 0; c < k; c++) {
      const f = pred[row + c];
      const y = labels[row + c];
      ssRes += (f - y) * (f - y);
      ssTot += (y - meanY[c]) * (y - meanY[c]);
      ssF += (f - meanF[c]) * (f - meanF[c]);
      if (f > pred[row + bestF]) bestF = c;
      if (y > labels[row + bestY]) bestY = c;
    }
    if (k === 1) {
      const f = pred[row];
      const y = labels[row];
      if ((f > 0 && y > 0) || (f < 0 && y < 0)) correct++;
    } else if (bestF === bestY) {
      correct++;
    }
  }
  return {
    mse: ssRes / (m * k),
    test_acc: correct / m,
    test_r2: ssTot > 0 ? 1 - ssRes / ssTot : NaN,
    pred_spread: ssTot > 0 ? Math.sqrt(ssF / ssTot) : NaN,
  };
}
