/**
 * Portable reference backend over `ml-matrix`. Slow but simple; used as the fallback and as
 * the reference other backends are cross-checked against.
 *
 * `ml-matrix` is loaded on the first call of a backend function, not when this module is
 * imported: every thread imports this module (through the backend selection) but almost none
 * uses it, and loading it costs tens of milliseconds of start time per process and thread.
 */
import { createRequire } from 'node:module';
import type { Matrix } from 'ml-matrix';
import type { LinalgBackend, SymmetricEigen } from './backend.js';

type MlMatrix = typeof import('ml-matrix');
let lib: MlMatrix | undefined;

/** The `ml-matrix` package, loaded (through its CommonJS entry, synchronously) on first use. */
function ml(): MlMatrix {
  lib ??= createRequire(import.meta.url)('ml-matrix') as MlMatrix;
  return lib;
}

function toMatrix(rows: number, cols: number, a: Float64Array, trans: boolean): Matrix {
  const { Matrix } = ml();
  const m = trans ? new Matrix(cols, rows) : new Matrix(rows, cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      if (trans) m.set(j, i, a[i * cols + j]);
      else m.set(i, j, a[i * cols + j]);
    }
  }
  return m;
}

function symmetricFromLower(n: number, a: Float64Array): Matrix {
  const m = new (ml().Matrix)(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = a[i * n + j];
      if (!Number.isFinite(v)) throw new Error(`eigh: matrix entry [${i}, ${j}] is ${v}`);
      m.set(i, j, v);
      m.set(j, i, v);
    }
  }
  return m;
}

export const mlMatrixBackend: LinalgBackend = {
  name: 'ml-matrix',

  gemm(transA, transB, m, n, k, alpha, a, b, beta, c) {
    const A = transA ? toMatrix(k, m, a, true) : toMatrix(m, k, a, false);
    const B = transB ? toMatrix(n, k, b, true) : toMatrix(k, n, b, false);
    const P = A.mmul(B);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const prev = beta === 0 ? 0 : beta * c[i * n + j];
        c[i * n + j] = alpha * P.get(i, j) + prev;
      }
    }
  },

  syrk(n, k, alpha, a, beta, c) {
    const A = toMatrix(n, k, a, false);
    const P = A.mmul(A.transpose());
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        const prev = beta === 0 ? 0 : beta * c[i * n + j];
        const v = alpha * P.get(i, j) + prev;
        c[i * n + j] = v;
        c[j * n + i] = v;
      }
    }
  },

  eigh(n, a): SymmetricEigen {
    const e = new (ml().EigenvalueDecomposition)(symmetricFromLower(n, a), { assumeSymmetric: true });
    const raw = e.realEigenvalues;
    const V = e.eigenvectorMatrix;
    const order = raw.map((_, i) => i).sort((p, q) => raw[p] - raw[q]);
    const values = new Float64Array(n);
    const vectors = new Float64Array(n * n);
    order.forEach((src, dst) => {
      values[dst] = raw[src];
      for (let i = 0; i < n; i++) vectors[i * n + dst] = V.get(i, src);
    });
    return { values, vectors };
  },

  cholesky(n, a) {
    const c = new (ml().CholeskyDecomposition)(symmetricFromLower(n, a));
    if (!c.isPositiveDefinite()) return null;
    const L = c.lowerTriangularMatrix;
    const out = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) out[i * n + j] = L.get(i, j);
    return out;
  },

  choleskyInPlace(n, a) {
    const l = mlMatrixBackend.cholesky(n, a);
    if (l === null) return false;
    for (let i = 0; i < n; i++) a.set(l.subarray(i * n, i * n + i + 1), i * n);
    return true;
  },

  // no ml-matrix counterpart: the reference product, one dot per entry
  symmUpper(rows, n, v, a, out) {
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += v[r * n + k] * (k <= j ? a[k * n + j] : a[j * n + k]);
        out[r * n + j] = s;
      }
    }
  },

  choleskySolve(n, l, nrhs, b) {
    // forward then backward substitution, column by column of B
    for (let r = 0; r < nrhs; r++) {
      for (let i = 0; i < n; i++) {
        let s = b[i * nrhs + r];
        for (let k = 0; k < i; k++) s -= l[i * n + k] * b[k * nrhs + r];
        b[i * nrhs + r] = s / l[i * n + i];
      }
      for (let i = n - 1; i >= 0; i--) {
        let s = b[i * nrhs + r];
        for (let k = i + 1; k < n; k++) s -= l[k * n + i] * b[k * nrhs + r];
        b[i * nrhs + r] = s / l[i * n + i];
      }
    }
    return b;
  },
};
