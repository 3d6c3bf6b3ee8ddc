/**
 * The native OpenBLAS/LAPACKE backend (src/linalg/native.ts, native/) agrees with the ml-matrix
 * reference backend and with independent hand checks.
 *
 * Tolerances (float64, eps = 2.2e-16), relative to the matrix's Frobenius norm ‖A‖:
 * - gemm / syrk vs a naive triple loop: 1e-13 relative to the sum of |products|
 *   (the only difference is summation order);
 * - eigenvalues vs ml-matrix: 1e-12·‖A‖ (both solvers are backward stable, error ≈ n·eps·‖A‖);
 * - eigen-residual max|AV − VΛ| ≤ 1e-12·‖A‖, orthogonality max|VᵀV − I| ≤ 1e-12;
 * - Cholesky: max|LLᵀ − A| ≤ 1e-12·‖A‖, L vs ml-matrix 1e-10·‖A‖ on well-conditioned A.
 *
 * Every test is skipped, with the reason, when the addon is not built (no OpenBLAS on this
 * machine); the fallback selection is tested either way.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { makeRng } from '../src/util/rng.js';
import type { LinalgBackend, SymmetricEigen } from '../src/linalg/backend.js';
import { mlMatrixBackend } from '../src/linalg/mlmatrix.js';
import { loadNativeBackend, selectBackendFromEnv, type NativeBackend } from '../src/linalg/native.js';

const loaded = loadNativeBackend();
const native: NativeBackend | undefined = 'error' in loaded ? undefined : loaded;
const skip: string | false = 'error' in loaded ? `native backend not available: ${loaded.error}` : false;
/** The native backend; only called inside tests that are skipped when it is missing. */
const nb = (): LinalgBackend => {
  if (!native) throw new Error('unreachable: test should have been skipped');
  return native.backend;
};

// ---------------------------------------------------------------- helpers

function randomMatrix(rows: number, cols: number, seed: unknown): Float64Array {
  const rng = makeRng({ purpose: 'test/linalg-native', seed });
  const a = new Float64Array(rows * cols);
  for (let i = 0; i < a.length; i++) a[i] = rng.uniform() * 2 - 1;
  return a;
}

/** Symmetric [n, n] with i.i.d. uniform(-1, 1) lower triangle. */
function randomSymmetric(n: number, seed: unknown): Float64Array {
  const r = randomMatrix(n, n, seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      a[i * n + j] = r[i * n + j];
      a[j * n + i] = r[i * n + j];
    }
  }
  return a;
}

/** Symmetric positive definite: B Bᵀ / k + shift·I with B [n, k]. */
function randomSpd(n: number, k: number, shift: number, seed: unknown): Float64Array {
  const b = randomMatrix(n, k, seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += b[i * k + p] * b[j * k + p];
      a[i * n + j] = s / k + (i === j ? shift : 0);
    }
  }
  return a;
}

/** ¼·11ᵀ + ¾·I: the deep-NTK limit. Eigenvalues ¾ (n − 1 times) and ¾ + n/4. */
function quarterJ(n: number): Float64Array {
  const a = new Float64Array(n * n).fill(0.25);
  for (let i = 0; i < n; i++) a[i * n + i] = 1;
  return a;
}

function frob(a: Float64Array): number {
  let s = 0;
  for (const v of a) s += v * v;
  return Math.sqrt(s);
}

function naiveGemm(
  ta: boolean, tb: boolean, m: number, n: number, k: number,
  alpha: number, a: Float64Array, b: Float64Array, beta: number, c: Float64Array,
): { c: Float64Array; scale: Float64Array } {
  const out = new Float64Array(m * n);
  const scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let sa = 0;
      for (let p = 0; p < k; p++) {
        const x = ta ? a[p * m + i] : a[i * k + p];
        const y = tb ? b[j * k + p] : b[p * n + j];
        s += x * y;
        sa += Math.abs(x * y);
      }
      out[i * n + j] = alpha * s + (beta === 0 ? 0 : beta * c[i * n + j]);
      scale[i * n + j] = Math.abs(alpha) * sa + (beta === 0 ? 0 : Math.abs(beta * c[i * n + j]));
    }
  }
  return { c: out, scale };
}

function assertClose(actual: Float64Array, expected: Float64Array, tol: number | Float64Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const t = typeof tol === 'number' ? tol : tol[i] * 1e-13 + 1e-300;
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= t)) assert.fail(`${what}: entry ${i}: ${actual[i]} vs ${expected[i]} (|diff| ${d} > ${t})`);
  }
}

/** max|AV − VΛ| and max|VᵀV − I| for a full symmetric A. */
function eigenInvariants(n: number, a: Float64Array, e: SymmetricEigen): { residual: number; orth: number } {
  let residual = 0;
  let orth = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let av = 0;
      let vtv = 0;
      for (let p = 0; p < n; p++) {
        av += a[i * n + p] * e.vectors[p * n + j];
        vtv += e.vectors[p * n + i] * e.vectors[p * n + j];
      }
      residual = Math.max(residual, Math.abs(av - e.vectors[i * n + j] * e.values[j]));
      orth = Math.max(orth, Math.abs(vtv - (i === j ? 1 : 0)));
    }
  }
  return { residual, orth };
}

function checkEigh(n: number, a: Float64Array, what: string): SymmetricEigen {
  const before = Float64Array.from(a);
  const e = nb().eigh(n, a);
  assert.deepEqual(a, before, `${what}: input must not be modified`);
  assert.equal(e.values.length, n);
  assert.equal(e.vectors.length, n * n);
  for (let j = 1; j < n; j++) assert.ok(e.values[j - 1] <= e.values[j], `${what}: eigenvalues ascending`);
  const scale = Math.max(1, frob(a));
  const { residual, orth } = eigenInvariants(n, a, e);
  assert.ok(residual <= 1e-12 * scale, `${what}: max|AV − VΛ| = ${residual}`);
  assert.ok(orth <= 1e-12, `${what}: max|VᵀV − I| = ${orth}`);
  return e;
}

// ---------------------------------------------------------------- gemm / syrk

describe('native gemm', { skip }, () => {
  const shapes: Array<[number, number, number]> = [[1, 1, 1], [7, 5, 3], [3, 9, 16], [33, 17, 65], [64, 64, 64]];
  for (const ta of [false, true]) {
    for (const tb of [false, true]) {
      test(`op(A)·op(B) matches a naive loop (transA=${ta}, transB=${tb}) for several shapes`, () => {
        for (const [m, n, k] of shapes) {
          const a = randomMatrix(ta ? k : m, ta ? m : k, ['a', m, n, k, ta]);
          const b = randomMatrix(tb ? n : k, tb ? k : n, ['b', m, n, k, tb]);
          for (const [alpha, beta] of [[1, 0], [-0.5, 0], [2, 1], [0.3, -1.5]] as const) {
            const c = randomMatrix(m, n, ['c', m, n]);
            const ref = naiveGemm(ta, tb, m, n, k, alpha, a, b, beta, c);
            const aCopy = Float64Array.from(a);
            const bCopy = Float64Array.from(b);
            nb().gemm(ta, tb, m, n, k, alpha, a, b, beta, c);
            assertClose(c, ref.c, ref.scale, `gemm ${m}x${n}x${k} alpha=${alpha} beta=${beta}`);
            assert.deepEqual(a, aCopy, 'gemm must not modify A');
            assert.deepEqual(b, bCopy, 'gemm must not modify B');
          }
        }
      });
    }
  }

  test('beta = 0 ignores the previous contents of C (NaN does not propagate)', () => {
    const m = 6, n = 4, k = 5;
    const a = randomMatrix(m, k, 'nan-a');
    const b = randomMatrix(k, n, 'nan-b');
    const c = new Float64Array(m * n).fill(NaN);
    nb().gemm(false, false, m, n, k, 1, a, b, 0, c);
    const ref = naiveGemm(false, false, m, n, k, 1, a, b, 0, new Float64Array(m * n));
    assertClose(c, ref.c, ref.scale, 'gemm beta=0 over NaN');
    const c0 = new Float64Array(m * n).fill(NaN);
    nb().gemm(false, false, m, n, 0, 1, new Float64Array(0), new Float64Array(0), 0, c0);
    assert.deepEqual(c0, new Float64Array(m * n), 'k = 0, beta = 0 gives C = 0');
  });

  test('agrees with ml-matrix on a 40×30·30×50 product', () => {
    const a = randomMatrix(40, 30, 'ml-a');
    const b = randomMatrix(30, 50, 'ml-b');
    const c1 = new Float64Array(40 * 50);
    const c2 = new Float64Array(40 * 50);
    nb().gemm(false, false, 40, 50, 30, 1, a, b, 0, c1);
    mlMatrixBackend.gemm(false, false, 40, 50, 30, 1, a, b, 0, c2);
    assertClose(c1, c2, 1e-13, 'gemm vs ml-matrix');
  });

  test('rejects short buffers, wrong types and an output overlapping an input', () => {
    const a = new Float64Array(6);
    const b = new Float64Array(6);
    assert.throws(() => nb().gemm(false, false, 2, 2, 3, 1, a, b, 0, new Float64Array(3)), /c has length 3, needs at least 4/);
    assert.throws(() => nb().gemm(false, false, 2, 2, 3, 1, a, b, 0, a.subarray(2)), /must not overlap/);
    assert.throws(
      () => nb().gemm(false, false, 2, 2, 3, 1, new Float32Array(6) as unknown as Float64Array, b, 0, new Float64Array(4)),
      /a must be a Float64Array/,
    );
    assert.throws(() => nb().gemm(false, false, 2.5, 2, 3, 1, a, b, 0, new Float64Array(4)), /m must be an integer/);
  });
});

describe('native syrk', { skip }, () => {
  test('A·Aᵀ matches a naive loop and both triangles are written (exactly symmetric)', () => {
    for (const [n, k] of [[1, 1], [5, 3], [37, 61], [100, 20]] as const) {
      const a = randomMatrix(n, k, ['syrk', n, k]);
      for (const [alpha, beta] of [[1, 0], [0.5, 2]] as const) {
        const c0 = randomSymmetric(n, ['syrk-c', n]);
        const c = beta === 0 ? new Float64Array(n * n).fill(NaN) : Float64Array.from(c0);
        const ref = naiveGemm(false, true, n, n, k, alpha, a, a, beta, c0);
        nb().syrk(n, k, alpha, a, beta, c);
        assertClose(c, ref.c, ref.scale, `syrk ${n}x${k}`);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < i; j++) assert.equal(c[j * n + i], c[i * n + j], 'symmetric');
        }
      }
    }
  });
});

// ---------------------------------------------------------------- eigh

describe('native eigh', { skip }, () => {
  test('eigenvalues agree with ml-matrix on seeded random symmetric matrices; AV = VΛ, VᵀV = I', () => {
    for (const n of [1, 2, 3, 10, 57, 120]) {
      const a = randomSymmetric(n, ['eigh', n]);
      const e = checkEigh(n, a, `random n=${n}`);
      const ref = mlMatrixBackend.eigh(n, a);
      assertClose(e.values, ref.values, 1e-12 * Math.max(1, frob(a)), `eigenvalues n=${n}`);
    }
  });

  test('column j of vectors is the eigenvector of values[j] (2×2 by hand)', () => {
    // [[2, 1], [1, 2]]: eigenvalues 1, 3 with eigenvectors (1, −1)/√2 and (1, 1)/√2.
    const e = nb().eigh(2, new Float64Array([2, 1, 1, 2]));
    assertClose(e.values, new Float64Array([1, 3]), 1e-15, 'values');
    const s = Math.SQRT1_2;
    const v0 = [e.vectors[0], e.vectors[2]];
    const v1 = [e.vectors[1], e.vectors[3]];
    assert.ok(Math.abs(Math.abs(v0[0]) - s) < 1e-15 && Math.abs(v0[0] + v0[1]) < 1e-15, `column 0 = ±(1, −1)/√2, got ${v0}`);
    assert.ok(Math.abs(Math.abs(v1[0]) - s) < 1e-15 && Math.abs(v1[0] - v1[1]) < 1e-15, `column 1 = ±(1, 1)/√2, got ${v1}`);
  });

  test('¼·11ᵀ + ¾·I has eigenvalue ¾ (n − 1 times) and ¾ + n/4, with an orthonormal basis', () => {
    for (const n of [2, 50, 200]) {
      const a = quarterJ(n);
      const e = checkEigh(n, a, `quarterJ n=${n}`);
      for (let j = 0; j < n - 1; j++) assert.ok(Math.abs(e.values[j] - 0.75) < 1e-13 * n, `λ_${j} = ${e.values[j]}`);
      assert.ok(Math.abs(e.values[n - 1] - (0.75 + n / 4)) < 1e-13 * n, `λ_max = ${e.values[n - 1]}`);
      const top = Math.abs(e.vectors[n - 1]);
      for (let i = 0; i < n; i++) assert.ok(Math.abs(Math.abs(e.vectors[i * n + n - 1]) - top) < 1e-13, 'top eigenvector ∝ 1');
      assert.ok(Math.abs(top - 1 / Math.sqrt(n)) < 1e-13);
    }
  });

  test('near ¼J + ¾I with a 1e-10 symmetric perturbation (deep kernel) agrees with ml-matrix', () => {
    const n = 80;
    const a = quarterJ(n);
    const p = randomSymmetric(n, 'deep-perturbation');
    for (let i = 0; i < n * n; i++) a[i] += 1e-10 * p[i];
    const e = checkEigh(n, a, 'deep kernel');
    assertClose(e.values, mlMatrixBackend.eigh(n, a).values, 1e-12 * frob(a), 'eigenvalues');
  });

  test('near-singular (rank 5 of 60, plus 1e-14·I) agrees with ml-matrix', () => {
    const n = 60;
    const a = randomSpd(n, 5, 1e-14, 'rank5');
    const e = checkEigh(n, a, 'near-singular');
    assertClose(e.values, mlMatrixBackend.eigh(n, a).values, 1e-12 * frob(a), 'eigenvalues');
    for (let j = 0; j < n - 5; j++) assert.ok(Math.abs(e.values[j]) < 1e-12 * frob(a), 'null space eigenvalues ≈ 0');
  });

  test('reads only the lower triangle (NaN above the diagonal is ignored) and does not modify the input', () => {
    const n = 30;
    const full = randomSymmetric(n, 'lower-only');
    const lower = Float64Array.from(full);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) lower[i * n + j] = NaN;
    const before = Float64Array.from(lower);
    const e1 = nb().eigh(n, lower);
    const e2 = nb().eigh(n, full);
    assert.deepEqual(lower, before, 'input unchanged (NaNs included)');
    assert.deepEqual(e1.values, e2.values);
    assert.deepEqual(e1.vectors, e2.vectors);
  });

  test('throws on NaN or Infinity in the lower triangle', () => {
    assert.throws(() => nb().eigh(2, new Float64Array([1, 0, NaN, 1])), /eigh: matrix entry \[1, 0\] is NaN/);
    assert.throws(() => nb().eigh(2, new Float64Array([Infinity, 0, 0, 1])), /eigh: matrix entry \[0, 0\] is Infinity/);
  });

  test('the dsyevr driver gives the same spectrum as dsyevd', () => {
    const n = 90;
    const a = randomSymmetric(n, 'evr');
    const e1 = native!.eighWith(n, a, 'evd');
    const e2 = native!.eighWith(n, a, 'evr');
    assertClose(e2.values, e1.values, 1e-12 * frob(a), 'evr vs evd');
    const { residual, orth } = eigenInvariants(n, a, e2);
    assert.ok(residual <= 1e-12 * frob(a) && orth <= 1e-12, `evr invariants ${residual} ${orth}`);
  });
});

// ---------------------------------------------------------------- Cholesky

describe('native cholesky and choleskySolve', { skip }, () => {
  test('L·Lᵀ = A, zeros above the diagonal, agrees with ml-matrix, input not modified', () => {
    for (const n of [1, 4, 33, 100]) {
      const a = randomSpd(n, n + 3, 0.1, ['chol', n]);
      const before = Float64Array.from(a);
      const l = nb().cholesky(n, a);
      assert.ok(l, `SPD n=${n} must factor`);
      assert.deepEqual(a, before, 'input unchanged');
      const llt = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++) assert.equal(l[i * n + j], 0, 'upper triangle is zero');
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < n; p++) s += l[i * n + p] * l[j * n + p];
          llt[i * n + j] = s;
        }
      }
      assertClose(llt, a, 1e-12 * frob(a), `LLᵀ = A n=${n}`);
      const ref = mlMatrixBackend.cholesky(n, a);
      assert.ok(ref);
      assertClose(l, ref, 1e-10 * frob(a), `L vs ml-matrix n=${n}`);
    }
  });

  test('returns null when A is not positive definite', () => {
    assert.equal(nb().cholesky(2, new Float64Array([1, 2, 2, 1])), null, 'indefinite');
    assert.equal(nb().cholesky(3, new Float64Array(9).fill(1)), null, 'singular 11ᵀ');
    assert.equal(nb().cholesky(2, new Float64Array([-1, 0, 0, 1])), null, 'negative diagonal');
    assert.ok(nb().cholesky(200, quarterJ(200)), '¼J + ¾I is positive definite');
  });

  test('choleskySolve gives A·X = B in place (nrhs = 1 and 3) and agrees with ml-matrix', () => {
    const n = 70;
    const a = randomSpd(n, 90, 0.05, 'solve');
    const l = nb().cholesky(n, a);
    assert.ok(l);
    for (const nrhs of [1, 3]) {
      const b0 = randomMatrix(n, nrhs, ['rhs', nrhs]);
      const x = Float64Array.from(b0);
      const ret = nb().choleskySolve(n, l, nrhs, x);
      assert.equal(ret, x, 'returns b');
      const ax = new Float64Array(n * nrhs);
      for (let i = 0; i < n; i++) {
        for (let r = 0; r < nrhs; r++) {
          let s = 0;
          for (let p = 0; p < n; p++) s += a[i * n + p] * x[p * nrhs + r];
          ax[i * nrhs + r] = s;
        }
      }
      assertClose(ax, b0, 1e-11 * frob(b0), `A·X = B nrhs=${nrhs}`);
      const xRef = mlMatrixBackend.choleskySolve(n, l, nrhs, Float64Array.from(b0));
      assertClose(x, xRef, 1e-10 * frob(xRef), `X vs ml-matrix nrhs=${nrhs}`);
    }
  });
});

// ---------------------------------------------------------------- threads

/** Worker body: loads the backend from the compiled native.js, waits for the start signal, runs eigh. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { loadNativeBackend } = await import(workerData.nativeUrl);
  const loaded = loadNativeBackend();
  if ('error' in loaded) { parentPort.postMessage({ error: loaded.error }); return; }
  const flag = new Int32Array(workerData.flag);
  Atomics.add(flag, 1, 1);          // ready
  Atomics.wait(flag, 0, 0);         // wait for "go"
  const results = [];
  for (let r = 0; r < workerData.repeats; r++) results.push(loaded.backend.eigh(workerData.n, workerData.a));
  parentPort.postMessage({ values: results.map((e) => e.values), vectors: results[results.length - 1].vectors });
})().catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));
`;

describe('native backend in worker threads', { skip }, () => {
  test('two worker threads load the addon and run eigh at the same time, matching the main thread bit for bit', async () => {
    const n = 250;
    const a = randomSymmetric(n, 'workers');
    const main = nb().eigh(n, a);
    const flag = new SharedArrayBuffer(8);
    const flagView = new Int32Array(flag);
    const nativeUrl = new URL('../src/linalg/native.js', import.meta.url).href;
    const workers = [0, 1].map(
      () => new Worker(WORKER_SOURCE, { eval: true, workerData: { nativeUrl, flag, n, a, repeats: 4 } }),
    );
    const done = workers.map(
      (w) =>
        new Promise<{ values?: Float64Array[]; vectors?: Float64Array; error?: string }>((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        }),
    );
    // start both together once both have loaded the addon
    const deadline = Date.now() + 30_000;
    while (Atomics.load(flagView, 1) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(Atomics.load(flagView, 1), 2, 'both workers loaded the addon');
    Atomics.store(flagView, 0, 1);
    Atomics.notify(flagView, 0);
    const results = await Promise.all(done);
    await Promise.all(workers.map((w) => w.terminate()));
    for (const r of results) {
      assert.equal(r.error, undefined, r.error);
      for (const v of r.values!) assert.deepEqual(v, main.values, 'eigenvalues identical to the main thread');
      assert.deepEqual(r.vectors, main.vectors, 'eigenvectors identical to the main thread');
    }
  });

  test('results are bit-for-bit repeatable at a fixed BLAS thread count, and agree within rounding across counts', () => {
    const n = 300;
    const a = randomSymmetric(n, 'threads');
    const x = randomMatrix(n, n, 'threads-x');
    const saved = native!.getThreads();
    try {
      const run = (threads: number) => {
        assert.equal(native!.setThreads(threads), threads);
        const c = new Float64Array(n * n);
        nb().gemm(false, true, n, n, n, 1, x, x, 0, c);
        return { c, e: nb().eigh(n, a) };
      };
      const one = run(1);
      const oneAgain = run(1);
      assert.deepEqual(oneAgain.c, one.c);
      assert.deepEqual(oneAgain.e.values, one.e.values);
      assert.deepEqual(oneAgain.e.vectors, one.e.vectors);
      const two = run(Math.max(1, Math.min(2, native!.info().numProcs)));
      assertClose(two.c, one.c, 1e-13 * frob(one.c), 'gemm 1 vs 2 threads');
      assertClose(two.e.values, one.e.values, 1e-13 * frob(a), 'eigenvalues 1 vs 2 threads');
    } finally {
      native!.setThreads(saved);
    }
  });

  test('doctor information names OpenBLAS and its thread count', () => {
    const info = native!.info();
    assert.match(info.config, /OpenBLAS/);
    assert.equal(info.numThreads, native!.getThreads());
    assert.ok(info.numProcs >= 1);
    assert.equal(native!.backend.name, 'openblas');
  });
});

// ---------------------------------------------------------------- kernel recursion

/** Seeded `[n, d]` points with antipodal pairs and a duplicate (angles 0 and π at layer 1). */
function recursionPoints(n: number, d: number, seed: string): Float64Array {
  const x = randomMatrix(n, d, seed);
  for (let k = 0; k < d; k++) {
    x[(n - 1) * d + k] = -x[k];
    x[(n - 2) * d + k] = -x[d + k];
    x[(n - 3) * d + k] = x[2 * d + k];
  }
  return x;
}

describe('native ReLU recursion step', { skip }, () => {
  test('its fdlibm sin, cos and asin equal Math.sin, Math.cos and Math.asin bit for bit (seeded arguments and edges)', () => {
    const rng = makeRng({ purpose: 'test/linalg-native fdlibm' });
    const m = 200_000;
    const edges = [0, 5e-324, 1e-300, 1e-9, 3.7e-9, 0.25, 0.5, 0.7853981633974483, 0.7853981633974484, 0.78125, 0.975, 1, 1.5707963267341256, 1.5707963267948966];
    const cases: [fn: 'sin' | 'cos' | 'asin', lo: number, hi: number, ref: (v: number) => number][] = [
      ['sin', 0, Math.PI / 2, Math.sin],
      ['cos', Math.PI / 4, Math.PI / 2, Math.cos],
      ['asin', 0, 1, Math.asin],
    ];
    for (const [fn, lo, hi, ref] of cases) {
      const x = new Float64Array(m + edges.length);
      // uniform, and clustered at both ends of the range (where the fdlibm branches switch)
      for (let i = 0; i < m; i++) {
        const u = rng.uniform();
        x[i] = i % 3 === 0 ? lo + (hi - lo) * u : i % 3 === 1 ? lo + (hi - lo) * u ** 8 : hi - (hi - lo) * u ** 8;
      }
      edges.forEach((v, i) => (x[m + i] = Math.min(hi, Math.max(lo, v))));
      const y = native!.fdlibmProbe(fn, x);
      let bad = 0;
      let first = '';
      for (let i = 0; i < x.length; i++) {
        if (!Object.is(y[i], ref(x[i]))) {
          bad++;
          first ||= `${fn}(${x[i]}): native ${y[i]}, Math ${ref(x[i])}`;
        }
      }
      assert.equal(bad, 0, `${bad} of ${x.length} differ; first ${first}`);
    }
  });

  test('reluKernelStep on the native backend is bit-identical to the JS step at 1, 2 and 3 threads (antipodal and duplicate points, with and without the NTK)', async () => {
    const { inputKernel, reluKernelStep } = await import('../src/ntk/index.js');
    const { jsBackend } = await import('../src/linalg/js.js');
    const { linalg, setLinalg } = await import('../src/linalg/index.js');
    const before = linalg();
    const saved = native!.getThreads();
    const n = 700;
    const d = 20;
    const x = recursionPoints(n, d, 'relu-step');
    const run = (backend: LinalgBackend, ntk: boolean, params: { sigma_w: number; sigma_b: number }) => {
      setLinalg(jsBackend);
      const st = inputKernel(x, n, d, params, { ntk });
      setLinalg(backend);
      for (let l = 1; l < 40; l++) reluKernelStep(st, params);
      return st;
    };
    try {
      for (const params of [{ sigma_w: 1, sigma_b: 0 }, { sigma_w: 1.4, sigma_b: 0.3 }]) {
        for (const ntk of [true, false]) {
          const js = run(jsBackend, ntk, params);
          for (const threads of [1, 2, 3]) {
            native!.setThreads(threads);
            const nat = run(nb(), ntk, params);
            const what = `σ_w=${params.sigma_w} σ_b=${params.sigma_b} ntk=${ntk} threads=${threads}`;
            for (let i = 1; i < n; i++) {
              for (let j = 0; j < i; j++) {
                const k = i * n + j;
                if (!Object.is(nat.theta[k], js.theta[k])) assert.fail(`θ[${i},${j}] ${nat.theta[k]} vs ${js.theta[k]} (${what})`);
                if (ntk && !Object.is(nat.ntk_bar![k], js.ntk_bar![k])) assert.fail(`Θ̄[${i},${j}] ${nat.ntk_bar![k]} vs ${js.ntk_bar![k]} (${what})`);
              }
            }
            assert.deepEqual(nat.log_ntk_diag, js.log_ntk_diag);
          }
        }
      }
    } finally {
      native!.setThreads(saved);
      setLinalg(before);
    }
  });

  test('activationPairs agrees with the JS advancePairs to rounding for every closed-form activation (40 layers, antipodal and duplicate points)', async () => {
    const { activationOf, inputKernel, activationKernelStep, ACTIVATION_NAMES } = await import('../src/ntk/index.js');
    const { jsBackend } = await import('../src/linalg/js.js');
    const { linalg, setLinalg } = await import('../src/linalg/index.js');
    const before = linalg();
    const n = 120;
    const d = 8;
    const x = recursionPoints(n, d, 'activation-step');
    try {
      for (const name of ACTIVATION_NAMES) {
        const act = activationOf(name, { activation_alpha: 0.2 });
        const params = { sigma_w: 1.3, sigma_b: 0.25 };
        const run = (backend: LinalgBackend) => {
          setLinalg(jsBackend);
          const st = inputKernel(x, n, d, params, { ntk: act.has_ntk });
          setLinalg(backend);
          for (let l = 1; l < 40; l++) activationKernelStep(st, act, params);
          return st;
        };
        const js = run(jsBackend);
        const nat = run(nb());
        let worst = 0;
        for (let i = 1; i < n; i++) {
          for (let j = 0; j < i; j++) {
            const k = i * n + j;
            worst = Math.max(worst, Math.abs(Math.cos(nat.theta[k]) - Math.cos(js.theta[k])));
            if (act.has_ntk) worst = Math.max(worst, Math.abs(nat.ntk_bar![k] - js.ntk_bar![k]));
          }
        }
        assert.ok(worst <= 1e-13, `${name}: largest difference of ρ or Θ̄ ${worst}`);
      }
    } finally {
      setLinalg(before);
    }
  });

  test('mirrorLower copies the lower triangle onto the upper one exactly (n not a multiple of the block)', async () => {
    const { mirrorLower } = await import('../src/linalg/mirror.js');
    const n = 77;
    const a = randomMatrix(n, n, 'mirror');
    const b = Float64Array.from(a);
    native!.backend.mirrorLower!(n, a);
    mirrorLower(n, b);
    assert.deepEqual(a, b);
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) assert.equal(a[j * n + i], a[i * n + j]);
  });
});

// ---------------------------------------------------------------- selection (runs with or without the addon)

/** Runs selectBackendFromEnv in a fresh worker (fresh module cache) with the given env. */
function selectInWorker(env: Record<string, string>): Promise<{ name?: string; fallbackReason?: string; error?: string }> {
  const src = `
  const { parentPort, workerData } = require('node:worker_threads');
  import(workerData.nativeUrl).then(({ selectBackendFromEnv }) => {
    try {
      const s = selectBackendFromEnv();
      parentPort.postMessage({ name: s.backend.name, fallbackReason: s.fallbackReason });
    } catch (e) { parentPort.postMessage({ error: e.message }); }
  });`;
  const nativeUrl = new URL('../src/linalg/native.js', import.meta.url).href;
  const w = new Worker(src, { eval: true, workerData: { nativeUrl }, env: { ...process.env, ...env } });
  return new Promise((resolve, reject) => {
    w.once('message', (m) => {
      void w.terminate();
      resolve(m);
    });
    w.once('error', reject);
  });
}

describe('backend selection from NTK_SWEEP_LINALG', () => {
  test('without the addon, auto falls back to the JS backend and says why; native is an error', async () => {
    const missing = { NTK_SWEEP_NATIVE_ADDON: '/nonexistent/ntk_linalg.node' };
    const auto = await selectInWorker({ ...missing, NTK_SWEEP_LINALG: '' });
    assert.equal(auto.name, 'ml-matrix');
    assert.match(auto.fallbackReason ?? '', /does not exist/);
    const forced = await selectInWorker({ ...missing, NTK_SWEEP_LINALG: 'native' });
    assert.match(forced.error ?? '', /NTK_SWEEP_LINALG=native but the native backend is unavailable/);
  });

  test('explicit choices and invalid values', () => {
    const js: LinalgBackend = { ...mlMatrixBackend, name: 'js' };
    assert.equal(selectBackendFromEnv({ env: { NTK_SWEEP_LINALG: 'ml-matrix' } }).backend, mlMatrixBackend);
    assert.equal(selectBackendFromEnv({ js, env: { NTK_SWEEP_LINALG: 'js' } }).backend, js);
    assert.equal(selectBackendFromEnv({ env: { NTK_SWEEP_LINALG: 'js' } }).backend, mlMatrixBackend);
    assert.throws(() => selectBackendFromEnv({ env: { NTK_SWEEP_LINALG: 'cuda' } }), /not one of auto, native, js, ml-matrix/);
  });

  test('with the addon built, auto and native select openblas', { skip }, () => {
    assert.equal(selectBackendFromEnv({ env: {} }).backend.name, 'openblas');
    assert.equal(selectBackendFromEnv({ env: { NTK_SWEEP_LINALG: 'native' } }).backend.name, 'openblas');
  });
});
