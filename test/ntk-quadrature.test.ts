import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Decimal } from 'decimal.js';
import { parse } from 'yaml';
import { makeRng } from '../src/util/rng.js';
import type { MlpArchitecture } from '../src/nn/index.js';
import { activationOf, gaussHermite, kernelFold, kernelMatrix, trapezoidRule, type Activation } from '../src/ntk/index.js';
import { expandSpec } from '../src/spec/expand.js';
import { validateSpec } from '../src/spec/spec.js';
import { dualExpectations, empiricalNtkError, gaussianPairMean, unitSphere } from './helpers/ntk.js';
import { specProblems as problems } from './helpers/spec.js';

const NAMED = ['tanh', 'softplus', 'swish', 'mish'];
const USER = 'x * tanh(log(1 + exp(x)))';

test('the trapezoidal and Gauss–Hermite rules integrate the Gaussian moments E[z⁴] = 3, E[z¹⁰] = 945 to 1e-12', () => {
  for (const rule of [trapezoidRule(0.25), trapezoidRule(1 / 16), gaussHermite(20), gaussHermite(128)]) {
    const m = (p: number): number => rule.z.reduce((s, z, i) => s + rule.w[i] * z ** p, 0);
    assert.ok(Math.abs(m(0) - 1) < 1e-14 && Math.abs(m(4) / 3 - 1) < 1e-14 && Math.abs(m(10) / 945 - 1) < 1e-12, `moments ${m(0)} ${m(4)} ${m(10)}`);
  }
});

test('numerical duals of tanh, softplus, swish, mish and an expression agree with Monte Carlo (4·10⁵ samples) within 4 standard errors', () => {
  const n = 400_000;
  const rng = makeRng({ purpose: 'test-quadrature-mc', seed: 1 });
  const z1 = rng.fillNormal(new Float64Array(n));
  const z2 = rng.fillNormal(new Float64Array(n));
  for (const name of [...NAMED, USER]) {
    const act = activationOf(name);
    for (const [qi, qj, rho] of [[0.7, 1.3, 0.6], [2, 0.5, -0.4]]) {
      const { kk, dd } = dualExpectations(act, qi, qj, rho);
      for (const [which, f, want] of [['E[φφ]', act.phi, kk], ["E[φ'φ'']", act.dphi, dd]] as const) {
        const { mean, se } = gaussianPairMean(f, qi, qj, rho, z1, z2);
        assert.ok(Math.abs(mean - want) < 4 * se, `${name} ${which} at (${qi}, ${qj}, ${rho}): quadrature ${want}, Monte Carlo ${mean} ± ${se}`);
      }
    }
  }
});

/** Unit vectors, row-major [n, d]. */
const sphere = (n: number, d: number, seed: number): Float64Array => unitSphere(n, d, 'test-quadrature', seed);

/** Normalized ρ and Θ̄ of `act` at the given depths (row-major [n, n] each). */
function normalized(act: Activation, x: Float64Array, n: number, d: number, sw: number, sb: number, depths: number[]): Map<number, { rho: Float64Array; ntk: Float64Array }> {
  const out = new Map<number, { rho: Float64Array; ntk: Float64Array }>();
  kernelFold(x, n, d, { sigma_w: sw, sigma_b: sb, activation: act, depths }, (L, state) => {
    out.set(L, { rho: kernelMatrix(state, 'rho', 'normalized'), ntk: kernelMatrix(state, 'ntk', 'normalized') });
  });
  return out;
}

function maxDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('expressions sin(x), cos(x), exp(-x^2/2) by quadrature agree with the closed forms sin, cos, gaussian within 1e-12 at depths 1, 10, 100 (pairs by the direct rule)', (t) => {
  const n = 6;
  const d = 5;
  const x = sphere(n, d, 1);
  const lines: string[] = [];
  for (const [expr, closed] of [['sin(x)', 'sin'], ['cos(x)', 'cos'], ['exp(-x^2/2)', 'gaussian']]) {
    for (const [sw, sb] of [[1.3, 0.2], [2.5, 0]]) {
      const num = normalized(activationOf(expr), x, n, d, sw, sb, [1, 10, 100]);
      const ref = normalized(activationOf(closed), x, n, d, sw, sb, [1, 10, 100]);
      const errs = [1, 10, 100].map((L) => Math.max(maxDiff(num.get(L)!.rho, ref.get(L)!.rho), maxDiff(num.get(L)!.ntk, ref.get(L)!.ntk)));
      lines.push(`${expr} σ_w=${sw} σ_b=${sb}: ${errs.map((e) => e.toExponential(1)).join(' / ')}`);
      for (const e of errs) assert.ok(e < 1e-12, `${expr} vs ${closed} (σ_w = ${sw}): ${errs}`);
    }
  }
  t.diagnostic(`max |numerical − closed form| of ρ and Θ̄ at depth 1 / 10 / 100: ${lines.join('; ')}`);
});

test('on the sphere (one variance per layer) the θ tables agree with the closed form: sin(x) vs sin within 1e-12 at depths 1 to 6 over 40 points', () => {
  const n = 40;
  const d = 8;
  const x = sphere(n, d, 2);
  const num = normalized(activationOf('sin(x)'), x, n, d, 1.6, 0.1, [1, 3, 6]);
  const ref = normalized(activationOf('sin'), x, n, d, 1.6, 0.1, [1, 3, 6]);
  for (const L of [1, 3, 6]) {
    const e = Math.max(maxDiff(num.get(L)!.rho, ref.get(L)!.rho), maxDiff(num.get(L)!.ntk, ref.get(L)!.ntk));
    assert.ok(e < 1e-12, `depth ${L}: ${e}`);
  }
});

// ---- references for activations without a closed form ----

type Fn = (x: Decimal) => Decimal;
const D30 = Decimal.clone({ precision: 30 });
const one = new D30(1);
const sig: Fn = (x) => one.div(one.plus(x.neg().exp()));
const spD: Fn = (x) => one.plus(x.exp()).ln();
const DEC: Record<string, [Fn, Fn]> = {
  tanh: [(x) => x.tanh(), (x) => one.minus(x.tanh().pow(2))],
  softplus: [spD, sig],
  swish: [(x) => x.times(sig(x)), (x) => sig(x).times(one.plus(x.times(one.minus(sig(x)))))],
  mish: [(x) => x.times(spD(x).tanh()), (x) => spD(x).tanh().plus(x.times(one.minus(spD(x).tanh().pow(2))).times(sig(x)))],
};

/**
 * 30-digit reference of one layer on the sphere by Mehler's formula
 * `E[f(u)g(v)] = Σ_n ρⁿ b_n(f) b_n(g)`, `b_n(f) = E[f(√q z) He_n(z)]/√n!` (1-D trapezoidal rule in
 * decimal arithmetic, step 0.125 on |z| ≤ 10), truncated where `|ρ|ⁿ < 1e-24`: an expansion
 * independent of the 2-D rule under test, for |ρ| ≤ 0.7.
 */
function mehlerLayer(f: Fn, df: Fn, q: Decimal, rho: Decimal): { ee: Decimal; e2: Decimal; dd: Decimal; d2: Decimal } {
  const h = 0.125;
  const zs: Decimal[] = [];
  const ws: Decimal[] = [];
  let wsum = new D30(0);
  for (let k = -80; k <= 80; k++) {
    const z = new D30(k * h);
    zs.push(z);
    const w = z.pow(2).div(-2).exp();
    ws.push(w);
    wsum = wsum.plus(w);
  }
  const sq = q.sqrt();
  const fv = zs.map((z) => f(sq.times(z)));
  const dv = zs.map((z) => df(sq.times(z)));
  const nTerms = Math.ceil(Math.log(1e-24) / Math.log(Math.max(1e-3, Math.abs(rho.toNumber()))));
  let hPrev = zs.map(() => new D30(0));
  let hCur = zs.map(() => new D30(1));
  let ee = new D30(0);
  let dd = new D30(0);
  let e2 = new D30(0);
  let d2 = new D30(0);
  let rn = new D30(1);
  for (let nn = 0; nn <= nTerms; nn++) {
    let bf = new D30(0);
    let bd = new D30(0);
    for (let i = 0; i < zs.length; i++) {
      bf = bf.plus(ws[i].times(fv[i]).times(hCur[i]));
      bd = bd.plus(ws[i].times(dv[i]).times(hCur[i]));
    }
    bf = bf.div(wsum);
    bd = bd.div(wsum);
    ee = ee.plus(rn.times(bf.pow(2)));
    dd = dd.plus(rn.times(bd.pow(2)));
    rn = rn.times(rho);
    // normalized Hermite: h_{n+1} = (z h_n − √n h_{n−1})/√(n+1)
    const sN = new D30(nn).sqrt();
    const sN1 = new D30(nn + 1).sqrt();
    const next = zs.map((z, i) => z.times(hCur[i]).minus(sN.times(hPrev[i])).div(sN1));
    hPrev = hCur;
    hCur = next;
  }
  for (let i = 0; i < zs.length; i++) {
    e2 = e2.plus(ws[i].times(fv[i].pow(2)));
    d2 = d2.plus(ws[i].times(dv[i].pow(2)));
  }
  return { ee, e2: e2.div(wsum), dd, d2: d2.div(wsum) };
}

/** Reference ρ^L and Θ̄^L of two unit inputs at angle cos⁻¹ ρ¹ on the sphere (d = 2), in decimal. */
function decimalReference(name: string, sw: number, sb: number, rho1: number, depths: number[]): Map<number, [number, number]> {
  const [f, df] = DEC[name];
  const w2 = new D30(sw).pow(2);
  const b2 = new D30(sb).pow(2);
  let q = w2.plus(b2);
  let k = q.times(rho1);
  let t11 = q;
  let t12 = k;
  const out = new Map<number, [number, number]>([[1, [k.div(q).toNumber(), t12.div(t11).toNumber()]]]);
  for (let L = 2; L <= Math.max(...depths); L++) {
    const m = mehlerLayer(f, df, q, k.div(q));
    const qn = w2.times(m.e2).plus(b2);
    k = w2.times(m.ee).plus(b2);
    t11 = t11.times(w2.times(m.d2)).plus(qn);
    t12 = t12.times(w2.times(m.dd)).plus(k);
    q = qn;
    if (depths.includes(L)) out.set(L, [k.div(q).toNumber(), t12.div(t11).toNumber()]);
  }
  return out;
}

/** Two points of ℝ² with Σ¹-correlation `rho1` (σ_b = 0 part: the inputs' cosine). */
function pairInputs(sw: number, sb: number, rho1: number): Float64Array {
  const c = (rho1 * (sw * sw + sb * sb) - sb * sb) / (sw * sw);
  return new Float64Array([Math.SQRT2, 0, Math.SQRT2 * c, Math.SQRT2 * Math.sqrt(1 - c * c)]);
}

test('tanh in its chaotic phase (σ_w = 2.5 and 1.5): ρ and Θ̄ within 1e-10 of a 30-digit reference (Mehler series) at depths 1, 10, 100', (t) => {
  const lines: string[] = [];
  for (const [sw, sb, rho1] of [[2.5, 0, 0.5], [1.5, 0.1, -0.3]]) {
    const ref = decimalReference('tanh', sw, sb, rho1, [1, 10, 100]);
    const got = normalized(activationOf('tanh'), pairInputs(sw, sb, rho1), 2, 2, sw, sb, [1, 10, 100]);
    const errs = [1, 10, 100].map((L) => Math.max(Math.abs(got.get(L)!.rho[1] - ref.get(L)![0]), Math.abs(got.get(L)!.ntk[1] - ref.get(L)![1])));
    lines.push(`σ_w=${sw} σ_b=${sb}: ${errs.map((e) => e.toExponential(1)).join(' / ')}`);
    for (const e of errs) assert.ok(e < 1e-10, `tanh σ_w = ${sw}: ${errs}`);
  }
  t.diagnostic(`tanh, max error of ρ and Θ̄ at depth 1 / 10 / 100: ${lines.join('; ')}`);
});

test('softplus, swish and mish: ρ and Θ̄ within 1e-10 of a 30-digit reference at depth 2 (one nonlinear layer), and of a fine-step reference at depths 10 and 100', (t) => {
  const lines: string[] = [];
  const sw = 1.3;
  const sb = 0.3;
  for (const name of ['softplus', 'swish', 'mish']) {
    const ref = decimalReference(name, sw, sb, 0.4, [2]);
    const got = normalized(activationOf(name), pairInputs(sw, sb, 0.4), 2, 2, sw, sb, [2, 10, 100]);
    const e2 = Math.max(Math.abs(got.get(2)!.rho[1] - ref.get(2)![0]), Math.abs(got.get(2)!.ntk[1] - ref.get(2)![1]));
    // the same recursion with a four times finer rule (independent discretization)
    const fine = activationOf(name);
    const fineAct: Activation = { ...fine, pair: fineTwin(fine) };
    const fref = normalized(fineAct, pairInputs(sw, sb, 0.4), 2, 2, sw, sb, [10, 100]);
    const errs = [e2, ...[10, 100].map((L) => Math.max(Math.abs(got.get(L)!.rho[1] - fref.get(L)!.rho[1]), Math.abs(got.get(L)!.ntk[1] - fref.get(L)!.ntk[1])))];
    lines.push(`${name}: ${errs.map((e) => e.toExponential(1)).join(' / ')}`);
    for (const e of errs) assert.ok(e < 1e-10, `${name}: ${errs}`);
  }
  t.diagnostic(`max error of ρ and Θ̄ at depth 2 (30 digits) / 10 / 100 (fine step): ${lines.join('; ')}`);
});

/** The pair duals of `act` by a plain 2-D trapezoidal sum of E[φφ] with step 1/24 (no squared differences, no tables). */
function fineTwin(act: Activation): Activation['pair'] {
  const rule = trapezoidRule(1 / 24);
  const { z, w } = rule;
  return (qi, qj, th, _h, _k, out) => {
    const c = Math.cos(th);
    const s = Math.sin(th);
    let k = 0;
    let d = 0;
    let ai = 0;
    let aj = 0;
    let bi = 0;
    let bj = 0;
    for (let a = 0; a < z.length; a++) {
      const u = Math.sqrt(qi) * z[a];
      const uj = Math.sqrt(qj) * z[a];
      ai += w[a] * act.phi(u) ** 2;
      aj += w[a] * act.phi(uj) ** 2;
      bi += w[a] * act.dphi(u) ** 2;
      bj += w[a] * act.dphi(uj) ** 2;
      let sk = 0;
      let sd = 0;
      for (let b = 0; b < z.length; b++) {
        const v = Math.sqrt(qj) * (c * z[a] + s * z[b]);
        sk += w[b] * act.phi(v);
        sd += w[b] * act.dphi(v);
      }
      k += w[a] * act.phi(u) * sk;
      d += w[a] * act.dphi(u) * sd;
    }
    const kb = k / Math.sqrt(ai * aj);
    out[0] = 1 - kb;
    out[1] = 1 + kb;
    out[2] = d / Math.sqrt(bi * bj);
  };
}

test('the empirical NTK at width 4096 (mean of 10 outputs) is within 5% (Frobenius) of the analytic NTK for tanh, swish and an expression', (t) => {
  const d = 6;
  const p = 4;
  const x = sphere(p, d, 3);
  const errors: string[] = [];
  for (const name of ['tanh', 'swish', USER]) {
    const act = activationOf(name);
    const arch: MlpArchitecture = { d, width: 4096, depth: 3, k: 10, sigma_w: 1.2, sigma_b: 0.2, activation: act, parameterization: 'ntk' };
    const rel = empiricalNtkError(arch, x, p, [1]);
    assert.ok(rel < 0.05, `${name}: relative Frobenius error ${rel}`);
    errors.push(`${name} ${rel.toFixed(3)}`);
  }
  t.diagnostic(`relative Frobenius errors: ${errors.join(', ')}`);
});


test('the spec refuses expressions that are discontinuous, not differentiable, not finite, constant, or read other names, each with its cause', () => {
  const base = 'name: a\nkind: kernel\ndataset: mnist\nfixed: { n_train: 10 }\ngrid: { depth: [1], activation: ';
  const cases: [string, string][] = [
    ['"sign(x)"', 'calls sign, which is not allowed: it is discontinuous (its derivative is a Dirac delta'],
    ['"max(x, 0)"', 'calls max, which is not allowed'],
    ['"abs(x)"', 'calls abs, which is not allowed'],
    ['"sqrt(x^2)"', 'that is not finite or not defined at x = 0'],
    ['"log(x)"', 'is not finite at x = -50'],
    ['"x > 0 ? x : 0"', 'contains a conditional expression'],
    ['"y * x"', 'uses y; the only variable is x'],
    ['"2 + 0 * x"', 'has a derivative that is 0'],
    ['"x +"', 'cannot be parsed'],
    ['tahn', "unknown activation 'tahn'"],
  ];
  for (const [value, want] of cases) {
    const got = problems(`${base}[${value}] }`);
    assert.ok(got.some((m) => m.startsWith('grid.activation[0]:') && m.includes(want)), `${value}: ${JSON.stringify(got)}`);
  }
  assert.deepEqual(problems(`${base}[tanh, softplus, swish, mish, "x * tanh(log(1 + exp(x)))"] }`), []);
});

test('an expression is stored in canonical form: spacing does not change the task id, and the id differs from the named activation', () => {
  const spec = (a: string) => validateSpec(parse(`name: a\nkind: kernel\ndataset: mnist\nfixed: { n_train: 10, depth: 2, activation: "${a}" }\n`));
  const [a] = expandSpec(spec('x*tanh(log(1+exp(x)))'));
  const [b] = expandSpec(spec('x * tanh(log(1 + exp( x )))'));
  const [c] = expandSpec(spec('tanh(x)'));
  const [named] = expandSpec(validateSpec(parse('name: a\nkind: kernel\ndataset: mnist\nfixed: { n_train: 10, depth: 2, activation: tanh }\n')));
  assert.equal(a.params.activation, 'x * tanh(log(1 + exp(x)))');
  assert.equal(a.id, b.id);
  assert.notEqual(c.id, named.id);
});
