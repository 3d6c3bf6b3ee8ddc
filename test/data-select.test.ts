import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeRng } from '../src/util/rng.js';
import { permutation, splitPool, selectPrefix } from '../src/data/select.js';
import { encodeTargets, outputCount } from '../src/data/labels.js';
import { preprocess, accurateNorm, featureMean } from '../src/data/preprocess.js';
import { formatClasses } from '../src/data/check.js';
import { parseImageListJson } from '../src/data/fashion-mnist.js';
import { DataError } from '../src/data/errors.js';

const rng = (seed: number) => makeRng({ purpose: 'test-select', seed });

test('permutation contains every index 0..n-1 exactly once, is reproducible, and changes with the seed', () => {
  const a = permutation(1000, rng(1));
  assert.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
  assert.deepEqual(a, permutation(1000, rng(1)));
  assert.notDeepEqual(a, permutation(1000, rng(2)));
});

test('splitPool: train/test disjoint, train nested in n_train, test independent of n_train and nested in n_test', () => {
  const small = splitPool(500, 100, 50, rng(7));
  const big = splitPool(500, 400, 50, rng(7));
  const moreTest = splitPool(500, 100, 100, rng(7));
  assert.deepEqual(big.train.subarray(0, 100), small.train);
  assert.deepEqual(big.test, small.test);
  assert.deepEqual(moreTest.train, small.train);
  assert.deepEqual(moreTest.test.subarray(0, 50), small.test);
  const full = splitPool(500, 450, 50, rng(7));
  const all = new Set([...full.train, ...full.test]);
  assert.equal(all.size, 500, 'train ∪ test covers the pool without overlap when n_train + n_test = N');
});

test('selectPrefix is the prefix of one seeded permutation', () => {
  assert.deepEqual(selectPrefix(300, 20, rng(3)), selectPrefix(300, 200, rng(3)).subarray(0, 20));
  assert.deepEqual(selectPrefix(300, 20, rng(3)), permutation(300, rng(3)).subarray(0, 20));
});

test('splitPool throws DataError naming the counts when n_train + n_test exceeds the pool', () => {
  assert.throws(() => splitPool(10, 8, 3, rng(0)), (e: unknown) => e instanceof DataError && /n_train \+ n_test = 11 exceeds the pool of 10/.test(e.message));
});

test('two classes encode as ±1 with one output: label 0 → -1, label 1 → +1', () => {
  assert.equal(outputCount(2), 1);
  assert.deepEqual([...encodeTargets(Int32Array.from([0, 1, 1, 0]), 2)], [-1, 1, 1, -1]);
});

test('three classes encode as one-hot minus 1/3: label 1 → [-1/3, 2/3, -1/3], rows sum to 0', () => {
  const y = encodeTargets(Int32Array.from([1, 0, 2]), 3);
  assert.deepEqual([...y.subarray(0, 3)], [-1 / 3, 1 - 1 / 3, -1 / 3]);
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(y[3 * i] + y[3 * i + 1] + y[3 * i + 2]) < 1e-15);
  const y10 = encodeTargets(Int32Array.from({ length: 10 }, (_, i) => i), 10);
  for (let i = 0; i < 10; i++) {
    let s = 0;
    for (let j = 0; j < 10; j++) s += y10[10 * i + j];
    assert.ok(Math.abs(s) < 1e-15, `row ${i} sums to ${s}`);
    assert.equal(y10[10 * i + i], 0.9);
  }
  assert.throws(() => encodeTargets(Int32Array.from([3]), 3), DataError);
  assert.throws(() => encodeTargets(Int32Array.from([0]), 1), DataError);
});

test('center subtracts the train mean from train and test: train [[1,2],[3,6]] → [[-1,-2],[1,2]], test [2,4] → [0,0]', () => {
  const xTrain = Float64Array.from([1, 2, 3, 6]);
  const xTest = Float64Array.from([2, 4]);
  const mean = preprocess(xTrain, 2, xTest, 1, 2, { center: true, unit_norm: false });
  assert.deepEqual([...mean!], [2, 4]);
  assert.deepEqual([...xTrain], [-1, -2, 1, 2]);
  assert.deepEqual([...xTest], [0, 0]);
});

test('compensated train mean is exact where naive summation is not: mean of [1e16, 1, -1e16, 1] is 0.5', () => {
  assert.deepEqual([...featureMean(Float64Array.from([1e16, 1, -1e16, 1]), 4, 1)], [0.5]);
});

test('unit_norm maps [3,4] to [0.6,0.8] after centering and rejects a zero-norm point by row', () => {
  const xTrain = Float64Array.from([3, 4, 0, 0]);
  preprocess(xTrain, 2, new Float64Array(0), 0, 2, { center: false, unit_norm: false });
  assert.throws(
    () => preprocess(xTrain, 2, new Float64Array(0), 0, 2, { center: false, unit_norm: true }),
    (e: unknown) => e instanceof DataError && /unit_norm: train point 1 has norm 0/.test(e.message),
  );
  const ok = Float64Array.from([3, 4]);
  preprocess(ok, 1, Float64Array.from([0, -2]), 1, 2, { center: false, unit_norm: true });
  assert.deepEqual([...ok], [0.6, 0.8]);
  // n_train = 1 with center makes the only train point 0
  assert.throws(() => preprocess(Float64Array.from([3, 4]), 1, new Float64Array(0), 0, 2, { center: true, unit_norm: true }), DataError);
});

test('accurateNorm neither overflows nor underflows: |(3, 4)·2^±600| = 5·2^±600 exactly', () => {
  const big = 2 ** 600;
  const tiny = 2 ** -600;
  assert.equal(accurateNorm(Float64Array.from([3 * big, 4 * big]), 0, 2), 5 * big);
  assert.equal(accurateNorm(Float64Array.from([3 * tiny, 4 * tiny]), 0, 2), 5 * tiny);
  assert.equal(accurateNorm(Float64Array.from([9, 3, 4]), 1, 2), 5);
});

test('formatClasses compresses runs of 3 or more', () => {
  assert.equal(formatClasses([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), '0-9');
  assert.equal(formatClasses([5, 3]), '3, 5');
  assert.equal(formatClasses([7, 1, 2, 3]), '1-3, 7');
  assert.equal(formatClasses([-1, 1]), '-1, 1');
});

test('image-list scanner reads [[...],[],[...]] skipping empty entries and rejects malformed input', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  assert.deepEqual([...parseImageListJson(enc('{"data": [[0,1,255] , [], [7,8,9]]}'), 3, 'f')], [0, 1, 255, 7, 8, 9]);
  assert.deepEqual([...parseImageListJson(enc('{"data":[]}'), 3, 'f')], []);
  const bad = (s: string, re: RegExp) => assert.throws(() => parseImageListJson(enc(s), 3, 'f.json'), (e: unknown) => e instanceof DataError && re.test(e.message));
  bad('{"data":[[0,1,256]]}', /f\.json: pixel value 256 exceeds 255/);
  bad('{"data":[[0,1]]}', /image 0 has 2 values, expected 3/);
  bad('{"data":[[0,1,2,3]]}', /more than 3 values/);
  bad('{"data":[[0,1.5,2]]}', /expected "," or "]" inside an image/);
  bad('{"x":[]}', /no "data" key/);
});
