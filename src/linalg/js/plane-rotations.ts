/**
 * Application of a chain of plane (Givens) rotations to adjacent rows of a row-major matrix,
 * the eigenvector update of the implicit QL iteration (the role of LAPACK `dlasr` with
 * SIDE = 'L', PIVOT = 'V', DIRECT = 'B', applied to Zᵀ).
 *
 * Rotation `i` with cosine `c` and sine `s` acts on rows `i` and `i + 1`:
 * `row[i+1] ← s·row[i] + c·row[i+1]`, `row[i] ← c·row[i] − s·row[i+1]`, and the chain is
 * applied for `i = hi, hi − 1, …, lo` (descending, as the QL bulge chase produces them).
 *
 * Speed: the chain is applied four rotations at a time. For each column the value leaving
 * rotation `i` for row `i` is kept in a register and fed to rotation `i − 1`, so each element
 * is loaded and stored once per four rotations instead of four times; the inner loops run
 * along contiguous rows. Every element still receives the same floating-point operations in
 * the same order as with one rotation at a time, so results are identical to the plain loop.
 */

/**
 * Apply rotations `i = hi … lo` (descending) to the column range `[j0, j1)` of the row-major
 * matrix `z` with row length `ld` (see the module comment for the rotation convention);
 * rotation `i` has cosine `cs[off + i]` and sine `sn[off + i]`. Rows `lo … hi + 1` must exist.
 * Does nothing when `hi < lo`.
 */
export function applyRotationChain(
  z: Float64Array,
  ld: number,
  cs: Float64Array,
  sn: Float64Array,
  off: number,
  hi: number,
  lo: number,
  j0: number,
  j1: number,
): void {
  let i = hi;
  for (; i - 3 >= lo; i -= 4) {
    const o = off + i;
    const c0 = cs[o], s0 = sn[o];
    const c1 = cs[o - 1], s1 = sn[o - 1];
    const c2 = cs[o - 2], s2 = sn[o - 2];
    const c3 = cs[o - 3], s3 = sn[o - 3];
    const r4 = (i + 1) * ld;
    const r3 = r4 - ld;
    const r2 = r3 - ld;
    const r1 = r2 - ld;
    const r0 = r1 - ld;
    let j = j0;
    // Two columns per iteration: two independent dependency chains for the CPU to overlap.
    for (; j + 1 < j1; j += 2) {
      let t = z[r4 + j];
      let u = z[r4 + j + 1];
      let x = z[r3 + j];
      let y = z[r3 + j + 1];
      z[r4 + j] = s0 * x + c0 * t;
      z[r4 + j + 1] = s0 * y + c0 * u;
      t = c0 * x - s0 * t;
      u = c0 * y - s0 * u;
      x = z[r2 + j];
      y = z[r2 + j + 1];
      z[r3 + j] = s1 * x + c1 * t;
      z[r3 + j + 1] = s1 * y + c1 * u;
      t = c1 * x - s1 * t;
      u = c1 * y - s1 * u;
      x = z[r1 + j];
      y = z[r1 + j + 1];
      z[r2 + j] = s2 * x + c2 * t;
      z[r2 + j + 1] = s2 * y + c2 * u;
      t = c2 * x - s2 * t;
      u = c2 * y - s2 * u;
      x = z[r0 + j];
      y = z[r0 + j + 1];
      z[r1 + j] = s3 * x + c3 * t;
      z[r1 + j + 1] = s3 * y + c3 * u;
      z[r0 + j] = c3 * x - s3 * t;
      z[r0 + j + 1] = c3 * y - s3 * u;
    }
    if (j < j1) {
      let t = z[r4 + j];
      let x = z[r3 + j];
      z[r4 + j] = s0 * x + c0 * t;
      t = c0 * x - s0 * t;
      x = z[r2 + j];
      z[r3 + j] = s1 * x + c1 * t;
      t = c1 * x - s1 * t;
      x = z[r1 + j];
      z[r2 + j] = s2 * x + c2 * t;
      t = c2 * x - s2 * t;
      x = z[r0 + j];
      z[r1 + j] = s3 * x + c3 * t;
      z[r0 + j] = c3 * x - s3 * t;
    }
  }
  for (; i >= lo; i--) {
    const c = cs[off + i], s = sn[off + i];
    const r0 = i * ld;
    const r1 = r0 + ld;
    for (let j = j0; j < j1; j++) {
      const x = z[r0 + j];
      const t = z[r1 + j];
      z[r1 + j] = s * x + c * t;
      z[r0 + j] = c * x - s * t;
    }
  }
}
