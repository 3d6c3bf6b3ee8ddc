import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadDataset, checkDataParams, DataError, type DataParams, type Dataset } from '../src/data/index.js';
import { mnistClass, MNIST_CLASS_COUNTS } from '../src/data/mnist.js';
import { fashionMnistClass, FASHION_MNIST_CLASS_COUNT } from '../src/data/fashion-mnist.js';

const base: DataParams = { dataset: 'mnist', n_train: 100, n_test: 50, data_seed: 0, center: false, unit_norm: false };
/** Exact identity of a row: its raw float64 bytes. */
const rowKey = (x: Float64Array, i: number, d: number) => Buffer.from(x.buffer, x.byteOffset + i * d * 8, d * 8).toString('latin1');
const keys = (x: Float64Array, n: number, d: number) => Array.from({ length: n }, (_, i) => rowKey(x, i, d));

test('the mnist package holds 10,000 digits with per-class counts 1001, 1127, 991, ... (not 1000 each)', () => {
  let total = 0;
  for (let c = 0; c < 10; c++) {
    assert.equal(mnistClass(c).length, MNIST_CLASS_COUNTS[c] * 784);
    total += MNIST_CLASS_COUNTS[c];
  }
  assert.equal(total, 10000);
  assert.deepEqual([...MNIST_CLASS_COUNTS], [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
});

test('mnist pixels lie in [0, 1] and reach both 0 and 1', () => {
  let min = Infinity, max = -Infinity;
  for (let c = 0; c < 10; c++) for (const v of mnistClass(c)) { if (v < min) min = v; if (v > max) max = v; }
  assert.equal(min, 0);
  assert.equal(max, 1);
});

test('mnist: same params give identical arrays; a different data_seed selects different points', () => {
  const a = loadDataset(base);
  const b = loadDataset({ ...base });
  assert.deepEqual(a, b);
  const c = loadDataset({ ...base, data_seed: 1 });
  assert.notDeepEqual(c.x_train, a.x_train);
  assert.notDeepEqual(c.x_test, a.x_test);
  assert.equal(a.d, 784);
  assert.equal(a.k, 10);
  assert.equal(a.x_train.length, 100 * 784);
  assert.equal(a.y_train.length, 100 * 10);
  assert.equal(a.x_test.length, 50 * 784);
});

test('mnist: train for n_train = 100 is the first 100 rows of n_train = 400; test does not depend on n_train; train ∩ test = ∅', () => {
  const s = loadDataset({ ...base, n_train: 100, n_test: 300 });
  const l = loadDataset({ ...base, n_train: 400, n_test: 300 });
  assert.deepEqual(l.x_train.subarray(0, 100 * 784), s.x_train);
  assert.deepEqual(l.labels_train.subarray(0, 100), s.labels_train);
  assert.deepEqual(l.x_test, s.x_test);
  assert.deepEqual(l.y_test, s.y_test);
  const moreTest = loadDataset({ ...base, n_train: 100, n_test: 600 });
  assert.deepEqual(moreTest.x_train, s.x_train, 'train does not depend on n_test');
  assert.deepEqual(moreTest.x_test.subarray(0, 300 * 784), s.x_test, 'test nested in n_test');
  // the mnist package has no duplicate images, so distinct keys mean distinct points
  const tr = new Set(keys(l.x_train, 400, 784));
  const te = keys(moreTest.x_test, 600, 784);
  assert.equal(tr.size, 400);
  assert.equal(new Set(te).size, 600);
  assert.equal(te.filter((k) => tr.has(k)).length, 0);
});

test('mnist: every selected row is an image of the class its label names, and targets are one-hot minus 1/10', () => {
  const ds = loadDataset({ ...base, n_train: 300, n_test: 100 });
  const byClass = Array.from({ length: 10 }, (_, c) => new Set(keys(mnistClass(c), MNIST_CLASS_COUNTS[c], 784)));
  const check = (x: Float64Array, y: Float64Array, labels: Int32Array, n: number) => {
    for (let i = 0; i < n; i++) {
      const c = ds.classes[labels[i]];
      assert.ok(byClass[c].has(rowKey(x, i, 784)), `row ${i} is not a digit ${c}`);
      let sum = 0;
      for (let j = 0; j < 10; j++) {
        assert.equal(y[i * 10 + j], (j === labels[i] ? 1 : 0) - 0.1);
        sum += y[i * 10 + j];
      }
      assert.ok(Math.abs(sum) < 1e-15);
    }
  };
  check(ds.x_train, ds.y_train, ds.labels_train, 300);
  check(ds.x_test, ds.y_test, ds.labels_test, 100);
  assert.deepEqual(ds.classes, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('mnist classes [7, 1]: 7 → -1 and 1 → +1 (given order), same points as [1, 7] with the signs flipped', () => {
  const a = loadDataset({ ...base, classes: [7, 1] });
  const b = loadDataset({ ...base, classes: [1, 7] });
  assert.equal(a.k, 1);
  assert.deepEqual(a.classes, [7, 1]);
  assert.deepEqual(a.class_names, ['7', '1']);
  assert.deepEqual(a.x_train, b.x_train);
  assert.deepEqual(a.x_test, b.x_test);
  for (let i = 0; i < a.n_train; i++) {
    assert.equal(a.y_train[i], -b.y_train[i]);
    assert.equal(Math.abs(a.y_train[i]), 1);
    assert.equal(a.y_train[i], a.labels_train[i] === 1 ? 1 : -1);
  }
  const sevens = new Set(keys(mnistClass(7), MNIST_CLASS_COUNTS[7], 784));
  for (let i = 0; i < a.n_train; i++) assert.equal(sevens.has(rowKey(a.x_train, i, 784)), a.y_train[i] === -1);
});

test('mnist center gives a zero train mean (|mean| < 1e-15) and shifts test by the same vector', () => {
  const raw = loadDataset({ ...base, n_train: 500 });
  const cen = loadDataset({ ...base, n_train: 500, center: true });
  const mean = new Float64Array(784);
  for (let i = 0; i < 500; i++) for (let j = 0; j < 784; j++) mean[j] += raw.x_train[i * 784 + j] / 500;
  for (let j = 0; j < 784; j++) {
    let s = 0;
    for (let i = 0; i < 500; i++) s += cen.x_train[i * 784 + j];
    assert.ok(Math.abs(s / 500) < 1e-15, `feature ${j} mean ${s / 500}`);
    const shift = raw.x_test[j] - cen.x_test[j];
    assert.ok(Math.abs(shift - mean[j]) < 1e-12);
  }
});

test('mnist unit_norm (after center) gives every train and test point norm 1 within 1e-15', () => {
  const ds = loadDataset({ ...base, n_train: 1000, n_test: 500, center: true, unit_norm: true });
  const worst = (x: Float64Array, n: number) => {
    let w = 0;
    for (let i = 0; i < n; i++) w = Math.max(w, Math.abs(Math.hypot(...x.subarray(i * 784, (i + 1) * 784)) - 1));
    return w;
  };
  assert.ok(worst(ds.x_train, 1000) <= 1e-15);
  assert.ok(worst(ds.x_test, 500) <= 1e-15);
});

test('checkDataParams reports too many points, unknown classes and datasets, bad counts; loadDataset throws the same as DataError', () => {
  const tooMany = { ...base, n_train: 11000, n_test: 1000 };
  assert.deepEqual(checkDataParams(tooMany), ['n_train + n_test = 12000 exceeds the 10000 points of mnist (classes 0-9)']);
  assert.throws(() => loadDataset(tooMany), (e: unknown) => e instanceof DataError && e.message === 'n_train + n_test = 12000 exceeds the 10000 points of mnist (classes 0-9)');
  assert.deepEqual(checkDataParams({ ...base, classes: [3, 5], n_train: 1800, n_test: 100 }), ['n_train + n_test = 1900 exceeds the 1895 points of mnist (classes 3, 5)']);
  assert.deepEqual(checkDataParams({ ...base, classes: [3, 5], n_train: 1795, n_test: 100 }), []);
  assert.deepEqual(checkDataParams({ ...base, classes: [3, 12] }), ['unknown class 12 for mnist; classes are 0-9']);
  assert.deepEqual(checkDataParams({ ...base, classes: [3] }), ['classes must list at least 2 classes, got [3]']);
  assert.deepEqual(checkDataParams({ ...base, classes: [3, 3] }), ['classes lists 3 more than once']);
  assert.deepEqual(checkDataParams({ ...base, n_train: 0 }), ['n_train must be an integer >= 1, got 0']);
  assert.deepEqual(checkDataParams({ ...base, dataset: 'cifar' as DataParams['dataset'] }), ['unknown dataset "cifar"; expected one of mnist, fashion-mnist, sphere, csv']);
  assert.throws(() => loadDataset({ ...base, dataset: 'cifar' as DataParams['dataset'] }), /unknown dataset "cifar"/);
  assert.deepEqual(checkDataParams({ ...base, dataset: 'fashion-mnist', n_train: 69000, n_test: 1001 }), ['n_train + n_test = 70001 exceeds the 70000 points of fashion-mnist (classes 0-9)']);
});

test('fashion-mnist class 0 has 7000 images after dropping its 2 empty entries; pixels are integers 0..255', () => {
  const c0 = fashionMnistClass(0);
  assert.equal(c0.length, FASHION_MNIST_CLASS_COUNT * 784);
  assert.equal(Math.max(...c0.subarray(0, 784 * 100)), 255);
  assert.ok(fashionMnistClass(0) === c0, 'cached per thread');
});

test('fashion-mnist on classes [0, 1]: pixels scaled to k/255, ±1 labels named T-shirt/top / Trouser, deterministic and nested', () => {
  const p: DataParams = { dataset: 'fashion-mnist', classes: [0, 1], n_train: 200, n_test: 100, data_seed: 5, center: false, unit_norm: false };
  const ds: Dataset = loadDataset(p);
  assert.deepEqual(ds.class_names, ['T-shirt/top', 'Trouser']);
  assert.equal(ds.k, 1);
  for (const v of ds.x_train) {
    assert.ok(v >= 0 && v <= 1);
    assert.equal(v, Math.round(v * 255) / 255);
  }
  const trousers = new Set(keys(Float64Array.from(fashionMnistClass(1), (v) => v / 255), 7000, 784));
  for (let i = 0; i < 200; i++) assert.equal(trousers.has(rowKey(ds.x_train, i, 784)), ds.y_train[i] === 1);
  assert.deepEqual(loadDataset(p), ds);
  const small = loadDataset({ ...p, n_train: 50 });
  assert.deepEqual(small.x_train, ds.x_train.subarray(0, 50 * 784));
  assert.deepEqual(small.x_test, ds.x_test);
});
