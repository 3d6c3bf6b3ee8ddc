/**
 * Empirical (finite-width) Neural Tangent Kernel `Θ̂_{ab}(x, x') = Σ_θ ∂f_a(x)/∂θ · ∂f_b(x')/∂θ`
 * of an {@link MlpArchitecture} network, computed with the layer-wise identity for fully connected nets
 * instead of per-parameter Jacobians (Jacot et al. 2018; Arora et al. 2019, "On exact computation
 * with an infinitely wide neural net", §3): the gradient of `f_a(x)` w.r.t. `W^l` is the outer
 * product `c_l · δ^l_a(x) α^{l−1}(x)ᵀ` and w.r.t. `b^l` it is `β · δ^l_a(x)`, with
 * `δ^l_a(x) = ∂f_a(x)/∂h^l`. Hence
 *
 *     Θ̂_{ab}(x, x') = Σ_{l=1..L} ⟨δ^l_a(x), δ^l_b(x')⟩ · (c_l² ⟨α^{l−1}(x), α^{l−1}(x')⟩ + β²)
 *
 * (`c_l² = σ_w²/n_{l−1}`, `β = σ_b` in the NTK parameterization; `c_l = β = 1` in the standard one).
 *
 * Output handling: for `k` outputs the kernel is computed in full, `[P·k, P·k]` with row/column
 * index `p·k + a` (probe point `p`, output `a`). At infinite width it equals `Θ ⊗ I_k`, but at
 * finite width the off-diagonal output blocks are nonzero. {@link outputMeanBlock} gives the
 * `[P, P]` mean of the diagonal output blocks `(1/k) Σ_a Θ̂_{aa}`, the quantity compared with the
 * analytic scalar kernel `Θ^L`.
 *
 * Cost: one backward sweep of `P·k` rows (`Σ_l 2·P·k·n_l·n_{l−1}` flops) plus one `syrk` of
 * `[P·k, n_l]` per layer; memory `O(P·k·width)`.
 */
import { linalg } from '../linalg/index.js';
import { mlpActivation, biasMultiplier, forward, layerSizes, multiplyByDerivative, weightMultiplier } from './mlp.js';
import type { ForwardCache, MlpParams, MlpArchitecture } from './mlp.js';

/**
 * Full empirical NTK on a probe batch `x` `[p, d]` row-major. Returns `Θ̂` as a symmetric
 * row-major `[p·k, p·k]` matrix with index `p_i·k + a` (see module comment). `cache`, if given,
 * must be `forward(arch, params, x, p)` (it saves the forward pass).
 * @throws RangeError if `x.length !== p·d`.
 */
export function empiricalNtk(arch: MlpArchitecture, params: MlpParams, x: Float64Array, p: number, cache?: ForwardCache): Float64Array {
  const la = linalg();
  const L = arch.depth;
  const k = arch.k;
  const sizes = layerSizes(arch);
  if (cache === undefined) cache = forward(arch, params, x, p);
  else if (cache.n !== p) throw new RangeError(`empiricalNtk: cache is for ${cache.n} inputs, expected ${p}`);
  const m = p * k;
  const theta = new Float64Array(m * m);
  const beta2 = biasMultiplier(arch) ** 2;
  const act = mlpActivation(arch);
  // δ^L for row (i, a) is e_a: [p·k, k]
  let delta = new Float64Array(m * k);
  for (let i = 0; i < p; i++) for (let a = 0; a < k; a++) delta[(i * k + a) * k + a] = 1;
  const gDelta = new Float64Array(m * m);
  const gAlpha = new Float64Array(p * p);
  for (let l = L; l >= 1; l--) {
    const n_out = sizes[l];
    const n_in = sizes[l - 1];
    const c = weightMultiplier(arch, l);
    la.syrk(m, n_out, 1, delta, 0, gDelta);
    la.syrk(p, n_in, c * c, cache.a[l - 1], 0, gAlpha);
    for (let i = 0; i < p; i++) {
      for (let a = 0; a < k; a++) {
        const row = (i * k + a) * m;
        for (let j = 0; j < p; j++) {
          const s = gAlpha[i * p + j] + beta2;
          for (let b = 0; b < k; b++) {
            const col = j * k + b;
            theta[row + col] += gDelta[row + col] * s;
          }
        }
      }
    }
    if (l > 1) {
      // δ^{l−1} = (c · δ^l W^l) ⊙ φ'(h^{l−1}(x_i)): [m, n_out] × [n_out, n_in]
      const next = new Float64Array(m * n_in);
      la.gemm(false, false, m, n_in, n_out, c, delta, params.W[l - 1], 0, next);
      const hPrev = cache.h[l - 1];
      for (let i = 0; i < p; i++) for (let a = 0; a < k; a++) multiplyByDerivative(act, hPrev, next, (i * k + a) * n_in, n_in, i * n_in);
      delta = next;
    }
  }
  return theta;
}

/**
 * Mean over outputs of the diagonal output blocks of a full empirical NTK:
 * `out[i, j] = (1/k) Σ_a Θ̂[(i,a), (j,a)]`, `[p, p]` row-major.
 * @throws RangeError if `full.length !== (p·k)²`.
 */
export function outputMeanBlock(full: Float64Array, p: number, k: number): Float64Array {
  const m = p * k;
  if (full.length !== m * m) throw new RangeError(`outputMeanBlock: expected length ${(m * m)}, got ${full.length}`);
  const out = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < p; j++) {
      let s = 0;
      for (let a = 0; a < k; a++) s += full[(i * k + a) * m + j * k + a];
      out[i * p + j] = s / k;
    }
  }
  return out;
}
