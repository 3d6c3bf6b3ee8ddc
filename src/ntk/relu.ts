/**
 * Infinite-width kernels of a fully connected ReLU network in NTK parameterization: the NNGP
 * `Σ^l` and the NTK `Θ^l` of docs/conventions.md §4, in the style of neural-tangents `stax`
 * (`stax.Dense` + `stax.Relu`): the kernel map of one layer is a function from one
 * {@link ReluKernelState} to the next ({@link reluKernelStep}), the inputs enter through
 * {@link reluInputKernel}, and depth is a fold over the step ({@link reluKernelFold}).
 *
 * Formulas (Jacot et al. 2018, "Neural Tangent Kernel", Thm. 1; arc-cosine kernel of degree 1 from
 * Cho & Saul 2009, eq. (6); same recursion as neural-tangents `stax.Relu`/`stax.Dense` with
 * `parameterization='ntk'`), for `l ≥ 1`:
 *
 *   Σ^1(x,x') = σ_w² x·x'/d + σ_b²,  Θ^1 = Σ^1
 *   θ^l       = angle between x and x' under Σ^l, cos θ^l = ρ^l = Σ^l(x,x')/sqrt(Σ^l(x,x) Σ^l(x',x'))
 *   Σ^{l+1}   = σ_w²/(2π) sqrt(Σ^l(x,x) Σ^l(x',x')) (sin θ + (π − θ) cos θ) + σ_b²
 *   Σ̇^{l+1}  = σ_w² (π − θ)/(2π)
 *   Θ^{l+1}   = Θ^l Σ̇^{l+1} + Σ^{l+1}
 *
 * Normalized, underflow-free form. With `J(θ) = (sin θ + (π − θ) cos θ)/π` (so `J(0) = 1`) and,
 * per point `i`, `w_i² = (σ_w²/2) Σ^l_ii / Σ^{l+1}_ii`, `c_i² = σ_b² / Σ^{l+1}_ii`
 * (`w_i² + c_i² = 1`), `p_i² = (σ_w²/2) Θ^l_ii / Θ^{l+1}_ii`, `q_i² = Σ^{l+1}_ii / Θ^{l+1}_ii`
 * (`p_i² + q_i² = 1`), the recursion divides out exactly into
 *
 *   ρ^{l+1}_ij     = w_i w_j J(θ_ij) + c_i c_j
 *   1 − ρ^{l+1}_ij = w_i w_j (1 − J(θ_ij)) + ½((w_i − w_j)² + (c_i − c_j)²)
 *   Θ̄^{l+1}_ij     = p_i p_j Θ̄^l_ij (1 − θ_ij/π) + q_i q_j ρ^{l+1}_ij
 *   1 − J(θ)       = (1 − cos θ) − (sin θ − θ cos θ)/π
 *
 * Every term on the right of `1 − ρ^{l+1}` is non-negative, so it is computed without
 * cancellation; `1 − cos θ = 2 sin²(θ/2)`, and `sin θ − θ cos θ` is summed from its Taylor series
 * `Σ_{k≥1} (−1)^{k+1} 2k θ^{2k+1}/(2k+1)!` for `θ < 0.5`. The new angle is
 * `θ^{l+1} = 2 asin(sqrt((1 − ρ^{l+1})/2))`, which is well conditioned because `ρ^{l+1} ≥ 0` for
 * a ReLU layer. The state therefore carries the **angle** `θ^l` itself (not `ρ^l`): it represents
 * `1 − ρ = 2 sin²(θ/2)` and `1 + ρ = 2 cos²(θ/2)` to full relative precision, so neither
 * `ρ → 1` (the diagonal, deep layers) nor `ρ → −1` (antipodal inputs) loses digits. Per-point
 * scales are kept as logarithms, so nothing underflows at any depth (`Θ^L(x,x) = L/(d 2^{L−1})`
 * for `σ_w = 1, σ_b = 0` and unit `x` underflows float64 near `L ≈ 1000`).
 *
 * Matrix layout: every matrix is a row-major `Float64Array`; a kernel over `n` points is `[n, n]`.
 */
import { linalg } from '../linalg/index.js';

/** Hyper-parameters of every `Dense(σ_w, σ_b) ∘ ReLU` layer (docs/conventions.md §2 names). */
export interface ReluKernelParams {
  /** Weight standard deviation σ_w (NTK parameterization); finite, > 0. Paper default 1. */
  sigma_w: number;
  /** Bias standard deviation σ_b; finite, ≥ 0. Paper default 0. */
  sigma_b: number;
}

/**
 * The kernels of a depth-`depth` network over `n` points, in normalized form.
 *
 * Between steps only the lower triangle (`j ≤ i`) of `theta` and `ntk_bar` is current;
 * {@link reluKernelFold} mirrors both before handing the state to its callback, and
 * {@link symmetrizeLower} does it on demand. The diagonal is exact: `theta[i,i] === 0`,
 * `ntk_bar[i,i] === 1`.
 */
export interface ReluKernelState {
  /** Number of points. */
  n: number;
  /** Network depth `l` (number of weight layers) these kernels belong to; `l = 1` is linear. */
  depth: number;
  /**
   * `θ^l(x_i, x_j)`, the angle between `x_i` and `x_j` under `Σ^l`, radians in `[0, π]`,
   * row-major `[n, n]`. The correlation (`rho`) kernel is `ρ^l = cos θ^l = Σ̄^l`, and
   * `1 − ρ^l = 2 sin²(θ^l/2)` without cancellation. See {@link kernelMatrix} in
   * `kernel-matrix.ts` for `ρ`, `Σ`, `Θ` as matrices.
   */
  theta: Float64Array;
  /**
   * Normalized NTK `Θ̄^l(x_i,x_j) = Θ^l(x_i,x_j)/sqrt(Θ^l(x_i,x_i) Θ^l(x_j,x_j))`, row-major
   * `[n, n]`, diagonal exactly 1; `null` when the state was built with `ntk: false`.
   */
  ntk_bar: Float64Array | null;
  /** `log Σ^l(x_i, x_i)` (natural log), length n, rounded to nearest. */
  log_nngp_diag: Float64Array;
  /**
   * Low-order part of `log Σ^l(x_i, x_i)` (double-double accumulation over the layers, so 10⁴
   * additions do not pile up ~10⁴ roundings of a number of size ~10⁴): the log is
   * `log_nngp_diag[i] + log_nngp_diag_lo[i]`, `|lo| ≤ ulp(hi)/2`. Only needed when ~1e-16
   * relative accuracy of differences between points' scales matters.
   */
  log_nngp_diag_lo: Float64Array;
  /** `log Θ^l(x_i, x_i)` (natural log), length n, rounded to nearest. */
  log_ntk_diag: Float64Array;
  /** Low-order part of `log Θ^l(x_i, x_i)`, as {@link ReluKernelState.log_nngp_diag_lo}. */
  log_ntk_diag_lo: Float64Array;
  /**
   * `z_i = Σ^l(x_i,x_i)/Θ^l(x_i,x_i)` in `(0, 1]`, length n, carried by its own recursion
   * (`z^{l+1} = y/(1 + y)`, `y = z^l Σ^{l+1}_ii/((σ_w²/2) Σ^l_ii)`, from
   * `Θ^{l+1}_ii = (σ_w²/2) Θ^l_ii + Σ^{l+1}_ii`) so it does not inherit the rounding of the
   * difference of two large logarithms; `log Θ^l_ii = log Σ^l_ii − log z_i`.
   */
  nngp_ntk_ratio: Float64Array;
}

/** Options of {@link reluInputKernel}. */
export interface ReluInputOptions {
  /** Also carry the normalized NTK `Θ̄` (an extra `[n, n]` buffer and ~25% more time). Default true. */
  ntk?: boolean;
}

const PI = Math.PI;
const HALF_PI = Math.PI / 2;
const INV_PI = 1 / Math.PI;
// Taylor coefficients of sin θ − θ cos θ = Σ_{k≥1} (−1)^{k+1} 2k θ^{2k+1}/(2k+1)!  (k = 1..8).
const G1 = 1 / 3;
const G2 = -1 / 30;
const G3 = 1 / 840;
const G4 = -1 / 45360;
const G5 = 1 / 3991680;
const G6 = -1 / 518918400;
const G7 = 1 / 93405312000;
const G8 = -1 / 22230464256000;
/** Below this angle `sin θ − θ cos θ` comes from its series (truncation < 1e-17 relative). */
const SERIES_THETA = 0.5;
/** Above this |cos| at layer 1 the angle is recomputed from the inputs (Kahan's formula). */
const KAHAN_COS = 0.9;

function checkParams(where: string, p: ReluKernelParams): void {
  if (!(Number.isFinite(p.sigma_w) && p.sigma_w > 0)) {
    throw new RangeError(`${where}: sigma_w must be a finite number > 0, got ${p.sigma_w}`);
  }
  if (!(Number.isFinite(p.sigma_b) && p.sigma_b >= 0)) {
    throw new RangeError(`${where}: sigma_b must be a finite number >= 0, got ${p.sigma_b}`);
  }
}

/**
 * Depth-1 kernels (the input `Dense` layer; `Θ^1 = Σ^1 = σ_w² x·x'/d + σ_b²`, docs/conventions.md §4;
 * neural-tangents `stax.Dense` kernel map on the input Gram).
 *
 * The Gram matrix comes from `linalg().syrk` on the rows scaled to unit `Σ^1`-norm, and
 * `θ = acos(cos θ)` where `|cos θ| ≤ 0.9` (error ≤ 2.3× the Gram rounding there). Pairs with
 * `|cos θ| > 0.9`, where `acos` amplifies rounding without bound, are recomputed from the inputs
 * with Kahan's formula `θ = 2 atan2(‖a − b‖, ‖a + b‖)` (a, b the `Σ^1`-normalized augmented
 * points `(σ_w x/√d, σ_b)/sqrt(Σ^1(x,x))`), accurate to a few ulps of π, including duplicates
 * (exactly 0) and antipodal points (π). Cost: one `syrk` (`n² d`) plus `O(d)` per recomputed
 * pair, and an `[n, d]` scratch copy of the inputs.
 *
 * @param x points, row-major `[n, d]` (not modified).
 * @param n number of points, ≥ 1.
 * @param d input dimension, ≥ 1.
 * @returns a new state with `depth = 1`, both triangles written.
 * @throws RangeError on bad sizes or parameters, non-finite inputs, or a point with
 *   `Σ^1(x,x) = 0` (a zero input with `σ_b = 0`), whose correlation is undefined.
 */
export function reluInputKernel(
  x: Float64Array,
  n: number,
  d: number,
  params: ReluKernelParams,
  options: ReluInputOptions = {},
): ReluKernelState {
  checkParams('reluInputKernel', params);
  if (!(Number.isInteger(n) && n >= 1 && Number.isInteger(d) && d >= 1)) {
    throw new RangeError(`reluInputKernel: n and d must be integers >= 1, got n=${n}, d=${d}`);
  }
  if (x.length !== n * d) {
    throw new RangeError(`reluInputKernel: x has length ${x.length}, expected n*d = ${n * d}`);
  }
  const { sigma_w, sigma_b } = params;
  const sw2d = (sigma_w * sigma_w) / d;
  const sb2 = sigma_b * sigma_b;
  const logS = new Float64Array(n);
  const bhat = new Float64Array(n); // σ_b / sqrt(Σ^1_ii): augmented coordinate of the unit point
  const xhat = new Float64Array(n * d); // σ_w x_i / (√d sqrt(Σ^1_ii))
  for (let i = 0; i < n; i++) {
    const row = i * d;
    let sq = 0;
    for (let k = 0; k < d; k++) sq += x[row + k] * x[row + k];
    if (!Number.isFinite(sq)) throw new RangeError(`reluInputKernel: point ${i} has a non-finite coordinate`);
    const s1 = sw2d * sq + sb2;
    if (!(s1 > 0)) {
      throw new RangeError(
        `reluInputKernel: point ${i} has Sigma^1(x,x) = 0 (zero input with sigma_b = 0); its ` +
          'correlation is undefined. Drop zero rows or use sigma_b > 0.',
      );
    }
    logS[i] = Math.log(s1);
    const norm = Math.sqrt(s1);
    const a = Math.sqrt(sw2d) / norm;
    for (let k = 0; k < d; k++) xhat[row + k] = a * x[row + k];
    bhat[i] = sigma_b / norm;
  }
  const theta = new Float64Array(n * n);
  linalg().syrk(n, d, 1, xhat, 0, theta); // theta holds the Gram of xhat for now
  const ntk = options.ntk ?? true;
  const ntkBar = ntk ? new Float64Array(n * n) : null;
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    const rowI = i * d;
    const bi = bhat[i];
    for (let j = 0; j < i; j++) {
      const c = theta[ri + j] + bi * bhat[j];
      let th: number;
      let rho: number;
      if (c <= KAHAN_COS && c >= -KAHAN_COS) {
        th = Math.acos(c);
        rho = c;
      } else {
        const rowJ = j * d;
        let dm = 0;
        let dp = 0;
        for (let k = 0; k < d; k++) {
          const a = xhat[rowI + k];
          const b = xhat[rowJ + k];
          dm += (a - b) * (a - b);
          dp += (a + b) * (a + b);
        }
        const bj = bhat[j];
        dm += (bi - bj) * (bi - bj);
        dp += (bi + bj) * (bi + bj);
        th = 2 * Math.atan2(Math.sqrt(dm), Math.sqrt(dp));
        rho = Math.cos(th);
      }
      theta[ri + j] = th;
      theta[j * n + i] = th;
      if (ntkBar !== null) {
        ntkBar[ri + j] = rho;
        ntkBar[j * n + i] = rho;
      }
    }
    theta[ri + i] = 0;
    if (ntkBar !== null) ntkBar[ri + i] = 1;
  }
  return {
    n,
    depth: 1,
    theta,
    ntk_bar: ntkBar,
    log_nngp_diag: logS,
    log_nngp_diag_lo: new Float64Array(n),
    log_ntk_diag: Float64Array.from(logS),
    log_ntk_diag_lo: new Float64Array(n),
    nngp_ntk_ratio: new Float64Array(n).fill(1),
  };
}

/**
 * Kernel map of one `Dense(σ_w, σ_b) ∘ ReLU` layer: advances `state` from depth `l` to `l + 1`
 * **in place** (recursion in the module comment; Jacot et al. 2018 / Cho & Saul 2009; the
 * neural-tangents `stax.Relu` + `stax.Dense` kernel transform, in normalized form).
 *
 * Only the lower triangle (`j < i`) of `theta` and `ntk_bar` is read and written; the upper
 * triangle is left stale (see {@link symmetrizeLower}). Per pair: one `sin`, one `asin`, two
 * `sqrt`, no allocation. Accuracy: a few ulps per layer on `θ` (relative) and on `Θ̄`
 * (absolute); measured against a 28-digit decimal.js recursion (`test/ntk-relu.test.ts`) the
 * absolute error on `ρ` and `Θ̄` stays below 5e-15 up to 10⁴ layers (the target is 1e-12), and
 * the log scales are correct to ~1e-16 relative (double-double accumulation).
 *
 * @returns the same `state` object, with `depth` incremented.
 * @throws RangeError on invalid `sigma_w`/`sigma_b`.
 */
export function reluKernelStep(state: ReluKernelState, params: ReluKernelParams): ReluKernelState {
  checkParams('reluKernelStep', params);
  const { n, theta: T, ntk_bar: B, nngp_ntk_ratio: z } = state;
  const logS = state.log_nngp_diag;
  const logSlo = state.log_nngp_diag_lo;
  const logT = state.log_ntk_diag;
  const logTlo = state.log_ntk_diag_lo;
  const halfW2 = 0.5 * params.sigma_w * params.sigma_w;
  const logHalfW2 = Math.log(halfW2);
  const logB2 = params.sigma_b > 0 ? 2 * Math.log(params.sigma_b) : -Infinity;
  // Per-point mixing coefficients of this layer (module comment): w, c for ρ; p, q for Θ̄.
  const w = new Float64Array(n);
  const c = new Float64Array(n);
  const p = new Float64Array(n);
  const q = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // r = σ_b² / ((σ_w²/2) Σ^l_ii); Σ^{l+1}_ii = (σ_w²/2) Σ^l_ii (1 + r)
    const r = Math.exp(logB2 - logHalfW2 - (logS[i] + logSlo[i]));
    w[i] = 1 / Math.sqrt(1 + r);
    c[i] = Math.sqrt(r / (1 + r));
    ddAdd(logS, logSlo, i, logHalfW2);
    ddAdd(logS, logSlo, i, Math.log1p(r));
    // y = Σ^{l+1}_ii / ((σ_w²/2) Θ^l_ii); Θ^{l+1}_ii = (σ_w²/2) Θ^l_ii (1 + y)
    const y = z[i] * (1 + r);
    p[i] = 1 / Math.sqrt(1 + y);
    q[i] = Math.sqrt(y / (1 + y));
    z[i] = y / (1 + y);
    // log Θ^{l+1}_ii = log Σ^{l+1}_ii − log z^{l+1}: anchored to Σ and z, both of which
    // self-correct (a running sum of log((σ_w²/2)(1 + y)) would drift, e.g. ~1e-14 after 10³
    // layers at a σ_b > 0 fixed point, because nothing feeds its errors back).
    logT[i] = logS[i];
    logTlo[i] = logSlo[i];
    ddAdd(logT, logTlo, i, -Math.log(z[i]));
  }
  for (let i = 1; i < n; i++) {
    const row = i * n;
    const wi = w[i];
    const ci = c[i];
    const pi = p[i];
    const qi = q[i];
    for (let j = 0; j < i; j++) {
      const idx = row + j;
      const th = T[idx];
      let h: number; // sin(θ/2)
      let k: number; // cos(θ/2)
      if (th <= HALF_PI) {
        h = Math.sin(0.5 * th);
        k = Math.sqrt(1 - h * h); // 1 − h² ≥ ½ here: no cancellation
      } else {
        h = Math.sin(0.5 * th);
        k = Math.cos(0.5 * th);
      }
      const u = 2 * h * h; // 1 − cos θ
      const sinT = 2 * h * k;
      const cosT = 1 - u;
      let g: number; // sin θ − θ cos θ
      if (th < SERIES_THETA) {
        const t2 = th * th;
        g = t2 * th * (G1 + t2 * (G2 + t2 * (G3 + t2 * (G4 + t2 * (G5 + t2 * (G6 + t2 * (G7 + t2 * G8)))))));
      } else {
        g = sinT - th * cosT;
      }
      const oneMinusJ = u - g * INV_PI;
      const wj = w[j];
      const cj = c[j];
      const ww = wi * wj;
      const dw = wi - wj;
      const dc = ci - cj;
      const oneMinusRho = ww * oneMinusJ + 0.5 * (dw * dw + dc * dc);
      if (B !== null) {
        const rho = 1 - oneMinusRho; // ρ^{l+1}; exactly 1 for duplicate points
        B[idx] = pi * p[j] * B[idx] * (1 - th * INV_PI) + qi * q[j] * rho;
      }
      const hn = Math.sqrt(0.5 * oneMinusRho);
      T[idx] = 2 * Math.asin(hn < 1 ? hn : 1);
    }
  }
  state.depth += 1;
  return state;
}

/**
 * `(hi[i], lo[i]) += x` in double-double arithmetic (Knuth's TwoSum, then renormalization), so
 * the running sum keeps ~2⁻¹⁰⁶ relative accuracy however many terms are added.
 */
function ddAdd(hi: Float64Array, lo: Float64Array, i: number, x: number): void {
  const a = hi[i];
  const s = a + x;
  const bp = s - a;
  const err = a - (s - bp) + (x - bp);
  const l = lo[i] + err;
  const h = s + l;
  lo[i] = l - (h - s);
  hi[i] = h;
}

/**
 * Copy the lower triangle of the row-major `[n, n]` matrix `a` onto its upper triangle
 * (in place, blocked for cache locality). Returns `a`.
 */
export function mirrorLower(n: number, a: Float64Array): Float64Array {
  const BS = 64;
  for (let ib = 0; ib < n; ib += BS) {
    const iEnd = Math.min(n, ib + BS);
    for (let jb = 0; jb <= ib; jb += BS) {
      const jEnd = Math.min(n, jb + BS);
      for (let i = ib; i < iEnd; i++) {
        const jStop = Math.min(jEnd, i);
        for (let j = jb; j < jStop; j++) a[j * n + i] = a[i * n + j];
      }
    }
  }
  return a;
}

/** Mirror `theta` and `ntk_bar` of `state` so both triangles are current. Returns `state`. */
export function symmetrizeLower(state: ReluKernelState): ReluKernelState {
  mirrorLower(state.n, state.theta);
  if (state.ntk_bar !== null) mirrorLower(state.n, state.ntk_bar);
  return state;
}

/** Options of {@link reluKernelFold}. */
export interface ReluFoldOptions extends ReluKernelParams, ReluInputOptions {
  /**
   * Depths (integers ≥ 1, any order, duplicates ignored) at which the callback is called;
   * the fold runs to the largest.
   */
  depths: readonly number[];
  /** Checked before every layer; the fold throws `signal.reason` once it is aborted. */
  signal?: AbortSignal;
  /** Called after every layer with the depth reached (progress reporting). */
  on_layer?: (depth: number, max_depth: number) => void;
}

/**
 * Run the ReLU kernel recursion once up to `max(depths)`, handing the state at every requested
 * depth to `onDepth` on the way (docs/architecture.md §4 "shared work": depth `L` passes through every
 * depth below it). Points are the rows of `x`; for train/test cross kernels pass the stacked
 * `[train; test]` rows and slice the blocks of the `[n, n]` result.
 *
 * The state given to `onDepth` has both triangles current and is **mutated after the callback
 * returns**: copy what must outlive the call (e.g. with {@link kernelMatrix}).
 *
 * Cost: one `syrk` (`n² d`) plus one `sin`, one `asin` and two `sqrt` per pair `j < i` per layer
 * (timed by `scripts/bench/ntk-fold.ts`), memory two `[n, n]`
 * buffers (one with `ntk: false`): 41 MB at n = 1600, 1.6 GB at n = 10⁴.
 *
 * @param x points, row-major `[n, d]`.
 * @returns the final state (depth `max(depths)`), both triangles current.
 * @throws RangeError on bad sizes, parameters or depths (see {@link reluInputKernel});
 *   `signal.reason` when aborted.
 */
export function reluKernelFold(
  x: Float64Array,
  n: number,
  d: number,
  options: ReluFoldOptions,
  onDepth: (depth: number, state: Readonly<ReluKernelState>) => void,
): ReluKernelState {
  const wanted = [...new Set(options.depths)].sort((a, b) => a - b);
  if (wanted.length === 0) throw new RangeError('reluKernelFold: depths is empty');
  for (const L of wanted) {
    if (!(Number.isInteger(L) && L >= 1)) {
      throw new RangeError(`reluKernelFold: depths must be integers >= 1, got ${L}`);
    }
  }
  const maxDepth = wanted[wanted.length - 1];
  options.signal?.throwIfAborted();
  const state = reluInputKernel(x, n, d, options, options);
  let next = 0;
  for (;;) {
    if (state.depth === wanted[next]) {
      if (state.depth > 1) symmetrizeLower(state);
      onDepth(state.depth, state);
      next += 1;
    }
    options.on_layer?.(state.depth, maxDepth);
    if (state.depth === maxDepth) break;
    options.signal?.throwIfAborted();
    reluKernelStep(state, options);
  }
  return state; // symmetrized when handed to onDepth at maxDepth
}
