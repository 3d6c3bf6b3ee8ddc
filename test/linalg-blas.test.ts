/**
 * gemm, syrk, cholesky and choleskySolve of every backend against naive triple loops, with
 * shapes that cross the js backend's block boundaries (register tile 4, KC = 256, MC = 128,
 * NC = 2048, Cholesky block 64) and both code paths (small naive path, packed kernel).
 *
 * Tolerances: products use the standard forward error bound (Higham, *Accuracy and Stability
 * of Numerical Algorithms*, §3.5): |ΔC| ≤ γ_{k+2} (|α|·|op(A)|·|op(B)| + |β|·|C|) elementwise,
 * γ_k = kε/(1 − kε). Cholesky: ‖L Lᵀ − A‖_F ≤ 50·n·ε·‖A‖_F; solve: ‖A X − B‖_F ≤
 * 50·n·ε·‖A‖_F·‖X‖_F.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { makeRng, type Rng } from '../src/util/rng.js';
import type { LinalgBackend } from '../src/linalg/backend.js';
import { jsBackend } from '../src/linalg/js.js';
import { mlMatrixBackend } from '../src/linalg/mlmatrix.js';

const EPS = 2 ** -52;
const BACKENDS: LinalgBackend[] = [jsBackend, mlMatrixBackend];
const gamma = (k: number): number => (k * EPS) / (1 - k * EPS);

function randn(rng: Rng, len: number): Float64Array {
  return rng.fillNormal(new Float64Array(len));
}

function frob(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

/** Reference C = alpha·op(A)·op(B) + beta·C0 and the error scale |alpha||A||B| + |beta||C0|. */
function naiveGemm(
  tA: boolean,
  tB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float64Array,
  b: Float64Array,
  beta: number,
  c0: Float64Array,
): { c: Float64Array; scale: Float64Array } {
  const c = new Float64Array(m * n);
  const scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let abs = 0;
      for (let p = 0; p < k; p++) {
        const x = tA ? a[p * m + i] : a[i * k + p];
        const y = tB ? b[j * k + p] : b[p * n + j];
        s += x * y;
        abs += Math.abs(x * y);
      }
      const old = beta === 0 ? 0 : beta * c0[i * n + j];
      c[i * n + j] = alpha * s + old;
      scale[i * n + j] = Math.abs(alpha) * abs + Math.abs(old);
    }
  }
  return { c, scale };
}

function assertWithinBound(actual: Float64Array, expected: Float64Array, scale: Float64Array, k: number, label: string): void {
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    const bound = 2 * gamma(k + 2) * scale[i] + Number.MIN_VALUE;
    assert.ok(err <= bound, `${label}: element ${i}: ${actual[i]} vs ${expected[i]} (err ${err} > ${bound})`);
  }
}

describe('gemm against a naive triple loop', () => {
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [3, 5, 2],
    [4, 4, 4],
    [37, 41, 300], // k > KC: two k-blocks; m, n not multiples of 4
    [130, 9, 70], // m > MC
    [5, 2051, 11], // n > NC
    [0, 3, 4],
    [3, 4, 0],
  ];
  for (const backend of BACKENDS) {
    // The slow reference backend only gets the small shapes.
    for (const [m, n, k] of shapes.filter(([m, n, k]) => backend === jsBackend || m * n * k <= 1e5)) {
      for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        it(`${backend.name}: ${m}×${n}×${k}, transA=${tA}, transB=${tB}`, () => {
          const rng = makeRng({ test: 'gemm', m, n, k, tA, tB });
          const a = randn(rng, m * k);
          const b = randn(rng, k * n);
          for (const [alpha, beta] of [[1, 0], [-0.7, 1], [2.5, -0.5]]) {
            const c0 = randn(rng, m * n);
            const c = beta === 0 ? new Float64Array(m * n).fill(NaN) : c0.slice();
            backend.gemm(tA, tB, m, n, k, alpha, a, b, beta, c);
            const ref = naiveGemm(tA, tB, m, n, k, alpha, a, b, beta, c0);
            assertWithinBound(c, ref.c, ref.scale, k, `${backend.name} alpha=${alpha} beta=${beta}`);
          }
        });
      }
    }
  }

  it('js: beta = 0 ignores NaN and Infinity in C, alpha = 0 only scales C', () => {
    const [m, n, k] = [70, 66, 80];
    const rng = makeRng({ test: 'gemm-beta0' });
    const a = randn(rng, m * k);
    const b = randn(rng, k * n);
    const c = new Float64Array(m * n).fill(NaN);
    c[5] = Infinity;
    jsBackend.gemm(false, false, m, n, k, 1, a, b, 0, c);
    assert.ok(c.every(Number.isFinite));
    const before = c.slice();
    jsBackend.gemm(false, false, m, n, k, 0, a.fill(NaN), b, 2, c);
    assert.deepEqual(c, before.map((v) => 2 * v));
  });

  it('js: rejects buffers shorter than their shapes', () => {
    assert.throws(() => jsBackend.gemm(false, false, 2, 2, 2, 1, new Float64Array(3), new Float64Array(4), 0, new Float64Array(4)), RangeError);
    assert.throws(() => jsBackend.gemm(false, false, 2, 2, -1, 1, new Float64Array(4), new Float64Array(4), 0, new Float64Array(4)), RangeError);
  });
});

describe('syrk against a naive triple loop', () => {
  for (const backend of BACKENDS) {
    for (const [n, k] of [[1, 1], [3, 7], [64, 5], [131, 40], [70, 300]] as const) {
      it(`${backend.name}: n=${n}, k=${k}: C = alpha·A·Aᵀ + beta·C, exactly symmetric`, () => {
        const rng = makeRng({ test: 'syrk', n, k });
        const a = randn(rng, n * k);
        for (const [alpha, beta] of [[1, 0], [0.5, 2]]) {
          const c0 = randn(rng, n * n);
          for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) c0[j * n + i] = c0[i * n + j];
          // beta = 0: NaN everywhere must be ignored; beta ≠ 0: only the lower triangle is read.
          const c = c0.slice();
          for (let i = 0; i < n; i++) for (let j = beta === 0 ? 0 : i + 1; j < n; j++) c[i * n + j] = NaN;
          backend.syrk(n, k, alpha, a, beta, c);
          const ref = naiveGemm(false, true, n, n, k, alpha, a, a, beta, c0);
          assertWithinBound(c, ref.c, ref.scale, k, `${backend.name} alpha=${alpha} beta=${beta}`);
          for (let i = 0; i < n; i++) {
            for (let j = 0; j < i; j++) assert.equal(c[i * n + j], c[j * n + i], `symmetry at [${i}, ${j}]`);
          }
        }
      });
    }
  }
});

/** Random SPD matrix G Gᵀ / k + shift·I (lower and upper both filled). */
function randomSpd(rng: Rng, n: number, shift: number): Float64Array {
  const k = n + 3;
  const g = randn(rng, n * k);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += g[i * k + p] * g[j * k + p];
      const v = s / k + (i === j ? shift : 0);
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  }
  return a;
}

describe('cholesky and choleskySolve', () => {
  for (const backend of BACKENDS) {
    for (const n of [1, 2, 5, 64, 65, 150]) {
      it(`${backend.name}: n=${n}: L lower with positive diagonal, L Lᵀ = A`, () => {
        const a = randomSpd(makeRng({ test: 'chol', n }), n, 0.1);
        const l = backend.cholesky(n, a);
        assert.ok(l !== null, 'SPD matrix must factor');
        let err = 0;
        for (let i = 0; i < n; i++) {
          assert.ok(l[i * n + i] > 0, `diagonal ${i}`);
          for (let j = i + 1; j < n; j++) assert.equal(l[i * n + j], 0, `upper entry [${i}, ${j}]`);
          for (let j = 0; j <= i; j++) {
            let s = 0;
            for (let p = 0; p <= j; p++) s += l[i * n + p] * l[j * n + p];
            err += 2 * (s - a[i * n + j]) ** 2;
          }
        }
        assert.ok(Math.sqrt(err) <= 50 * n * EPS * frob(a), `‖LLᵀ − A‖_F = ${Math.sqrt(err)}`);
      });

      it(`${backend.name}: n=${n}: choleskySolve gives A X = B for 1 and 7 right-hand sides`, () => {
        const rng = makeRng({ test: 'chol-solve', n });
        const a = randomSpd(rng, n, 0.1);
        const l = backend.cholesky(n, a);
        assert.ok(l !== null);
        for (const nrhs of [1, 7]) {
          const b = randn(rng, n * nrhs);
          const x = backend.choleskySolve(n, l, nrhs, b.slice());
          let res = 0;
          for (let i = 0; i < n; i++) {
            for (let r = 0; r < nrhs; r++) {
              let s = 0;
              for (let p = 0; p < n; p++) s += a[i * n + p] * x[p * nrhs + r];
              res += (s - b[i * nrhs + r]) ** 2;
            }
          }
          const bound = 50 * n * EPS * frob(a) * frob(x);
          assert.ok(Math.sqrt(res) <= bound, `nrhs=${nrhs}: ‖AX − B‖_F = ${Math.sqrt(res)} > ${bound}`);
        }
      });
    }

    it(`${backend.name}: not positive definite → null (indefinite, zero, negative, singular with a negative pivot)`, () => {
      assert.equal(backend.cholesky(2, Float64Array.of(1, 2, 2, 1)), null);
      assert.equal(backend.cholesky(3, new Float64Array(9)), null);
      assert.equal(backend.cholesky(2, Float64Array.of(-1, 0, 0, -1)), null);
      // ¼·11ᵀ − 1e-3·I: eigenvalue −1e-3 with multiplicity n − 1 (slightly indefinite)
      const n = 70;
      const a = new Float64Array(n * n).fill(0.25);
      for (let i = 0; i < n; i++) a[i * n + i] = 0.25 - 1e-3;
      assert.equal(backend.cholesky(n, a), null);
    });

    it(`${backend.name}: only the lower triangle is read and the input is not modified`, () => {
      const n = 9;
      const a = randomSpd(makeRng({ test: 'chol-lower' }), n, 1);
      const ref = backend.cholesky(n, a);
      const poisoned = a.slice();
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) poisoned[i * n + j] = NaN;
      const before = poisoned.slice();
      assert.deepEqual(backend.cholesky(n, poisoned), ref);
      assert.deepEqual(poisoned, before);
    });
  }

  it('js agrees with ml-matrix on L to 50·n·ε·‖A‖_F^{1/2}', () => {
    const n = 100;
    const a = randomSpd(makeRng({ test: 'chol-cross' }), n, 0.5);
    const x = jsBackend.cholesky(n, a);
    const y = mlMatrixBackend.cholesky(n, a);
    assert.ok(x !== null && y !== null);
    const tol = 50 * n * EPS * Math.sqrt(frob(a));
    for (let i = 0; i < n * n; i++) assert.ok(Math.abs(x[i] - y[i]) <= tol, `entry ${i}: ${x[i]} vs ${y[i]}`);
  });

  it('js: NaN in the lower triangle throws; each column of X is the same whatever nrhs', () => {
    assert.throws(() => jsBackend.cholesky(2, Float64Array.of(1, 0, NaN, 1)), /\[1, 0\] is NaN/);
    const n = 33;
    const rng = makeRng({ test: 'chol-batch' });
    const l = jsBackend.cholesky(n, randomSpd(rng, n, 0.2));
    assert.ok(l !== null);
    const nrhs = 4;
    const b = randn(rng, n * nrhs);
    const all = jsBackend.choleskySolve(n, l, nrhs, b.slice());
    for (let r = 0; r < nrhs; r++) {
      const col = new Float64Array(n);
      for (let i = 0; i < n; i++) col[i] = b[i * nrhs + r];
      jsBackend.choleskySolve(n, l, 1, col);
      for (let i = 0; i < n; i++) assert.equal(col[i], all[i * nrhs + r], `column ${r}, row ${i}`);
    }
  });
});
