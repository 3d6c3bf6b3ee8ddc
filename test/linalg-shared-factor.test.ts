/**
 * Storage that saves `[n, n]` buffers in the kernel task: a Cholesky factor sharing its matrix's
 * buffer (`choleskyInPlace`, `symmUpper`, `factorSharedInPlace`, `denseSymOp` with
 * `upper_diag`) on every backend (the active one: the native pass of the suite runs this file
 * again on OpenBLAS), and recursion states kept in lower triangles only (`mirror: false`) with the
 * NTK train block borrowed from the state (`borrowNtkBlocks`). Exact where the operations are
 * copies; rounding-level bounds where they are arithmetic.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { makeRng } from '../src/util/rng.js';
import type { LinalgBackend } from '../src/linalg/backend.js';
import { linalg } from '../src/linalg/index.js';
import { jsBackend } from '../src/linalg/js.js';
import { mlMatrixBackend } from '../src/linalg/mlmatrix.js';
import { choleskyInverseOp, denseSymOp, factorSharedInPlace } from '../src/linalg/krylov.js';
import { kernelFold } from '../src/ntk/fold.js';
import { inputKernel } from '../src/ntk/input.js';
import { borrowNtkBlocks, normalizedBlocks, takeNormalizedBlocks } from '../src/ntk/kernel-matrix.js';
import type { KernelState } from '../src/ntk/state.js';

const EPS = 2 ** -52;

function random(len: number, seed: string): Float64Array {
  const rng = makeRng({ purpose: 'test/linalg-shared-factor', seed });
  const a = new Float64Array(len);
  for (let i = 0; i < len; i++) a[i] = rng.uniform() * 2 - 1;
  return a;
}

/** A symmetric positive-definite `[n, n]` matrix `G Gᵀ/n + I`, both triangles written. */
function spd(n: number, seed: string): Float64Array {
  const g = random(n * n, seed);
  const a = new Float64Array(n * n);
  jsBackend.gemm(false, true, n, n, n, 1 / n, g, g, 0, a);
  for (let i = 0; i < n; i++) {
    a[i * n + i] += 1;
    for (let j = 0; j < i; j++) a[j * n + i] = a[i * n + j];
  }
  return a;
}

function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const backends: [string, () => LinalgBackend][] = [
  ['active', () => linalg()],
  ['ml-matrix', () => mlMatrixBackend],
];

describe('a Cholesky factor sharing its matrix buffer', () => {
  for (const [name, be] of backends) {
    it(`choleskyInPlace (${name}) writes cholesky's factor into the lower triangle and leaves the strict upper triangle untouched, n = 1..150`, () => {
      for (const n of [1, 2, 5, 64, 65, 150]) {
        const a = spd(n, `chol-${n}`);
        const upperBefore = a.slice();
        const l = be().cholesky(n, a);
        assert.ok(l !== null);
        assert.equal(be().choleskyInPlace(n, a), true);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) {
            if (j > i) assert.equal(a[i * n + j], upperBefore[i * n + j], `upper [${i}, ${j}] changed`);
            else assert.ok(Math.abs(a[i * n + j] - l[i * n + j]) <= 64 * n * EPS, `L[${i}, ${j}] ${a[i * n + j]} vs ${l[i * n + j]}`);
          }
        }
      }
    });

    it(`choleskyInPlace (${name}) reports an indefinite matrix with false`, () => {
      const a = new Float64Array([1, 2, 2, 1]);
      assert.equal(be().choleskyInPlace(2, a), false);
    });

    it(`symmUpper (${name}) equals the product with the full symmetric matrix whatever the lower triangle holds`, () => {
      const n = 37;
      const rows = 5;
      const full = spd(n, 'symm');
      const garbage = full.slice();
      for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) garbage[i * n + j] = 1e300;
      const v = random(rows * n, 'symm-v');
      const want = new Float64Array(rows * n);
      jsBackend.gemm(false, false, rows, n, n, 1, v, full, 0, want);
      const got = new Float64Array(rows * n);
      be().symmUpper(rows, n, v, garbage, got);
      assert.ok(maxAbsDiff(got, want) <= 4 * n * EPS * 10, `max diff ${maxAbsDiff(got, want)}`);
    });
  }

  it('factorSharedInPlace keeps the operator of B (upper triangle, diagonal apart) and its inverse in one buffer', () => {
    const n = 90;
    const b = spd(n, 'shared');
    const diag = new Float64Array(n);
    for (let i = 0; i < n; i++) diag[i] = b[i * n + i];
    const shared = b.slice();
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) shared[i * n + j] = NaN; // the lower triangle is rebuilt
    assert.equal(factorSharedInPlace(n, shared, diag), true);
    const x = random(3 * n, 'shared-x');
    const bx = new Float64Array(3 * n);
    denseSymOp(n, b).apply(x, 3, bx);
    const bxShared = new Float64Array(3 * n);
    denseSymOp(n, shared, { upper_diag: diag }).apply(x, 3, bxShared);
    assert.ok(maxAbsDiff(bxShared, bx) <= 1e-13, `B x: ${maxAbsDiff(bxShared, bx)}`);
    const back = new Float64Array(3 * n);
    choleskyInverseOp(n, shared).apply(bx, 3, back);
    assert.ok(maxAbsDiff(back, x) <= 1e-12, `B⁻¹ B x − x: ${maxAbsDiff(back, x)}`);
    // a scaled, shifted operator reads the same triangle
    const s = random(n, 'shared-s').map((v) => 1.5 + v);
    const want = new Float64Array(3 * n);
    denseSymOp(n, b, { scale: s, shift: 0.25 }).apply(x, 3, want);
    const got = new Float64Array(3 * n);
    denseSymOp(n, shared, { scale: s, shift: 0.25, upper_diag: diag }).apply(x, 3, got);
    assert.ok(maxAbsDiff(got, want) <= 1e-13, `D B D + σI: ${maxAbsDiff(got, want)}`);
  });
});

function points(n: number, d: number): Float64Array {
  return random(n * d, `points-${n}-${d}`);
}

describe('recursion states in lower triangles only', () => {
  it('inputKernel with mirror: false writes the same lower triangles as with the default, and the default is exactly symmetric', () => {
    const n = 40;
    const d = 7;
    const x = points(n, d);
    const full = inputKernel(x, n, d, { sigma_w: 1.3, sigma_b: 0.2 });
    const lower = inputKernel(x, n, d, { sigma_w: 1.3, sigma_b: 0.2 }, { mirror: false });
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        assert.ok(Object.is(lower.theta[i * n + j], full.theta[i * n + j]));
        assert.ok(Object.is(lower.ntk_bar![i * n + j], full.ntk_bar![i * n + j]));
        assert.ok(Object.is(full.theta[j * n + i], full.theta[i * n + j]));
        assert.ok(Object.is(full.ntk_bar![j * n + i], full.ntk_bar![i * n + j]));
      }
    }
  });

  it('borrowing the NTK blocks at every depth gives the blocks of normalizedBlocks and leaves the recursion bit for bit unchanged', () => {
    const n = 57;
    const N = 45;
    const d = 6;
    const x = points(n, d);
    const depths = [1, 2, 3, 5, 8];
    const want = new Map<number, { train: Float64Array; cross: Float64Array }>();
    kernelFold(x, n, d, { sigma_w: 1.1, sigma_b: 0.3, depths }, (L, state) => {
      const train = new Float64Array(N * N);
      const cross = new Float64Array((n - N) * N);
      normalizedBlocks(state, 'ntk', N, train, cross);
      want.set(L, { train, cross });
    });
    let finalTrain = new Float64Array(0);
    kernelFold(x, n, d, { sigma_w: 1.1, sigma_b: 0.3, depths, mirror: false }, (L, state) => {
      const cross = new Float64Array((n - N) * N);
      if (L === 8) {
        finalTrain = takeNormalizedBlocks(state as KernelState, 'ntk', N, cross).slice();
        assert.deepEqual(finalTrain, want.get(L)!.train);
        assert.deepEqual(cross, want.get(L)!.cross);
        return;
      }
      const { train, restore } = borrowNtkBlocks(state as KernelState, N, cross);
      assert.deepEqual(train, want.get(L)!.train, `train block at depth ${L}`);
      assert.deepEqual(cross, want.get(L)!.cross, `cross block at depth ${L}`);
      train.fill(NaN); // a solver may overwrite the block
      restore();
    });
    assert.equal(finalTrain.length, N * N);
  });
});
