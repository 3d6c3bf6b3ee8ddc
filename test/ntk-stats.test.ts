import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeRng } from '../src/util/rng.js';
import { linalg } from '../src/linalg/index.js';
import { kernelFold } from '../src/ntk/fold.js';
import { kernelMatrix } from '../src/ntk/kernel-matrix.js';
import { kernelStats, type KernelStats } from '../src/ntk/stats.js';

test('the deep-ReLU limit ¼·11ᵀ + ¾·I has eigenvalues ¾ (n − 1 times) and ¾ + n/4, and dist_to_limit 0', () => {
  const n = 7;
  const k = new Float64Array(n * n).fill(0.25);
  for (let i = 0; i < n; i++) k[i * n + i] = 1;
  const eig = linalg().eigh(n, k);
  const s = kernelStats(k, n, eig, 0.25);
  assert.equal(s.diag_dominance, 1 - (n - 1) * 0.25);
  assert.equal(s.dist_to_limit, 0);
  assert.equal(s.offdiag_mean, 0.25);
  assert.equal(s.offdiag_min, 0.25);
  assert.equal(s.offdiag_max, 0.25);
  const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-14, `${what}: ${a} vs ${b}`);
  close(s.lambda_min, 0.75, 'lambda_min');
  close(s.lambda_max, 0.75 + n / 4, 'lambda_max');
  close(s.cond, (0.75 + n / 4) / 0.75, 'cond');
  close(s.logdet, (n - 1) * Math.log(0.75) + Math.log(0.75 + n / 4), 'logdet');
  assert.deepEqual(Object.keys(s).sort(), [
    'cond', 'diag_dominance', 'dist_to_limit', 'lambda_max', 'lambda_min', 'logdet', 'offdiag_max', 'offdiag_mean', 'offdiag_min',
  ] satisfies (keyof KernelStats)[]);
});

test('statistics of a hand-computed 3×3 kernel (det = 0.68), with and without a given eigendecomposition', () => {
  // det [[1, .2, .5], [.2, 1, −.1], [.5, −.1, 1]] = 1(1 − .01) − .2(.2 + .05) + .5(−.02 − .5) = .68
  const k = Float64Array.from([1, 0.2, 0.5, 0.2, 1, -0.1, 0.5, -0.1, 1]);
  const s = kernelStats(k, 3, undefined, 0.25);
  assert.ok(Math.abs(s.offdiag_mean - 0.2) <= 1e-16);
  assert.ok(Math.abs(s.diag_dominance - 0.3) <= 1e-16); // row 1: 1 − (0.2 + 0.5)
  assert.ok(Math.abs(kernelStats(k, 3, undefined, 0.5).dist_to_limit - 0.6) <= 1e-16); // |−0.1 − 0.5|
  assert.equal(s.offdiag_min, -0.1);
  assert.equal(s.offdiag_max, 0.5);
  assert.ok(Math.abs(s.dist_to_limit - 0.35) <= 1e-16); // |−0.1 − 0.25|
  assert.ok(Math.abs(s.logdet - Math.log(0.68)) <= 1e-14);
  assert.ok(s.lambda_min > 0 && s.lambda_max < 3 && s.lambda_min < 1 && s.lambda_max > 1); // trace 3
  assert.deepEqual(kernelStats(k, 3, linalg().eigh(3, k), 0.25), s);
});

test('a kernel with a non-positive eigenvalue has cond = Infinity and logdet = -Infinity', () => {
  const k = Float64Array.from([1, 2, 2, 1]); // eigenvalues −1 and 3
  const s = kernelStats(k, 2, undefined, 0.25);
  assert.ok(Math.abs(s.lambda_min + 1) <= 1e-15);
  assert.ok(Math.abs(s.lambda_max - 3) <= 1e-15);
  assert.equal(s.cond, Infinity);
  assert.equal(s.logdet, -Infinity);
  const one = kernelStats(Float64Array.from([1]), 1, undefined, 0.25);
  assert.ok(Number.isNaN(one.offdiag_mean) && Number.isNaN(one.offdiag_min));
  assert.equal(one.logdet, 0);
});

test('the normalized ReLU NTK approaches ¼·11ᵀ + ¾·I with depth (dist_to_limit decreasing, below 1e-3 at L = 10⁴)', () => {
  const n = 20;
  const d = 10;
  const x = makeRng({ purpose: 'test-ntk-stats' }).fillNormal(new Float64Array(n * d));
  const dists: number[] = [];
  let last: KernelStats | undefined;
  kernelFold(x, n, d, { sigma_w: 1, sigma_b: 0, depths: [2, 10, 100, 1000, 10000] }, (_L, state) => {
    last = kernelStats(kernelMatrix(state, 'ntk', 'normalized'), n, undefined, 0.25);
    dists.push(last.dist_to_limit);
  });
  for (let i = 1; i < dists.length; i++) assert.ok(dists[i] < dists[i - 1], `dist_to_limit ${dists}`);
  assert.ok(dists[dists.length - 1] < 1e-3);
  assert.ok(last !== undefined);
  // spectrum and determinant approach those of the limit matrix (previous test)
  assert.ok(Math.abs(last.lambda_min - 0.75) < 1e-2);
  assert.ok(Math.abs(last.logdet - ((n - 1) * Math.log(0.75) + Math.log(0.75 + n / 4))) < 0.05);
});
