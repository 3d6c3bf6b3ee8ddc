/** Placeholder: replaced once src/ntk is available. */
import type { Dataset } from '../data/index.js';
import type { MlpSpec } from './mlp.js';
export interface KernelGapInput { spec: MlpSpec; data: Dataset; f0Train: Float64Array; f0Test: Float64Array; fTest: Float64Array; t: number }
export function kernelGap(_in: KernelGapInput): number | null {
  return null;
}
