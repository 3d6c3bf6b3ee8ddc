import { test } from 'node:test';
import assert from 'node:assert/strict';
import { predictionMetrics } from '../src/ntk/metrics.js';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-15, `${what}: ${a} vs ${b}`);

test('hand-computed metrics of a 4-point, 2-class example (mse over all entries, argmax accuracy, r2, spread)', () => {
  const y = Float64Array.from([1, 0, 0, 1, 1, 0, 0, 1]);
  const f = Float64Array.from([0.8, 0.1, 0.4, 0.3, 0.2, 0.6, 0, 1]);
  const m = predictionMetrics(f, y, 4, 2);
  // squared errors: .05 + .65 + 1.0 + 0 = 1.7 over 8 entries
  close(m.mse, 1.7 / 8, 'mse');
  // argmax: (0=0) (0≠1) (1≠0) (1=1)
  assert.equal(m.test_acc, 0.5);
  // SS_tot = 8 · 0.25 = 2 (label means 0.5, 0.5)
  close(m.test_r2, 1 - 1.7 / 2, 'r2');
  // prediction means (.35, .5): SS_f = .35 + .46 = .81
  close(m.pred_spread, Math.sqrt(0.81 / 2), 'pred_spread');
});

test('k = 1 accuracy is sign agreement with ±1 labels, a zero prediction counting as wrong', () => {
  const y = Float64Array.from([1, -1, 1, -1]);
  const f = Float64Array.from([0.3, -2, -0.1, 0]);
  assert.equal(predictionMetrics(f, y, 4, 1).test_acc, 0.5);
});

test('the best constant predictor has r2 = 0 and spread 0; an exact predictor has r2 = 1 and mse 0; f = a·y + b has spread |a|', () => {
  const y = Float64Array.from([0.5, -1, 2, 0.25, -0.75, 3, 1, 1.5, -2]); // [3, 3]
  const means = [0, 1, 2].map((c) => (y[c] + y[3 + c] + y[6 + c]) / 3);
  const constant = y.map((_, i) => means[i % 3]);
  const mc = predictionMetrics(constant, y, 3, 3);
  assert.ok(Math.abs(mc.test_r2) <= 1e-15);
  assert.equal(mc.pred_spread, 0);
  const exact = predictionMetrics(y, y, 3, 3);
  assert.equal(exact.mse, 0);
  assert.equal(exact.test_r2, 1);
  assert.equal(exact.test_acc, 1);
  const affine = predictionMetrics(y.map((v, i) => -0.5 * v + (i % 3)), y, 3, 3);
  close(affine.pred_spread, 0.5, 'spread of −0.5·y + b');
});

test('constant labels make r2 and pred_spread undefined (NaN); bad shapes throw', () => {
  const m = predictionMetrics(Float64Array.from([1, 2]), Float64Array.from([1, 1]), 2, 1);
  assert.ok(Number.isNaN(m.test_r2) && Number.isNaN(m.pred_spread));
  assert.throws(() => predictionMetrics(new Float64Array(3), new Float64Array(4), 2, 2), RangeError);
});
