import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadDataset, checkDataParams, DataError, type DataParams } from '../src/data/index.js';
import { sphereTarget, spherePoints } from '../src/data/sphere.js';
import { makeRng } from '../src/util/rng.js';

const base: DataParams = { dataset: 'sphere', d: 10, target: 'linear', n_train: 2000, n_test: 300, data_seed: 3, center: false, unit_norm: false };

test('sphere points have norm 1 within 1e-15, mean ≈ 0 and E[x_j²] ≈ 1/d (uniform on S^{d-1})', () => {
  const ds = loadDataset(base);
  const d = 10;
  const n = 2000;
  const mean = new Float64Array(d);
  const second = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const row = ds.x_train.subarray(i * d, (i + 1) * d);
    assert.ok(Math.abs(Math.hypot(...row) - 1) <= 1e-15);
    for (let j = 0; j < d; j++) {
      mean[j] += row[j] / n;
      second[j] += (row[j] * row[j]) / n;
    }
  }
  // per coordinate: sd of the mean ≈ sqrt(1/(d n)) ≈ 0.007; sd of the second moment ≈ 0.003
  for (let j = 0; j < d; j++) {
    assert.ok(Math.abs(mean[j]) < 0.03, `mean[${j}] = ${mean[j]}`);
    assert.ok(Math.abs(second[j] - 0.1) < 0.015, `E[x_${j}^2] = ${second[j]}`);
  }
});

test('sphere linear target: labels are sign(w·x) (+1 ↔ label 1), odd in x, and about half positive', () => {
  const ds = loadDataset(base);
  const f = sphereTarget('linear', 10, 3);
  assert.equal(ds.k, 1);
  assert.deepEqual(ds.classes, [-1, 1]);
  let pos = 0;
  for (let i = 0; i < ds.n_train; i++) {
    const x = ds.x_train.subarray(i * 10, (i + 1) * 10);
    const v = f(x, 0);
    assert.equal(ds.y_train[i], v >= 0 ? 1 : -1);
    assert.equal(ds.labels_train[i], v >= 0 ? 1 : 0);
    assert.equal(f(x.map((t) => -t), 0), -v);
    if (v >= 0) pos++;
  }
  assert.ok(pos > 900 && pos < 1100, `${pos} of 2000 positive`);
});

test('sphere quadratic target is even in x, has mean ≈ 0 over the sphere, and gives both labels', () => {
  const ds = loadDataset({ ...base, target: 'quadratic' });
  const f = sphereTarget('quadratic', 10, 3);
  let sum = 0;
  let pos = 0;
  for (let i = 0; i < ds.n_train; i++) {
    const x = ds.x_train.subarray(i * 10, (i + 1) * 10);
    const v = f(x, 0);
    assert.ok(Math.abs(f(x.map((t) => -t), 0) - v) < 1e-12);
    assert.equal(ds.y_train[i], v >= 0 ? 1 : -1);
    sum += v;
    if (v >= 0) pos++;
  }
  assert.ok(Math.abs(sum / ds.n_train) < 0.1, `mean f = ${sum / ds.n_train}`);
  assert.ok(pos > 400 && pos < 1600, `${pos} of 2000 positive`);
});

test('sphere: identical for the same params, nested in n_train, test independent of n_train, different for another data_seed', () => {
  const a = loadDataset(base);
  assert.deepEqual(loadDataset({ ...base }), a);
  const s = loadDataset({ ...base, n_train: 50 });
  assert.deepEqual(s.x_train, a.x_train.subarray(0, 500));
  assert.deepEqual(s.y_train, a.y_train.subarray(0, 50));
  assert.deepEqual(s.x_test, a.x_test);
  const b = loadDataset({ ...base, data_seed: 4 });
  assert.notDeepEqual(b.x_train.subarray(0, 10), a.x_train.subarray(0, 10));
  // the points come from the first normals of the train stream
  const direct = spherePoints(3, 10, makeRng({ purpose: 'data-sphere-points', part: 'train', d: 10, data_seed: 3 }));
  assert.deepEqual(direct, a.x_train.subarray(0, 30));
});

test('sphere labels are computed before preprocessing: center + unit_norm keep the labels and give unit norms', () => {
  const a = loadDataset(base);
  const c = loadDataset({ ...base, center: true, unit_norm: true });
  assert.deepEqual(c.y_train, a.y_train);
  assert.notDeepEqual(c.x_train, a.x_train);
  for (let i = 0; i < c.n_test; i++) assert.ok(Math.abs(Math.hypot(...c.x_test.subarray(i * 10, (i + 1) * 10)) - 1) <= 1e-15);
});

test('sphere params are validated: d >= 2, known target, quadratic d <= 4096', () => {
  assert.deepEqual(checkDataParams({ ...base, d: 1 }), ['sphere: d must be an integer >= 2, got 1']);
  assert.deepEqual(checkDataParams({ ...base, d: undefined }), ['sphere: d must be an integer >= 2, got nothing']);
  assert.deepEqual(checkDataParams({ ...base, target: 'cubic' as 'linear' }), ['sphere: target must be "linear" or "quadratic", got "cubic"']);
  assert.deepEqual(checkDataParams({ ...base, target: 'quadratic', d: 5000 }), ['sphere: the quadratic target supports d <= 4096 (it stores a d×d matrix), got d = 5000']);
  assert.deepEqual(checkDataParams({ ...base, target: undefined }), []);
  assert.throws(() => loadDataset({ ...base, d: 1 }), DataError);
});
