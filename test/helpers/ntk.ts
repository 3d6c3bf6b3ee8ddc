/**
 * Helpers of the activation and kernel tests (test/ntk-*.test.ts): seeded unit inputs, the dual
 * expectations of an activation from its normalized duals, Monte Carlo estimates of them, and
 * the distance of a wide network's empirical NTK from the analytic one.
 */
import { relativeFrobeniusChange } from '../../src/nn/deviation.js';
import { analyticNtk, empiricalNtk, initMlp, outputMeanBlock, type MlpArchitecture } from '../../src/nn/index.js';
import { DK, OMK, type Activation } from '../../src/ntk/index.js';
import { makeRng } from '../../src/util/rng.js';

/** `n` seeded unit vectors of dimension `d`, row-major `[n, d]` (`purpose` and `seed` pick the draw). */
export function unitSphere(n: number, d: number, purpose: string, seed: number): Float64Array {
  const x = makeRng({ purpose, seed }).fillNormal(new Float64Array(n * d));
  for (let i = 0; i < n; i++) {
    const s = Math.hypot(...x.subarray(i * d, (i + 1) * d));
    for (let k = 0; k < d; k++) x[i * d + k] /= s;
  }
  return x;
}

/**
 * `E[φ(u)φ(v)]` (`kk`) and `E[φ'(u)φ'(v)]` (`dd`) for `(u, v)` centred Gaussian with variances
 * `qi`, `qj` and correlation `rho`, absolute, from the activation's normalized duals and its
 * diagonal (docs/conventions.md §4).
 */
export function dualExpectations(act: Activation, qi: number, qj: number, rho: number): { kk: number; dd: number } {
  const th = Math.acos(rho);
  const out = new Float64Array(3);
  act.pair(qi, qj, th, Math.sin(th / 2), Math.cos(th / 2), out);
  const ei = new Float64Array(2);
  const ej = new Float64Array(2);
  act.logDiag(Math.log(qi), ei);
  act.logDiag(Math.log(qj), ej);
  return { kk: (1 - out[OMK]) * Math.exp(0.5 * (ei[0] + ej[0])), dd: out[DK] * Math.exp(0.5 * (ei[1] + ej[1])) };
}

/**
 * Monte Carlo estimate of `E[f(u)f(v)]` with `u = √qi·z1`, `v = √qj·(ρ·z1 + √(1 − ρ²)·z2)` over
 * the standard normal samples `z1`, `z2` (same length): the mean and its standard error.
 */
export function gaussianPairMean(f: (x: number) => number, qi: number, qj: number, rho: number, z1: Float64Array, z2: Float64Array): { mean: number; se: number } {
  const n = z1.length;
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const u = Math.sqrt(qi) * z1[i];
    const v = Math.sqrt(qj) * (rho * z1[i] + Math.sqrt(1 - rho * rho) * z2[i]);
    const y = f(u) * f(v);
    s += y;
    s2 += y * y;
  }
  const mean = s / n;
  return { mean, se: Math.sqrt((s2 / n - mean * mean) / n) };
}

/**
 * Relative Frobenius distance between the empirical NTK of networks of `arch` (the mean over
 * `seeds` of the output-mean block, `outputMeanBlock`) and the analytic NTK, on the `p` inputs
 * `x` (`[p, d]`).
 */
export function empiricalNtkError(arch: MlpArchitecture, x: Float64Array, p: number, seeds: number[]): number {
  const emp = new Float64Array(p * p);
  for (const seed of seeds) {
    const one = outputMeanBlock(empiricalNtk(arch, initMlp(arch, seed), x, p), p, arch.k);
    for (let i = 0; i < p * p; i++) emp[i] += one[i] / seeds.length;
  }
  return relativeFrobeniusChange(analyticNtk(arch, x, p), emp);
}
