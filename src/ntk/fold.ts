/**
 * Depth as a fold over a layer map, in the manner of neural-tangents `stax.serial`: the input
 * kernel (`input.ts`), then one layer map per weight layer (`relu.ts` for ReLU, `layer.ts` for any
 * other activation), handing the state at each requested depth to a callback on the way.
 */
import type { Activation } from './activation.js';
import { activationOf } from './activations.js';
import { inputKernel } from './input.js';
import { activationKernelStep, type LayerParams } from './layer.js';
import { reluKernelStep } from './relu.js';
import { symmetrizeLower, type InputOptions, type KernelState } from './state.js';

/** Options of {@link kernelFold}. */
export interface FoldOptions extends LayerParams, InputOptions {
  /** The activation of every hidden layer; default ReLU (its own layer map, `relu.ts`). */
  activation?: Activation;
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
 * Run the kernel recursion of `Dense ∘ φ` layers once up to `max(depths)`, handing the state at every requested
 * depth to `onDepth` on the way (shared work: depth `L` passes through every
 * depth below it). Points are the rows of `x`; for train/test cross kernels pass the stacked
 * `[train; test]` rows and slice the blocks of the `[n, n]` result.
 *
 * The state given to `onDepth` has both triangles current (only the lower ones with
 * `mirror: false`, whose upper triangles the callback may then use as scratch) and is **mutated
 * after the callback returns**: copy what must outlive the call (e.g. with {@link kernelMatrix}).
 *
 * Cost: one `syrk` (`n² d`) plus, per pair `j < i` per layer, the pair loop of the layer map:
 * in JS, or on the native backend its C++ loop (bit-identical for ReLU, vectorized, rows split over
 * the BLAS threads; `scripts/bench/kernel-recursion.ts` prints ns per pair). Memory: two `[n, n]`
 * buffers (one with `ntk: false`): 41 MB at n = 1600, 1.6 GB at n = 10⁴. At the largest depth
 * `onDepth` may consume the state (e.g. `takeNormalizedBlocks`): the fold reads nothing after it.
 *
 * @param x points, row-major `[n, d]`.
 * @returns the final state (depth `max(depths)`), as handed to `onDepth`.
 * @throws RangeError on bad sizes, parameters or depths (see {@link inputKernel});
 *   `signal.reason` when aborted.
 */
export function kernelFold(
  x: Float64Array,
  n: number,
  d: number,
  options: FoldOptions,
  onDepth: (depth: number, state: Readonly<KernelState>) => void,
): KernelState {
  const wanted = [...new Set(options.depths)].sort((a, b) => a - b);
  if (wanted.length === 0) throw new RangeError('kernelFold: depths is empty');
  for (const L of wanted) {
    if (!(Number.isInteger(L) && L >= 1)) {
      throw new RangeError(`kernelFold: depths must be integers >= 1, got ${L}`);
    }
  }
  const maxDepth = wanted[wanted.length - 1];
  options.signal?.throwIfAborted();
  const act = options.activation ?? RELU;
  if (options.ntk !== false && !act.has_ntk) {
    throw new RangeError(`kernelFold: activation ${act.name} has no NTK (its derivative is not a function); pass ntk: false for its NNGP`);
  }
  const layer = layerMap(act);
  const state = inputKernel(x, n, d, options, { ntk: options.ntk, mirror: false });
  let next = 0;
  for (;;) {
    if (state.depth === wanted[next]) {
      if (options.mirror !== false) symmetrizeLower(state);
      onDepth(state.depth, state);
      next += 1;
    }
    options.on_layer?.(state.depth, maxDepth);
    if (state.depth === maxDepth) break;
    options.signal?.throwIfAborted();
    layer(state, options);
  }
  return state;
}

const RELU = activationOf('relu');

/**
 * The layer map of an activation: ReLU's own angle code (`relu.ts`, bit-identical to the
 * original ReLU recursion), else the general map of `layer.ts`.
 */
export function layerMap(act: Activation): (state: KernelState, lp: LayerParams) => KernelState {
  if (act.name === 'relu') return reluKernelStep;
  return (state, lp) => activationKernelStep(state, act, lp);
}
