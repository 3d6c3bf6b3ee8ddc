/**
 * Benchmark (a) of the README's performance table: the ReLU NNGP + NTK recursion for every depth 1..L on n MNIST points,
 * ntk-sweep against numpy, side by side in one run.
 *
 *   npx tsc -p . && node dist/scripts/bench/kernel-recursion.js [--n 10000] [--depth 100]
 *       [--recompute 3] [--python python3]
 *
 * Data: n MNIST images (`loadDataset` train and test sets stacked: all 10,000 of the npm
 * package at n = 10,000), centered and projected to the unit sphere, d = 784, float64;
 * σ_w = 1, σ_b = 0. Both sides produce the full `[n, n]` NNGP and NTK matrices at **every** depth
 * 1..L (ntk-sweep: `kernelFold` with `depths = 1..L`, which hands out a symmetrized state
 * (angle θ and normalized Θ̄, log-scales) at each depth; numpy: `Σ` and `Θ` as arrays).
 *
 * References (numpy, BLAS threads 1, one core like ntk-sweep's fold):
 * - **numpy fold**: one pass through the depths, each depth from the previous one (the fair
 *   comparison: the same algorithmic shortcut), vectorized over full matrices with preallocated
 *   buffers (`arccos`, `sqrt(1 − ρ²)` for `sin θ`, no temporaries beyond three `[n, n]` arrays).
 * - **numpy recompute**: what a script that evaluates each depth independently does (the issue's
 *   framing, e.g. calling a kernel function per depth): depth L costs the input Gram plus L − 1
 *   layers, so all depths cost `L·T_input + L(L−1)/2·T_layer`. At n = 10,000 that is hours, so it
 *   is **extrapolated** from the fold's measured `T_input` and mean `T_layer`; `--recompute R`
 *   also runs it for real for depths 1..R and prints measured vs predicted, to check the model.
 *
 * ntk-sweep computes only the lower triangle per layer (symmetric) in a normalized form that is
 * accurate to ~1e-15 at any depth; the numpy version is the textbook recursion (`arccos` of
 * clipped correlations), less accurate near ρ → 1. Ratio = ntk-sweep / numpy (goal ≤ 0.5 against
 * numpy recomputing).
 */
import { loadDataset } from '../../src/data/index.js';
import { kernelFold } from '../../src/ntk/index.js';
import { PY_PRELUDE, fmt, machineLine, parseArgs, runPython, table, tempDir, timed, writeF64 } from './common.js';
import path from 'node:path';

const PY = `${PY_PRELUDE}
n, d, L = cfg["n"], cfg["d"], cfg["depth"]
X = np.fromfile(os.path.join(cfg["dir"], "x.bin")).reshape(n, d)
inv2pi = 1.0 / (2 * np.pi)

def input_layer():
    S = X @ X.T
    S *= 1.0 / d            # Σ¹ = σ_w² x·x'/d + σ_b² (σ_w = 1, σ_b = 0)
    return S, S.copy()      # Σ¹, Θ¹

def layer(S, T, buf, th):
    # one Dense∘ReLU layer in place: S ← Σ^{l+1}, T ← Θ^{l+1}
    s = np.sqrt(np.diag(S).copy())
    np.outer(s, s, out=buf)              # sqrt(Σ_ii Σ_jj)
    np.divide(S, buf, out=S)             # ρ
    np.clip(S, -1.0, 1.0, out=S)
    np.arccos(S, out=th)                 # θ
    np.subtract(np.pi, th, out=th)       # π − θ
    np.multiply(T, th, out=T)
    T *= inv2pi                          # Θ Σ̇,  Σ̇ = (π − θ)/(2π)
    np.multiply(th, S, out=th)           # (π − θ) ρ
    np.multiply(S, S, out=S)
    np.subtract(1.0, S, out=S)
    np.maximum(S, 0.0, out=S)
    np.sqrt(S, out=S)                    # sin θ
    S += th
    S *= buf
    S *= inv2pi                          # Σ^{l+1}
    T += S                               # Θ^{l+1}

def fold(depth_max):
    t0 = now()
    S, T = input_layer()
    t_in = now() - t0
    buf = np.empty_like(S); th = np.empty_like(S)
    for l in range(1, depth_max):
        layer(S, T, buf, th)
    return t_in, now() - t0, S, T

t_in, total, S, T = fold(L)
out = {"numpy": np.__version__, "t_input": t_in, "t_fold": total, "t_layer": (total - t_in) / max(1, L - 1),
       "theta_01": float(T[0, 1]), "theta_00": float(T[0, 0]), "maxrss_mib": maxrss_mib()}
R = cfg["recompute"]
if R > 0:
    del S, T
    t0 = now()
    for depth in range(1, R + 1):
        fold(depth)
    out["recompute_R"] = R
    out["recompute_measured"] = now() - t0
print(json.dumps(out))
`;

function main(): void {
  const o = parseArgs(process.argv.slice(2), { n: '10000', depth: '100', recompute: '3', python: 'python3' });
  const n = Number(o.n);
  const L = Number(o.depth);
  const R = Number(o.recompute);
  console.log(`kernel recursion benchmark (a): MNIST n = ${n}, d = 784, NNGP + NTK at every depth 1..${L}, float64, one core each`);
  console.log(machineLine());
  // all n points: train and test sets of loadDataset stacked (mnist has exactly 10,000)
  const nTest = Math.min(100, Math.floor(n / 10));
  const data = loadDataset({ dataset: 'mnist', n_train: n - nTest, n_test: nTest, center: true, unit_norm: true, data_seed: 0 });
  const d = data.d;
  const x = new Float64Array(n * d);
  x.set(data.x_train);
  x.set(data.x_test, (n - nTest) * d);

  let handed = 0;
  const ours = timed(() =>
    kernelFold(x, n, d, { sigma_w: 1, sigma_b: 0, depths: Array.from({ length: L }, (_v, i) => i + 1), ntk: true }, () => {
      handed++;
    }),
  );
  const st = ours.value;
  const ours01 = (st.ntk_bar as Float64Array)[n] * Math.exp(0.5 * (st.log_ntk_diag[0] + st.log_ntk_diag[1]));
  const ours00 = Math.exp(st.log_ntk_diag[0]);
  const rss = process.resourceUsage().maxRSS / 1024;

  const { dir, cleanup } = tempDir('ntk-bench-recursion-');
  try {
    writeF64(path.join(dir, 'x.bin'), x);
    const py = runPython<{
      numpy: string;
      t_input: number;
      t_fold: number;
      t_layer: number;
      maxrss_mib: number;
      theta_01: number;
      theta_00: number;
      recompute_R?: number;
      recompute_measured?: number;
    }>(o.python, PY, { n, d, depth: L, dir, recompute: R }, 1);
    const recomputeAll = L * py.t_input + ((L * (L - 1)) / 2) * py.t_layer;
    const rows: (string | number)[][] = [
      [`ntk-sweep kernelFold (depths 1..${L})`, ours.wall, ours.cpu, '', '', `${handed} depths handed out; peak RSS ${fmt(rss)} MiB`],
      [`numpy ${py.numpy} fold (depths 1..${L})`, py.t_fold, '', ours.wall / py.t_fold, '', `T_input ${fmt(py.t_input)} s, T_layer ${fmt(py.t_layer)} s; peak RSS ${fmt(py.maxrss_mib)} MiB`],
      [`numpy recompute every depth (extrapolated)`, recomputeAll, '', ours.wall / recomputeAll, '', `${L}·T_input + ${(L * (L - 1)) / 2}·T_layer`],
    ];
    if (py.recompute_R) {
      const pred = py.recompute_R * py.t_input + ((py.recompute_R * (py.recompute_R - 1)) / 2) * py.t_layer;
      rows.push([`  check: numpy recompute depths 1..${py.recompute_R}`, py.recompute_measured ?? NaN, '', '', '', `measured; the model predicts ${fmt(pred)} s`]);
    }
    console.log(
      `cross-check at depth ${L}: Θ(x0,x1) ntk-sweep ${ours01.toPrecision(15)} numpy ${py.theta_01.toPrecision(15)}; ` +
        `Θ(x0,x0) ntk-sweep ${ours00.toPrecision(15)} numpy ${py.theta_00.toPrecision(15)}`,
    );
    console.log(table(['implementation', 'wall s', 'cpu s', 'ratio ntk-sweep/this', '', 'notes'], rows));
    console.log('goal: ntk-sweep ≤ 0.5 × numpy recomputing each depth. Timings on a shared 2-core machine: repeat and take the minimum.');
  } finally {
    cleanup();
  }
}

main();
