/**
 * Kernel matrices (`ntk` = Θ, `nngp` = Σ, `rho` = ρ = Σ̄) out of a {@link KernelState}, at the
 * scale a caller needs (docs/conventions.md §5). Reads only the lower triangle of the state, writes
 * both triangles of the output, so it works on states straight from {@link reluKernelStep}.
 */
import { trainDiagMeanScale } from './scale.js';
import { copyTriangleTransposed } from '../linalg/mirror.js';
import { mirrorLowerFast, type KernelState } from './state.js';

/** Kernel names of docs/conventions.md §2: NTK `Θ`, NNGP `Σ`, correlation `ρ = Σ̄` (`cos θ`). */
export type KernelName = 'ntk' | 'nngp' | 'rho';

/**
 * Scale of a kernel matrix:
 * - `normalized`: unit diagonal, `K(x,x')/sqrt(K(x,x) K(x',x'))` (`Θ̄`, or `ρ` for `nngp`/`rho`).
 * - `absolute`: the raw `Θ`, `Σ` (`ρ` for `rho`). **Underflows** when the kernel diagonal drops
 *   below ~1e-308 (e.g. `Θ^L(x,x) = L/(d 2^{L−1})` for σ_w = 1, σ_b = 0 passes that near
 *   L ≈ 1000): entries become subnormal (fewer digits) and then 0.
 * - `train_diag_mean`: the raw kernel divided by `mean_{i < n_train} K(x_i, x_i)` (the
 *   `time_scale: normalized` convention of the kernel task), formed in log space
 *   (`K̄_ij exp((ℓ_i + ℓ_j)/2 − M)`, `M` = log of the mean by log-sum-exp), so it does not
 *   underflow at any depth.
 */
export type KernelScale = 'normalized' | 'absolute' | 'train_diag_mean';

/** Options of {@link kernelMatrix}. */
export interface KernelMatrixOptions {
  /** Points `0 .. n_train − 1` are the training set (for `train_diag_mean`). Default `n`. */
  n_train?: number;
  /** Output buffer of length `n²` (overwritten); allocated when omitted. */
  out?: Float64Array;
}

/**
 * The `[n, n]` row-major matrix of `kernel` at `scale` for the points of `state`.
 * `ρ = cos θ`; diagonals of normalized matrices are exactly 1.
 *
 * @throws RangeError if `kernel` is `ntk` but the state was built with `ntk: false`, if `out`
 *   has the wrong length, or if `n_train` is not in `1..n`.
 */
export function kernelMatrix(
  state: Readonly<KernelState>,
  kernel: KernelName,
  scale: KernelScale,
  options: KernelMatrixOptions = {},
): Float64Array {
  const n = state.n;
  const out = options.out ?? new Float64Array(n * n);
  if (out.length !== n * n) throw new RangeError(`kernelMatrix: out has length ${out.length}, expected ${n * n}`);
  const { logDiag, logDiagLo, src, isAngle } = kernelView(state, kernel);
  // per-point factors s_i with K_ij = K̄_ij s_i s_j
  let s: Float64Array | null = null;
  if (logDiag !== null && logDiagLo !== null && scale !== 'normalized') {
    s = new Float64Array(n);
    if (scale === 'absolute') {
      for (let i = 0; i < n; i++) s[i] = Math.exp(0.5 * logDiag[i]) * Math.exp(0.5 * logDiagLo[i]);
    } else if (scale === 'train_diag_mean') {
      const n_train = options.n_train ?? n;
      if (!(Number.isInteger(n_train) && n_train >= 1 && n_train <= n)) {
        throw new RangeError(`kernelMatrix: n_train must be an integer in 1..${n}, got ${n_train}`);
      }
      s = trainDiagMeanScale(logDiag, logDiagLo, n_train).s;
    } else {
      throw new RangeError(`kernelMatrix: unknown scale '${String(scale)}'`);
    }
  }
  for (let i = 0; i < n; i++) {
    const row = i * n;
    const si = s === null ? 1 : s[i];
    for (let j = 0; j < i; j++) {
      const kbar = isAngle ? Math.cos(src[row + j]) : src[row + j];
      const v = s === null ? kbar : kbar * si * s[j];
      out[row + j] = v;
      out[j * n + i] = v;
    }
    out[row + i] = s === null ? 1 : si * si;
  }
  return out;
}

/**
 * How a state holds `kernel`: its normalized entries are `cos(src[i·n + j])` (`isAngle`: `nngp`
 * and `rho` read the angles `θ`) or `src[i·n + j]` (`ntk` reads `Θ̄`), and its diagonal is
 * `exp(logDiag[i] + logDiagLo[i])` (null for `rho`, whose diagonal is 1). The one place that
 * knows which buffer belongs to which kernel.
 */
export interface KernelView {
  src: Float64Array;
  isAngle: boolean;
  logDiag: Float64Array | null;
  logDiagLo: Float64Array | null;
}

/**
 * The {@link KernelView} of `kernel` in `state`.
 * @throws RangeError for an unknown kernel, or `ntk` of a state built with `ntk: false`.
 */
export function kernelView(state: Readonly<KernelState>, kernel: KernelName): KernelView {
  if (kernel === 'ntk') {
    if (state.ntk_bar === null) throw new RangeError("kernel 'ntk' needs a state built with ntk: true");
    return { src: state.ntk_bar, isAngle: false, logDiag: state.log_ntk_diag, logDiagLo: state.log_ntk_diag_lo };
  }
  if (kernel === 'nngp') return { src: state.theta, isAngle: true, logDiag: state.log_nngp_diag, logDiagLo: state.log_nngp_diag_lo };
  if (kernel === 'rho') return { src: state.theta, isAngle: true, logDiag: null, logDiagLo: null };
  throw new RangeError(`unknown kernel '${String(kernel)}'`);
}

/**
 * Slice the Gram `k` `[n, n]` of the stacked points `[train; test]` (`n = n_train + n_test`)
 * into the train block `K(X, X)` `[n_train, n_train]` and the cross block `K(X_test, X)`
 * `[n_test, n_train]` (copies, row-major).
 * @throws RangeError if `k.length ≠ (n_train + n_test)²`.
 */
export function splitTrainTest(
  k: Float64Array,
  n_train: number,
  n_test: number,
): { k_train: Float64Array; k_cross: Float64Array } {
  const n = n_train + n_test;
  if (k.length !== n * n) {
    throw new RangeError(`splitTrainTest: k has length ${k.length}, expected (n_train + n_test)² = ${n * n}`);
  }
  const k_train = new Float64Array(n_train * n_train);
  const k_cross = new Float64Array(n_test * n_train);
  for (let i = 0; i < n_train; i++) k_train.set(k.subarray(i * n, i * n + n_train), i * n_train);
  for (let i = 0; i < n_test; i++) k_cross.set(k.subarray((n_train + i) * n, (n_train + i) * n + n_train), i * n_train);
  return { k_train, k_cross };
}

/**
 * The normalized train block `K̄(X, X)` → `train` `[N, N]` and cross block `K̄(X_test, X)` →
 * `cross` `[m, N]` of `kernel` (`ntk`: `Θ̄`; `nngp`, `rho`: `ρ = cos θ`), read from the lower
 * triangle of a state over the stacked `[train; test]` points (as `kernelFold` hands it out, with
 * or without `mirror`). Same values as `kernelMatrix(state, kernel, 'normalized')` sliced by
 * {@link splitTrainTest}, without the `[n, n]` intermediate. Both triangles of `train` are
 * written; diagonal exactly 1.
 * @throws RangeError if the buffers do not have the lengths `N²` and `m·N` (`m = n − N`).
 */
export function normalizedBlocks(
  state: Readonly<KernelState>,
  kernel: KernelName,
  n_train: number,
  train: Float64Array,
  cross: Float64Array,
): void {
  const n = state.n;
  const n_test = n - n_train;
  if (train.length !== n_train * n_train || cross.length !== n_test * n_train) {
    throw new RangeError(`normalizedBlocks: buffers have lengths ${train.length}, ${cross.length}; expected [${n_train}, ${n_train}] and [${n_test}, ${n_train}]`);
  }
  const { src, isAngle } = kernelView(state, kernel);
  copyCross(src, isAngle, n, n_train, cross);
  compactTrain(src, isAngle, n, n_train, train);
}

const EMPTY = new Float64Array(0);

/**
 * The normalized train block `K̄(X, X)` `[N, N]` and cross block `K̄(X_test, X)` `[m, N]` of
 * `kernel` (same values as {@link normalizedBlocks}) taken out of a state over the stacked
 * `[train; test]` points **by consuming it**: the cross block is copied into `cross`, then the
 * train block is compacted in place into the first `N²` entries of the state's own `[n, n]`
 * buffer (row `i` moves from offset `i·n` to `i·N`) and mirrored, and the state's references to
 * both big buffers are dropped (`theta`, `ntk_bar` become empty), so the other buffer can be
 * garbage-collected before a solver allocates. No `[N, N]` copy: at the last depth of a fold the
 * train block costs no memory of its own. The state must not be stepped or read afterwards.
 *
 * @param state lower triangle current (as `kernelFold` hands it out); consumed.
 * @param cross `[m, N]` output, `m = n − N`.
 * @returns the train block, a `[N, N]` view (`subarray`) of the state's former buffer, both
 *   triangles written.
 * @throws RangeError for a wrong `cross` length or `N` outside `1..n`.
 */
export function takeNormalizedBlocks(state: KernelState, kernel: KernelName, n_train: number, cross: Float64Array): Float64Array {
  const n = state.n;
  const N = n_train;
  checkBlockSizes('takeNormalizedBlocks', n, N, cross);
  const { src, isAngle } = kernelView(state, kernel);
  copyCross(src, isAngle, n, N, cross);
  state.theta = EMPTY;
  state.ntk_bar = state.ntk_bar === null ? null : EMPTY;
  compactTrain(src, isAngle, n, N, src);
  return src.subarray(0, N * N);
}

/**
 * The normalized NTK train block `Θ̄(X, X)` `[N, N]` and cross block `Θ̄(X_test, X)` `[m, N]`
 * (same values as {@link normalizedBlocks} with `kernel: ntk`) **borrowed** from a state that the
 * fold will step again, without an `[N, N]` buffer of its own: the cross block is copied into
 * `cross`, the strict lower triangle of `ntk_bar` is stashed in the strict upper triangle of
 * `theta` (free scratch in a state handed out with `mirror: false`: the recursion reads only lower
 * triangles), and the train block is compacted into the first `N²` entries of `ntk_bar` and
 * mirrored. The caller may overwrite the block (a solver factoring in place), and must call
 * `restore()` before the state is stepped again: it copies the stash back, so the state's lower
 * triangles are exactly what they were.
 *
 * @param state handed out with `mirror: false`, built with `ntk: true`.
 * @returns `train`, a `[N, N]` view of `ntk_bar`, both triangles written; and `restore`.
 * @throws RangeError for a state without `Θ̄`, a wrong `cross` length or `N` outside `1..n`.
 */
export function borrowNtkBlocks(state: KernelState, n_train: number, cross: Float64Array): { train: Float64Array; restore: () => void } {
  const { n, theta, ntk_bar: bar } = state;
  const N = n_train;
  checkBlockSizes('borrowNtkBlocks', n, N, cross);
  if (bar === null) throw new RangeError("borrowNtkBlocks: kernel 'ntk' needs a state built with ntk: true");
  copyCross(bar, false, n, N, cross);
  copyTriangleTransposed(n, bar, theta, 'lower-to-upper');
  compactTrain(bar, false, n, N, bar);
  const restore = (): void => {
    copyTriangleTransposed(n, theta, bar, 'upper-to-lower');
    for (let i = 0; i < n; i++) bar[i * n + i] = 1;
  };
  return { train: bar.subarray(0, N * N), restore };
}

function checkBlockSizes(where: string, n: number, N: number, cross: Float64Array): void {
  if (!(Number.isInteger(N) && N >= 1 && N <= n) || cross.length !== (n - N) * N) {
    throw new RangeError(`${where}: n_train ${N} of ${n} points with a cross buffer of length ${cross.length}`);
  }
}

/** `cross[i − N, j]` ← the normalized kernel at `(i, j)`, `N ≤ i < n`, `j < N` (lower triangle of `src`). */
function copyCross(src: Float64Array, isAngle: boolean, n: number, N: number, cross: Float64Array): void {
  for (let i = N; i < n; i++) {
    const o = (i - N) * N;
    if (isAngle) for (let j = 0; j < N; j++) cross[o + j] = Math.cos(src[i * n + j]);
    else cross.set(src.subarray(i * n, i * n + N), o);
  }
}

/**
 * The train block's lower triangle (normalized, diagonal exactly 1) written row by row at stride
 * `N` into `dst`, then mirrored, so `dst[0 .. N²)` is the full symmetric `[N, N]` block. `dst` may
 * be `src`: row `i` moves from `i·n` to `i·N`, below the source of every later row
 * (`i'·n ≥ (i + 1)·N`).
 */
function compactTrain(src: Float64Array, isAngle: boolean, n: number, N: number, dst: Float64Array): void {
  for (let i = 0; i < N; i++) {
    const from = i * n;
    const to = i * N;
    if (isAngle) for (let j = 0; j < i; j++) dst[to + j] = Math.cos(src[from + j]);
    else if (dst === src) dst.copyWithin(to, from, from + i);
    else dst.set(src.subarray(from, from + i), to);
    dst[to + i] = 1;
  }
  mirrorLowerFast(N, dst.subarray(0, N * N));
}
