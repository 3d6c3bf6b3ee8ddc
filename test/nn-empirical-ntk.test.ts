import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeRng } from '../src/util/rng.js';
import { setLinalg } from '../src/linalg/index.js';
import { jsBackend } from '../src/linalg/js.js';
import { empiricalNtk, outputMeanBlock } from '../src/nn/empirical-ntk.js';
import { kernelMatrix, kernelFold } from '../src/ntk/index.js';
import { initMlp, predict } from '../src/nn/mlp.js';
import type { MlpParams, MlpArchitecture } from '../src/nn/mlp.js';

/** Explicit Jacobian J [(p·k), #params] of the outputs by central finite differences. */
// the pure-TypeScript backend: deterministic everywhere and much faster than ml-matrix at width 4096
setLinalg(jsBackend);

/** Analytic Θ^L `[p, p]` (absolute scale) of the rows of `x` `[p, d]` from src/ntk. */
function moduleNtk(x: Float64Array, p: number, d: number, depth: number, sigma_w: number, sigma_b: number): Float64Array {
  let out: Float64Array = new Float64Array(0);
  kernelFold(x, p, d, { depths: [depth], sigma_w, sigma_b }, (_l, state) => {
    out = kernelMatrix(state, 'ntk', 'absolute');
  });
  return out;
}

function fdJacobian(arch: MlpArchitecture, params: MlpParams, x: Float64Array, p: number): number[][] {
  const rows: number[][] = Array.from({ length: p * arch.k }, () => []);
  const eps = 1e-6;
  for (const group of [params.W, params.b]) {
    for (const arr of group) {
      for (let i = 0; i < arr.length; i++) {
        const keep = arr[i];
        arr[i] = keep + eps;
        const up = predict(arch, params, x, p);
        arr[i] = keep - eps;
        const down = predict(arch, params, x, p);
        arr[i] = keep;
        for (let r = 0; r < p * arch.k; r++) rows[r].push((up[r] - down[r]) / (2 * eps));
      }
    }
  }
  return rows;
}

for (const parameterization of ['ntk', 'standard'] as const) {
  test(`layer-wise empirical NTK equals J·Jᵀ from an explicit finite-difference Jacobian (${parameterization})`, () => {
    const arch: MlpArchitecture = { d: 3, width: 6, depth: 3, k: 2, sigma_w: 1.2, sigma_b: 0.5, parameterization };
    const params = initMlp(arch, 7);
    const p = 4;
    const x = makeRng({ purpose: 'test', p }).fillNormal(new Float64Array(p * arch.d));
    const theta = empiricalNtk(arch, params, x, p);
    const J = fdJacobian(arch, params, x, p);
    const m = p * arch.k;
    let diff2 = 0;
    let norm2 = 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        let s = 0;
        for (let q = 0; q < J[i].length; q++) s += J[i][q] * J[j][q];
        diff2 += (s - theta[i * m + j]) ** 2;
        norm2 += s * s;
      }
    }
    const rel = Math.sqrt(diff2 / norm2);
    assert.ok(rel < 1e-7, `relative error ${rel}`);
    // exactly symmetric, and the output-mean block averages the diagonal output blocks
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) assert.equal(theta[i * m + j], theta[j * m + i]);
    const mean = outputMeanBlock(theta, p, arch.k);
    assert.equal(mean[1 * p + 2], (theta[(1 * 2 + 0) * m + 2 * 2 + 0] + theta[(1 * 2 + 1) * m + 2 * 2 + 1]) / 2);
  });
}

/**
 * Analytic ReLU NTK Θ^L(x, x') for the NTK parameterization (docs/conventions.md §4; arc-cosine kernel of
 * Cho & Saul 2009, NTK recursion of Jacot et al. 2018), written independently of src/ntk.
 */
function analyticNtk(x: number[], y: number[], depth: number, sw: number, sb: number): number {
  const d = x.length;
  const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);
  let sxx = (sw * sw * dot(x, x)) / d + sb * sb;
  let syy = (sw * sw * dot(y, y)) / d + sb * sb;
  let sxy = (sw * sw * dot(x, y)) / d + sb * sb;
  let theta = sxy;
  for (let l = 2; l <= depth; l++) {
    // the same point has angle exactly 0 (acos of a rounded 1 − ε would give ~1e-8, docs/conventions.md §6)
    const th = x === y ? 0 : Math.acos(Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy))));
    const next = ((sw * sw) / (2 * Math.PI)) * Math.sqrt(sxx * syy) * (Math.sin(th) + (Math.PI - th) * Math.cos(th)) + sb * sb;
    const dotSigma = (sw * sw * (Math.PI - th)) / (2 * Math.PI);
    sxx = (sw * sw) / 2 * sxx + sb * sb;
    syy = (sw * sw) / 2 * syy + sb * sb;
    sxy = next;
    theta = theta * dotSigma + sxy;
  }
  return theta;
}

test('closed-form NTK reproduces Θ^L(x,x) = L/(d·2^{L−1}) on unit inputs and agrees with src/ntk to 1e-12', () => {
  const x = [0.6, 0.8, 0];
  for (const L of [1, 2, 3, 5]) assert.ok(Math.abs(analyticNtk(x, x, L, 1, 0) - L / (3 * 2 ** (L - 1))) < 1e-15);
  const pts = [x, [0, 0.6, -0.8], [-0.48, 0.6, 0.64]];
  for (const [L, sb] of [
    [2, 0],
    [3, 0.5],
    [4, 0.2],
  ]) {
    const k = moduleNtk(Float64Array.from(pts.flat()), 3, 3, L, 1.3, sb);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        const a = analyticNtk(pts[i], pts[j], L, 1.3, sb);
        assert.ok(Math.abs(k[i * 3 + j] - a) < 1e-12 * Math.abs(analyticNtk(pts[i], pts[i], L, 1.3, sb)), `L=${L} [${i},${j}]`);
      }
    }
  }
});

// Finite-width fluctuations of Θ̂ are O(1/sqrt(n)) with a depth-dependent constant: at width 4096,
// depth 3, one output, the per-entry spread over seeds is about 4%; averaging the diagonal output
// blocks of k = 10 outputs brings it to about 2.5%, so that case uses k = 10.
for (const [depth, sigmaB, k] of [
  [2, 0, 1],
  [3, 0, 10],
  [3, 0.5, 1],
] as const) {
  test(`empirical NTK at init, width 4096, depth ${depth}, σ_b = ${sigmaB}, k = ${k}, is within 5% of the analytic Θ of src/ntk`, () => {
    const d = 8;
    const p = 4;
    const arch: MlpArchitecture = { d, width: 4096, depth, k, sigma_w: 1, sigma_b: sigmaB, parameterization: 'ntk' };
    const rng = makeRng({ purpose: 'test-probe', d, p });
    const xs: number[][] = [];
    for (let i = 0; i < p; i++) {
      const v = Array.from({ length: d }, () => rng.normal());
      const nrm = Math.hypot(...v);
      xs.push(v.map((t) => t / nrm));
    }
    const params = initMlp(arch, 1);
    const X = Float64Array.from(xs.flat());
    const emp = outputMeanBlock(empiricalNtk(arch, params, X, p), p, k);
    const theta = moduleNtk(X, p, d, depth, 1, sigmaB);
    let diff2 = 0;
    let norm2 = 0;
    let worst = 0;
    const diag = xs.map((_x, i) => theta[i * p + i]);
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < p; j++) {
        const a = theta[i * p + j];
        diff2 += (emp[i * p + j] - a) ** 2;
        norm2 += a * a;
        // error relative to the kernel's scale sqrt(Θ(x,x)Θ(x',x')): off-diagonal entries can be ~0
        worst = Math.max(worst, Math.abs(emp[i * p + j] - a) / Math.sqrt(diag[i] * diag[j]));
      }
    }
    const rel = Math.sqrt(diff2 / norm2);
    assert.ok(rel < 0.05, `relative Frobenius error ${rel}`);
    assert.ok(worst < 0.08, `worst entry relative error ${worst}`);
  });
}
