/**
 * The linear-algebra backend interface. Kernel (`ntk/`) and training (`nn/`) code call only
 * these operations, so a faster implementation (blocked JS, native OpenBLAS/LAPACK) can replace
 * the portable one without touching them.
 *
 * Layout convention: every matrix is a `Float64Array` in **row-major** order; an `[m, n]`
 * matrix `A` has `A[i, j] = a[i * n + j]`. No function allocates or copies its inputs unless
 * it says so; outputs are written into caller-provided buffers where a buffer is a parameter.
 */

/** Result of a symmetric eigendecomposition `A = V · diag(values) · Vᵀ`. */
export interface SymmetricEigen {
  /** Eigenvalues in ascending order, length n. */
  values: Float64Array;
  /**
   * Orthonormal eigenvectors, row-major `[n, n]`: **column** j (`vectors[i * n + j]`, i = 0..n-1)
   * is the eigenvector of `values[j]` (same layout as LAPACK/numpy `eigh`).
   */
  vectors: Float64Array;
}

export interface LinalgBackend {
  /** Short name shown by `ntk-sweep doctor`, e.g. `"js"` or `"openblas"`. */
  readonly name: string;

  /**
   * General matrix product `C ← alpha · op(A) · op(B) + beta · C` (BLAS `dgemm`), row-major.
   * `op(A)` is `[m, k]` (A stored `[m, k]`, or `[k, m]` if `transA`), `op(B)` is `[k, n]`
   * (B stored `[k, n]`, or `[n, k]` if `transB`), C is `[m, n]`. With `beta = 0`, C's previous
   * contents are ignored (NaNs in C do not propagate).
   */
  gemm(
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
  ): void;

  /**
   * Gram matrix `C ← alpha · A · Aᵀ + beta · C` for A `[n, k]` row-major (BLAS `dsyrk`);
   * C is `[n, n]` and **both** triangles are written (exactly symmetric).
   */
  syrk(n: number, k: number, alpha: number, a: Float64Array, beta: number, c: Float64Array): void;

  /**
   * Symmetric eigendecomposition of the `[n, n]` matrix `a` (LAPACK `dsyevd`, numpy `eigh`).
   * Only the lower triangle (`a[i * n + j]`, j ≤ i) is read; `a` is not modified.
   * @throws Error if the iteration fails to converge or `a` contains NaN/Inf.
   */
  eigh(n: number, a: Float64Array): SymmetricEigen;

  /**
   * Cholesky factor `A = L Lᵀ` of the symmetric positive-definite `[n, n]` matrix `a`
   * (LAPACK `dpotrf`, lower). Only the lower triangle of `a` is read; `a` is not modified.
   * Returns L row-major `[n, n]` with zeros above the diagonal, or `null` if `a` is not
   * numerically positive definite.
   */
  cholesky(n: number, a: Float64Array): Float64Array | null;

  /**
   * Solve `A X = B` given the Cholesky factor `l` of A (LAPACK `dpotrs`). B is `[n, nrhs]`
   * row-major and is overwritten with X. Returns `b`.
   */
  choleskySolve(n: number, l: Float64Array, nrhs: number, b: Float64Array): Float64Array;

  /**
   * Cholesky factor `A = L Lᵀ` in place (LAPACK `dpotrf`, lower): the lower triangle of the
   * row-major `[n, n]` matrix `a`, diagonal included, is read and overwritten with L; the strict
   * upper triangle is neither read nor written, so it may keep A (a factor sharing its matrix's
   * buffer: `linalg/krylov.ts`). Returns false if `a` is not numerically positive definite (the
   * lower triangle then holds a partial factor). Throws on NaN/Inf in the lower triangle.
   */
  choleskyInPlace(n: number, a: Float64Array): boolean;

  /**
   * `out ← V · A` (BLAS `dsymm`, side right, upper) for `V` `[rows, n]` and the symmetric
   * `[n, n]` matrix whose **upper** triangle, diagonal included, is read from `a`; the strict
   * lower triangle is not read. `out` `[rows, n]` is overwritten and must not alias `v` or `a`.
   */
  symmUpper(rows: number, n: number, v: Float64Array, a: Float64Array, out: Float64Array): void;

  /**
   * Optional: copy the strictly lower triangle of the row-major `[n, n]` matrix `a` onto its upper
   * triangle, in place (exact copies; the JS fallback is `linalg/mirror.ts` `mirrorLower`). Returns `a`.
   */
  mirrorLower?(n: number, a: Float64Array): Float64Array;

  /** Optional native pair loop of the ReLU kernel recursion: see {@link ReluPairs}. Absent on the JS backends. */
  reluPairs?: ReluPairs;

  /** Optional native pair loop of the general layer map: see {@link ActivationPairs}. */
  activationPairs?: ActivationPairs;
}

/**
 * The pair loop of the ReLU kernel recursion (`ntk/relu.ts`): for every pair `j < i` of the
 * row-major `[n, n]` arrays `theta` (angles θ) and `ntkBar` (`Θ̄`; null to skip), one
 * `Dense ∘ ReLU` layer in place with the per-point coefficients `w, c, p, q` (length n).
 * Bit-identical to the JS loop of `relu.ts`, whatever the thread count.
 */
export type ReluPairs = (
  n: number,
  theta: Float64Array,
  ntkBar: Float64Array | null,
  w: Float64Array,
  c: Float64Array,
  p: Float64Array,
  q: Float64Array,
) => void;

/**
 * The pair loop of the general layer map (`ntk/layer.ts` `advancePairs`) for the closed-form
 * activation `name` (`leaky_relu`/`abs` with slopes `a` for x < 0 and `b` for x ≥ 0; `a`, `b`
 * unused otherwise): `theta`, `ntkBar` `[n, n]` in place over `j < i`, with the per-point
 * coefficients `w, c, p, q, qv` (length n). Same formulas with the C library's math functions:
 * equal to the JS loop to rounding, not bit for bit. Throws for an activation it does not know
 * (callers check {@link NATIVE_ACTIVATIONS} first).
 */
export type ActivationPairs = (name: string, a: number, b: number, ...pairs: [...Parameters<ReluPairs>, qv: Float64Array]) => void;

/** Activations whose pair loop the native backend's `activationPairs` implements. */
export const NATIVE_ACTIVATIONS: ReadonlySet<string> = new Set(['relu', 'leaky_relu', 'abs', 'erf', 'gelu', 'relu2', 'step', 'sin', 'cos', 'gaussian', 'identity']);
