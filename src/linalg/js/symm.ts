/**
 * Product of row vectors with a symmetric matrix stored in its upper triangle, for the
 * pure-TypeScript backend (BLAS `dsymm`, side right, upper).
 */
import { checkDims } from './gemm.js';

/**
 * `out ← V · A` for `V` `[rows, n]` and the symmetric `[n, n]` matrix `A` of which only the
 * upper triangle (diagonal included, `a[i·n + j]`, `j ≥ i`) is read; the strict lower triangle
 * may hold anything (e.g. a Cholesky factor sharing the buffer). All row-major; `out` is
 * `[rows, n]`, overwritten, and must not alias `v` or `a`. Each row of `A` is read once for all
 * rows of `V`.
 * @throws RangeError on a bad dimension or a buffer shorter than its shape.
 */
export function symmUpper(rows: number, n: number, v: Float64Array, a: Float64Array, out: Float64Array): void {
  checkDims('symmUpper', rows, n);
  if (a.length < n * n || v.length < rows * n || out.length < rows * n) {
    throw new RangeError(`symmUpper: buffers of lengths a ${a.length}, v ${v.length}, out ${out.length} for rows ${rows}, n ${n}`);
  }
  out.fill(0, 0, rows * n);
  for (let i = 0; i < n; i++) {
    const ai = i * n;
    const d = a[ai + i];
    for (let r = 0; r < rows; r++) {
      const o = r * n;
      const vi = v[o + i];
      let s = d * vi;
      for (let j = i + 1; j < n; j++) {
        const aij = a[ai + j];
        out[o + j] += aij * vi;
        s += aij * v[o + j];
      }
      out[o + i] += s;
    }
  }
}
