import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Decimal } from 'decimal.js';
import { makeRng } from '../src/util/rng.js';
import { kernelFold, inputKernel, reluKernelStep, type KernelState } from '../src/ntk/index.js';
import { kernelMatrix } from '../src/ntk/kernel-matrix.js';

// ---------------------------------------------------------------------------------------------
// Independent high-precision reference: the textbook recursion of docs/conventions.md §4 on the ABSOLUTE
// kernels Σ, Θ (no normalization, no angle carrying), in 28-digit decimal arithmetic.
// decimal.js's own acos is far too slow for 10⁴ layers, so the reference takes
// θ = acos ρ from one Newton step on 1 − cos θ = 1 − ρ (Taylor series of 1 − cos in Decimal)
// started from the float64 angle; a test below checks it against decimal.js acos.
// ---------------------------------------------------------------------------------------------
const D = Decimal.clone({ precision: 28, rounding: Decimal.ROUND_HALF_EVEN });
type Dec = InstanceType<typeof D>;
const ONE = new D(1);
const PI = D.acos(-1);
const INV_FACT_STEP: Dec[] = []; // 1/((2k−1)(2k))
for (let k = 1; k <= 40; k++) INV_FACT_STEP.push(ONE.div((2 * k - 1) * (2 * k)));
const TINY = new D('1e-30');
const NEWTON_DONE = new D('1e-24');

/** The exact value of a float64 as a Decimal (new Decimal(x) would use the shortest decimal string). */
function exactDecimal(x: number): Dec {
  if (x === 0) return new D(0);
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const expBits = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & 0xfffffffffffffn;
  const mant = expBits === 0 ? frac : frac | (1n << 52n);
  const e = (expBits === 0 ? 1 : expBits) - 1075;
  const v = new D(mant.toString()).mul(new D(2).pow(e));
  return bits >> 63n ? v.neg() : v;
}

/** 1 − cos θ by its Taylor series Σ (−1)^{k+1} θ^{2k}/(2k)!, for 0 ≤ θ ≤ π/2. */
function oneMinusCos(th: Dec): Dec {
  const t2 = th.mul(th);
  let term = t2.div(2);
  let sum = term;
  for (let k = 2; k <= 40; k++) {
    term = term.mul(t2).mul(INV_FACT_STEP[k - 1]).neg();
    sum = sum.plus(term);
    if (term.abs().lte(sum.mul(TINY))) break;
  }
  return sum;
}

/** acos ρ in Decimal precision: π − acos(−ρ) for ρ < 0, else Newton on 1 − cos θ = 1 − ρ. */
function acosHP(rho: Dec): Dec {
  if (rho.isNeg()) return PI.minus(acosHP(rho.neg()));
  const u = ONE.minus(rho);
  if (u.isZero()) return new D(0);
  // float64 seed (relative error ~1e-16); Newton squares it, so two steps reach full precision
  let th = new D(2 * Math.asin(Math.sqrt(u.toNumber() / 2)));
  for (let it = 0; it < 2; it++) {
    const corr = oneMinusCos(th).minus(u).div(Math.sin(th.toNumber()));
    th = th.minus(corr);
    if (corr.abs().lte(th.mul(NEWTON_DONE))) break;
  }
  return th;
}

interface RefValues {
  rho: number;
  ntk_bar: number;
  log_nngp: [number, number];
  log_ntk: [number, number];
}

/** Σ^L, Θ^L of the pair (xa, xb) by docs/conventions.md §4, in Decimal, recorded at `depths`. */
function referenceKernels(xa: number[], xb: number[], sigma_w: number, sigma_b: number, depths: number[]): Map<number, RefValues> {
  const d = xa.length;
  const sw2 = exactDecimal(sigma_w).pow(2);
  const sb2 = exactDecimal(sigma_b).pow(2);
  const dot = (p: number[], q: number[]) =>
    p.reduce((acc, v, i) => acc.plus(exactDecimal(v).mul(exactDecimal(q[i]))), new D(0));
  let s11 = sw2.mul(dot(xa, xa)).div(d).plus(sb2);
  let s22 = sw2.mul(dot(xb, xb)).div(d).plus(sb2);
  let s12 = sw2.mul(dot(xa, xb)).div(d).plus(sb2);
  let t11 = s11;
  let t22 = s22;
  let t12 = s12;
  const maxDepth = Math.max(...depths);
  const out = new Map<number, RefValues>();
  const halfSw2 = sw2.div(2);
  const sw2Over2Pi = sw2.div(PI.mul(2));
  for (let L = 1; ; L++) {
    if (depths.includes(L)) {
      out.set(L, {
        rho: s12.div(s11.mul(s22).sqrt()).toNumber(),
        ntk_bar: t12.div(t11.mul(t22).sqrt()).toNumber(),
        log_nngp: [s11.ln().toNumber(), s22.ln().toNumber()],
        log_ntk: [t11.ln().toNumber(), t22.ln().toNumber()],
      });
    }
    if (L === maxDepth) break;
    const norm = s11.mul(s22).sqrt();
    // clamp: once 1 − ρ is below the 28-digit resolution, rounding can give |ρ| slightly > 1
    const rho = D.min(ONE, D.max(ONE.neg(), s12.div(norm)));
    const th = acosHP(rho);
    const sinT = ONE.minus(rho.mul(rho)).sqrt();
    const piMinusTh = PI.minus(th);
    // Σ^{l+1} = σ_w²/(2π) sqrt(Σ11 Σ22)(sin θ + (π − θ) cos θ) + σ_b²; on the diagonal θ = 0.
    const s12n = sw2Over2Pi.mul(norm).mul(sinT.plus(piMinusTh.mul(rho))).plus(sb2);
    const s11n = halfSw2.mul(s11).plus(sb2);
    const s22n = halfSw2.mul(s22).plus(sb2);
    // Θ^{l+1} = Θ^l Σ̇^{l+1} + Σ^{l+1}, Σ̇ = σ_w² (π − θ)/(2π)
    t12 = t12.mul(sw2Over2Pi.mul(piMinusTh)).plus(s12n);
    t11 = t11.mul(halfSw2).plus(s11n);
    t22 = t22.mul(halfSw2).plus(s22n);
    s11 = s11n;
    s22 = s22n;
    s12 = s12n;
  }
  return out;
}

/** Point at correlation rho0 with (1, 0) in R², scaled by `scale` (float64 rounding included). */
function pointAt(rho0: number, scale: number): number[] {
  return [scale * rho0, scale * Math.sqrt(Math.max(0, (1 - rho0) * (1 + rho0)))];
}

interface Case {
  rho0: number;
  maxDepth: number;
}

/** Fold the points [xa; xb(case)...] and compare every (xa, xb) pair with the Decimal reference. */
function compareWithReference(
  sigma_w: number,
  sigma_b: number,
  scaleA: number,
  scaleB: number,
  cases: Case[],
  depths: number[],
): Map<number, number> {
  const xa = [scaleA, 0];
  const xs = cases.map((c) => pointAt(c.rho0, scaleB));
  const n = 1 + xs.length;
  const x = Float64Array.from([...xa, ...xs.flat()]);
  const refs = cases.map((c, i) =>
    referenceKernels(xa, xs[i], sigma_w, sigma_b, depths.filter((L) => L <= c.maxDepth)),
  );
  const maxErr = new Map<number, number>();
  kernelFold(x, n, 2, { sigma_w, sigma_b, depths }, (L, state) => {
    const rho = kernelMatrix(state, 'rho', 'normalized');
    cases.forEach((c, i) => {
      const ref = refs[i].get(L);
      if (ref === undefined) return;
      const b = 1 + i;
      const errRho = Math.abs(rho[b] - ref.rho);
      const errNtk = Math.abs((state.ntk_bar as Float64Array)[b] - ref.ntk_bar);
      const what = `sigma_w=${sigma_w} sigma_b=${sigma_b} rho0=${c.rho0} L=${L}`;
      assert.ok(errRho <= 1e-12, `rho error ${errRho} at ${what}`);
      assert.ok(errNtk <= 1e-12, `ntk_bar error ${errNtk} at ${what}`);
      for (const [k, p] of [[0, 0], [1, b]] as const) {
        const logS = state.log_nngp_diag[p] + state.log_nngp_diag_lo[p];
        const logT = state.log_ntk_diag[p] + state.log_ntk_diag_lo[p];
        const relS = Math.abs(logS - ref.log_nngp[k]) / Math.max(1, Math.abs(ref.log_nngp[k]));
        const relT = Math.abs(logT - ref.log_ntk[k]) / Math.max(1, Math.abs(ref.log_ntk[k]));
        assert.ok(relS <= 1e-15 && relT <= 1e-15, `log-scale error ${relS}, ${relT} at ${what}`);
      }
      maxErr.set(L, Math.max(maxErr.get(L) ?? 0, errRho, errNtk));
    });
  });
  return maxErr;
}

const DEPTHS = [1, 2, 10, 100, 1000, 10000];

test('the reference acos (Newton on 1 − cos) agrees with decimal.js acos to 1e-26', () => {
  for (const v of ['0.999999999', '0.9999996', '0.5', '0', '-0.6', '-0.999999999', '0.123456789']) {
    const diff = acosHP(new D(v)).minus(D.acos(v)).abs();
    assert.ok(diff.lt('1e-26'), `acos(${v}) off by ${diff.toString()}`);
  }
  assert.ok(exactDecimal(0.1).minus('0.1000000000000000055511151231257827').abs().lt('1e-27'));
});

test('normalized rho and NTK match a 28-digit decimal.js recursion to 1e-12 up to depth 10000 (sigma_w = 1, sigma_b = 0)', (t) => {
  const err = compareWithReference(1, 0, 1, 1, [
    { rho0: 1 - 1e-9, maxDepth: 10000 },
    { rho0: 0, maxDepth: 10000 },
    { rho0: 0.5, maxDepth: 100 },
    { rho0: -0.6, maxDepth: 1000 },
    { rho0: -1 + 1e-9, maxDepth: 100 },
  ], DEPTHS);
  t.diagnostic(`max |error| per depth: ${[...err].map(([L, e]) => `L=${L}: ${e.toExponential(1)}`).join(', ')}`);
});

test('normalized rho and NTK match a 28-digit decimal.js recursion to 1e-12 with sigma_b > 0 and unequal norms', (t) => {
  const err = compareWithReference(1.3, 0.4, 0.7, 2.3, [
    { rho0: -0.6, maxDepth: 1000 },
    { rho0: 1 - 1e-9, maxDepth: 100 },
    { rho0: 0.3, maxDepth: 100 },
  ], DEPTHS.filter((L) => L <= 1000));
  const err2 = compareWithReference(2, 0.1, 1.5, 0.5, [{ rho0: 0.2, maxDepth: 1000 }], [1, 2, 10, 100, 1000]);
  t.diagnostic(`max |error| per depth (1.3, 0.4): ${[...err].map(([L, e]) => `L=${L}: ${e.toExponential(1)}`).join(', ')}`);
  t.diagnostic(`max |error| per depth (2, 0.1): ${[...err2].map(([L, e]) => `L=${L}: ${e.toExponential(1)}`).join(', ')}`);
});

/** Rows of unit vectors in R^d from a seeded generator, row-major [n, d]. */
function unitPoints(n: number, d: number, seed: number): Float64Array {
  const rng = makeRng({ purpose: 'test-ntk-relu', seed, n, d });
  const x = rng.fillNormal(new Float64Array(n * d));
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += x[i * d + k] ** 2;
    const inv = 1 / Math.sqrt(s);
    for (let k = 0; k < d; k++) x[i * d + k] *= inv;
  }
  return x;
}

test('Θ^L(x,x) = L/(d·2^{L−1}) and Σ^L(x,x) = 1/(d·2^{L−1}) for sigma_w = 1, sigma_b = 0, unit x, up to L = 10000 (log space)', () => {
  const d = 784;
  const x = unitPoints(3, d, 1);
  const depths = [1, 2, 3, 10, 100, 999, 1000, 1001, 5000, 10000];
  const seen: number[] = [];
  kernelFold(x, 3, d, { sigma_w: 1, sigma_b: 0, depths }, (L, state) => {
    seen.push(L);
    const logNtk = Math.log(L) - Math.log(d) - (L - 1) * Math.LN2;
    const logNngp = -Math.log(d) - (L - 1) * Math.LN2;
    for (let i = 0; i < 3; i++) {
      // |x|² = 1 up to rounding of the normalization: a few 1e-16 in the log
      const tolT = 1e-15 * Math.max(1, Math.abs(logNtk));
      const tolS = 1e-15 * Math.max(1, Math.abs(logNngp));
      assert.ok(Math.abs(state.log_ntk_diag[i] - logNtk) <= tolT, `log Θ at L=${L}: ${state.log_ntk_diag[i]} vs ${logNtk}`);
      assert.ok(Math.abs(state.log_nngp_diag[i] - logNngp) <= tolS, `log Σ at L=${L}`);
      assert.ok(Math.abs(state.nngp_ntk_ratio[i] - 1 / L) <= 1e-15, `Σ/Θ = 1/L at L=${L}`);
    }
  });
  assert.deepEqual(seen, depths);
  // at moderate depth the absolute kernel is still representable and equals the closed form
  kernelFold(x, 3, d, { sigma_w: 1, sigma_b: 0, depths: [10] }, (L, state) => {
    const ntk = kernelMatrix(state, 'ntk', 'absolute');
    const want = L / (d * 2 ** (L - 1));
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(ntk[i * 3 + i] - want) <= 1e-14 * want);
  });
});

test('normalized NTK and rho have diagonal exactly 1 (theta diagonal exactly 0) at every depth', () => {
  const n = 7;
  const x = unitPoints(n, 5, 2);
  for (let i = 0; i < 5; i++) x[5 + i] *= 3.7; // unequal norms
  for (const [sigma_w, sigma_b] of [[1, 0], [1.4, 0.6], [0.8, 2]]) {
    const state = inputKernel(x, n, 5, { sigma_w, sigma_b });
    for (let L = 1; L <= 300; L++) {
      const rho = kernelMatrix(state, 'rho', 'normalized');
      const ntkN = kernelMatrix(state, 'ntk', 'normalized');
      for (let i = 0; i < n; i++) {
        assert.equal(state.theta[i * n + i], 0);
        assert.equal((state.ntk_bar as Float64Array)[i * n + i], 1);
        assert.equal(rho[i * n + i], 1);
        assert.equal(ntkN[i * n + i], 1);
      }
      reluKernelStep(state, { sigma_w, sigma_b });
    }
  }
});

test('L = 2 kernels of orthogonal unit inputs equal the hand-derived closed forms', () => {
  // σ_w = 1, σ_b = 0, x ⟂ x', |x| = |x'| = 1 in R^d:
  //   Σ¹(x,x') = 0, Σ¹(x,x) = Θ¹(x,x) = 1/d, θ¹ = π/2
  //   Σ²(x,x') = 1/(2π) · (1/d) · (sin π/2 + (π − π/2) cos π/2) = 1/(2πd)
  //   Σ²(x,x)  = 1/(2π) · (1/d) · (0 + π) = 1/(2d)            ⇒ ρ² = 1/π
  //   Σ̇²(x,x') = (π − π/2)/(2π) = 1/4, Σ̇²(x,x) = 1/2
  //   Θ²(x,x') = Θ¹(x,x') · 1/4 + Σ²(x,x') = 0 + 1/(2πd)
  //   Θ²(x,x)  = (1/d) · 1/2 + 1/(2d) = 1/d                   ⇒ Θ̄² = 1/(2π)
  const d = 4;
  const x = Float64Array.from([1, 0, 0, 0, 0, 0, 1, 0]);
  kernelFold(x, 2, d, { sigma_w: 1, sigma_b: 0, depths: [1, 2] }, (L, state) => {
    const nngp = kernelMatrix(state, 'nngp', 'absolute');
    const ntk = kernelMatrix(state, 'ntk', 'absolute');
    const rho = kernelMatrix(state, 'rho', 'normalized');
    const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-15, `${what}: ${a} vs ${b}`);
    if (L === 1) {
      close(state.theta[1], Math.PI / 2, 'θ¹');
      close(nngp[0], 1 / d, 'Σ¹(x,x)');
      close(nngp[1], 0, 'Σ¹(x,x\')');
    } else {
      close(nngp[1], 1 / (2 * Math.PI * d), 'Σ²(x,x\')');
      close(nngp[0], 1 / (2 * d), 'Σ²(x,x)');
      close(rho[1], 1 / Math.PI, 'ρ²');
      close(ntk[1], 1 / (2 * Math.PI * d), 'Θ²(x,x\')');
      close(ntk[0], 1 / d, 'Θ²(x,x)');
      close((state.ntk_bar as Float64Array)[1], 1 / (2 * Math.PI), 'Θ̄²');
    }
  });
});

test('antipodal inputs give Σ²(x,−x) = 0 and Θ²(x,−x) = 0 (θ¹ = π exactly represented)', () => {
  // θ¹ = π: Σ² ∝ sin π + 0 · cos π = 0 and Σ̇² = (π − π)/(2π) = 0, so Θ² = Θ¹ · 0 + 0 = 0.
  const x = Float64Array.from([0.6, -0.8, 0.0, -0.6, 0.8, 0.0]);
  kernelFold(x, 2, 3, { sigma_w: 1, sigma_b: 0, depths: [1, 2] }, (L, state) => {
    if (L === 1) assert.ok(Math.abs(state.theta[1] - Math.PI) <= 4e-16);
    else {
      assert.ok(Math.abs(kernelMatrix(state, 'rho', 'normalized')[1]) <= 1e-15);
      assert.ok(Math.abs((state.ntk_bar as Float64Array)[1]) <= 1e-15);
    }
  });
});

test('duplicate points stay at angle exactly 0 and Θ̄ = 1 (to 1e-13) at every depth', () => {
  const x = unitPoints(3, 30, 3);
  x.copyWithin(60, 0, 30); // point 2 = point 0
  kernelFold(x, 3, 30, { sigma_w: 1, sigma_b: 0.3, depths: [1, 10, 100, 1000, 5000] }, (L, state) => {
    assert.equal(state.theta[2 * 3 + 0], 0, `θ at L=${L}`);
    assert.equal(kernelMatrix(state, 'rho', 'normalized')[2 * 3 + 0], 1);
    assert.ok(Math.abs((state.ntk_bar as Float64Array)[2 * 3 + 0] - 1) <= 1e-13, `Θ̄ at L=${L}`);
  });
});

test('the fold hands each requested depth once, in increasing order, with exactly symmetric matrices', () => {
  const n = 9;
  const x = unitPoints(n, 6, 4);
  const seen: number[] = [];
  kernelFold(x, n, 6, { sigma_w: 1.1, sigma_b: 0.2, depths: [5, 1, 3, 5, 20] }, (L, state) => {
    seen.push(L);
    assert.equal(state.depth, L);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        assert.equal(state.theta[i * n + j], state.theta[j * n + i]);
        assert.equal((state.ntk_bar as Float64Array)[i * n + j], (state.ntk_bar as Float64Array)[j * n + i]);
      }
    }
  });
  assert.deepEqual(seen, [1, 3, 5, 20]);
  assert.throws(() => kernelFold(x, n, 6, { sigma_w: 1, sigma_b: 0, depths: [0] }, () => {}), RangeError);
  assert.throws(() => kernelFold(x, n, 6, { sigma_w: 0, sigma_b: 0, depths: [1] }, () => {}), RangeError);
  const zero = new Float64Array(2 * 6);
  zero[0] = 1;
  assert.throws(() => inputKernel(zero, 2, 6, { sigma_w: 1, sigma_b: 0 }), /Sigma\^1\(x,x\) = 0/);
});

/** Textbook float64 recursion on absolute kernels (accurate away from ρ ≈ ±1), [n, n] each. */
function naiveKernels(x: Float64Array, n: number, d: number, sw: number, sb: number, depth: number) {
  const S = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += x[i * d + k] * x[j * d + k];
      S[i * n + j] = (sw * sw * s) / d + sb * sb;
    }
  }
  const T = Float64Array.from(S);
  for (let L = 1; L < depth; L++) {
    const S2 = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const norm = Math.sqrt(S[i * n + i] * S[j * n + j]);
        const th = i === j ? 0 : Math.acos(Math.min(1, Math.max(-1, S[i * n + j] / norm)));
        S2[i * n + j] = ((sw * sw) / (2 * Math.PI)) * norm * (Math.sin(th) + (Math.PI - th) * Math.cos(th)) + sb * sb;
        T[i * n + j] = T[i * n + j] * ((sw * sw * (Math.PI - th)) / (2 * Math.PI)) + S2[i * n + j];
      }
    }
    S.set(S2);
  }
  return { S, T };
}

test('every pair of a random point set matches the textbook float64 recursion at depth 3 (sigma_b > 0, unequal norms)', () => {
  const n = 12;
  const d = 8;
  const rng = makeRng({ purpose: 'test-ntk-relu-naive' });
  const x = rng.fillNormal(new Float64Array(n * d), 1.5);
  const { S, T } = naiveKernels(x, n, d, 1.2, 0.5, 3);
  kernelFold(x, n, d, { sigma_w: 1.2, sigma_b: 0.5, depths: [3] }, (_L, state: Readonly<KernelState>) => {
    const nngp = kernelMatrix(state, 'nngp', 'absolute');
    const ntk = kernelMatrix(state, 'ntk', 'absolute');
    for (let i = 0; i < n * n; i++) {
      assert.ok(Math.abs(nngp[i] - S[i]) <= 1e-12 * Math.abs(S[i]) + 1e-14, `Σ entry ${i}`);
      assert.ok(Math.abs(ntk[i] - T[i]) <= 1e-12 * Math.abs(T[i]) + 1e-14, `Θ entry ${i}`);
    }
  });
});

test('train_diag_mean scaling equals Θ / mean(diag Θ_train) and does not underflow at depth 2000', () => {
  const n = 6;
  const nTrain = 4;
  const x = unitPoints(n, 10, 5);
  for (let k = 0; k < 10; k++) x[10 + k] *= 2; // point 1 has norm 2
  kernelFold(x, n, 10, { sigma_w: 1, sigma_b: 0, depths: [20, 2000] }, (L, state) => {
    const scaled = kernelMatrix(state, 'ntk', 'train_diag_mean', { n_train: nTrain });
    if (L === 20) {
      const abs = kernelMatrix(state, 'ntk', 'absolute');
      let m = 0;
      for (let i = 0; i < nTrain; i++) m += abs[i * n + i] / nTrain;
      for (let i = 0; i < n * n; i++) assert.ok(Math.abs(scaled[i] - abs[i] / m) <= 1e-13);
    } else {
      // Θ^L(x,x) scales like |x|² (σ_b = 0): diag = (1, 4, 1, 1, 1, 1)/mean(1, 4, 1, 1) = 4/7, 16/7
      assert.ok(Math.abs(scaled[0] - 4 / 7) <= 1e-13);
      assert.ok(Math.abs(scaled[n + 1] - 16 / 7) <= 1e-13);
      assert.equal(kernelMatrix(state, 'ntk', 'absolute')[0], 0); // the raw kernel underflowed
    }
  });
});
