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
// OpenBLAS would otherwise use every core in every thread: one BLAS thread unless told otherwise.
function initial(): LinalgBackend {
  if (!process.env.NTK_SWEEP_LINALG) return jsBackend;
  const sel = selectBackendFromEnv({ js: jsBackend });
  sel.native?.setThreads(1);
  return sel.backend;
}
let active: LinalgBackend = initial();

/** The backend in use in this thread. */
export function linalg(): LinalgBackend {
  return active;
}

/** Replace the backend in this thread (tests run suites on every backend). */
export function setLinalg(b: LinalgBackend): void {
  active = b;
}
