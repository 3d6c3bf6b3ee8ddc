/**
 * Copies between the two triangles of square matrices: the one home of the tiled transposed
 * copy used by the JS `syrk`, the kernel recursion (which computes only lower triangles), the
 * kernel task's train block held in the recursion state, and the factor that shares a matrix's
 * buffer (`linalg/krylov.ts`).
 */

/** Tile edge: the column-wise accesses of a 32 × 32 tile stay in cache. */
const TILE = 32;

/**
 * Transposed copy of a strict triangle, tile by tile: `direction` `'lower-to-upper'` sets
 * `dst[j·n + i] = src[i·n + j]` for every `j < i`; `'upper-to-lower'` sets
 * `dst[i·n + j] = src[j·n + i]`. `src` and `dst` are row-major `[n, n]` and may be the same
 * buffer (then this mirrors one triangle onto the other). Only the named strict triangle of
 * `dst` is written; the diagonal never. Exact copies. Returns `dst`.
 */
export function copyTriangleTransposed(
  n: number,
  src: Float64Array,
  dst: Float64Array,
  direction: 'lower-to-upper' | 'upper-to-lower',
): Float64Array {
  const up = direction === 'lower-to-upper';
  for (let i0 = 0; i0 < n; i0 += TILE) {
    const i1 = Math.min(n, i0 + TILE);
    for (let j0 = 0; j0 <= i0; j0 += TILE) {
      const j1 = Math.min(n, j0 + TILE);
      for (let i = i0; i < i1; i++) {
        const jEnd = Math.min(j1, i);
        const ri = i * n;
        if (up) for (let j = j0; j < jEnd; j++) dst[j * n + i] = src[ri + j];
        else for (let j = j0; j < jEnd; j++) dst[ri + j] = src[j * n + i];
      }
    }
  }
  return dst;
}

/**
 * Copy the strict lower triangle of the row-major `[n, n]` matrix `a` onto its upper triangle,
 * in place, tile by tile so that the column-wise writes stay in cache. The diagonal and the
 * lower triangle are not changed; afterwards `a[i·n + j] === a[j·n + i]` exactly. Returns `a`.
 */
export function mirrorLower(n: number, a: Float64Array): Float64Array {
  return copyTriangleTransposed(n, a, a, 'lower-to-upper');
}

/**
 * Copy the strict upper triangle of the row-major `[n, n]` matrix `a` onto its lower triangle,
 * in place (the inverse direction of {@link mirrorLower}). Returns `a`.
 */
export function mirrorUpper(n: number, a: Float64Array): Float64Array {
  return copyTriangleTransposed(n, a, a, 'upper-to-lower');
}
