/**
 * Cache-blocked general matrix product for the pure-TypeScript backend.
 *
 * Algorithm: the Goto/van de Geijn blocking used by GotoBLAS/OpenBLAS/BLIS (K. Goto and
 * R. van de Geijn, "Anatomy of high-performance matrix multiplication", ACM TOMS 34(3), 2008;
 * Golub & Van Loan, *Matrix Computations* 4th ed., §1.5). `op(B)` is copied ("packed") in
 * `KC × NC` blocks into `NR`-column micro-panels, `alpha · op(A)` in `MC × KC` blocks into
 * `MR`-row micro-panels, and a `4 × 4` register-tile micro-kernel accumulates each tile of C
 * over `KC`. Transposes are absorbed by the packing, so all four cases run the same kernel.
 * Partial edge tiles are zero-padded in the packed panels and stored with a masked write.
 *
 * Determinism: the summation order depends only on (m, n, k) and the block sizes below, never
 * on timing, so results are bit-for-bit repeatable.
 */

/** Rows of the register tile. */
const MR = 4;
/** Columns of the register tile. */
const NR = 4;
/** Depth of a packed block (shared dimension). */
const KC = 256;
/** Rows of a packed block of op(A) (`MC × KC` doubles = 128 KiB, sized for L2). */
const MC = 64;
/** Columns of a packed block of op(B) (`KC × NC` doubles = 4 MiB, sized for L3). */
const NC = 2048;
/** Below this many multiply-adds (m·n·k) a plain triple loop is used (no packing). */
const SMALL_WORK = 32 * 32 * 32;

let packA = new Float64Array(MC * KC);
let packB = new Float64Array(KC * NR);
const edgeTile = new Float64Array(MR * NR);

/**
 * Strided general matrix product `C ← alpha · op(A) · op(B) + beta · C` on sub-matrices of
 * row-major buffers (the BLAS `dgemm` contract with leading dimensions and offsets).
 *
 * Element `(i, p)` of `op(A)` (`[m, k]`) is `a[aOff + i * lda + p]`, or `a[aOff + p * lda + i]`
 * when `transA`. Element `(p, j)` of `op(B)` (`[k, n]`) is `b[bOff + p * ldb + j]`, or
 * `b[bOff + j * ldb + p]` when `transB`. Element `(i, j)` of C (`[m, n]`) is
 * `c[cOff + i * ldc + j]`. With `beta = 0` the old contents of C are not read (NaN/Inf there
 * do not propagate); with `alpha = 0` or `k = 0`, A and B are not read.
 *
 * C must not overlap A or B in memory (the caller's responsibility; not checked).
 * No bounds checking beyond what typed arrays do (out-of-range reads give `undefined` → NaN),
 * so callers validate shapes; {@link gemm} does.
 */
export function gemmStrided(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float64Array,
  aOff: number,
  lda: number,
  b: Float64Array,
  bOff: number,
  ldb: number,
  beta: number,
  c: Float64Array,
  cOff: number,
  ldc: number,
): void {
  if (m <= 0 || n <= 0) return;
  if (beta !== 1) {
    for (let i = 0; i < m; i++) {
      const row = cOff + i * ldc;
      if (beta === 0) c.fill(0, row, row + n);
      else for (let j = row; j < row + n; j++) c[j] *= beta;
    }
  }
  if (k <= 0 || alpha === 0) return;

  // Element strides of op(A) (row step, column step) and op(B).
  const aRs = transA ? 1 : lda;
  const aCs = transA ? lda : 1;
  const bRs = transB ? 1 : ldb;
  const bCs = transB ? ldb : 1;

  if (m * n * k <= SMALL_WORK) {
    gemmNaive(m, n, k, alpha, a, aOff, aRs, aCs, b, bOff, bRs, bCs, c, cOff, ldc);
    return;
  }

  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    const ncPanels = Math.ceil(nc / NR);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      if (packB.length < ncPanels * NR * kc) packB = new Float64Array(Math.ceil(nc / NR) * NR * KC);
      packPanelsB(kc, nc, b, bOff + pc * bRs + jc * bCs, bRs, bCs, packB);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        const mcPanels = Math.ceil(mc / MR);
        if (packA.length < mcPanels * MR * kc) packA = new Float64Array(mcPanels * MR * KC);
        packPanelsA(mc, kc, alpha, a, aOff + ic * aRs + pc * aCs, aRs, aCs, packA);
        for (let jp = 0; jp < ncPanels; jp++) {
          const nr = Math.min(NR, nc - jp * NR);
          const bo = jp * kc * NR;
          for (let ip = 0; ip < mcPanels; ip++) {
            const mr = Math.min(MR, mc - ip * MR);
            kernel4x4(kc, packA, ip * kc * MR, packB, bo, c, cOff + (ic + ip * MR) * ldc + jc + jp * NR, ldc, mr, nr);
          }
        }
      }
    }
  }
}

/**
 * General matrix product `C ← alpha · op(A) · op(B) + beta · C` on whole row-major buffers
 * (BLAS `dgemm`, see `LinalgBackend.gemm` for the shapes): A is `[m, k]` (`[k, m]` if
 * `transA`), B is `[k, n]` (`[n, k]` if `transB`), C is `[m, n]`.
 * @throws RangeError if a dimension is negative or not an integer, or a buffer is shorter than
 *   its shape requires.
 */
export function gemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float64Array,
  b: Float64Array,
  beta: number,
  c: Float64Array,
): void {
  checkDims('gemm', m, n, k);
  if (a.length < m * k) throw new RangeError(`gemm: A has ${a.length} elements, needs ${m * k} (${m}x${k})`);
  if (b.length < k * n) throw new RangeError(`gemm: B has ${b.length} elements, needs ${k * n} (${k}x${n})`);
  if (c.length < m * n) throw new RangeError(`gemm: C has ${c.length} elements, needs ${m * n} (${m}x${n})`);
  gemmStrided(transA, transB, m, n, k, alpha, a, 0, transA ? m : k, b, 0, transB ? k : n, beta, c, 0, n);
}

/** @throws RangeError unless every dimension is a non-negative integer. */
export function checkDims(fn: string, ...dims: number[]): void {
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`${fn}: dimension ${d} is not a non-negative integer`);
  }
}

/** Triple loop for small products (C already scaled by beta). */
function gemmNaive(
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float64Array,
  aOff: number,
  aRs: number,
  aCs: number,
  b: Float64Array,
  bOff: number,
  bRs: number,
  bCs: number,
  c: Float64Array,
  cOff: number,
  ldc: number,
): void {
  for (let i = 0; i < m; i++) {
    const ai = aOff + i * aRs;
    const ci = cOff + i * ldc;
    for (let j = 0; j < n; j++) {
      let s = 0;
      let ap = ai;
      let bp = bOff + j * bCs;
      for (let p = 0; p < k; p++) {
        s += a[ap] * b[bp];
        ap += aCs;
        bp += bRs;
      }
      c[ci + j] += alpha * s;
    }
  }
}

/**
 * Pack `alpha · op(A)[0:mc, 0:kc]` (element (i, p) at `a[off + i*rs + p*cs]`) into MR-row
 * micro-panels: panel `ip` holds `dst[ip*kc*MR + p*MR + ii]`; rows past `mc` are zero.
 */
function packPanelsA(
  mc: number,
  kc: number,
  alpha: number,
  a: Float64Array,
  off: number,
  rs: number,
  cs: number,
  dst: Float64Array,
): void {
  for (let i0 = 0; i0 < mc; i0 += MR) {
    const base = i0 * kc;
    const rows = Math.min(MR, mc - i0);
    for (let ii = 0; ii < MR; ii++) {
      let d = base + ii;
      if (ii >= rows) {
        for (let p = 0; p < kc; p++, d += MR) dst[d] = 0;
        continue;
      }
      let s = off + (i0 + ii) * rs;
      for (let p = 0; p < kc; p++, d += MR, s += cs) dst[d] = alpha * a[s];
    }
  }
}

/**
 * Pack `op(B)[0:kc, 0:nc]` (element (p, j) at `b[off + p*rs + j*cs]`) into NR-column
 * micro-panels: panel `jp` holds `dst[jp*kc*NR + p*NR + jj]`; columns past `nc` are zero.
 */
function packPanelsB(
  kc: number,
  nc: number,
  b: Float64Array,
  off: number,
  rs: number,
  cs: number,
  dst: Float64Array,
): void {
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const base = j0 * kc;
    const cols = Math.min(NR, nc - j0);
    for (let jj = 0; jj < NR; jj++) {
      let d = base + jj;
      if (jj >= cols) {
        for (let p = 0; p < kc; p++, d += NR) dst[d] = 0;
        continue;
      }
      let s = off + (j0 + jj) * cs;
      for (let p = 0; p < kc; p++, d += NR, s += rs) dst[d] = b[s];
    }
  }
}

/**
 * Register-tile micro-kernel: `C[0:mr, 0:nr] += Ap-panel · Bp-panel` over depth kc, with the
 * 16 accumulators in locals. Full tiles are added in place; edge tiles go through a buffer.
 */
function kernel4x4(
  kc: number,
  ap: Float64Array,
  ao: number,
  bp: Float64Array,
  bo: number,
  c: Float64Array,
  co: number,
  ldc: number,
  mr: number,
  nr: number,
): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let p = 0; p < kc; p++) {
    const a0 = ap[ao], a1 = ap[ao + 1], a2 = ap[ao + 2], a3 = ap[ao + 3];
    const b0 = bp[bo], b1 = bp[bo + 1], b2 = bp[bo + 2], b3 = bp[bo + 3];
    ao += 4;
    bo += 4;
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
  }
  if (mr === MR && nr === NR) {
    c[co] += c00; c[co + 1] += c01; c[co + 2] += c02; c[co + 3] += c03;
    co += ldc;
    c[co] += c10; c[co + 1] += c11; c[co + 2] += c12; c[co + 3] += c13;
    co += ldc;
    c[co] += c20; c[co + 1] += c21; c[co + 2] += c22; c[co + 3] += c23;
    co += ldc;
    c[co] += c30; c[co + 1] += c31; c[co + 2] += c32; c[co + 3] += c33;
    return;
  }
  const t = edgeTile;
  t[0] = c00; t[1] = c01; t[2] = c02; t[3] = c03;
  t[4] = c10; t[5] = c11; t[6] = c12; t[7] = c13;
  t[8] = c20; t[9] = c21; t[10] = c22; t[11] = c23;
  t[12] = c30; t[13] = c31; t[14] = c32; t[15] = c33;
  for (let i = 0; i < mr; i++) {
    const row = co + i * ldc;
    for (let j = 0; j < nr; j++) c[row + j] += t[i * NR + j];
  }
}
