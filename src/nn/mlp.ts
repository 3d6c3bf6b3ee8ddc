/**
 * Fully connected network (MLP) with activation φ: specification, seeded initialization, forward pass with
 * stored pre-activations/activations, mean-squared-error loss and its backward pass.
 *
 * Conventions (docs/conventions.md §3): depth `L` = `L` weight layers and `L − 1` hidden layers of width
 * `n`; layer sizes `n_0 = d`, `n_1 = … = n_{L−1} = width`, `n_L = k` (outputs). Layer `l`
 * (1-based, `l = 1..L`) maps `α^{l−1}` (size `n_{l−1}`) to the pre-activation `h^l` (size `n_l`):
 *
 *     h^l = c_l · W^l α^{l−1} + β · b^l,      α^l = φ(h^l),  α^0 = x,  f(x) = h^L (no output nonlinearity)
 *
 * φ and φ' come from the architecture's {@link Activation} (default ReLU), the same object whose
 * dual maps give the infinite-width kernels of `src/ntk`.
 *
 * - `parameterization: 'ntk'` (default; Jacot et al. 2018, docs/conventions.md §3): `W^l_{ij}, b^l_i ~ N(0, 1)`,
 *   `c_l = σ_w / sqrt(n_{l−1})`, `β = σ_b`.
 * - `parameterization: 'standard'`: `W^l_{ij} ~ N(0, σ_w² / n_{l−1})`, `b^l_i ~ N(0, σ_b²)`,
 *   `c_l = 1`, `β = 1` (the usual PyTorch-style network with the same function at init; its
 *   gradients, hence its GD dynamics and empirical NTK, differ from the NTK parameterization).
 *
 * Storage layout: every matrix is a `Float64Array` in row-major order. `W^l` is `[n_l, n_{l−1}]`
 * (`W[l−1][i * n_{l−1} + j]`), `b^l` is `[n_l]`. A batch of `N` inputs is `[N, d]`, activations
 * `[N, n_l]`, outputs `[N, k]`. All dense products go through `linalg().gemm`.
 */
import { makeRng } from '../util/rng.js';
import { linalg } from '../linalg/index.js';
import type { Activation } from '../ntk/activation.js';
import { activationOf } from '../ntk/activations.js';
import { validateArchitecture, type Architecture } from '../ntk/architecture.js';

/** How weights are scaled; see the module comment. */
export type Parameterization = 'ntk' | 'standard';

/**
 * An MLP: the shared {@link Architecture} (`activation` optional here, default ReLU; `width`
 * required) plus input and output sizes and the parameterization.
 */
export interface MlpArchitecture extends Omit<Architecture, 'activation' | 'width'> {
  /** φ of every hidden layer; default ReLU. */
  activation?: Activation;
  /** Hidden width `n` (`width`). */
  width: number;
  /** Input dimension `d = n_0`. */
  d: number;
  /** Output dimension `k = n_L`. */
  k: number;
  parameterization: Parameterization;
}

const RELU = activationOf('relu');

/** The activation of `arch` (ReLU when unset). */
export function mlpActivation(arch: MlpArchitecture): Activation {
  return arch.activation ?? RELU;
}

/**
 * Trainable parameters. `W[l − 1]` is `W^l` row-major `[n_l, n_{l−1}]`; `b[l − 1]` is `b^l` `[n_l]`,
 * for `l = 1..L`.
 */
export interface MlpParams {
  W: Float64Array[];
  b: Float64Array[];
}

/**
 * Values stored by {@link forward} for a batch of `n` inputs, reused by the backward pass and by
 * the empirical NTK. `a[l]` is `α^l` `[n, n_l]` for `l = 0..L−1` (`a[0]` is the input batch itself,
 * not a copy); `h[l]` is `h^l` `[n, n_l]` for `l = 1..L` (`h[0]` is an empty array). The network
 * output is `h[L]` `[n, k]`.
 */
export interface ForwardCache {
  n: number;
  h: Float64Array[];
  a: Float64Array[];
}

/**
 * Check an {@link MlpArchitecture}: the shared architecture fields ({@link validateArchitecture}), the
 * sizes `d`, `k`, and the parameterization.
 * @throws RangeError naming the field.
 */
export function validateMlpArchitecture(arch: MlpArchitecture): void {
  for (const key of ['d', 'k'] as const) {
    const v = arch[key];
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`mlp: ${key} must be a positive integer, got ${v}`);
  }
  validateArchitecture({ ...arch, activation: mlpActivation(arch) }, 'mlp');
  if (arch.parameterization !== 'ntk' && arch.parameterization !== 'standard') {
    throw new RangeError(`mlp: parameterization must be 'ntk' or 'standard', got ${String(arch.parameterization)}`);
  }
}

/** Layer sizes `[n_0 = d, n_1, …, n_{L−1} = width, n_L = k]` (length `L + 1`). */
export function layerSizes(arch: MlpArchitecture): number[] {
  const sizes = [arch.d];
  for (let l = 1; l < arch.depth; l++) sizes.push(arch.width);
  sizes.push(arch.k);
  return sizes;
}

/** Forward multiplier `c_l` of weight layer `l` (1-based): `σ_w/sqrt(n_{l−1})` (ntk) or 1 (standard). */
export function weightMultiplier(arch: MlpArchitecture, l: number): number {
  if (arch.parameterization === 'standard') return 1;
  return arch.sigma_w / Math.sqrt(layerSizes(arch)[l - 1]);
}

/** Forward multiplier `β` of the biases: `σ_b` (ntk) or 1 (standard). */
export function biasMultiplier(arch: MlpArchitecture): number {
  return arch.parameterization === 'standard' ? 1 : arch.sigma_b;
}

/** Total number of trainable scalars `Σ_l n_l (n_{l−1} + 1)`. */
export function parameterCount(arch: MlpArchitecture): number {
  const s = layerSizes(arch);
  let c = 0;
  for (let l = 1; l < s.length; l++) c += s[l] * (s[l - 1] + 1);
  return c;
}

/**
 * Seeded Gaussian initialization. The stream is `makeRng({purpose: 'init', seed, width, depth, d,
 * k, sigma_w, sigma_b, parameterization})`; it fills `W^1, b^1, W^2, b^2, …, W^L, b^L` in that
 * order, each in row-major index order, with `N(0, 1)` (ntk) or `N(0, σ_w²/n_{l−1})` / `N(0, σ_b²)`
 * (standard). Identical arguments give bit-identical parameters.
 * @throws RangeError on an invalid architecture (see {@link validateMlpArchitecture}).
 */
export function initMlp(arch: MlpArchitecture, seed: number): MlpParams {
  validateMlpArchitecture(arch);
  const rng = makeRng({
    purpose: 'init',
    seed,
    width: arch.width,
    depth: arch.depth,
    d: arch.d,
    k: arch.k,
    sigma_w: arch.sigma_w,
    sigma_b: arch.sigma_b,
    parameterization: arch.parameterization,
  });
  const sizes = layerSizes(arch);
  const W: Float64Array[] = [];
  const b: Float64Array[] = [];
  for (let l = 1; l <= arch.depth; l++) {
    const wScale = arch.parameterization === 'standard' ? arch.sigma_w / Math.sqrt(sizes[l - 1]) : 1;
    const bScale = arch.parameterization === 'standard' ? arch.sigma_b : 1;
    W.push(rng.fillNormal(new Float64Array(sizes[l] * sizes[l - 1]), wScale));
    b.push(rng.fillNormal(new Float64Array(sizes[l]), bScale));
  }
  return { W, b };
}

/** Deep copy of parameters. */
export function cloneParams(p: MlpParams): MlpParams {
  return { W: p.W.map((w) => w.slice()), b: p.b.map((v) => v.slice()) };
}

function checkBatch(arch: MlpArchitecture, x: Float64Array, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`mlp: batch size must be an integer >= 0, got ${n}`);
  if (x.length !== n * arch.d) {
    throw new RangeError(`mlp: input has length ${x.length}, expected n·d = ${n}·${arch.d} = ${n * arch.d}`);
  }
}

/**
 * Forward pass on a batch `x` `[n, d]` row-major. Returns all pre-activations and activations
 * (see {@link ForwardCache}); the output is `cache.h[L]` `[n, k]`. If `reuse` has matching shapes
 * its buffers are overwritten instead of allocating new ones.
 * @throws RangeError if `x.length !== n·d`.
 */
export function forward(arch: MlpArchitecture, params: MlpParams, x: Float64Array, n: number, reuse?: ForwardCache): ForwardCache {
  checkBatch(arch, x, n);
  const sizes = layerSizes(arch);
  const L = arch.depth;
  const ok = reuse !== undefined && reuse.n === n && reuse.h.length === L + 1;
  const h: Float64Array[] = [new Float64Array(0)];
  const a: Float64Array[] = [x];
  const beta = biasMultiplier(arch);
  const act = mlpActivation(arch);
  const la = linalg();
  for (let l = 1; l <= L; l++) {
    const n_out = sizes[l];
    const n_in = sizes[l - 1];
    const hl = ok && reuse.h[l].length === n * n_out ? reuse.h[l] : new Float64Array(n * n_out);
    // h^l = c_l · α^{l−1} · (W^l)ᵀ  : [n, n_in] × [n_in, n_out]
    la.gemm(false, true, n, n_out, n_in, weightMultiplier(arch, l), a[l - 1], params.W[l - 1], 0, hl);
    if (beta !== 0) {
      const bl = params.b[l - 1];
      for (let i = 0; i < n; i++) {
        const off = i * n_out;
        for (let j = 0; j < n_out; j++) hl[off + j] += beta * bl[j];
      }
    }
    h.push(hl);
    if (l < L) {
      const al = ok && reuse.a[l].length === n * n_out ? reuse.a[l] : new Float64Array(n * n_out);
      applyActivation(act, hl, al);
      a.push(al);
    }
  }
  return { n, h, a };
}

/** Network output `f(x)` `[n, k]` for a batch `x` `[n, d]`. @throws RangeError on a shape mismatch. */
export function predict(arch: MlpArchitecture, params: MlpParams, x: Float64Array, n: number): Float64Array {
  return forward(arch, params, x, n).h[arch.depth];
}

/**
 * Mean-squared-error loss `ℒ = 1/(2N) Σ_i ‖f(x_i) − y_i‖²` (docs/conventions.md §7) for outputs `f` and
 * targets `y`, both `[n, k]` row-major. Returns 0 for `n = 0`.
 * @throws RangeError if the lengths differ.
 */
export function mseLoss(f: Float64Array, y: Float64Array, n: number): number {
  if (f.length !== y.length) throw new RangeError(`mseLoss: f has length ${f.length}, y has ${y.length}`);
  if (n === 0) return 0;
  let s = 0;
  for (let i = 0; i < f.length; i++) {
    const r = f[i] - y[i];
    s += r * r;
  }
  return s / (2 * n);
}

/** Gradient buffers with the same shapes as {@link MlpParams}. */
export type MlpGrads = MlpParams;

/** Zero-filled gradient buffers shaped like the parameters of `arch`. */
export function zeroGrads(arch: MlpArchitecture): MlpGrads {
  const s = layerSizes(arch);
  const W: Float64Array[] = [];
  const b: Float64Array[] = [];
  for (let l = 1; l <= arch.depth; l++) {
    W.push(new Float64Array(s[l] * s[l - 1]));
    b.push(new Float64Array(s[l]));
  }
  return { W, b };
}

/**
 * Backward pass of `ℒ = 1/(2N) Σ_i ‖f(x_i) − y_i‖²` from a {@link forward} cache of `N = cache.n`
 * inputs and targets `y` `[N, k]`. With `G^L = (f − y)/N` `[N, k]` and, going down,
 * `G^{l−1} = (c_l · G^l W^l) ⊙ φ'(h^{l−1})`:
 *
 *     ∂ℒ/∂W^l = c_l · (G^l)ᵀ α^{l−1}   [n_l, n_{l−1}],     ∂ℒ/∂b^l = β · Σ_i G^l_i   [n_l]
 *
 * (for ReLU, relu'(0) is taken as 0). Writes into `out` if given (its contents are overwritten) and returns
 * the gradients together with the loss at the cached parameters.
 * @throws RangeError if `y.length !== N·k`.
 */
export function backward(
  arch: MlpArchitecture,
  params: MlpParams,
  cache: ForwardCache,
  y: Float64Array,
  out?: MlpGrads,
): { loss: number; grads: MlpGrads } {
  const L = arch.depth;
  const n = cache.n;
  const sizes = layerSizes(arch);
  if (y.length !== n * arch.k) throw new RangeError(`backward: y has length ${y.length}, expected N·k = ${n * arch.k}`);
  const grads = out ?? zeroGrads(arch);
  const f = cache.h[L];
  const loss = mseLoss(f, y, n);
  const beta = biasMultiplier(arch);
  const la = linalg();
  let g = new Float64Array(n * arch.k);
  const invN = n > 0 ? 1 / n : 0;
  for (let i = 0; i < g.length; i++) g[i] = (f[i] - y[i]) * invN;
  for (let l = L; l >= 1; l--) {
    const n_out = sizes[l];
    const n_in = sizes[l - 1];
    const c = weightMultiplier(arch, l);
    // dW^l = c · Gᵀ α^{l−1}: [n_out, n] × [n, n_in]
    la.gemm(true, false, n_out, n_in, n, c, g, cache.a[l - 1], 0, grads.W[l - 1]);
    const gb = grads.b[l - 1];
    gb.fill(0);
    if (beta !== 0) {
      for (let i = 0; i < n; i++) {
        const off = i * n_out;
        for (let j = 0; j < n_out; j++) gb[j] += g[off + j];
      }
      for (let j = 0; j < n_out; j++) gb[j] *= beta;
    }
    if (l > 1) {
      // G^{l−1} = (c · G W^l) ⊙ φ'(h^{l−1}): [n, n_out] × [n_out, n_in]
      const next = new Float64Array(n * n_in);
      la.gemm(false, false, n, n_in, n_out, c, g, params.W[l - 1], 0, next);
      multiplyByDerivative(mlpActivation(arch), cache.h[l - 1], next, 0, next.length);
      g = next;
    }
  }
  return { loss, grads };
}

/**
 * Matmul floating-point operations of one full-batch GD step on `n` points (forward, weight
 * gradients, and backpropagated signals below layer 1): `Σ_l 2·n·n_l·n_{l−1} · (3, or 2 for l = 1)`.
 * Elementwise work (bias, ReLU, update) is not counted.
 */
export function gdStepFlops(arch: MlpArchitecture, n: number): number {
  const s = layerSizes(arch);
  let f = 0;
  for (let l = 1; l < s.length; l++) f += 2 * n * s[l] * s[l - 1] * (l === 1 ? 2 : 3);
  return f;
}

/** `out[i] = φ(h[i])` (ReLU as `h > 0 ? h : 0`, its original form). */
export function applyActivation(act: Activation, h: Float64Array, out: Float64Array): void {
  if (act.name === 'relu') {
    for (let i = 0; i < h.length; i++) {
      const v = h[i];
      out[i] = v > 0 ? v : 0;
    }
    return;
  }
  const phi = act.phi;
  for (let i = 0; i < h.length; i++) out[i] = phi(h[i]);
}

/**
 * `g[off + i] *= φ'(h[i])` for `i < len` (ReLU: zeroed where `!(h > 0)`, relu'(0) = 0, exactly
 * the original masking).
 */
export function multiplyByDerivative(act: Activation, h: Float64Array, g: Float64Array, off: number, len: number, hOff = 0): void {
  if (act.name === 'relu') {
    for (let i = 0; i < len; i++) if (!(h[hOff + i] > 0)) g[off + i] = 0;
    return;
  }
  const dphi = act.dphi;
  for (let i = 0; i < len; i++) g[off + i] *= dphi(h[hOff + i]);
}
