/**
 * Pure-TypeScript linear-algebra backend: no native code, no dependencies, several times
 * faster than the ml-matrix reference (`mlmatrix.ts`) — see `scripts/bench/linalg.ts`.
 * Row-major `Float64Array` throughout (layout contract in `backend.ts`).
 *
 * - `gemm`: cache-blocked, packed, 4 × 4 register-tile kernel (GotoBLAS scheme) — `js/gemm.ts`.
 * - `syrk`: row-blocked gemm on the lower triangle, mirrored (exactly symmetric) — `js/syrk.ts`.
 * - `eigh`: Householder tridiagonalisation + explicit Qᵀ + implicit QL with Wilkinson shifts,
 *   rotations applied to contiguous rows of Zᵀ (LAPACK `dsyev` pipeline) — `js/eigh.ts`.
 *   Tolerances: see {@link eigh}.
 * - `cholesky`: right-looking blocked (`dpotrf`), `null` on a non-positive pivot;
 *   `choleskySolve`: forward/backward substitution (`dpotrs`); `choleskyInPlace` the same
 *   factorization in the matrix's own lower triangle — `js/cholesky.ts`.
 * - `symmUpper`: row vectors times a symmetric matrix read from its upper triangle — `js/symm.ts`.
 *
 * Everything is deterministic: results depend only on the inputs, bit for bit.
 */
import type { LinalgBackend } from './backend.js';
import { cholesky, choleskyInPlace, choleskySolve } from './js/cholesky.js';
import { eigh } from './js/eigh.js';
import { gemm } from './js/gemm.js';
import { symmUpper } from './js/symm.js';
import { syrk } from './js/syrk.js';

export { cholesky, choleskyInPlace, choleskySolve } from './js/cholesky.js';
export { symmUpper } from './js/symm.js';
export { eigh } from './js/eigh.js';
export { gemm, gemmStrided } from './js/gemm.js';
export { syrk } from './js/syrk.js';

/** The pure-TypeScript backend (`name: "js"`). */
export const jsBackend: LinalgBackend = {
  name: 'js',
  gemm,
  syrk,
  eigh,
  cholesky,
  choleskySolve,
  choleskyInPlace,
  symmUpper,
};
