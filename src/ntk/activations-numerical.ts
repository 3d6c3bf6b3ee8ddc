/**
 * Named activations without a closed-form dual: φ and φ' written out in overflow-free form, duals
 * by quadrature (`activation-quadrature.ts`): `tanh`; `softplus` `log(1 + eˣ)`; `swish` (SiLU)
 * `x σ(x)` (Ramachandran et al. 2017; Elfwing et al. 2018), `σ` the logistic function; `mish`
 * `x tanh(softplus(x))` (Misra 2019). All are analytic on the real line, which the quadrature's
 * geometric convergence needs (activations with kinks in φ or φ', such as ELU, would converge
 * only algebraically).
 */
import type { Activation } from './activation.js';
import { quadratureActivation } from './activation-quadrature.js';

/** Names of the activations whose duals come from quadrature. */
export const NUMERICAL_ACTIVATION_NAMES = ['tanh', 'softplus', 'swish', 'mish'] as const;

/** Logistic function `1/(1 + e^{−x})` without overflow. */
function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** `log(1 + eˣ)` without overflow. */
function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

/** `1/cosh²(x)` (0 once cosh overflows). */
function sech2(x: number): number {
  const c = Math.cosh(x);
  return 1 / (c * c);
}

const DEFINITIONS: Record<(typeof NUMERICAL_ACTIVATION_NAMES)[number], { source: string; phi(x: number): number; dphi(x: number): number }> = {
  tanh: { source: 'tanh; duals by 2-D quadrature', phi: Math.tanh, dphi: sech2 },
  softplus: { source: 'softplus log(1 + e^x); duals by 2-D quadrature', phi: softplus, dphi: sigmoid },
  swish: {
    source: 'swish / SiLU x·σ(x) (Ramachandran et al. 2017); duals by 2-D quadrature',
    phi: (x) => x * sigmoid(x),
    dphi: (x) => {
      const s = sigmoid(x);
      return s * (1 + x * (1 - s));
    },
  },
  mish: {
    source: 'mish x·tanh(softplus(x)) (Misra 2019); duals by 2-D quadrature',
    phi: (x) => x * Math.tanh(softplus(x)),
    dphi: (x) => {
      const sp = softplus(x);
      return Math.tanh(sp) + x * sech2(sp) * sigmoid(x);
    },
  },
};

/** Whether `name` is one of {@link NUMERICAL_ACTIVATION_NAMES}. */
export function isNumericalActivationName(name: string): name is (typeof NUMERICAL_ACTIVATION_NAMES)[number] {
  return (NUMERICAL_ACTIVATION_NAMES as readonly string[]).includes(name);
}

/**
 * The named numerical activation `name` (a new object: its θ tables are its own).
 * @throws RangeError for a name not in {@link NUMERICAL_ACTIVATION_NAMES}.
 */
export function numericalActivation(name: string, step_tol?: number): Activation {
  if (!isNumericalActivationName(name)) throw new RangeError(`unknown numerical activation '${name}'`);
  const def = DEFINITIONS[name];
  return quadratureActivation({ name, source: def.source, phi: def.phi, dphi: def.dphi, step_tol });
}
