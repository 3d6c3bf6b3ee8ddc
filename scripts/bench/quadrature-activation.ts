/**
 * Numerical activations (src/ntk/activation-quadrature.ts): accuracy of the rule, and the cost of
 * a kernel fold against a closed form.
 *
 * 1. Accuracy study: normalized duals of tanh at q = 1 and q = 4 by Gauss–Hermite of order m and
 *    by the trapezoidal rule with a comparable number of nodes per dimension, against the
 *    trapezoidal rule at step 1/24 (converged to rounding).
 * 2. Cost: kernel fold (ρ and Θ̄) of n points on the unit sphere (seeded Gaussian, d = 784) to a
 *    given depth, tanh (quadrature, θ tables per layer) vs erf (closed form), σ_w = 1.5, σ_b = 0.1;
 *    wall and CPU seconds and the ratio.
 *
 *   npx tsc -p . && node dist/scripts/bench/quadrature-activation.js [n=1500] [depth=10]
 */
import { activationOf, gaussHermite, kernelFold, quadratureActivation, trapezoidRule, type Activation } from '../../src/ntk/index.js';
import { makeRng } from '../../src/util/rng.js';

const n = Number(process.argv[2] ?? 1500);
const depth = Number(process.argv[3] ?? 10);

/** Normalized E[φφ] and E[φ'φ'] of tanh by a tensor rule (z, w) on the Cholesky factor. */
function tanhDuals(q: number, rho: number, z: Float64Array, w: Float64Array): [number, number] {
  const s = Math.sqrt(1 - rho * rho);
  const sq = Math.sqrt(q);
  const d1 = (x: number): number => 1 / Math.cosh(x) ** 2;
  let k = 0;
  let d = 0;
  let a = 0;
  let b = 0;
  for (let i = 0; i < z.length; i++) {
    const u = sq * z[i];
    a += w[i] * Math.tanh(u) ** 2;
    b += w[i] * d1(u) ** 2;
    let sk = 0;
    let sd = 0;
    for (let j = 0; j < z.length; j++) {
      const v = sq * (rho * z[i] + s * z[j]);
      sk += w[j] * Math.tanh(v);
      sd += w[j] * d1(v);
    }
    k += w[i] * Math.tanh(u) * sk;
    d += w[i] * d1(u) * sd;
  }
  return [k / a, d / b];
}

console.log('1. accuracy of the normalized duals of tanh (ρ = 0.6), max error of k̄ and ḋ vs the trapezoidal rule at h = 1/24');
const fine = trapezoidRule(1 / 24);
for (const q of [1, 4]) {
  const ref = tanhDuals(q, 0.6, fine.z, fine.w);
  for (const m of [32, 64, 128, 200]) {
    const gh = gaussHermite(m);
    const h = 18 / (m - 1); // the same number of nodes on |z| ≤ 9
    const tr = trapezoidRule(h);
    const e = (r: [number, number]): string => Math.max(Math.abs(r[0] - ref[0]), Math.abs(r[1] - ref[1])).toExponential(1);
    console.log(`  q = ${q}, ${m} nodes per dimension: Gauss–Hermite ${e(tanhDuals(q, 0.6, gh.z, gh.w))}, trapezoidal (h = ${h.toFixed(3)}) ${e(tanhDuals(q, 0.6, tr.z, tr.w))}`);
  }
}

const d = 784;
const x = makeRng({ purpose: 'bench-quadrature-activation', n, d }).fillNormal(new Float64Array(n * d));
for (let i = 0; i < n; i++) {
  let s = 0;
  for (let k = 0; k < d; k++) s += x[i * d + k] ** 2;
  for (let k = 0; k < d; k++) x[i * d + k] /= Math.sqrt(s);
}

function run(act: Activation): { wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  kernelFold(x, n, d, { sigma_w: 1.5, sigma_b: 0.1, activation: act, depths: [depth] }, () => {});
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

console.log(`2. kernel fold, n = ${n} points on the sphere (d = ${d}), depth ${depth}, σ_w = 1.5, σ_b = 0.1 (ρ and Θ̄)`);
const closed = run(activationOf('erf'));
const numerical = run(activationOf('tanh'));
const expr = run(quadratureActivation({ name: 'tanh(x)', source: 'bench', phi: Math.tanh, dphi: (v) => 1 / Math.cosh(v) ** 2 }));
console.log(`  erf (closed form):          ${closed.wall.toFixed(2)} s wall, ${closed.cpu.toFixed(2)} s CPU`);
console.log(`  tanh (quadrature):          ${numerical.wall.toFixed(2)} s wall, ${numerical.cpu.toFixed(2)} s CPU, ratio ${(numerical.cpu / closed.cpu).toFixed(1)}× (CPU)`);
console.log(`  tanh again (fresh tables):  ${expr.wall.toFixed(2)} s wall, ${expr.cpu.toFixed(2)} s CPU`);
