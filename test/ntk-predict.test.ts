import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeRng } from '../src/util/rng.js';
import { linalg } from '../src/linalg/index.js';
import { kernelFold } from '../src/ntk/fold.js';
import { kernelMatrix, kernelView, normalizedBlocks, splitTrainTest } from '../src/ntk/kernel-matrix.js';
import { flowWeight, gradientFlowPredict } from '../src/ntk/predict.js';
import { flowScale, flowTimes, scaledBlocks } from '../src/ntk/scale.js';

/** Normalized-time NTK blocks of `nTrain + nTest` random unit points (depth 3, σ_w = 1, σ_b = 0). */
function ntkBlocks(nTrain: number, nTest: number, d: number, seed: number, duplicate = false) {
  const n = nTrain + nTest;
  const rng = makeRng({ purpose: 'test-ntk-predict', seed });
  const x = rng.fillNormal(new Float64Array(n * d));
  if (duplicate) x.copyWithin(d, 0, d); // training point 1 = training point 0
  let k: Float64Array = new Float64Array(0);
  kernelFold(x, n, d, { sigma_w: 1, sigma_b: 0, depths: [3] }, (_L, state) => {
    k = kernelMatrix(state, 'ntk', 'train_diag_mean', { n_train: nTrain });
  });
  return splitTrainTest(k, nTrain, nTest);
}

function randomMatrix(rows: number, cols: number, seed: string, scale = 1): Float64Array {
  return makeRng({ purpose: 'test-ntk-predict-data', seed }).fillNormal(new Float64Array(rows * cols), scale);
}

/** C = A B for row-major A [m, k], B [k, n] (plain loops, independent of the backend). */
function matmul(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) c[i * n + j] += a[i * k + p] * b[p * n + j];
  return c;
}

/** exp(A) for a small [n, n] matrix by scaling and squaring of a 30-term Taylor series. */
function expm(a: Float64Array, n: number): Float64Array {
  let norm = 0;
  for (let i = 0; i < n; i++) {
    let row = 0;
    for (let j = 0; j < n; j++) row += Math.abs(a[i * n + j]);
    norm = Math.max(norm, row);
  }
  const s = Math.max(0, Math.ceil(Math.log2(norm / 0.25)));
  const scaled = a.map((v) => v / 2 ** s);
  let term: Float64Array = new Float64Array(n * n);
  for (let i = 0; i < n; i++) term[i * n + i] = 1;
  let sum: Float64Array = Float64Array.from(term);
  for (let k = 1; k <= 30; k++) {
    term = matmul(term, scaled, n, n, n).map((v) => v / k);
    sum = sum.map((v, i) => v + term[i]);
  }
  for (let i = 0; i < s; i++) sum = matmul(sum, sum, n, n, n);
  return sum;
}

/** Solve A X = B by Cholesky (A [n, n] SPD, B [n, k]); returns X. */
function cholSolve(a: Float64Array, n: number, b: Float64Array, k: number): Float64Array {
  const l = linalg().cholesky(n, a);
  assert.ok(l !== null, 'test kernel must be positive definite');
  return linalg().choleskySolve(n, l, k, Float64Array.from(b));
}

function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const N = 24;
const M = 9;
const K_OUT = 3;

test('t = 0 gives f0 exactly on train and test points', () => {
  const { k_train, k_cross } = ntkBlocks(N, M, 5, 1);
  const f0_train = randomMatrix(N, K_OUT, 'f0tr', 0.1);
  const f0_test = randomMatrix(M, K_OUT, 'f0te', 0.1);
  const res = gradientFlowPredict({
    n_train: N, n_test: M, n_out: K_OUT, k_train, k_cross,
    y_train: randomMatrix(N, K_OUT, 'y'), f0_train, f0_test, t: [0],
  });
  assert.deepEqual(res.predictions[0].train, f0_train);
  assert.deepEqual(res.predictions[0].test, f0_test);
});

test('t = ∞ equals kernel regression f0 + K(x,X) K⁻¹ (y − f0(X)) solved by Cholesky, and interpolates the labels', () => {
  const { k_train, k_cross } = ntkBlocks(N, M, 5, 2);
  const y = randomMatrix(N, K_OUT, 'y2');
  const f0_train = randomMatrix(N, K_OUT, 'f0tr2', 0.1);
  const f0_test = randomMatrix(M, K_OUT, 'f0te2', 0.1);
  const res = gradientFlowPredict({ n_train: N, n_test: M, n_out: K_OUT, k_train, k_cross, y_train: y, f0_train, f0_test, t: [Infinity] });
  const r = y.map((v, i) => v - f0_train[i]);
  const alpha = cholSolve(k_train, N, r, K_OUT);
  const want = matmul(k_cross, alpha, M, N, K_OUT).map((v, i) => v + f0_test[i]);
  assert.ok(maxAbsDiff(res.predictions[0].test, want) <= 1e-10);
  assert.ok(maxAbsDiff(res.predictions[0].train, y) <= 1e-10);
  assert.equal(res.n_null, 0);
});

test('finite-t predictions equal f0 + (I − e^{−Kt/N}) r on train and K(x,X) K⁻¹ (I − e^{−Kt/N}) r on test (independent expm)', () => {
  const { k_train, k_cross } = ntkBlocks(N, M, 5, 3);
  const y = randomMatrix(N, K_OUT, 'y3');
  const f0_train = randomMatrix(N, K_OUT, 'f0tr3', 0.2);
  const f0_test = randomMatrix(M, K_OUT, 'f0te3', 0.2);
  const ts = [0.5, 7, 60, 900];
  const res = gradientFlowPredict({ n_train: N, n_test: M, n_out: K_OUT, k_train, k_cross, y_train: y, f0_train, f0_test, t: ts });
  const r = y.map((v, i) => v - f0_train[i]);
  ts.forEach((t, idx) => {
    const e = expm(k_train.map((v) => (-v * t) / N), N);
    const iMinusE = e.map((v, i) => (i % (N + 1) === 0 ? 1 : 0) - v);
    const dTrain = matmul(iMinusE, r, N, N, K_OUT);
    const wantTrain = dTrain.map((v, i) => v + f0_train[i]);
    const wantTest = matmul(k_cross, cholSolve(k_train, N, dTrain, K_OUT), M, N, K_OUT).map((v, i) => v + f0_test[i]);
    assert.equal(res.predictions[idx].t, t);
    assert.ok(maxAbsDiff(res.predictions[idx].train, wantTrain) <= 1e-10, `train at t=${t}`);
    assert.ok(maxAbsDiff(res.predictions[idx].test, wantTest) <= 1e-9, `test at t=${t}`);
  });
});

test('train error decreases monotonically in t and vanishes at t = ∞', () => {
  const { k_train, k_cross } = ntkBlocks(N, M, 5, 4);
  const y = randomMatrix(N, K_OUT, 'y4');
  const ts = [0, 0.1, 1, 10, 100, 1e3, 1e4, 1e5, Infinity];
  const res = gradientFlowPredict({ n_train: N, n_test: M, n_out: K_OUT, k_train, k_cross, y_train: y, t: ts });
  const errs = res.predictions.map((p) => p.train.reduce((acc, v, i) => acc + (v - y[i]) ** 2, 0));
  // ‖(e^{−Kt/N}) r‖² is strictly decreasing in t for K ≻ 0, until it reaches rounding level
  for (let i = 1; i < errs.length; i++) {
    assert.ok(errs[i] < errs[i - 1] || errs[i] <= 1e-24, `train error not decreasing at t=${ts[i]}: ${errs}`);
  }
  assert.ok(errs[errs.length - 1] <= 1e-20);
});

test('a singular K (duplicate training point) gives finite predictions, and t = ∞ equals regression on the deduplicated set', () => {
  const { k_train, k_cross } = ntkBlocks(N, M, 5, 5, true);
  const y = randomMatrix(N, K_OUT, 'y5');
  for (let c = 0; c < K_OUT; c++) y[K_OUT + c] = y[c]; // the duplicate carries the same label
  const ts = [0, 1, 1e3, 1e8, Infinity];
  const res = gradientFlowPredict({ n_train: N, n_test: M, n_out: K_OUT, k_train, k_cross, y_train: y, t: ts });
  assert.ok(res.n_null >= 1, 'the duplicate must show up as a numerically null mode');
  for (const p of res.predictions) {
    assert.ok(p.train.every(Number.isFinite) && p.test.every(Number.isFinite), `non-finite prediction at t=${p.t}`);
  }
  // drop training point 1 and solve the (now positive definite) system independently
  const keep = [...Array(N).keys()].filter((i) => i !== 1);
  const n2 = keep.length;
  const k2 = new Float64Array(n2 * n2);
  const c2 = new Float64Array(M * n2);
  const y2 = new Float64Array(n2 * K_OUT);
  keep.forEach((i, a) => {
    keep.forEach((j, b) => (k2[a * n2 + b] = k_train[i * N + j]));
    for (let m = 0; m < M; m++) c2[m * n2 + a] = k_cross[m * N + i];
    for (let c = 0; c < K_OUT; c++) y2[a * K_OUT + c] = y[i * K_OUT + c];
  });
  const want = matmul(c2, cholSolve(k2, n2, y2, K_OUT), M, n2, K_OUT);
  assert.ok(maxAbsDiff(res.predictions[ts.length - 1].test, want) <= 1e-9);
});

test('flow weight (1 − e^{−λt/N})/λ tends to t/N as λ → 0 and equals t/N at or below the zero threshold', () => {
  const n = 50;
  for (const t of [0.3, 10, 1e4]) {
    for (const lambda of [1e-3, 1e-8, 1e-14, 1e-300]) {
      const g = flowWeight(lambda, t, n, 0);
      // series: g = t/N (1 − λt/(2N) + (λt/N)²/6 − …), so |g − t/N| ≤ λ t²/(2N²)
      assert.ok(Math.abs(g - t / n) <= (lambda * t * t) / (2 * n * n) + 4e-16 * (t / n), `λ=${lambda} t=${t}`);
    }
    assert.equal(flowWeight(0, t, n, 0), t / n);
    assert.equal(flowWeight(1e-20, t, n, 1e-15), t / n);
    assert.equal(flowWeight(-1e-20, t, n, 1e-15), t / n);
  }
  assert.equal(flowWeight(2, 0, n, 0), 0);
  assert.equal(flowWeight(2, Infinity, n, 0), 0.5);
  assert.equal(flowWeight(1e-20, Infinity, n, 1e-15), 0); // pseudo-inverse drops null modes
  // a negative eigenvalue grows: (e^{|λ| t/N} − 1)/|λ| with λ = −1, t/N = 2
  assert.ok(Math.abs(flowWeight(-1, 2 * n, n, 0) - (Math.exp(2) - 1)) <= 1e-14);
});

test('relative diag_reg adds diag_reg·mean(diag K); absolute adds diag_reg (t = ∞ vs Cholesky on K + δI)', () => {
  const { k_train, k_cross } = ntkBlocks(N, M, 5, 6);
  for (let i = 0; i < N; i++) k_train[i * N + i] *= 1 + 0.1 * (i % 3); // non-constant diagonal
  const y = randomMatrix(N, K_OUT, 'y6');
  let meanDiag = 0;
  for (let i = 0; i < N; i++) meanDiag += k_train[i * N + i] / N;
  for (const [mode, delta] of [['relative', 0.05 * meanDiag], ['absolute', 0.05]] as const) {
    const res = gradientFlowPredict({
      n_train: N, n_test: M, n_out: K_OUT, k_train, k_cross, y_train: y, t: [Infinity], diag_reg: 0.05, diag_reg_mode: mode,
    });
    assert.ok(Math.abs(res.diag_reg_abs - delta) <= 1e-15);
    const reg = k_train.map((v, i) => (i % (N + 1) === 0 ? v + delta : v));
    const alpha = cholSolve(reg, N, y, K_OUT);
    assert.ok(maxAbsDiff(res.predictions[0].test, matmul(k_cross, alpha, M, N, K_OUT)) <= 1e-10, mode);
    assert.ok(maxAbsDiff(res.predictions[0].train, matmul(k_train, alpha, N, N, K_OUT)) <= 1e-10, mode);
  }
});

test('normalized time scale: predictions with K/mean(diag K) at time t equal predictions with K at time t/mean(diag K)', () => {
  // the kernel task's path: normalized blocks, per-point scale and time factor in log space
  const n = N + M;
  const d = 5;
  const x = makeRng({ purpose: 'test-ntk-predict', seed: 7 }).fillNormal(new Float64Array(n * d), 0.1);
  const y = randomMatrix(N, K_OUT, 'y7');
  for (const timeScale of ['normalized', 'absolute'] as const) {
    kernelFold(x, n, d, { sigma_w: 1, sigma_b: 0, depths: [3] }, (_L, state) => {
      const raw = splitTrainTest(kernelMatrix(state, 'ntk', 'absolute'), N, M);
      const kbar_train = new Float64Array(N * N);
      const kbar_cross = new Float64Array(M * N);
      normalizedBlocks(state, 'ntk', N, kbar_train, kbar_cross);
      const scale = flowScale(kernelView(state, 'ntk'), timeScale, N);
      assert.ok(scale.scale !== undefined, 'inputs of different norms give a per-point scale');
      const { k_train, k_cross } = scaledBlocks(kbar_train, kbar_cross, scale.scale, N);
      const expected = splitTrainTest(kernelMatrix(state, 'ntk', 'train_diag_mean', { n_train: N }), N, M);
      assert.deepEqual(k_train, expected.k_train);
      assert.deepEqual(k_cross, expected.k_cross);
      let meanRaw = 0;
      for (let i = 0; i < N; i++) meanRaw += raw.k_train[i * N + i] / N;
      assert.ok(Math.abs(10 ** scale.scaleLog10 / meanRaw - 1) <= 1e-13);
      if (timeScale === 'absolute') assert.ok(Math.abs(scale.logTime - Math.log(meanRaw)) <= 1e-13 * Math.abs(Math.log(meanRaw)));
      else assert.equal(scale.logTime, 0);
      const times = flowTimes([5, Infinity], 0, 'relative', scale);
      // normalized: t is in units of the mean diagonal, so the raw kernel runs for t/mean(diag K)
      const rawT = timeScale === 'absolute' ? [5, Infinity] : [5 / meanRaw, Infinity];
      const ref = gradientFlowPredict({ n_train: N, n_test: M, n_out: K_OUT, k_train: raw.k_train, k_cross: raw.k_cross, y_train: y, t: rawT });
      const got = gradientFlowPredict({ n_train: N, n_test: M, n_out: K_OUT, k_train, k_cross, y_train: y, t: times.t });
      for (let i = 0; i < 2; i++) {
        assert.ok(maxAbsDiff(got.predictions[i].test, ref.predictions[i].test) <= 1e-10, `${timeScale} ${i}`);
        assert.ok(maxAbsDiff(got.predictions[i].train, ref.predictions[i].train) <= 1e-10, `${timeScale} ${i}`);
      }
    });
  }
});

test('a shared eigendecomposition gives identical predictions and is returned for reuse', () => {
  const { k_train, k_cross } = ntkBlocks(N, M, 5, 8);
  const y = randomMatrix(N, K_OUT, 'y8');
  const eig = linalg().eigh(N, k_train);
  const a = gradientFlowPredict({ n_train: N, n_test: M, n_out: K_OUT, k_train, k_cross, y_train: y, t: [3, Infinity], eig });
  const b = gradientFlowPredict({ n_train: N, n_test: M, n_out: K_OUT, k_train, k_cross, y_train: y, t: [3, Infinity] });
  assert.equal(a.eig, eig);
  assert.deepEqual(a.predictions, b.predictions);
  assert.throws(() => gradientFlowPredict({ n_train: N, n_test: M, n_out: K_OUT, k_train, k_cross, y_train: y, t: [-1] }), RangeError);
  assert.throws(() => gradientFlowPredict({ n_train: N, n_test: M, n_out: K_OUT, k_train, k_cross, y_train: y, t: [NaN] }), RangeError);
  assert.throws(() => gradientFlowPredict({ n_train: N, n_test: M, n_out: 2, k_train, k_cross, y_train: y, t: [1] }), RangeError);
});
