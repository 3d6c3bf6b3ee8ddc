/**
 * The native linear-algebra backend: OpenBLAS (CBLAS) + LAPACKE through a small N-API addon in
 * `native/` (built by `node native/build.mjs`, which `npm run prepare` runs; optional).
 *
 * Operations (all row-major `Float64Array`, shapes as in `backend.ts`):
 * - `gemm`: `cblas_dgemm` directly on the caller's buffers (no copies).
 * - `syrk`: `cblas_dsyrk` (lower) on the caller's buffers, then the lower triangle is mirrored.
 * - `eigh`: LAPACK `dsyevd` (numpy's `eigh` driver). The input is copied into the new `vectors`
 *   buffer, which LAPACK overwrites; `a` is never modified. Extra memory: the `[n, n]` output,
 *   plus dsyevd's workspace of about `2n² + 6n` doubles, freed on return.
 * - `cholesky`: LAPACK `dpotrf` into a new `[n, n]` buffer (upper triangle zeroed); `null` when
 *   `dpotrf` reports a non-positive pivot.
 * - `choleskySolve`: the two triangular solves of LAPACK `dpotrs` (`cblas_dtrsm`), in place in `b`.
 * - `choleskyInPlace`: LAPACK `dpotrf` on the caller's buffer (lower triangle only).
 * - `symmUpper`: `cblas_dsymm` (side right, upper) on the caller's buffers.
 * - `mirrorLower`: the lower triangle copied onto the upper one, in place (cache-blocked).
 * - `activationPairs`: the pair loop of the general layer map (`ntk/layer.ts`) for the closed-form
 *   activations, in C++ with the C library's math functions (equal to rounding, not bit for bit:
 *   glibc and V8 round some functions differently), rows split over the OpenBLAS thread count.
 * - `reluPairs`: the pair loop of the ReLU kernel recursion (`ntk/relu.ts`) in C++
 *   (native/src/recursion.cc): vectorized, its rows split over the OpenBLAS thread count, and
 *   bit-identical to the JS loop (same fdlibm `sin`/`asin` algorithms as V8, no FMA contraction).
 *
 * The addon is context-aware (no static mutable state), so every piscina worker may load it.
 * Its one process-wide setting is OpenBLAS's thread count (`setThreads`), which OpenBLAS keeps
 * per process, not per thread: it is the coordinator's job (thread budget), not a worker's.
 *
 * Reproducibility: for a fixed BLAS thread count the results are bit-for-bit repeatable. OpenBLAS
 * results with 1 and with 2 threads differ by float64 rounding (a few ulps relative to the
 * matrix norm; measured ≤ 5e-14 for gemm of 700×700 uniform(−½, ½) entries), so the BLAS thread
 * count is part of what must be fixed for bit-identical metrics.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ActivationPairs, LinalgBackend, ReluPairs, SymmetricEigen } from './backend.js';
import { mlMatrixBackend } from './mlmatrix.js';

/** Version of the addon's export surface this file expects (`apiVersion` in the C++ source). */
const EXPECTED_API_VERSION = 3;

/** Relative location of the compiled addon inside the repository. */
export const NATIVE_ADDON_RELATIVE_PATH = path.join('native', 'build', 'Release', 'ntk_linalg.node');

/** What OpenBLAS reports about itself (for `ntk-sweep doctor`). */
export interface NativeBlasInfo {
  /** `openblas_get_config()`, e.g. `"OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64"`. */
  config: string;
  /** CPU kernel set OpenBLAS selected at run time, e.g. `"Zen"`, `"Haswell"`. */
  corename: string;
  /** Processors OpenBLAS sees. */
  numProcs: number;
  /** Current OpenBLAS thread count (process-wide). */
  numThreads: number;
  /** OpenBLAS threading model: 0 sequential, 1 pthreads, 2 OpenMP. */
  parallel: number;
  /** Shared library that provides `cblas_dgemm`. */
  blasLibrary: string;
  /** Shared library that provides LAPACK `dsyevd_`. */
  lapackLibrary: string;
  /** Shared library that provides LAPACKE. */
  lapackeLibrary: string;
  /** Width of BLAS/LAPACK integers (32 on Debian): bounds `n` (workspace ≤ 2³¹ elements). */
  intBits: number;
}

/** The raw exports of `ntk_linalg.node` (see native/src/ntk_linalg.cc). */
interface NativeAddon {
  apiVersion: number;
  gemm: LinalgBackend['gemm'];
  syrk: LinalgBackend['syrk'];
  eigh(n: number, a: Float64Array, method?: 'evd' | 'evr'): SymmetricEigen;
  cholesky: LinalgBackend['cholesky'];
  choleskySolve: LinalgBackend['choleskySolve'];
  choleskyInPlace: LinalgBackend['choleskyInPlace'];
  symmUpper: LinalgBackend['symmUpper'];
  reluPairs(...args: [...Parameters<ReluPairs>, threads: number]): void;
  fdlibmProbe(fn: 'sin' | 'cos' | 'asin', x: Float64Array): Float64Array;
  activationPairs(...args: [...Parameters<ActivationPairs>, threads: number]): void;
  mirrorLower(n: number, a: Float64Array): Float64Array;
  getNumThreads(): number;
  setNumThreads(threads: number): number;
  getInfo(): NativeBlasInfo;
}

/** A loaded native backend plus the BLAS controls that are not part of `LinalgBackend`. */
export interface NativeBackend {
  /** The `LinalgBackend`, named `"openblas"`. */
  backend: LinalgBackend;
  /** Absolute path of the loaded `.node` file. */
  addonPath: string;
  /** OpenBLAS configuration and current thread count. */
  info(): NativeBlasInfo;
  /** OpenBLAS thread count (process-wide). */
  getThreads(): number;
  /** Set the OpenBLAS thread count for the whole process; returns the count now in effect. */
  setThreads(threads: number): number;
  /**
   * `eigh` with a choice of LAPACK driver: `"evd"` (`dsyevd`, the default and numpy's) or
   * `"evr"` (`dsyevr`, MRRR; needs an extra `[n, n]` scratch copy but only O(n) workspace).
   */
  eighWith(n: number, a: Float64Array, method: 'evd' | 'evr'): SymmetricEigen;
  /**
   * The addon's own fdlibm `sin` (x in [0, π/2]), `cos` (x in [π/4, π/2]) or `asin` (x in [0, 1]),
   * elementwise, as used by `reluPairs` (for the test that they match `Math.sin`/`Math.asin` bit
   * for bit).
   */
  fdlibmProbe(fn: 'sin' | 'cos' | 'asin', x: Float64Array): Float64Array;
}

let cached: NativeBackend | { error: string } | undefined;

/** Candidate addon paths: `NTK_SWEEP_NATIVE_ADDON`, then `native/build/...` in an ancestor directory. */
function addonCandidates(): string[] {
  const out: string[] = [];
  const override = process.env.NTK_SWEEP_NATIVE_ADDON;
  if (override) out.push(path.resolve(override));
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    out.push(path.join(dir, NATIVE_ADDON_RELATIVE_PATH));
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return out;
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0].trim();
}

/**
 * Load the native OpenBLAS backend in this thread (cached per thread; safe in worker threads).
 * Returns the backend, or `{ error }` with a one-line reason it is unavailable (addon not built,
 * shared library missing at run time, stale build, ...). Never throws.
 */
export function loadNativeBackend(): NativeBackend | { error: string } {
  if (cached) return cached;
  cached = loadUncached();
  return cached;
}

function loadUncached(): NativeBackend | { error: string } {
  const override = process.env.NTK_SWEEP_NATIVE_ADDON;
  const file = override ? path.resolve(override) : addonCandidates().find((p) => existsSync(p));
  if (!file || !existsSync(file)) {
    return {
      error: override
        ? `NTK_SWEEP_NATIVE_ADDON=${override} does not exist`
        : `${NATIVE_ADDON_RELATIVE_PATH} is not built (install libopenblas-dev liblapacke-dev, then run node native/build.mjs)`,
    };
  }
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(file) as NativeAddon;
  } catch (e) {
    return { error: `cannot load ${file}: ${firstLine(e)}` };
  }
  if (addon.apiVersion !== EXPECTED_API_VERSION) {
    return {
      error: `${file} has API version ${String(addon.apiVersion)}, expected ${EXPECTED_API_VERSION} (stale build: run node native/build.mjs)`,
    };
  }
  const backend: LinalgBackend = {
    name: 'openblas',
    gemm: addon.gemm,
    syrk: addon.syrk,
    eigh: (n, a) => addon.eigh(n, a),
    cholesky: addon.cholesky,
    choleskySolve: addon.choleskySolve,
    choleskyInPlace: addon.choleskyInPlace,
    symmUpper: addon.symmUpper,
    // the pair loop splits its rows over the BLAS thread budget (same bits for any count)
    mirrorLower: addon.mirrorLower,
    activationPairs: (...args) => addon.activationPairs(...args, addon.getNumThreads()),
    reluPairs: (...args) => addon.reluPairs(...args, addon.getNumThreads()),
  };
  return {
    backend,
    addonPath: file,
    info: () => addon.getInfo(),
    getThreads: () => addon.getNumThreads(),
    setThreads: (threads) => {
      if (!Number.isInteger(threads) || threads < 1) {
        throw new RangeError(`setThreads: threads must be an integer >= 1, got ${threads}`);
      }
      return addon.setNumThreads(threads);
    },
    eighWith: (n, a, method) => addon.eigh(n, a, method),
    fdlibmProbe: (fn, x) => addon.fdlibmProbe(fn, x),
  };
}

/** Values of `NTK_SWEEP_LINALG`. */
export const LINALG_CHOICES = ['auto', 'native', 'js', 'ml-matrix'] as const;
export type LinalgChoice = (typeof LINALG_CHOICES)[number];

/** Outcome of `selectBackendFromEnv`. */
export interface BackendSelection {
  /** The backend to install with `setLinalg`. */
  backend: LinalgBackend;
  /** What was asked for (`auto` when `NTK_SWEEP_LINALG` is unset or empty). */
  requested: LinalgChoice;
  /** The native backend, when it is the one selected (for thread control and `doctor`). */
  native?: NativeBackend;
  /** Why the native backend is not in use, when `requested` is `auto` and it is unavailable. */
  fallbackReason?: string;
}

/**
 * Choose the backend from `NTK_SWEEP_LINALG`:
 * - unset / `""` / `auto`: native OpenBLAS if it loads, else the portable JS backend
 *   (`fallbackReason` says why; print it once, e.g. "native backend unavailable: …; using js").
 * - `native`: native OpenBLAS; throws with the reason if it is unavailable.
 * - `js`: the portable JS backend (`options.js`, e.g. a blocked-GEMM backend, else ml-matrix).
 * - `ml-matrix`: the ml-matrix reference backend.
 * @throws Error for any other value, or for `native` when it cannot be loaded.
 */
export function selectBackendFromEnv(
  options: { js?: LinalgBackend; env?: NodeJS.ProcessEnv } = {},
): BackendSelection {
  const env = options.env ?? process.env;
  const raw = (env.NTK_SWEEP_LINALG ?? '').trim().toLowerCase();
  const requested = (raw === '' ? 'auto' : raw) as LinalgChoice;
  const portable = options.js ?? mlMatrixBackend;
  switch (requested) {
    case 'ml-matrix':
      return { backend: mlMatrixBackend, requested };
    case 'js':
      return { backend: portable, requested };
    case 'native': {
      const n = loadNativeBackend();
      if ('error' in n) {
        throw new Error(`NTK_SWEEP_LINALG=native but the native backend is unavailable: ${n.error}`);
      }
      return { backend: n.backend, requested, native: n };
    }
    case 'auto': {
      const n = loadNativeBackend();
      if ('error' in n) return { backend: portable, requested, fallbackReason: n.error };
      return { backend: n.backend, requested, native: n };
    }
    default:
      throw new Error(
        `NTK_SWEEP_LINALG=${env.NTK_SWEEP_LINALG} is not one of ${LINALG_CHOICES.join(', ')} (unset means auto)`,
      );
  }
}
