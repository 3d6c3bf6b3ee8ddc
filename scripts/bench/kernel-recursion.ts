/**
 * Benchmark (a) of the README's performance table: the ReLU NNGP + NTK recursion for every depth 1..L on n MNIST points,
 * ntk-sweep against numpy, side by side in one run.
 *
 *   npx tsc -p . && node dist/scripts/bench/kernel-recursion.js [--n 10000] [--depth 100]
 *       [--recompute 3] [--python python3] [--linalg auto] [--blas-threads 1] [--every true]
 *       [--repeat 1]
 *
 * (a′) of the README, the depth-limit case: `--n 2000 --depth 10000 --every false --recompute 0`
 * (only the last depth handed out; numpy keeps its matrices current at every layer anyway).
 * `--numpy-depth D` runs numpy only to depth D and scales its layer time to `--depth` (a layer
 * costs the same at every depth: fixed-size elementwise passes); the table says so.
 *
 * `--linalg` picks the backend as `run` does (`auto`: the native step when the addon is built;
 * `js`: the portable step); `--blas-threads` is the thread budget the native step splits its
 * rows over (numpy's elementwise functions use one core whatever the BLAS threads).
 * `--repeat R` runs both sides R times back to back (ours, numpy, ours, numpy, …) so both see the
 * same machine load, and prints every pair's ratio and the ratio of the minima.
 * The script also times numpy's `arccos` and `sqrt` alone on `n²` elements: the cost of one pass
 * of the transcendental functions per element, for the ns-per-pair comparison.
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
import { linalg } from '../../src/linalg/index.js';
import { useLinalg } from '../../src/linalg/select.js';
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

c0 = time.process_time()
t_in, total, S, T = fold(L)
out = {"numpy": np.__version__, "t_input": t_in, "t_fold": total, "cpu_fold": time.process_time() - c0, "t_layer": (total - t_in) / max(1, L - 1),
       "theta_01": float(T[0, 1]), "theta_00": float(T[0, 0]), "maxrss_mib": maxrss_mib()}
# one pass of arccos and of sqrt alone over the n² elements (in place, preallocated)
np.clip(S / S.max(), -1.0, 1.0, out=S)
t0 = now(); np.arccos(S, out=T); out["t_arccos"] = now() - t0
np.abs(S, out=S)
t0 = now(); np.sqrt(S, out=T); out["t_sqrt"] = now() - t0
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

interface PyOut {
  numpy: string;
  t_input: number;
  t_fold: number;
  cpu_fold: number;
  t_layer: number;
  t_arccos: number;
  t_sqrt: number;
  maxrss_mib: number;
  theta_01: number;
  theta_00: number;
  recompute_R?: number;
  recompute_measured?: number;
}

function main(): void {
  const o = parseArgs(process.argv.slice(2), {
    n: '10000',
    depth: '100',
    recompute: '3',
    python: 'python3',
    linalg: 'auto',
    'blas-threads': '1',
    every: 'true',
    repeat: '1',
    'numpy-depth': '0',
  });
  const n = Number(o.n);
  const L = Number(o.depth);
  const R = Number(o.recompute);
  const every = o.every !== 'false';
  useLinalg(o.linalg, Number(o['blas-threads']));
  const threads = Number(o['blas-threads']);
  console.log(
    `kernel recursion benchmark: MNIST n = ${n}, d = 784, NNGP + NTK to depth ${L} (${every ? 'handed out at every depth' : 'last depth handed out'}), float64; ` +
      `ntk-sweep backend ${linalg().name}${linalg().reluPairs ? ` (native step, ${threads} thread${threads > 1 ? 's' : ''})` : ' (JS step)'}, numpy one core`,
  );
  console.log(machineLine());
  // all n points: train and test sets of loadDataset stacked (mnist has exactly 10,000)
  const nTest = Math.min(100, Math.floor(n / 10));
  const data = loadDataset({ dataset: 'mnist', n_train: n - nTest, n_test: nTest, center: true, unit_norm: true, data_seed: 0 });
  const d = data.d;
  const x = new Float64Array(n * d);
  x.set(data.x_train);
  x.set(data.x_test, (n - nTest) * d);
  const { dir, cleanup } = tempDir('ntk-bench-recursion-');
  try {
    writeF64(path.join(dir, 'x.bin'), x);
    const pairs: Pair[] = [];
    for (let r = 0; r < Number(o.repeat); r++) {
      const ours = ourRun(x, n, d, L, every);
      const pyDepth = Number(o['numpy-depth']) || L;
      const py = runPython<PyOut>(o.python, PY, { n, d, depth: pyDepth, dir, recompute: r === 0 ? R : 0 }, 1);
      if (pyDepth !== L) {
        py.t_fold = py.t_input + (py.t_fold - py.t_input) * ((L - 1) / (pyDepth - 1));
        py.cpu_fold *= (L - 1) / (pyDepth - 1);
        py.numpy += ` (measured to depth ${pyDepth}, layer time scaled to ${L})`;
      }
      pairs.push({ ours, py, pyDepth });
      console.log(
        `  run ${r + 1}: wall ntk-sweep ${fmt(ours.wall)} s, numpy ${fmt(py.t_fold)} s, ratio ${fmt(ours.wall / py.t_fold)}; ` +
          `CPU time ntk-sweep ${fmt(ours.cpu)} s (all threads), numpy ${fmt(py.cpu_fold)} s, ratio ${fmt(ours.cpu / py.cpu_fold)}`,
      );
    }
    report(pairs, n, L);
  } finally {
    cleanup();
  }
}

function ourRun(x: Float64Array, n: number, d: number, L: number, every: boolean) {
  let handed = 0;
  const depths = every ? Array.from({ length: L }, (_v, i) => i + 1) : [L];
  const t = timed(() =>
    kernelFold(x, n, d, { sigma_w: 1, sigma_b: 0, depths, ntk: true }, () => {
      handed++;
    }),
  );
  const st = t.value;
  return {
    wall: t.wall,
    cpu: t.cpu,
    handed,
    theta01: (st.ntk_bar as Float64Array)[n] * Math.exp(0.5 * (st.log_ntk_diag[0] + st.log_ntk_diag[1])),
    theta00: Math.exp(st.log_ntk_diag[0]),
    theta01bar: (st.ntk_bar as Float64Array)[n],
    logTheta00: st.log_ntk_diag[0],
    rss: process.resourceUsage().maxRSS / 1024,
  };
}

/** One run of both sides; numpy ran to `pyDepth` (≤ L) and its layer time was scaled to L. */
type Pair = { ours: ReturnType<typeof ourRun>; py: PyOut; pyDepth: number };

function report(pairs: Pair[], n: number, L: number): void {
  const best = pairs.reduce((a, b) => (b.ours.wall < a.ours.wall ? { ...a, ours: b.ours } : a));
  const bestPy = Math.min(...pairs.map((p) => p.py.t_fold));
  const ours = best.ours;
  const py = pairs[0].py;
  const perPair = (ours.wall * 1e9) / (((n * (n - 1)) / 2) * (L - 1));
  const perElemPy = ((bestPy - py.t_input) * 1e9) / (n * n * (L - 1));
  const recomputeAll = L * py.t_input + ((L * (L - 1)) / 2) * py.t_layer;
  const rows: (string | number)[][] = [
    [`ntk-sweep kernelFold (${linalg().name})`, ours.wall, ours.cpu, '', `${ours.handed} depths handed out; ${fmt(perPair)} ns per pair per layer (wall); peak RSS ${fmt(ours.rss)} MiB`],
    [`numpy ${py.numpy} fold`, bestPy, py.cpu_fold, ours.wall / bestPy, `T_input ${fmt(py.t_input)} s, ${fmt(perElemPy)} ns per element per layer; peak RSS ${fmt(py.maxrss_mib)} MiB`],
    [`numpy recompute every depth (extrapolated)`, recomputeAll, '', ours.wall / recomputeAll, `${L}·T_input + ${(L * (L - 1)) / 2}·T_layer`],
    [`numpy arccos alone, one pass over n²`, py.t_arccos, '', '', `${fmt((py.t_arccos * 1e9) / (n * n))} ns per element`],
    [`numpy sqrt alone, one pass over n²`, py.t_sqrt, '', '', `${fmt((py.t_sqrt * 1e9) / (n * n))} ns per element`],
  ];
  if (py.recompute_R) {
    const pred = py.recompute_R * py.t_input + ((py.recompute_R * (py.recompute_R - 1)) / 2) * py.t_layer;
    rows.push([`  check: numpy recompute depths 1..${py.recompute_R}`, py.recompute_measured ?? NaN, '', '', `measured; the model predicts ${fmt(pred)} s`]);
  }
  if (pairs[0].pyDepth === L) {
    console.log(
      `cross-check at depth ${L}: Θ(x0,x1) ntk-sweep ${ours.theta01.toPrecision(15)} numpy ${py.theta_01.toPrecision(15)}; ` +
        `Θ(x0,x0) ntk-sweep ${ours.theta00.toPrecision(15)} numpy ${py.theta_00.toPrecision(15)}`,
    );
  } else {
    console.log(
      `no cross-check: numpy ran to depth ${pairs[0].pyDepth} only. ntk-sweep at depth ${L}: normalized Θ̄(x0,x1) ${ours.theta01bar.toPrecision(15)}, ` +
        `log Θ(x0,x0) ${ours.logTheta00.toPrecision(15)} (the cross-check at equal depth runs without --numpy-depth)`,
    );
  }
  console.log(table(['implementation', 'wall s (best)', 'cpu s', 'ratio ntk-sweep/this', 'notes'], rows));
  console.log('goal: ntk-sweep ≤ 0.5 × the numpy fold. Shared machine: both sides ran back to back; ratios per run above.');
}

main();
