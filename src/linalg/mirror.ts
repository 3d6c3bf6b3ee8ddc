/**
 * Mirroring of a triangle of a square matrix: the one copy used by the JS `syrk` and by the
 * kernel recursion, which both compute only the lower triangle.
 */

/** Tile edge: the column-wise writes of a 32 × 32 tile stay in cache. */
const TILE = 32;

/**
 * Copy the strict lower triangle of the row-major `[n, n]` matrix `a` onto its upper triangle,
 * in place, tile by tile so that the column-wise writes stay in cache. The diagonal and the
 * lower triangle are not changed; afterwards `a[i·n + j] === a[j·n + i]` exactly. Returns `a`.
 */
export function mirrorLower(n: number, a: Float64Array): Float64Array {
  for (let i0 = 0; i0 < n; i0 += TILE) {
    const i1 = Math.min(n, i0 + TILE);
    for (let j0 = 0; j0 <= i0; j0 += TILE) {
      const j1 = Math.min(n, j0 + TILE);
      for (let i = i0; i < i1; i++) {
        const jEnd = Math.min(j1, i);
        for (let j = j0; j < jEnd; j++) a[j * n + i] = a[i * n + j];
      }
    }
  }
  return a;
}
