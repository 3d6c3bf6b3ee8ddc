/**
 * Distance between a finite-width network and its infinite-width NTK limit along training:
 * `kernel_gap(t) = RMS over test points and outputs of f_net(t) − f_ntk(t)`, where `f_ntk` is the
 * gradient-flow prediction of the analytic NTK (docs/conventions.md §8; Lee et al. 2019)
 *
 *     f_ntk(t)(x) = f_0(x) + Θ(x, X) Θ⁻¹ (I − e^{−Θ t/N}) (y − f_0(X))
 *
 * started from the **network's own** outputs at initialization `f_0` on train and test points,
 * with `t = lr·steps` (the GD step `η` on `ℒ = 1/(2N)Σ‖f − y‖²` is an Euler step of this flow).
 * Kernels come from `src/ntk` (`kernelFold`, `kernelMatrix`, `gradientFlowPredict`); the
 * eigendecomposition is done once and reused for every `t`. Only meaningful for the NTK
 * parameterization (the standard one has no finite infinite-width NTK at this scale).
 */
import { gradientFlowPredict, kernelMatrix, logMeanExp, kernelFold, splitTrainTest } from '../ntk/index.js';
import type { SymmetricEigen } from '../linalg/index.js';
import { mlpActivation, type MlpArchitecture } from './mlp.js';

/** Inputs of {@link makeNtkReference}. All matrices row-major. */
export interface NtkReferenceInput {
  arch: MlpArchitecture;
  /** Training inputs `[n_train, d]`. */
  x_train: Float64Array;
  n_train: number;
  /** Test inputs `[n_test, d]`. */
  x_test: Float64Array;
  n_test: number;
  /** Training targets `[n_train, k]`. */
  y_train: Float64Array;
  /** Network outputs at init on the training points `[n_train, k]`. */
  f0_train: Float64Array;
  /** Network outputs at init on the test points `[n_test, k]`. */
  f0_test: Float64Array;
}

/** The analytic NTK gradient-flow predictor for one network's `f_0`. */
export interface NtkReference {
  /** `f_ntk(t)` on the test points, `[n_test, k]`, for `t = lr·steps ≥ 0`. @throws RangeError if `t < 0`. */
  predictTest(t: number): Float64Array;
}

/**
 * Build the analytic-NTK reference of a network (see module comment). The kernel is computed at
 * the network's depth, `σ_w`, `σ_b` on the stacked `[train; test]` points, then scaled by
 * `s = mean_i Θ(x_i, x_i)` over training points in log space (`kernelMatrix(…,
 * 'train_diag_mean')`), with time rescaled to `s·t` — the same flow as the raw `Θ` and `t`,
 * without underflow at large depth.
 * Cost: the kernel recursion over `(n_train + n_test)²` pairs per layer, one `eigh` of
 * `[n_train, n_train]`; each {@link NtkReference.predictTest} call is three `gemm`s.
 * @throws RangeError if the architecture is not the NTK parameterization, or on shape mismatches /
 *   invalid kernel inputs (e.g. a zero input with `σ_b = 0`).
 */
export function makeNtkReference(input: NtkReferenceInput): NtkReference {
  const { arch, n_train, n_test } = input;
  if (arch.parameterization !== 'ntk') {
    throw new RangeError(`makeNtkReference: needs parameterization 'ntk', got '${arch.parameterization}'`);
  }
  const d = arch.d;
  const n = n_train + n_test;
  if (input.x_train.length !== n_train * d || input.x_test.length !== n_test * d) {
    throw new RangeError(`makeNtkReference: inputs must be [n_train, d] and [n_test, d] with d = ${d}`);
  }
  const x = new Float64Array(n * d);
  x.set(input.x_train, 0);
  x.set(input.x_test, n_train * d);
  const got: { gram?: Float64Array; logScale?: number } = {};
  kernelFold(x, n, d, { depths: [arch.depth], sigma_w: arch.sigma_w, sigma_b: arch.sigma_b, activation: mlpActivation(arch), ntk: true }, (_L, state) => {
    got.gram = kernelMatrix(state, 'ntk', 'train_diag_mean', { n_train });
    got.logScale = logMeanExp(state.log_ntk_diag, n_train);
  });
  if (got.gram === undefined || got.logScale === undefined) throw new Error('makeNtkReference: kernel fold did not reach the network depth');
  const logScale = got.logScale;
  const { k_train, k_cross } = splitTrainTest(got.gram, n_train, n_test);
  let eig: SymmetricEigen | undefined;
  const base = {
    n_train,
    n_test,
    n_out: arch.k,
    k_train,
    k_cross,
    y_train: input.y_train,
    f0_train: input.f0_train,
    f0_test: input.f0_test,
  };
  return {
    predictTest(t: number): Float64Array {
      if (!(t >= 0)) throw new RangeError(`predictTest: t must be >= 0, got ${t}`);
      // Θ t = Θ̃ (s t) with Θ̃ = Θ / s, s = exp(logScale)
      const tScaled = t === 0 ? 0 : Math.exp(Math.log(t) + logScale);
      const res = gradientFlowPredict({ ...base, t: [tScaled], eig });
      eig = res.eig;
      return res.predictions[0].test;
    },
  };
}

/**
 * Analytic NTK `Θ^L(x_i, x_j)` `[p, p]` (absolute scale, docs/conventions.md §4) of the rows of `x`
 * `[p, d]` for the network `arch` (NTK parameterization), from `src/ntk`. Underflows to 0 at very
 * large depth (`Θ^L(x,x) = L/(d·2^{L−1})`), where relative comparisons are meaningless anyway.
 * @throws RangeError if `arch` is not the NTK parameterization or on invalid kernel inputs.
 */
export function analyticNtk(arch: MlpArchitecture, x: Float64Array, p: number): Float64Array {
  if (arch.parameterization !== 'ntk') throw new RangeError(`analyticNtk: needs parameterization 'ntk', got '${arch.parameterization}'`);
  const got: { k?: Float64Array } = {};
  kernelFold(x, p, arch.d, { depths: [arch.depth], sigma_w: arch.sigma_w, sigma_b: arch.sigma_b, activation: mlpActivation(arch), ntk: true }, (_L, state) => {
    got.k = kernelMatrix(state, 'ntk', 'absolute');
  });
  if (got.k === undefined) throw new Error('analyticNtk: kernel fold did not reach the network depth');
  return got.k;
}

/**
 * Root mean square of `a − b` over all entries (`sqrt(mean((a − b)²))`), e.g. over test points
 * and outputs of `[n_test, k]` predictions. `NaN` for empty arrays.
 * @throws RangeError if the lengths differ.
 */
export function rmsDifference(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) throw new RangeError(`rmsDifference: lengths ${a.length} and ${b.length} differ`);
  if (a.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s / a.length);
}
