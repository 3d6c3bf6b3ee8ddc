/**
 * The active linear-algebra backend. Code elsewhere calls `linalg()` and never imports a
 * concrete backend.
 *
 * Default: the pure-TypeScript backend (`js.ts`), which `scripts/bench/linalg.ts` measures at
 * several times the speed of the ml-matrix reference (`mlmatrix.ts`) for gemm and eigh, with
 * the same results to rounding (cross-checked in `test/linalg-*.test.ts`). ml-matrix stays
 * available as the reference; `select.ts` may install another backend (e.g. native OpenBLAS)
 * with {@link setLinalg}.
 */
import type { LinalgBackend } from './backend.js';
import { jsBackend } from './js.js';
import { selectBackendFromEnv } from './native.js';

export type { LinalgBackend, SymmetricEigen } from './backend.js';

// NTK_SWEEP_LINALG=js|native|ml-matrix|auto selects the initial backend of every thread (the
// test suite runs the numerical suites once per backend this way); unset means js here, and the
// engine's workers pick `auto` (native when it loads) through select.ts.
let active: LinalgBackend = process.env.NTK_SWEEP_LINALG ? selectBackendFromEnv({ js: jsBackend }).backend : jsBackend;

/** The backend in use in this thread. */
export function linalg(): LinalgBackend {
  return active;
}

/** Replace the backend in this thread (tests run suites on every backend). */
export function setLinalg(b: LinalgBackend): void {
  active = b;
}
