/**
 * The active linear-algebra backend. Code elsewhere calls `linalg()` and never imports a
 * concrete backend.
 */
import type { LinalgBackend } from './backend.js';
import { mlMatrixBackend } from './mlmatrix.js';

export type { LinalgBackend, SymmetricEigen } from './backend.js';

let active: LinalgBackend = mlMatrixBackend;

/** The backend in use in this thread. */
export function linalg(): LinalgBackend {
  return active;
}

/** Replace the backend in this thread (tests run suites on every backend). */
export function setLinalg(b: LinalgBackend): void {
  active = b;
}
