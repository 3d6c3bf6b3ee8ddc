import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadDataset } from '../src/data/index.js';
import { makeRng } from '../src/util/rng.js';
import { linalg } from '../src/linalg/index.js';
import { kernelMatrix, splitTrainTest } from '../src/ntk/kernel-matrix.js';
import { gradientFlowPredict } from '../src/ntk/predict.js';
import { kernelFold } from '../src/ntk/fold.js';
import { BlockKrylovBasis, choleskyInverseOp, denseSymOp, lanczosExtremes } from '../src/linalg/krylov.js';
import { krylovGradientFlow } from '../src/ntk/krylov-flow.js';
import { relativeFrobeniusChange } from '../src/nn/deviation.js';

/** Normalized NTK blocks of centered unit-norm MNIST points (train first), at `depth`. */
function mnistNtk(nTrain: number, nTest: number, depth: number) {
  const data = loadDataset({ dataset: 'mnist', n_train: nTrain, n_test: nTest, center: true, unit_norm: true, data_seed: 0 });
  const n = nTrain + nTest;
  const x = new Float64Array(n * data.d);
  x.set(data.x_train);
  x.set(data.x_test, nTrain * data.d);
  let blocks: { k_train: Float64Array; k_cross: Float64Array } = { k_train: new Float64Array(0), k_cross: new Float64Array(0) };
  kernelFold(x, n, data.d, { sigma_w: 1, sigma_b: 0, depths: [depth] }, (_L, state) => {
    blocks = splitTrainTest(kernelMatrix(state, 'ntk', 'normalized'), nTrain, nTest);
  });
  return { ...blocks, data };
}

/** Relative Frobenius distance ‖a − b‖/‖b‖. */
const rel = (a: Float64Array, b: Float64Array): number => relativeFrobeniusChange(b, a);

/** Cross product for krylovGradientFlow: out [k, m] = (K_cross x)ᵀ, x rows [k, N]. */
function crossOf(k_cross: Float64Array, N: number, m: number, k: number) {
  return (x: Float64Array, out: Float64Array) => linalg().gemm(false, true, k, m, N, 1, x, k_cross, 0, out);
}

const TS = [0, 1, 10, 100, 1000, 1e4, 1e5, 1e6, Infinity];

test('block Lanczos flow predictions match the eigendecomposition path within 1e-6 at every t (MNIST NTK, depth 3)', () => {
  const N = 400;
  const m = 150;
  const { k_train: K, k_cross: Kc, data } = mnistNtk(N, m, 3);
  const k = data.k;
  const ref = gradientFlowPredict({ n_train: N, n_test: m, n_out: k, k_train: K, k_cross: Kc, y_train: data.y_train, t: TS });
  const L = linalg().cholesky(N, K);
  assert.ok(L, 'the depth-3 NTK of 400 MNIST points is positive definite');
  for (const inverse of [choleskyInverseOp(N, L), null]) {
    const res = krylovGradientFlow({
      n_train: N,
      n_test: m,
      n_out: k,
      op: denseSymOp(N, K),
      inverse,
      diag_reg_abs: 0,
      cross: crossOf(Kc, N, m, k),
      y_train: data.y_train,
      t: TS,
    });
    TS.forEach((t, i) => {
      const info = res.info[i];
      assert.ok(info.converged, `t = ${t} converged (${info.method}, err_est ${info.err_est})`);
      if (t === 0) {
        assert.ok(res.predictions[i].test.every((v) => v === 0));
        return;
      }
      const eTrain = rel(res.predictions[i].train, ref.predictions[i].train);
      const eTest = rel(res.predictions[i].test, ref.predictions[i].test);
      assert.ok(eTrain < 1e-6 && eTest < 1e-6, `t = ${t} (${info.method}${inverse ? '' : ', no inverse'}): train ${eTrain}, test ${eTest}`);
    });
    if (inverse) {
      assert.equal(res.info[TS.length - 1].method, 'solve', 't = ∞ is the Cholesky solve');
      assert.equal(res.info[TS.indexOf(1e6)].method, 'inverse-lanczos', 'a very large t is taken from the shift-invert process');
      assert.equal(res.info[TS.indexOf(1)].method, 'lanczos', 'a small t is taken from the Lanczos process on A');
    }
    assert.ok(res.dim < N && res.dim_inverse < N, `basis dimensions ${res.dim}, ${res.dim_inverse} stay below N`);
  }
});

test('rank-deficient kernel (linear kernel, N > d): a shifted Cholesky factor gives the pseudo-inverse at t = ∞ and matches eigh at every t', () => {
  const N = 120;
  const m = 30;
  const d = 12;
  const k = 2;
  const rng = makeRng({ purpose: 'test-krylov-lowrank' });
  const x = rng.fillNormal(new Float64Array((N + m) * d));
  const y = rng.fillNormal(new Float64Array(N * k));
  let blocks: { k_train: Float64Array; k_cross: Float64Array } = { k_train: new Float64Array(0), k_cross: new Float64Array(0) };
  kernelFold(x, N + m, d, { sigma_w: 1, sigma_b: 0, depths: [1] }, (_L, state) => {
    blocks = splitTrainTest(kernelMatrix(state, 'rho', 'normalized'), N, m);
  });
  const ts = [1, 100, 1e4, Infinity];
  const ref = gradientFlowPredict({ n_train: N, n_test: m, n_out: k, k_train: blocks.k_train, k_cross: blocks.k_cross, y_train: y, t: ts });
  assert.equal(ref.n_null, N - d, `eigh sees ${ref.n_null} null modes`);
  const lambdaMax = ref.eig.values[N - 1];
  // the kernel task's choice: σ = 1e-8 λ_max
  const sigma = 1e-8 * lambdaMax;
  const shifted = Float64Array.from(blocks.k_train);
  for (let i = 0; i < N; i++) shifted[i * N + i] += sigma;
  const L = linalg().cholesky(N, shifted);
  assert.ok(L);
  for (const inverse of [choleskyInverseOp(N, L), null]) {
    const res = krylovGradientFlow({
      n_train: N,
      n_test: m,
      n_out: k,
      op: denseSymOp(N, blocks.k_train),
      inverse,
      inverse_shift: sigma,
      diag_reg_abs: 0,
      cross: crossOf(blocks.k_cross, N, m, k),
      y_train: y,
      t: ts,
    });
    ts.forEach((t, i) => {
      if (inverse === null && t === Infinity) {
        // the pseudo-inverse by plain Lanczos: Ritz values drifting towards 0 make it unreliable;
        // it must at least not claim convergence when it is wrong
        const e = rel(res.predictions[i].test, ref.predictions[i].test);
        assert.ok(e < 1e-6 || !res.info[i].converged, `t = ∞ without a factor: error ${e}, converged ${res.info[i].converged}`);
        return;
      }
      assert.ok(res.info[i].converged, `t = ${t}: converged (${res.info[i].method})`);
      const e = Math.max(rel(res.predictions[i].train, ref.predictions[i].train), rel(res.predictions[i].test, ref.predictions[i].test));
      assert.ok(e < 1e-6, `t = ${t} (${res.info[i].method}): relative error ${e}`);
    });
  }
});

test('ridge and per-point scaling: Lanczos on D K̄ D + δI matches eigh of the explicit matrix', () => {
  const N = 300;
  const m = 100;
  const { k_train: Kbar, k_cross: KbarC, data } = mnistNtk(N, m, 5);
  const k = data.k;
  const s = Float64Array.from({ length: N + m }, (_v, i) => 0.5 + ((i * 7919) % 101) / 100);
  const delta = 1e-3;
  const K = new Float64Array(N * N);
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) K[i * N + j] = Kbar[i * N + j] * s[i] * s[j];
  const Kc = new Float64Array(m * N);
  for (let i = 0; i < m; i++) for (let j = 0; j < N; j++) Kc[i * N + j] = KbarC[i * N + j] * s[N + i] * s[j];
  const ts = [3, 300, 3e4, Infinity];
  const ref = gradientFlowPredict({ n_train: N, n_test: m, n_out: k, k_train: K, k_cross: Kc, y_train: data.y_train, t: ts, diag_reg: delta, diag_reg_mode: 'absolute' });
  const op = denseSymOp(N, Kbar, { scale: s.subarray(0, N), shift: delta });
  const A = Float64Array.from(K);
  for (let i = 0; i < N; i++) A[i * N + i] += delta;
  const lA = linalg().cholesky(N, A);
  assert.ok(lA);
  const res = krylovGradientFlow({
    n_train: N,
    n_test: m,
    n_out: k,
    op,
    inverse: choleskyInverseOp(N, lA),
    diag_reg_abs: delta,
    cross: crossOf(Kc, N, m, k),
    y_train: data.y_train,
    t: ts,
  });
  ts.forEach((t, i) => {
    const e = Math.max(rel(res.predictions[i].train, ref.predictions[i].train), rel(res.predictions[i].test, ref.predictions[i].test));
    assert.ok(e < 1e-6, `t = ${t} (${res.info[i].method}): relative error ${e}`);
  });
});

test('operators: denseSymOp applies D B D + δI and choleskyInverseOp inverts D B D (rows as vectors)', () => {
  const n = 40;
  const rng = makeRng({ purpose: 'test-krylov-ops' });
  const g = rng.fillNormal(new Float64Array(n * n));
  const B = new Float64Array(n * n);
  linalg().syrk(n, n, 1 / n, g, 0, B);
  for (let i = 0; i < n; i++) B[i * n + i] += 0.5;
  const s = Float64Array.from({ length: n }, (_v, i) => 1 + i / n);
  const v = rng.fillNormal(new Float64Array(3 * n));
  const out = new Float64Array(3 * n);
  denseSymOp(n, B, { scale: s, shift: 0.25 }).apply(v, 3, out);
  for (let r = 0; r < 3; r++) {
    for (let i = 0; i < n; i++) {
      let want = 0.25 * v[r * n + i];
      for (let j = 0; j < n; j++) want += s[i] * B[i * n + j] * s[j] * v[r * n + j];
      assert.ok(Math.abs(out[r * n + i] - want) < 1e-12 * (1 + Math.abs(want)), `row ${r}, entry ${i}`);
    }
  }
  const L = linalg().cholesky(n, B);
  assert.ok(L);
  const back = new Float64Array(3 * n);
  denseSymOp(n, B, { scale: s }).apply(v, 3, out);
  choleskyInverseOp(n, L, { scale: s }).apply(out, 3, back);
  assert.ok(rel(back, v) < 1e-12, `A⁻¹ A v = v (${rel(back, v)})`);
  denseSymOp(n, B, { scale: 2.5 }).apply(v, 3, out);
  choleskyInverseOp(n, L, { scale: 2.5 }).apply(out, 3, back);
  assert.ok(rel(back, v) < 1e-12);
});

test('Lanczos extreme eigenvalues: λ_max directly and λ_min by shift-invert agree with eigh to 1e-10 relative', () => {
  const N = 400;
  const { k_train: K } = mnistNtk(N, 1, 4);
  const eig = linalg().eigh(N, K);
  const top = lanczosExtremes(denseSymOp(N, K), { which: 'max' });
  assert.ok(top.converged);
  assert.ok(Math.abs(top.max - eig.values[N - 1]) <= 1e-10 * eig.values[N - 1], `λ_max ${top.max} vs ${eig.values[N - 1]}`);
  const L = linalg().cholesky(N, K);
  assert.ok(L);
  const inv = lanczosExtremes(choleskyInverseOp(N, L), { which: 'max' });
  assert.ok(inv.converged);
  assert.ok(Math.abs(1 / inv.max - eig.values[0]) <= 1e-10 * eig.values[0], `λ_min ${1 / inv.max} vs ${eig.values[0]}`);
  assert.ok(top.dim < 100 && inv.dim < 200, `dims ${top.dim}, ${inv.dim}`);
});

test('block basis deflates dependent start vectors: one-hot minus 1/k labels (columns sum to 0) span k − 1 dimensions', () => {
  const data = loadDataset({ dataset: 'mnist', n_train: 200, n_test: 10, data_seed: 0, center: false, unit_norm: true });
  const N = 200;
  const k = data.k;
  const rows = new Float64Array(k * N);
  for (let i = 0; i < N; i++) for (let c = 0; c < k; c++) rows[c * N + i] = data.y_train[i * k + c];
  const id = { n: N, apply: (v: Float64Array, r: number, out: Float64Array) => out.set(v.subarray(0, r * N)) };
  const basis = new BlockKrylovBasis(id, rows, k, 50);
  assert.equal(basis.p0, k - 1);
  // the start block is reproduced from the basis: S = B0ᵀ Q
  const back = new Float64Array(k * N);
  linalg().gemm(true, false, k, N, basis.p0, 1, basis.b0, basis.q.subarray(0, basis.p0 * N), 0, back);
  assert.ok(rel(back, rows) < 1e-14);
  // identity operator: the Krylov space is exhausted after one step
  basis.step();
  assert.ok(basis.exhausted);
});

test('zero residual gives zero predictions without iterating', () => {
  const N = 50;
  const K = new Float64Array(N * N);
  for (let i = 0; i < N; i++) K[i * N + i] = 1;
  const res = krylovGradientFlow({
    n_train: N,
    n_test: 2,
    n_out: 3,
    op: denseSymOp(N, K),
    diag_reg_abs: 0,
    cross: () => assert.fail('cross is not needed'),
    y_train: new Float64Array(N * 3),
    t: [1, Infinity],
  });
  assert.equal(res.dim, 0);
  for (const p of res.predictions) assert.ok(p.train.every((v) => v === 0) && p.test.every((v) => v === 0));
});
