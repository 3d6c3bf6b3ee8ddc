import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activationDeviation, relativeFrobeniusChange } from '../src/nn/deviation.js';
import { DIVERGENCE_FACTOR, divergenceReason } from '../src/nn/divergence.js';
import { accuracy, deviationMetrics, layerMetricName, takeInitSnapshot } from '../src/nn/metrics.js';
import { cloneParams, initMlp } from '../src/nn/mlp.js';
import type { MlpArchitecture } from '../src/nn/mlp.js';
import { linearSchedule, logSchedule } from '../src/nn/schedule.js';

test('activation deviation: max |Δα|, mean ‖Δα‖₂ and mean ‖α(0)‖₂ on a hand example', () => {
  // p = 2 inputs, n = 2 neurons
  const a0 = Float64Array.from([3, 4, 0, 1]);
  const at = Float64Array.from([3, 5, 2, 1]);
  const dev = activationDeviation(a0, at, 2, 2);
  assert.equal(dev.actDevMax, 2);
  assert.equal(dev.actDevNorm, (1 + 2) / 2);
  assert.equal(dev.actNorm, (5 + 1) / 2);
  assert.ok(Number.isNaN(activationDeviation(a0, Float64Array.from([NaN, 4, 0, 1]), 2, 2).actDevMax));
});

test('relative Frobenius change is ‖X_t − X_0‖/‖X_0‖', () => {
  assert.equal(relativeFrobeniusChange(Float64Array.from([3, 4]), Float64Array.from([3, 4])), 0);
  assert.equal(relativeFrobeniusChange(Float64Array.from([3, 4]), Float64Array.from([6, 8])), 1);
  assert.equal(relativeFrobeniusChange(new Float64Array(2), new Float64Array(2)), 0);
});

test('divergence: NaN, Inf, or more than 1e6 × the initial loss', () => {
  assert.equal(DIVERGENCE_FACTOR, 1e6);
  assert.match(divergenceReason(NaN, 1) ?? '', /NaN/);
  assert.match(divergenceReason(Infinity, 1) ?? '', /infinite/);
  assert.equal(divergenceReason(0.99e6, 1), null);
  assert.match(divergenceReason(2e6, 1) ?? '', /exceeds/);
  assert.equal(divergenceReason(5, 0), null, 'a zero initial loss cannot blow up relatively');
});

test('log schedule includes 0 and the final step, is strictly increasing and log-spaced', () => {
  assert.deepEqual(logSchedule(1000, 5), [0, 1, 10, 100, 1000]);
  assert.deepEqual(logSchedule(3, 20), [0, 1, 2, 3]);
  assert.deepEqual(logSchedule(0, 5), [0]);
  assert.deepEqual(logSchedule(7, 2), [0, 7]);
  const s = logSchedule(5000, 20);
  assert.equal(s[0], 0);
  assert.equal(s[s.length - 1], 5000);
  for (let i = 1; i < s.length; i++) assert.ok(s[i] > s[i - 1]);
  assert.throws(() => logSchedule(10, 1), RangeError);
});

test('linear schedule logs every k steps and the final step', () => {
  assert.deepEqual(linearSchedule(10, 4), [0, 4, 8, 10]);
  assert.deepEqual(linearSchedule(8, 4), [0, 4, 8]);
  assert.deepEqual(linearSchedule(0, 4), [0]);
  assert.throws(() => linearSchedule(10, 0), RangeError);
});

test('accuracy uses argmax for k > 1 and the sign for k = 1', () => {
  assert.equal(accuracy(Float64Array.from([0.1, 0.9, 0.8, 0.2]), Int32Array.from([1, 1]), 2, 2), 0.5);
  assert.equal(accuracy(Float64Array.from([0.3, -0.2, 0.1]), Int32Array.from([1, 0, 0]), 3, 1), 2 / 3);
});

test('per-layer metrics follow <base>_l<l>, with bare aliases equal to the last hidden layer', () => {
  const arch: MlpArchitecture = { d: 3, width: 8, depth: 4, k: 2, sigma_w: 1, sigma_b: 0, parameterization: 'ntk' };
  const p0 = initMlp(arch, 0);
  const probe = Float64Array.from([1, 0, 0, 0, 0.6, 0.8]);
  const snap = takeInitSnapshot(arch, p0, probe, 2);
  const same = new Map(deviationMetrics(snap, p0));
  for (const [name, v] of same) assert.equal(v, name.startsWith('act_norm') ? v : 0, name);
  const moved = cloneParams(p0);
  moved.W[1][0] += 0.5;
  moved.W[3][0] += 0.1;
  const m = new Map(deviationMetrics(snap, moved));
  const names = [...m.keys()];
  for (const base of ['act_dev_max', 'act_dev_norm', 'act_norm'] as const) {
    assert.deepEqual(
      names.filter((n) => n.startsWith(`${base}_l`)),
      [1, 2, 3].map((l) => layerMetricName(base, l)),
    );
    assert.equal(m.get(base), m.get(`${base}_l3`));
  }
  assert.deepEqual(
    names.filter((n) => n.startsWith('weight_rel_change_l')),
    ['weight_rel_change_l1', 'weight_rel_change_l2', 'weight_rel_change_l3', 'weight_rel_change_l4'],
  );
  assert.equal(m.get('weight_rel_change'), m.get('weight_rel_change_l3'));
  assert.equal(m.get('weight_rel_change_l1'), 0);
  assert.equal(m.get('act_dev_max_l1'), 0, 'layer 1 is upstream of the change');
  assert.ok((m.get('weight_rel_change_l2') ?? 0) > 0 && (m.get('weight_rel_change_l4') ?? 0) > 0);
  assert.ok((m.get('ntk_rel_change') ?? 0) > 0 && (m.get('ntk_rel_change_mean') ?? 0) > 0);
});
