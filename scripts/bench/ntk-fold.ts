/**
 * Benchmark of the ReLU kernel fold (src/ntk/relu.ts): n points of dimension d (seeded Gaussian,
 * projected to the unit sphere), σ_w = 1, σ_b = 0, up to a given depth.
 *
 *   npx tsc -p . && node dist/scripts/bench/ntk-fold.js [n=1600] [d=784] [depth=100] [ntk=1]
 */
import { makeRng } from '../../src/util/rng.js';
import { linalg } from '../../src/linalg/index.js';
import { inputKernel, reluKernelStep, symmetrizeLower } from '../../src/ntk/index.js';

const n = Number(process.argv[2] ?? 1600);
const d = Number(process.argv[3] ?? 784);
const depth = Number(process.argv[4] ?? 100);
const ntk = (process.argv[5] ?? '1') !== '0';

const x = makeRng({ purpose: 'bench-ntk-fold', n, d }).fillNormal(new Float64Array(n * d));
for (let i = 0; i < n; i++) {
  let s = 0;
  for (let k = 0; k < d; k++) s += x[i * d + k] ** 2;
  const inv = 1 / Math.sqrt(s);
  for (let k = 0; k < d; k++) x[i * d + k] *= inv;
}
const params = { sigma_w: 1, sigma_b: 0 };
const c0 = process.cpuUsage();
const t0 = performance.now();
const state = inputKernel(x, n, d, params, { ntk });
const t1 = performance.now();
const c1 = process.cpuUsage();
for (let L = 1; L < depth; L++) reluKernelStep(state, params);
const t2 = performance.now();
const c2 = process.cpuUsage(c1);
symmetrizeLower(state);
const t3 = performance.now();
const pairs = (n * (n - 1)) / 2;
console.log(
  `n=${n} d=${d} depth=${depth} ntk=${ntk} backend=${linalg().name}: ` +
    `input layer ${(t1 - t0).toFixed(0)} ms, ${depth - 1} steps ${(t2 - t1).toFixed(0)} ms ` +
    `(${(((t2 - t1) * 1e6) / (pairs * (depth - 1))).toFixed(1)} ns/pair/layer), mirror ${(t3 - t2).toFixed(0)} ms, ` +
    `total ${(t3 - t0).toFixed(0)} ms; CPU time: input ${((c1.user - c0.user) / 1e3).toFixed(0)} ms, ` +
    `steps ${(c2.user / 1e3).toFixed(0)} ms (wall-clock figures include waiting on a loaded machine)`,
);
