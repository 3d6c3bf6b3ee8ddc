import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Decimal } from 'decimal.js';
import { makeRng } from '../src/util/rng.js';
import { activationOf, kernelFold, kernelMatrix, DK, OMK, OPK, type Activation } from '../src/ntk/index.js';
import { dualExpectations, gaussianPairMean } from './helpers/ntk.js';

// Each activation with its parameters; relu has its own tests (ntk-relu.test.ts).
const ACTS: Activation[] = [
  activationOf('relu'),
  activationOf('leaky_relu', { activation_alpha: 0.2 }),
  activationOf('abs'),
  activationOf('erf'),
  activationOf('gelu'),
  activationOf('relu2'),
  activationOf('step'),
  activationOf('sin'),
  activationOf('cos'),
  activationOf('gaussian'),
  activationOf('identity'),
];

test('dual maps of every closed-form activation match Monte Carlo (4e5 samples) within 5 standard errors', () => {
  const rng = makeRng({ purpose: 'test-activation-mc' });
  const N = 400_000;
  for (const act of ACTS) {
    for (const [qi, qj, rho] of [[1, 1, 0.5], [0.7, 2.2, -0.6], [0.3, 0.3, 0.95]]) {
      const want = dualExpectations(act, qi, qj, rho);
      const z1 = new Float64Array(N);
      const z2 = new Float64Array(N);
      for (let n = 0; n < N; n++) {
        z1[n] = rng.normal();
        z2[n] = rng.normal();
      }
      const { mean: m, se } = gaussianPairMean(act.phi, qi, qj, rho, z1, z2);
      assert.ok(Math.abs(m - want.kk) <= 5 * se + 1e-12, `${act.name} E[φφ] at (${qi}, ${qj}, ${rho}): MC ${m} ± ${se}, closed form ${want.kk}`);
      if (act.has_ntk) {
        const { mean: md, se: sed } = gaussianPairMean(act.dphi, qi, qj, rho, z1, z2);
        assert.ok(Math.abs(md - want.dd) <= 5 * sed + 1e-12, `${act.name} E[φ'φ'] at (${qi}, ${qj}, ${rho}): MC ${md} ± ${sed}, closed form ${want.dd}`);
      }
    }
  }
});

test('the two complements 1 − k̄ and 1 + k̄ are non-negative and sum to 2 (to 1e-15) over the whole angle range', () => {
  const out = new Float64Array(3);
  for (const act of ACTS) {
    for (const [qi, qj] of [[1, 1], [0.4, 3]]) {
      for (let i = 0; i <= 200; i++) {
        const th = (Math.PI * i) / 200;
        act.pair(qi, qj, th, Math.sin(th / 2), Math.cos(th / 2), out);
        assert.ok(out[OMK] >= 0 && out[OPK] >= 0, `${act.name} θ=${th}`);
        assert.ok(Math.abs(out[OMK] + out[OPK] - 2) <= 1e-15 * 4, `${act.name} θ=${th}: ${out[OMK]} + ${out[OPK]}`);
      }
    }
  }
});

test('equal variances and θ = 0 give 1 − k̄ exactly 0 and ḋ = 1 (duplicate points stay duplicates)', () => {
  const out = new Float64Array(3);
  for (const act of ACTS) {
    for (const q of [1e-3, 0.5, 1, 7]) {
      act.pair(q, q, 0, 0, 1, out);
      assert.equal(out[OMK], 0, act.name);
      if (act.has_ntk) assert.ok(Math.abs(out[DK] - 1) <= 1e-15, `${act.name} ḋ(0) = ${out[DK]}`);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Independent reference: the textbook recursion on the ABSOLUTE kernels Σ, Θ of two points, with
// each activation's dual written out from its source, in 30-digit decimal.js arithmetic.
// ---------------------------------------------------------------------------------------------
const D = Decimal.clone({ precision: 30, rounding: Decimal.ROUND_HALF_EVEN });
type Dec = InstanceType<typeof D>;
const PI = D.acos(-1);

/** decimal.js acos, with the diagonal's cos = 1 (θ = 0) short-cut (acos costs ~1 ms). */
function decAcos(cos: Dec): Dec {
  return cos.eq(1) ? new D(0) : D.acos(cos);
}

/** E[φφ] (pair and diagonal) and E[φ'φ'] for (u, v) with variances a, b and covariance c. */
type DecDual = (a: Dec, b: Dec, c: Dec) => { k: Dec; d: Dec };

function abDual(a0: number, b0: number): DecDual {
  const A = new D(a0 * a0 + b0 * b0);
  const ab2 = new D(2 * a0 * b0);
  return (a, b, c) => {
    const s = a.mul(b).sqrt();
    const cos = D.min(1, D.max(-1, c.div(s)));
    const th = decAcos(cos);
    const sin = D.sqrt(new D(1).minus(cos.mul(cos)));
    const j1 = sin.plus(PI.minus(th).mul(cos));
    const g = sin.minus(th.mul(cos));
    return {
      k: s.div(PI.mul(2)).mul(A.mul(j1).minus(ab2.mul(g))),
      d: A.mul(PI.minus(th)).plus(ab2.mul(th)).div(PI.mul(2)),
    };
  };
}

const DEC_DUALS: Record<string, DecDual> = {
  leaky_relu: abDual(0.2, 1),
  abs: abDual(-1, 1),
  identity: (_a, _b, c) => ({ k: c, d: new D(1) }),
  erf: (a, b, c) => {
    const pa = a.mul(2).plus(1);
    const pb = b.mul(2).plus(1);
    return {
      k: D.asin(c.mul(2).div(pa.mul(pb).sqrt())).mul(2).div(PI),
      d: new D(4).div(PI).div(pa.mul(pb).minus(c.mul(c).mul(4)).sqrt()),
    };
  },
  sin: (a, b, c) => {
    const e = D.exp(a.plus(b).div(-2));
    return { k: e.mul(D.sinh(c)), d: e.mul(D.cosh(c)) };
  },
  cos: (a, b, c) => {
    const e = D.exp(a.plus(b).div(-2));
    return { k: e.mul(D.cosh(c)), d: e.mul(D.sinh(c)) };
  },
  gaussian: (a, b, c) => {
    const det = a.plus(1).mul(b.plus(1)).minus(c.mul(c));
    return { k: new D(1).div(det.sqrt()), d: c.div(det.pow(1.5)) };
  },
  gelu: (a, b, c) => {
    // the integration-by-parts closed form, written again in decimal arithmetic
    const one = new D(1);
    const delta = a.plus(1).mul(b.plus(1)).minus(c.mul(c));
    const P = new D(2).div(PI).div(delta.sqrt());
    const A = new D(2).div(PI).mul(D.asin(c.div(a.plus(1).mul(b.plus(1)).sqrt())));
    const psi = P.mul(a.mul(b).minus(a.mul(c).mul(c).div(a.plus(1))).plus(c.mul(c).div(b.plus(1)))).plus(c.mul(A));
    const chi = A.plus(c.mul(P).mul(one.div(a.plus(1)).plus(one.div(b.plus(1))))).plus(new D(2).div(PI).mul(c).div(delta.pow(1.5)));
    return { k: c.div(4).plus(psi.div(4)), d: new D(0.25).plus(chi.div(4)) };
  },
  relu2: (a, b, c) => {
    const s = a.mul(b).sqrt();
    const cos = D.min(1, D.max(-1, c.div(s)));
    const th = decAcos(cos);
    const sin = D.sqrt(new D(1).minus(cos.mul(cos)));
    const j2 = sin.mul(cos).mul(3).plus(PI.minus(th).mul(cos.mul(cos).mul(2).plus(1)));
    const j1 = sin.plus(PI.minus(th).mul(cos));
    return { k: a.mul(b).div(PI.mul(2)).mul(j2), d: s.mul(4).div(PI.mul(2)).mul(j1) };
  },
  step: (a, b, c) => {
    const th = decAcos(D.min(1, D.max(-1, c.div(a.mul(b).sqrt()))));
    return { k: PI.minus(th).div(PI.mul(2)), d: new D(NaN) };
  },
};

/** Normalized ρ and Θ̄ of the pair x = (1, 0), x' = (ρ0, sqrt(1 − ρ0²)) (d = 2) at `depths`. */
function decimalReference(dual: DecDual, sw: number, sb: number, rho0: number, depths: number[], ntk: boolean): Map<number, { rho: number; ntk: number }> {
  const sw2 = new D(sw).pow(2);
  const sb2 = new D(sb).pow(2);
  const x2 = [new D(rho0), new D(Math.sqrt((1 - rho0) * (1 + rho0)))];
  // Σ¹ = σ_w² x·x'/d + σ_b² with the float64 coordinates (|x'|² rounds away from 1 slightly)
  let s11 = sw2.div(2).plus(sb2);
  let s22 = sw2.mul(x2[0].pow(2).plus(x2[1].pow(2))).div(2).plus(sb2);
  let s12 = sw2.mul(x2[0]).div(2).plus(sb2);
  let t11 = s11, t22 = s22, t12 = s12;
  const out = new Map<number, { rho: number; ntk: number }>();
  const max = Math.max(...depths);
  for (let L = 1; ; L++) {
    if (depths.includes(L)) out.set(L, { rho: s12.div(s11.mul(s22).sqrt()).toNumber(), ntk: ntk ? t12.div(t11.mul(t22).sqrt()).toNumber() : NaN });
    if (L === max) break;
    const p12 = dual(s11, s22, s12);
    const p11 = dual(s11, s11, s11);
    const p22 = dual(s22, s22, s22);
    const n11 = sw2.mul(p11.k).plus(sb2);
    const n22 = sw2.mul(p22.k).plus(sb2);
    const n12 = sw2.mul(p12.k).plus(sb2);
    if (ntk) {
      t11 = t11.mul(sw2.mul(p11.d)).plus(n11);
      t22 = t22.mul(sw2.mul(p22.d)).plus(n22);
      t12 = t12.mul(sw2.mul(p12.d)).plus(n12);
    }
    s11 = n11;
    s22 = n22;
    s12 = n12;
  }
  return out;
}

interface DeepCase {
  name: string;
  params?: Record<string, number>;
  sw: number;
  sb: number;
  rho0: number;
  depths: number[];
  /** Tolerance on ρ and Θ̄ (default 1e-12). */
  tol?: number;
}

const DEEP_CASES: DeepCase[] = [
  { name: 'leaky_relu', params: { activation_alpha: 0.2 }, sw: 1.3, sb: 0, rho0: 0.3, depths: [1, 10, 100, 1000, 10000] },
  { name: 'leaky_relu', params: { activation_alpha: 0.2 }, sw: 1, sb: 0.3, rho0: -0.7, depths: [1, 10, 100, 1000] },
  { name: 'abs', sw: 1, sb: 0, rho0: 0.3, depths: [1, 10, 100, 1000, 10000] },
  { name: 'abs', sw: 1.1, sb: 0.5, rho0: -0.999999, depths: [1, 10, 100, 1000] },
  { name: 'erf', sw: 0.8, sb: 0, rho0: 0.3, depths: [1, 10, 100, 1000, 10000] },
  { name: 'erf', sw: 2, sb: 0, rho0: 0.999999, depths: [1, 10, 100, 1000] },
  { name: 'erf', sw: 1, sb: 0.3, rho0: -0.7, depths: [1, 10, 100, 1000] },
  // gelu's complements are formed by subtraction (~1e-16 absolute per layer); in its near-linear
  // regime (q → 0 without bias) that adds up to ~1.3e-12 on Θ̄ over 10⁴ layers.
  { name: 'gelu', sw: 1.5, sb: 0, rho0: 0.3, depths: [1, 10, 100, 1000, 10000], tol: 3e-12 },
  { name: 'gelu', sw: 1, sb: 0.2, rho0: 0.999999, depths: [1, 10, 100, 1000] },
  { name: 'sin', sw: 1.5, sb: 0, rho0: 0.3, depths: [1, 10, 100, 1000, 10000] },
  { name: 'sin', sw: 1, sb: 0.2, rho0: 0.999999, depths: [1, 10, 100, 1000] },
  { name: 'cos', sw: 1, sb: 0.1, rho0: -0.7, depths: [1, 10, 100, 1000, 10000] },
  { name: 'gaussian', sw: 1.5, sb: 0.2, rho0: 0.3, depths: [1, 10, 100, 1000, 10000] },
  { name: 'identity', sw: 1, sb: 0.1, rho0: -0.7, depths: [1, 10, 100, 1000, 10000] },
  { name: 'relu2', sw: 0.9, sb: 0, rho0: 0.3, depths: [1, 10, 30] },
  { name: 'step', sw: 1, sb: 0, rho0: 0.3, depths: [1, 10, 100, 1000, 10000] },
  { name: 'step', sw: 1, sb: 0.3, rho0: -0.7, depths: [1, 10, 100, 1000] },
];

test('normalized ρ and Θ̄ of every closed-form activation match a 30-digit decimal.js recursion to 1e-12 at depths 1, 10, 100, 1000, 10000', (t) => {
  for (const c of DEEP_CASES) {
    const act = activationOf(c.name, c.params);
    const ref = decimalReference(DEC_DUALS[c.name], c.sw, c.sb, c.rho0, c.depths, act.has_ntk);
    const x = Float64Array.from([1, 0, c.rho0, Math.sqrt((1 - c.rho0) * (1 + c.rho0))]);
    const errs: string[] = [];
    kernelFold(x, 2, 2, { sigma_w: c.sw, sigma_b: c.sb, activation: act, depths: c.depths, ntk: act.has_ntk }, (L, state) => {
      const r = ref.get(L)!;
      const rho = kernelMatrix(state, 'rho', 'normalized')[2];
      const errRho = Math.abs(rho - r.rho);
      const errNtk = act.has_ntk ? Math.abs((state.ntk_bar as Float64Array)[2] - r.ntk) : 0;
      const what = `${c.name} σ_w=${c.sw} σ_b=${c.sb} ρ0=${c.rho0} L=${L}: ρ ${rho} vs ${r.rho}, Θ̄ ${state.ntk_bar?.[2]} vs ${r.ntk}`;
      assert.ok(errRho <= (c.tol ?? 1e-12) && errNtk <= (c.tol ?? 1e-12), what);
      errs.push(`L=${L}: ${Math.max(errRho, errNtk).toExponential(1)}`);
    });
    t.diagnostic(`${c.name} σ_w=${c.sw} σ_b=${c.sb} ρ0=${c.rho0}: ${errs.join(', ')}`);
  }
});
