/**
 * The architecture of a fully connected network, described once for the infinite-width kernels
 * (`src/ntk`) and the finite network (`src/nn`): `depth` weight layers, hidden layers of `width`
 * units, `Dense(σ_w, σ_b)` layers in the NTK parameterization, activation φ between them.
 */
import type { Activation } from './activation.js';
import { activationOf } from './activations.js';

export interface Architecture {
  /** φ of every hidden layer (see `activation.ts`). */
  activation: Activation;
  /** Weight scale σ_w, finite, > 0. */
  sigma_w: number;
  /** Bias scale σ_b, finite, ≥ 0 (0 = no bias). */
  sigma_b: number;
  /** Number of weight layers `L` (`L − 1` hidden layers); `L = 1` is linear. Integer ≥ 1. */
  depth: number;
  /** Hidden width `n`; infinite-width kernels do not use it. */
  width?: number;
}

/**
 * Check the shared fields of an architecture.
 * @throws RangeError naming the field: a depth or width that is not a positive integer, σ_w not
 *   finite > 0, σ_b not finite ≥ 0.
 */
export function validateArchitecture(arch: Architecture, where = 'architecture'): void {
  for (const key of ['depth', 'width'] as const) {
    const v = arch[key];
    if (v === undefined && key === 'width') continue;
    if (!Number.isInteger(v) || (v as number) < 1) throw new RangeError(`${where}: ${key} must be a positive integer, got ${v}`);
  }
  if (!(Number.isFinite(arch.sigma_w) && arch.sigma_w > 0)) throw new RangeError(`${where}: sigma_w must be a finite number > 0, got ${arch.sigma_w}`);
  if (!(Number.isFinite(arch.sigma_b) && arch.sigma_b >= 0)) throw new RangeError(`${where}: sigma_b must be a finite number >= 0, got ${arch.sigma_b}`);
}

/**
 * The activation of a task's params: `activation` (default `relu`) with its `activation_*`
 * params.
 * @throws RangeError for an unknown activation or a missing / invalid activation param.
 */
export function activationOfParams(params: Readonly<Record<string, unknown>>): Activation {
  return activationOf(String(params.activation ?? 'relu'), params);
}
