import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeRng } from '../src/util/rng.js';
import {
  backward,
  forward,
  gdStepFlops,
  initMlp,
  layerSizes,
  mseLoss,
  parameterCount,
  predict,
  validateMlpArchitecture,
} from '../src/nn/mlp.js';
import type { MlpParams, MlpArchitecture } from '../src/nn/mlp.js';

function randomBatch(seed: number, n: number, d: number): Float64Array {
  return makeRng({ purpose: 'test-batch', seed, n, d }).fillNormal(new Float64Array(n * d));
}

function lossAt(arch: MlpArchitecture, params: MlpParams, x: Float64Array, y: Float64Array, n: number): number {
  return mseLoss(predict(arch, params, x, n), y, n);
}

for (const parameterization of ['ntk', 'standard'] as const) {
  test(`backward matches central finite differences to ~1e-6 relative error (${parameterization}, with bias)`, () => {
    const arch: MlpArchitecture = { d: 4, width: 7, depth: 3, k: 2, sigma_w: 1.3, sigma_b: 0.6, parameterization };
    const params = initMlp(arch, 11);
    const n = 5;
    const x = randomBatch(1, n, arch.d);
    const y = randomBatch(2, n, arch.k);
    const { loss, grads } = backward(arch, params, forward(arch, params, x, n), y);
    assert.equal(loss, lossAt(arch, params, x, y, n));
    const eps = 1e-6;
    let diff2 = 0;
    let norm2 = 0;
    let worst = 0;
    const groups: Array<[Float64Array[], Float64Array[]]> = [
      [params.W, grads.W],
      [params.b, grads.b],
    ];
    for (const [ps, gs] of groups) {
      for (let l = 0; l < ps.length; l++) {
        for (let i = 0; i < ps[l].length; i++) {
          const keep = ps[l][i];
          ps[l][i] = keep + eps;
          const up = lossAt(arch, params, x, y, n);
          ps[l][i] = keep - eps;
          const down = lossAt(arch, params, x, y, n);
          ps[l][i] = keep;
          const fd = (up - down) / (2 * eps);
          const g = gs[l][i];
          diff2 += (fd - g) ** 2;
          norm2 += g * g;
          worst = Math.max(worst, Math.abs(fd - g) / Math.max(Math.abs(g), 1e-3));
        }
      }
    }
    assert.ok(norm2 > 1e-4, 'gradient is not trivially zero');
    const rel = Math.sqrt(diff2 / norm2);
    assert.ok(rel < 1e-6, `relative gradient error ${rel}`);
    assert.ok(worst < 1e-5, `worst entry error ${worst}`);
    // bias gradients are really exercised
    assert.ok(grads.b.some((b) => b.some((v) => Math.abs(v) > 1e-6)));
  });
}

test('layer sizes are [d, width × (depth−1), k] and the parameter count is Σ n_l (n_{l−1}+1)', () => {
  const arch: MlpArchitecture = { d: 3, width: 5, depth: 3, k: 2, sigma_w: 1, sigma_b: 0, parameterization: 'ntk' };
  assert.deepEqual(layerSizes(arch), [3, 5, 5, 2]);
  assert.equal(parameterCount(arch), 5 * 4 + 5 * 6 + 2 * 6);
  assert.deepEqual(layerSizes({ ...arch, depth: 1 }), [3, 2]);
  // flops: 2·n·(2·5·3 + 3·5·5 + 3·2·5) for n = 10
  assert.equal(gdStepFlops(arch, 10), 2 * 10 * (2 * 15 + 3 * 25 + 3 * 10));
});

test('initialization is bit-identical for the same seed and differs for another seed', () => {
  const arch: MlpArchitecture = { d: 3, width: 4, depth: 2, k: 1, sigma_w: 1, sigma_b: 0.1, parameterization: 'ntk' };
  const a = initMlp(arch, 5);
  const b = initMlp(arch, 5);
  const c = initMlp(arch, 6);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.W[0], c.W[0]);
});

test('ntk and standard parameterizations compute the same function from matching weights', () => {
  // standard W = σ_w/sqrt(n_{l−1}) · W_ntk and b = σ_b · b_ntk gives identical outputs
  const ntk: MlpArchitecture = { d: 3, width: 6, depth: 3, k: 2, sigma_w: 1.7, sigma_b: 0.4, parameterization: 'ntk' };
  const std: MlpArchitecture = { ...ntk, parameterization: 'standard' };
  const p = initMlp(ntk, 3);
  const sizes = layerSizes(ntk);
  const q: MlpParams = {
    W: p.W.map((w, i) => w.map((v) => (v * ntk.sigma_w) / Math.sqrt(sizes[i]))),
    b: p.b.map((b) => b.map((v) => v * ntk.sigma_b)),
  };
  const x = randomBatch(4, 3, 3);
  const f1 = predict(ntk, p, x, 3);
  const f2 = predict(std, q, x, 3);
  for (let i = 0; i < f1.length; i++) assert.ok(Math.abs(f1[i] - f2[i]) < 1e-12 * (1 + Math.abs(f1[i])));
});

test('standard initialization has weight variance σ_w²/n_{l−1}', () => {
  const arch: MlpArchitecture = { d: 50, width: 400, depth: 2, k: 1, sigma_w: 2, sigma_b: 0, parameterization: 'standard' };
  const p = initMlp(arch, 1);
  const w = p.W[0];
  let s2 = 0;
  for (const v of w) s2 += v * v;
  const variance = s2 / w.length; // expected 4/50 = 0.08, 20000 samples → ~1% standard error
  assert.ok(Math.abs(variance - 0.08) < 0.004, `variance ${variance}`);
  assert.ok(p.b[0].every((v) => v === 0), 'σ_b = 0 gives zero biases');
});

test('forward on the NTK parameterization matches a hand-computed one-hidden-layer net', () => {
  const arch: MlpArchitecture = { d: 2, width: 2, depth: 2, k: 1, sigma_w: 1, sigma_b: 1, parameterization: 'ntk' };
  const params: MlpParams = {
    W: [Float64Array.from([1, -1, 2, 0.5]), Float64Array.from([3, -2])],
    b: [Float64Array.from([0.1, -5]), Float64Array.from([0.25])],
  };
  const x = Float64Array.from([1, 2]);
  // h1 = (1/√2)·[1·1 − 1·2, 2·1 + 0.5·2] + [0.1, −5] = [−0.7071+0.1, 2.1213−5] → relu → [0, 0]
  // f = (1/√2)·0 + 0.25
  assert.deepEqual(Array.from(predict(arch, params, x, 1)), [0.25]);
  const x2 = Float64Array.from([2, 0]);
  // h1 = (1/√2)·[2, 4] + [0.1, −5] = [1.5142, −2.1716] → α = [1.5142, 0]; f = 3·1.5142/√2 + 0.25
  const a = 2 / Math.SQRT2 + 0.1;
  assert.ok(Math.abs(predict(arch, params, x2, 1)[0] - ((3 * a) / Math.SQRT2 + 0.25)) < 1e-14);
});

test('invalid specs and mismatched batches throw RangeError', () => {
  const arch: MlpArchitecture = { d: 2, width: 2, depth: 2, k: 1, sigma_w: 1, sigma_b: 0, parameterization: 'ntk' };
  assert.throws(() => validateMlpArchitecture({ ...arch, width: 0 }), RangeError);
  assert.throws(() => validateMlpArchitecture({ ...arch, sigma_w: -1 }), RangeError);
  assert.throws(() => forward(arch, initMlp(arch, 0), new Float64Array(3), 2), RangeError);
});
