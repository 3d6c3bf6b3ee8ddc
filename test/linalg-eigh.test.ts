/**
 * Symmetric eigendecomposition (`eigh`) of every backend: invariants (A V = V Λ, VᵀV = I,
 * ascending order), cross-checks of the js backend against ml-matrix, and adversarial inputs
 * (rank-deficient Gram matrices, the deep-kernel limit ¼·11ᵀ + ¾·I, diagonal, tridiagonal,
 * clustered spectra, extreme scaling, 1×1 and 2×2).
 *
 * Tolerance (documented in src/linalg/js/eigh.ts): with ε = 2⁻⁵² and TOL(n) = 50·n·ε,
 * ‖A V − V Λ‖_F ≤ TOL(n)·‖A‖_F, ‖VᵀV − I‖_F ≤ TOL(n), |λ_js − λ_ml| ≤ TOL(n)·‖A‖_F.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { makeRng, type Rng } from '../src/util/rng.js';
import type { LinalgBackend, SymmetricEigen } from '../src/linalg/backend.js';
import { linalg, setLinalg } from '../src/linalg/index.js';
import { jsBackend } from '../src/linalg/js.js';
import { tridiagonalQL } from '../src/linalg/js/tridiagonal-ql.js';
import { mlMatrixBackend } from '../src/linalg/mlmatrix.js';

const EPS = 2 ** -52;
const TOL = (n: number): number => 50 * n * EPS;
const BACKENDS: LinalgBackend[] = [jsBackend, mlMatrixBackend];

function randomSymmetric(rng: Rng, n: number): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = rng.normal();
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  }
  return a;
}

/** Gram matrix X Xᵀ of X [n, r] (naive loops, exactly symmetric). */
function gram(x: Float64Array, n: number, r: number): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let p = 0; p < r; p++) s += x[i * r + p] * x[j * r + p];
      a[i * n + j] = s;
      a[j * n + i] = s;
    }
  }
  return a;
}

function frob(a: Float64Array): number {
  let s = 0;
  for (const v of a) s += v * v;
  return Math.sqrt(s);
}

/** ‖A V − V Λ‖_F and ‖VᵀV − I‖_F by naive loops. */
function residuals(n: number, a: Float64Array, { values, vectors }: SymmetricEigen): { res: number; orth: number } {
  let res = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k] * vectors[k * n + j];
      const r = s - values[j] * vectors[i * n + j];
      res += r * r;
    }
  }
  let orth = 0;
  for (let p = 0; p < n; p++) {
    for (let q = 0; q < n; q++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += vectors[k * n + p] * vectors[k * n + q];
      const r = s - (p === q ? 1 : 0);
      orth += r * r;
    }
  }
  return { res: Math.sqrt(res), orth: Math.sqrt(orth) };
}

/** Assert the decomposition invariants of `eig` for `a` within TOL(n). */
function assertEigenInvariants(n: number, a: Float64Array, eig: SymmetricEigen, label: string): void {
  assert.equal(eig.values.length, n, `${label}: values length`);
  assert.equal(eig.vectors.length, n * n, `${label}: vectors length`);
  for (let j = 1; j < n; j++) assert.ok(eig.values[j - 1] <= eig.values[j], `${label}: values ascending at ${j}`);
  const { res, orth } = residuals(n, a, eig);
  const na = Math.max(frob(a), Number.MIN_VALUE);
  assert.ok(res <= TOL(n) * na, `${label}: ‖AV − VΛ‖_F = ${res} > ${TOL(n) * na}`);
  assert.ok(orth <= TOL(n), `${label}: ‖VᵀV − I‖_F = ${orth} > ${TOL(n)}`);
}

function assertValuesClose(actual: Float64Array, expected: ArrayLike<number>, tol: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let j = 0; j < actual.length; j++) {
    const diff = Math.abs(actual[j] - expected[j]);
    assert.ok(diff <= tol, `${label}: eigenvalue ${j}: ${actual[j]} vs ${expected[j]} (|diff| ${diff} > ${tol})`);
  }
}

/** Dense orthogonal Q = H1 H2 H3 (three random Householder reflections). */
function randomOrthogonal(rng: Rng, n: number): Float64Array {
  let q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  for (let t = 0; t < 3; t++) {
    const v = new Float64Array(n);
    rng.fillNormal(v);
    let vv = 0;
    for (const x of v) vv += x * x;
    // q ← q (I − 2 v vᵀ / vᵀv)
    const next = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += q[i * n + k] * v[k];
      const f = (2 * s) / vv;
      for (let k = 0; k < n; k++) next[i * n + k] = q[i * n + k] - f * v[k];
    }
    q = next;
  }
  return q;
}

/** A = Q diag(lambda) Qᵀ (lower triangle computed, then mirrored: exactly symmetric). */
function withSpectrum(q: Float64Array, lambda: ArrayLike<number>, n: number): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += q[i * n + k] * lambda[k] * q[j * n + k];
      a[i * n + j] = s;
      a[j * n + i] = s;
    }
  }
  return a;
}

describe('eigh: invariants on random symmetric matrices', () => {
  for (const backend of BACKENDS) {
    for (const n of [1, 2, 3, 10, 57, backend === mlMatrixBackend ? 100 : 200]) {
      it(`${backend.name}: n = ${n}: A V = V Λ, VᵀV = I, values ascending`, () => {
        const a = randomSymmetric(makeRng({ test: 'eigh-random', n }), n);
        assertEigenInvariants(n, a, backend.eigh(n, a), `${backend.name} n=${n}`);
      });
    }
  }
});

describe('eigh: js agrees with ml-matrix', () => {
  for (const n of [2, 5, 31, 64, 130]) {
    it(`n = ${n}: eigenvalues within 50·n·ε·‖A‖_F, eigenvectors equal up to sign where the gap is large`, () => {
      const a = randomSymmetric(makeRng({ test: 'eigh-cross', n }), n);
      const js = jsBackend.eigh(n, a);
      const ml = mlMatrixBackend.eigh(n, a);
      const na = frob(a);
      assertValuesClose(js.values, ml.values, TOL(n) * na, `n=${n}`);
      for (let j = 0; j < n; j++) {
        const gap = Math.min(
          j > 0 ? js.values[j] - js.values[j - 1] : Infinity,
          j < n - 1 ? js.values[j + 1] - js.values[j] : Infinity,
        );
        if (gap < 1e-3 * na) continue;
        let dot = 0;
        for (let i = 0; i < n; i++) dot += js.vectors[i * n + j] * ml.vectors[i * n + j];
        // sin∠(v_js, v_ml) ≲ ε‖A‖/gap (Davis–Kahan), so 1 − |cos| ≲ (ε‖A‖/gap)²
        assert.ok(1 - Math.abs(dot) <= 1e-10, `n=${n}: eigenvector ${j}: |cos| = ${Math.abs(dot)}`);
      }
    });
  }
});

describe('eigh: adversarial matrices (js and ml-matrix)', () => {
  for (const backend of BACKENDS) {
    const b = backend.name;

    it(`${b}: 1×1 returns the entry and the unit vector`, () => {
      const { values, vectors } = backend.eigh(1, Float64Array.of(-3.5));
      assert.deepEqual([...values], [-3.5]);
      assert.deepEqual([...vectors], [1]);
    });

    it(`${b}: 2×2 matches the closed form (a+c)/2 ± sqrt(((a−c)/2)² + b²)`, () => {
      const [x, y, z] = [2, -1.5, 0.25]; // [[x, y], [y, z]]
      const a = Float64Array.of(x, y, y, z);
      const m = (x + z) / 2;
      const r = Math.sqrt(((x - z) / 2) ** 2 + y * y);
      const eig = backend.eigh(2, a);
      assertValuesClose(eig.values, [m - r, m + r], TOL(2) * frob(a), `${b} 2x2`);
      assertEigenInvariants(2, a, eig, `${b} 2x2`);
    });

    it(`${b}: diagonal matrix: eigenvalues are the sorted diagonal`, () => {
      const diag = [3, -1, 0, 7, -1, 2.5, 1e-300, -4];
      const n = diag.length;
      const a = new Float64Array(n * n);
      diag.forEach((v, i) => (a[i * n + i] = v));
      const eig = backend.eigh(n, a);
      assertValuesClose(eig.values, [...diag].sort((p, q) => p - q), 0, `${b} diagonal`);
      assertEigenInvariants(n, a, eig, `${b} diagonal`);
    });

    it(`${b}: already tridiagonal (1-D Laplacian): eigenvalues 2 − 2cos(kπ/(n+1))`, () => {
      const n = 90;
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        a[i * n + i] = 2;
        if (i > 0) a[i * n + i - 1] = a[(i - 1) * n + i] = -1;
      }
      const exact = Array.from({ length: n }, (_, k) => 2 - 2 * Math.cos(((k + 1) * Math.PI) / (n + 1)));
      const eig = backend.eigh(n, a);
      assertValuesClose(eig.values, exact, TOL(n) * frob(a), `${b} laplacian`);
      assertEigenInvariants(n, a, eig, `${b} laplacian`);
    });

    it(`${b}: deep-kernel limit ¼·11ᵀ + ¾·I: eigenvalue ¾ (multiplicity n−1) and ¾ + n/4`, () => {
      const n = backend === mlMatrixBackend ? 80 : 150;
      const a = new Float64Array(n * n).fill(0.25);
      for (let i = 0; i < n; i++) a[i * n + i] = 1;
      const eig = backend.eigh(n, a);
      const exact = [...new Array<number>(n - 1).fill(0.75), 0.75 + n / 4];
      assertValuesClose(eig.values, exact, TOL(n) * frob(a), `${b} deep limit`);
      assertEigenInvariants(n, a, eig, `${b} deep limit`);
      // The top eigenvector is ±1/√n · 1.
      for (let i = 0; i < n; i++) {
        assert.ok(Math.abs(Math.abs(eig.vectors[i * n + n - 1]) - 1 / Math.sqrt(n)) < 1e-12, `top vector entry ${i}`);
      }
    });

    it(`${b}: near the deep-kernel limit (¼·11ᵀ + ¾·I + 1e-9·S): tight cluster at ¾`, () => {
      const n = 100;
      const s = randomSymmetric(makeRng({ test: 'eigh-near-limit' }), n);
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) a[i * n + j] = (i === j ? 1 : 0.25) + 1e-9 * s[i * n + j];
      }
      const eig = backend.eigh(n, a);
      assertEigenInvariants(n, a, eig, `${b} near limit`);
      // Weyl: each eigenvalue moves by at most ‖1e-9·S‖₂ ≤ 1e-9·‖S‖_F from the exact limit values.
      const shift = 1e-9 * frob(s) + TOL(n) * frob(a);
      for (let j = 0; j < n - 1; j++) assert.ok(Math.abs(eig.values[j] - 0.75) <= shift, `cluster value ${j}`);
      assert.ok(Math.abs(eig.values[n - 1] - (0.75 + n / 4)) <= shift, 'top value');
    });

    it(`${b}: rank-deficient Gram matrix (duplicated rows): n − rank eigenvalues ≈ 0, none below −tol`, () => {
      const n = 60;
      const r = 7;
      const rng = makeRng({ test: 'eigh-rank-deficient' });
      const x = new Float64Array(n * r);
      rng.fillNormal(x.subarray(0, 20 * r)); // rows 20 … 59 repeat rows 0 … 19
      for (let i = 20; i < n; i++) x.copyWithin(i * r, (i % 20) * r, (i % 20) * r + r);
      const a = gram(x, n, r);
      const eig = backend.eigh(n, a);
      assertEigenInvariants(n, a, eig, `${b} rank-deficient`);
      const tol = TOL(n) * frob(a);
      for (let j = 0; j < n - r; j++) assert.ok(Math.abs(eig.values[j]) <= tol, `${b}: null eigenvalue ${j} = ${eig.values[j]}`);
      for (let j = n - r; j < n; j++) assert.ok(eig.values[j] > tol, `${b}: eigenvalue ${j} = ${eig.values[j]} should be positive`);
    });

    it(`${b}: prescribed clustered spectrum (exact repeats and gaps of 1e-12) is recovered`, () => {
      const n = 48;
      const lambda = Array.from({ length: n }, (_, k) => (k < 16 ? 1 : k < 32 ? 1 + (k - 16) * 1e-12 : -2 + k * 1e-3));
      const a = withSpectrum(randomOrthogonal(makeRng({ test: 'eigh-clusters' }), n), lambda, n);
      const eig = backend.eigh(n, a);
      assertEigenInvariants(n, a, eig, `${b} clusters`);
      assertValuesClose(eig.values, [...lambda].sort((p, q) => p - q), TOL(n) * frob(a), `${b} clusters`);
    });

    it(`${b}: only the lower triangle is read and the input is not modified`, () => {
      const n = 12;
      const a = randomSymmetric(makeRng({ test: 'eigh-lower' }), n);
      const poisoned = a.slice();
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) poisoned[i * n + j] = NaN;
      const before = poisoned.slice();
      const eig = backend.eigh(n, poisoned);
      assertEigenInvariants(n, a, eig, `${b} lower only`);
      assert.deepEqual(poisoned, before);
    });

    it(`${b}: NaN or Infinity in the lower triangle throws an Error naming the entry`, () => {
      const a = randomSymmetric(makeRng({ test: 'eigh-nan' }), 4);
      a[2 * 4 + 1] = NaN;
      assert.throws(() => backend.eigh(4, a), /\[2, 1\] is NaN/);
      a[2 * 4 + 1] = 0;
      a[3 * 4 + 3] = -Infinity;
      assert.throws(() => backend.eigh(4, a), /\[3, 3\] is -Infinity/);
    });
  }
});

describe('eigh (js): exactness properties', () => {
  // (ml-matrix throws "Matrix must be non-empty" for n = 0, so this one is js-only.)
  it('n = 0 gives empty results', () => {
    const { values, vectors } = jsBackend.eigh(0, new Float64Array(0));
    assert.equal(values.length, 0);
    assert.equal(vectors.length, 0);
  });

  it('scaling A by 2^±600 scales the eigenvalues exactly and leaves the eigenvectors unchanged', () => {
    const n = 40;
    const a = randomSymmetric(makeRng({ test: 'eigh-scaling' }), n);
    const base = jsBackend.eigh(n, a);
    for (const e of [600, -600]) {
      const f = 2 ** e;
      const scaled = jsBackend.eigh(n, a.map((v) => v * f));
      assert.deepEqual(scaled.values, base.values.map((v) => v * f), `2^${e} values`);
      assert.deepEqual(scaled.vectors, base.vectors, `2^${e} vectors`);
    }
  });

  it('is deterministic: the same input gives bit-identical output', () => {
    const n = 75;
    const a = randomSymmetric(makeRng({ test: 'eigh-determinism' }), n);
    const x = jsBackend.eigh(n, a);
    const y = jsBackend.eigh(n, a.slice());
    assert.deepEqual(x.values, y.values);
    assert.deepEqual(x.vectors, y.vectors);
  });

  it('tridiagonal QL throws a non-convergence Error when the tridiagonal contains NaN', () => {
    const n = 5;
    const d = Float64Array.of(1, 2, NaN, 4, 5);
    const e = Float64Array.of(1, 1, 1, 1, 0);
    const zt = new Float64Array(n * n);
    assert.throws(() => tridiagonalQL(n, d, e, zt), /did not converge/);
  });

  it('rejects a buffer shorter than n²', () => {
    assert.throws(() => jsBackend.eigh(3, new Float64Array(8)), RangeError);
  });
});

describe('linalg() selection', () => {
  it('setLinalg replaces the backend returned by linalg()', () => {
    const before = linalg();
    try {
      setLinalg(mlMatrixBackend);
      assert.equal(linalg(), mlMatrixBackend);
      setLinalg(jsBackend);
      assert.equal(linalg(), jsBackend);
    } finally {
      setLinalg(before);
    }
  });
});
