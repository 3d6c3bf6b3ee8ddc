/**
 * Benchmark (b) of the README's performance table: kernel gradient-flow predictions for 50 stopping times at
 * n_train = 4000, ntk-sweep against numpy `eigh`, side by side in one run.
 *
 *   npx tsc -p . && node dist/scripts/bench/flow.js [--n 4000] [--n-test 1000] [--depth 3]
 *       [--nt 50] [--reps 2] [--backends native,js] [--blas-threads 1] [--python python3]
 *
 * Problem: MNIST (centered, unit-norm), normalized NTK of depth `--depth` (σ_w = 1, σ_b = 0),
 * `N = --n` training and `m = --n-test` test points, k = 10 outputs, float64. Stopping times:
 * `nt − 1` values log-spaced in [1, 1e6] plus `t = ∞`. The kernel is computed once by ntk-sweep
 * and written to a temporary file, so both sides predict from the same matrix.
 *
 * Timed (minimum wall time over `--reps`, BLAS threads `--blas-threads` on both sides):
 * - numpy: `np.linalg.eigh(K)` (LAPACK dsyevd) then, per t, `V diag(g_t) Vᵀ r` on train and
 *   `K_cross α` on test (the same formulas and zero threshold as `src/ntk/predict.ts`).
 * - ntk-sweep `eigh`: `gradientFlowPredict` (one `eigh` + 3 gemms per t), the small-n path.
 * - ntk-sweep `krylov`: Cholesky (dpotrf) + `krylovGradientFlow` (block Lanczos on K and
 *   shift-invert Lanczos on K⁻¹, t = ∞ by the Cholesky solve), the large-n path; the kernel
 *   statistics it needs besides (λ_max, λ_min by Lanczos) are timed separately.
 * The ratio column is ntk-sweep / numpy (goal ≤ 1.5). The error column is the largest relative
 * Frobenius distance over t between the test predictions and numpy's.
 */
import { loadDataset } from '../../src/data/index.js';
import { linalg, setLinalg } from '../../src/linalg/index.js';
import { jsBackend } from '../../src/linalg/js.js';
import { loadNativeBackend } from '../../src/linalg/native.js';
import { choleskyInverseOp, denseSymOp, lanczosExtremes } from '../../src/linalg/krylov.js';
import { gradientFlowPredict, krylovGradientFlow, kernelFold } from '../../src/ntk/index.js';
import { normalizedBlocks } from '../../src/ntk/kernel-matrix.js';
import { relativeFrobeniusChange } from '../../src/nn/deviation.js';
import { PY_PRELUDE, fmt, machineLine, parseArgs, runPython, table, tempDir, timed, writeF64 } from './common.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const PY = `${PY_PRELUDE}
N, m, k = cfg["N"], cfg["m"], cfg["k"]
d = cfg["dir"]
K = np.fromfile(os.path.join(d, "K.bin")).reshape(N, N)
Kc = np.fromfile(os.path.join(d, "Kc.bin")).reshape(m, N)
y = np.fromfile(os.path.join(d, "y.bin")).reshape(N, k)
ts = [np.inf if t == "inf" else float(t) for t in cfg["ts"]]
def run():
    t0 = now()
    lam, V = np.linalg.eigh(K)
    tol = N * np.finfo(float).eps * np.abs(lam).max()
    null = np.abs(lam) <= tol
    safe = np.where(null, 1.0, lam)
    rt = V.T @ y
    tests = []
    for t in ts:
        if t == np.inf:
            g = np.where(null, 0.0, 1.0 / safe)
        else:
            g = np.where(null, t / N, -np.expm1(-safe * t / N) / safe)
        alpha = V @ (g[:, None] * rt)
        test = Kc @ alpha
        train = V @ ((lam * g)[:, None] * rt)
        tests.append(test)
    return now() - t0, tests
best = None
for r in range(cfg["reps"]):
    w, tests = run()
    best = w if best is None else min(best, w)
np.stack(tests).tofile(os.path.join(d, "np_test.bin"))
print(json.dumps({"wall": best, "numpy": np.__version__}))
`;

/** Relative Frobenius distance ‖a − b‖/‖b‖. */
const rel = (a: Float64Array, b: Float64Array): number => relativeFrobeniusChange(b, a);

/** What every row of the comparison computes on. */
interface FlowCase {
  N: number;
  m: number;
  k: number;
  K: Float64Array;
  Kc: Float64Array;
  y_train: Float64Array;
  ts: number[];
  reps: number;
  /** numpy's test predictions at stopping time `i`. */
  refTest(i: number): Float64Array;
  pyWall: number;
}

type Row = (string | number)[];

/** Switch the linear algebra to backend `name`; returns why it is unavailable, or null. */
function useBackend(name: string, blas: number): string | null {
  if (name === 'js') {
    setLinalg(jsBackend);
    return null;
  }
  if (name !== 'native') throw new Error(`unknown backend ${name}`);
  const nb = loadNativeBackend();
  if ('error' in nb) return nb.error;
  nb.setThreads(blas);
  setLinalg(nb.backend);
  return null;
}

/** The eigendecomposition path (best of `reps`), with its largest error against numpy. */
function eighRow(c: FlowCase, bname: string): Row {
  let best = { wall: Infinity, cpu: Infinity };
  let preds: ReturnType<typeof gradientFlowPredict> | undefined;
  for (let r = 0; r < c.reps; r++) {
    const t = timed(() => gradientFlowPredict({ n_train: c.N, n_test: c.m, n_out: c.k, k_train: c.K, k_cross: c.Kc, y_train: c.y_train, t: c.ts }));
    if (t.wall < best.wall) best = t;
    preds = t.value;
  }
  const err = Math.max(...c.ts.map((_t, i) => rel(preds!.predictions[i].test, c.refTest(i))));
  return [`ntk-sweep ${bname} eigh`, best.wall, best.cpu, best.wall / c.pyWall, err, ''];
}

/** The Krylov path (best of `reps`) with its largest error against numpy, and the cost of the Krylov statistics. */
function krylovRows(c: FlowCase, bname: string): Row[] {
  const { N, m, k, K, Kc } = c;
  let best = { wall: Infinity, cpu: Infinity };
  let res: ReturnType<typeof krylovGradientFlow> | undefined;
  for (let r = 0; r < c.reps; r++) {
    const t = timed(() => {
      const L = linalg().cholesky(N, K);
      return krylovGradientFlow({
        n_train: N,
        n_test: m,
        n_out: k,
        op: denseSymOp(N, K),
        inverse: L ? choleskyInverseOp(N, L) : null,
        diag_reg_abs: 0,
        cross: (xr, out) => linalg().gemm(false, true, k, m, N, 1, xr, Kc, 0, out),
        y_train: c.y_train,
        t: c.ts,
      });
    });
    if (t.wall < best.wall) best = t;
    res = t.value;
  }
  const err = Math.max(...c.ts.map((_t, i) => rel(res!.predictions[i].test, c.refTest(i))));
  const unconv = res!.info.filter((i) => !i.converged).length;
  const byMethod = ['lanczos', 'inverse-lanczos', 'solve'].map((mm) => `${mm} ${res!.info.filter((i) => i.method === mm).length}`).join(', ');
  const st = timed(() => {
    const top = lanczosExtremes(denseSymOp(N, K), { which: 'max', block: 4, tol: 1e-8 });
    const L = linalg().cholesky(N, K);
    const inv = L ? lanczosExtremes(choleskyInverseOp(N, L), { which: 'max', block: 4, tol: 1e-8 }) : null;
    return { top, inv };
  });
  return [
    [`ntk-sweep ${bname} krylov`, best.wall, best.cpu, best.wall / c.pyWall, err, `dims ${res!.dim}+${res!.dim_inverse}; ${byMethod}; unconverged ${unconv}`],
    [`  + krylov stats (λ_max, Cholesky, λ_min)`, st.wall, st.cpu, '', '', `dims ${st.value.top.dim}, ${st.value.inv?.dim ?? '-'}`],
  ];
}

function main(): void {
  const o = parseArgs(process.argv.slice(2), { n: '4000', 'n-test': '1000', depth: '3', nt: '50', reps: '2', backends: 'native', 'blas-threads': '1', python: 'python3' });
  const N = Number(o.n);
  const m = Number(o['n-test']);
  const depth = Number(o.depth);
  const nt = Number(o.nt);
  const reps = Number(o.reps);
  const blas = Number(o['blas-threads']);
  const ts = [...Array.from({ length: nt - 1 }, (_v, i) => 10 ** ((6 * i) / Math.max(1, nt - 2))), Infinity];
  console.log(`flow benchmark (b): MNIST N = ${N}, m = ${m}, depth-${depth} normalized NTK, k = 10, ${nt} stopping times (1 … 1e6, ∞); BLAS threads ${blas}; min of ${reps}`);
  console.log(machineLine());

  const data = loadDataset({ dataset: 'mnist', n_train: N, n_test: m, center: true, unit_norm: true, data_seed: 0 });
  const k = data.k;
  const n = N + m;
  const x = new Float64Array(n * data.d);
  x.set(data.x_train);
  x.set(data.x_test, N * data.d);
  const K = new Float64Array(N * N);
  const Kc = new Float64Array(m * N);
  const tk = timed(() => kernelFold(x, n, data.d, { sigma_w: 1, sigma_b: 0, depths: [depth] }, (_L, s) => normalizedBlocks(s, 'ntk', N, K, Kc)));
  console.log(`kernel (not part of the comparison): ${fmt(tk.wall)} s`);

  const { dir, cleanup } = tempDir('ntk-bench-flow-');
  try {
    writeF64(path.join(dir, 'K.bin'), K);
    writeF64(path.join(dir, 'Kc.bin'), Kc);
    writeF64(path.join(dir, 'y.bin'), data.y_train);
    const py = runPython<{ wall: number; numpy: string }>(o.python, PY, { N, m, k, dir, reps, ts: ts.map((t) => (t === Infinity ? 'inf' : t)) }, blas);
    const npTest = new Float64Array(readFileSync(path.join(dir, 'np_test.bin')).buffer.slice(0));
    const c: FlowCase = { N, m, k, K, Kc, y_train: data.y_train, ts, reps, refTest: (i) => npTest.subarray(i * m * k, (i + 1) * m * k), pyWall: py.wall };
    const rows: Row[] = [[`numpy ${py.numpy} eigh`, py.wall, '', 1, 0, '']];

    const original = linalg();
    for (const name of o.backends.split(',')) {
      const unavailable = useBackend(name, blas);
      if (unavailable !== null) {
        rows.push([`ntk-sweep native`, NaN, '', NaN, NaN, `unavailable: ${unavailable}`]);
        continue;
      }
      const bname = linalg().name;
      if (name !== 'js' || N <= 2500) rows.push(eighRow(c, bname));
      else rows.push([`ntk-sweep ${bname} eigh`, NaN, '', NaN, NaN, 'skipped (JS eigh ~3 min at 4000)']);
      rows.push(...krylovRows(c, bname));
    }
    setLinalg(original);
    console.log(table(['implementation', 'wall s', 'cpu s', 'ratio', 'max rel err vs numpy', 'notes'], rows));
    console.log('ratio = ntk-sweep wall / numpy wall (goal ≤ 1.5); cpu = process CPU seconds of the same run (less sensitive to other load).');
  } finally {
    cleanup();
  }
}

main();
