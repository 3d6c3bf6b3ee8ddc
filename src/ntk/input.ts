/**
 * Depth-1 kernels: the input `Dense(σ_w, σ_b)` layer, `Θ^1 = Σ^1 = σ_w² x·x'/d + σ_b²`, the same
 * for every activation, with its angles computed without cancellation.
 */
import { linalg } from '../linalg/index.js';
import type { LayerParams } from './layer.js';
import { symmetrizeLower, type InputOptions, type KernelState } from './state.js';

/** Above this |cos| at layer 1 the angle is recomputed from the inputs (Kahan's formula). */
const KAHAN_COS = 0.9;

/**
 * @throws RangeError unless σ_w is finite and > 0 and σ_b finite and ≥ 0.
 */
export function checkParams(where: string, p: LayerParams): void {
  if (!(Number.isFinite(p.sigma_w) && p.sigma_w > 0)) {
    throw new RangeError(`${where}: sigma_w must be a finite number > 0, got ${p.sigma_w}`);
  }
  if (!(Number.isFinite(p.sigma_b) && p.sigma_b >= 0)) {
    throw new RangeError(`${where}: sigma_b must be a finite number >= 0, got ${p.sigma_b}`);
  }
}

/**
 * Depth-1 kernels (the input `Dense` layer; `Θ^1 = Σ^1 = σ_w² x·x'/d + σ_b²`;
 * neural-tangents `stax.Dense` kernel map on the input Gram).
 *
 * The Gram matrix comes from `linalg().syrk` on the rows scaled to unit `Σ^1`-norm, and
 * `θ = acos(cos θ)` where `|cos θ| ≤ 0.9` (error ≤ 2.3× the Gram rounding there). Pairs with
 * `|cos θ| > 0.9`, where `acos` amplifies rounding without bound, are recomputed from the inputs
 * with Kahan's formula `θ = 2 atan2(‖a − b‖, ‖a + b‖)` (a, b the `Σ^1`-normalized augmented
 * points `(σ_w x/√d, σ_b)/sqrt(Σ^1(x,x))`), accurate to a few ulps of π, including duplicates
 * (exactly 0) and antipodal points (π). Cost: one `syrk` (`n² d`) plus `O(d)` per recomputed
 * pair, and an `[n, d]` scratch copy of the inputs. The pairs are written row by row into the
 * lower triangles; the upper ones are mirrored at the end unless `options.mirror` is false.
 *
 * @param x points, row-major `[n, d]` (not modified).
 * @param n number of points, ≥ 1.
 * @param d input dimension, ≥ 1.
 * @returns a new state with `depth = 1`: `theta` and `ntk_bar` row-major `[n, n]`, both
 *   triangles current (only the lower ones with `mirror: false`).
 * @throws RangeError on bad sizes or parameters, non-finite inputs, or a point with
 *   `Σ^1(x,x) = 0` (a zero input with `σ_b = 0`), whose correlation is undefined.
 */
export function inputKernel(
  x: Float64Array,
  n: number,
  d: number,
  params: LayerParams,
  options: InputOptions = {},
): KernelState {
  checkParams('inputKernel', params);
  if (!(Number.isInteger(n) && n >= 1 && Number.isInteger(d) && d >= 1)) {
    throw new RangeError(`inputKernel: n and d must be integers >= 1, got n=${n}, d=${d}`);
  }
  if (x.length !== n * d) {
    throw new RangeError(`inputKernel: x has length ${x.length}, expected n*d = ${n * d}`);
  }
  const pts = unitPoints(x, n, d, params);
  const theta = new Float64Array(n * n);
  linalg().syrk(n, d, 1, pts.xhat, 0, theta); // theta holds the Gram of xhat for now
  const ntkBar = (options.ntk ?? true) ? new Float64Array(n * n) : null;
  for (let i = 0; i < n; i++) inputAnglesRow(i, n, d, pts, theta, ntkBar);
  const state: KernelState = {
    n,
    depth: 1,
    theta,
    ntk_bar: ntkBar,
    log_nngp_diag: pts.logS,
    log_nngp_diag_lo: new Float64Array(n),
    log_ntk_diag: Float64Array.from(pts.logS),
    log_ntk_diag_lo: new Float64Array(n),
    nngp_ntk_ratio: new Float64Array(n).fill(1),
  };
  return options.mirror === false ? state : symmetrizeLower(state);
}

/** The inputs scaled to unit `Σ^1`-norm, augmented by the bias coordinate, and their log scales. */
interface UnitPoints {
  /** `σ_w x_i / (√d sqrt(Σ^1_ii))`, row-major `[n, d]`. */
  xhat: Float64Array;
  /** `σ_b / sqrt(Σ^1_ii)`: the augmented coordinate of the unit point, length n. */
  bhat: Float64Array;
  /** `log Σ^1_ii`, length n. */
  logS: Float64Array;
}

/**
 * {@link UnitPoints} of the rows of `x` `[n, d]`.
 * @throws RangeError for a non-finite coordinate or `Σ^1(x,x) = 0`.
 */
function unitPoints(x: Float64Array, n: number, d: number, params: LayerParams): UnitPoints {
  const { sigma_w, sigma_b } = params;
  const sw2d = (sigma_w * sigma_w) / d;
  const sb2 = sigma_b * sigma_b;
  const logS = new Float64Array(n);
  const bhat = new Float64Array(n);
  const xhat = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const row = i * d;
    let sq = 0;
    for (let k = 0; k < d; k++) sq += x[row + k] * x[row + k];
    if (!Number.isFinite(sq)) throw new RangeError(`inputKernel: point ${i} has a non-finite coordinate`);
    const s1 = sw2d * sq + sb2;
    if (!(s1 > 0)) {
      throw new RangeError(
        `inputKernel: point ${i} has Sigma^1(x,x) = 0 (zero input with sigma_b = 0); its ` +
          'correlation is undefined. Drop zero rows or use sigma_b > 0.',
      );
    }
    logS[i] = Math.log(s1);
    const norm = Math.sqrt(s1);
    const a = Math.sqrt(sw2d) / norm;
    for (let k = 0; k < d; k++) xhat[row + k] = a * x[row + k];
    bhat[i] = sigma_b / norm;
  }
  return { xhat, bhat, logS };
}

/**
 * Row `i` of the lower triangles (`j ≤ i`): the Gram entries of `theta` (row `i` of the `syrk`
 * output) become angles, `ntkBar` (if any) receives `ρ = cos θ`; diagonal `θ = 0`, `Θ̄ = 1`.
 * Writes only row `i`, left to right.
 */
function inputAnglesRow(i: number, n: number, d: number, pts: UnitPoints, theta: Float64Array, ntkBar: Float64Array | null): void {
  const { xhat, bhat } = pts;
  const ri = i * n;
  const bi = bhat[i];
  for (let j = 0; j < i; j++) {
    const c = theta[ri + j] + bi * bhat[j];
    let th: number;
    let rho: number;
    if (c <= KAHAN_COS && c >= -KAHAN_COS) {
      th = Math.acos(c);
      rho = c;
    } else {
      th = kahanAngle(xhat, i * d, j * d, d, bi, bhat[j]);
      rho = Math.cos(th);
    }
    theta[ri + j] = th;
    if (ntkBar !== null) ntkBar[ri + j] = rho;
  }
  theta[ri + i] = 0;
  if (ntkBar !== null) ntkBar[ri + i] = 1;
}

/**
 * Kahan's angle `2 atan2(‖a − b‖, ‖a + b‖)` between the augmented unit points
 * `a = (xhat[ra .. ra + d), ba)` and `b = (xhat[rb .. rb + d), bb)`.
 */
function kahanAngle(xhat: Float64Array, ra: number, rb: number, d: number, ba: number, bb: number): number {
  let dm = 0;
  let dp = 0;
  for (let k = 0; k < d; k++) {
    const a = xhat[ra + k];
    const b = xhat[rb + k];
    dm += (a - b) * (a - b);
    dp += (a + b) * (a + b);
  }
  dm += (ba - bb) * (ba - bb);
  dp += (ba + bb) * (ba + bb);
  return 2 * Math.atan2(Math.sqrt(dm), Math.sqrt(dp));
}
