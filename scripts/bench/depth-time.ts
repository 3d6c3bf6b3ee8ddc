/**
 * Benchmark (g) of the README's performance table: the `sweeps/depth-time.yaml` sweep end to
 * end, scaled to one `n_train`, through the CLI as a user runs it, against the numpy/scipy
 * script a researcher would otherwise write, side by side in one run.
 *
 *   npx tsc -p . && node dist/scripts/bench/depth-time.js [--n-train 10000] [--n-test 1000]
 *       [--threads <cores>] [--blas-threads 1] [--numpy-depth 0] [--numpy-blas-threads <cores>]
 *       [--margin 1e-5] [--python python3]
 *
 * The spec is `sweeps/depth-time.yaml` with `n_train: [--n-train]` and `n_test: --n-test`: MNIST
 * centered and projected to the unit sphere, NTK of a ReLU network (σ_w = 1, σ_b = 0), depths
 * 10, 50, 100, 500, 1000, `tau` 0.1, 1, 10 and `t = tau · depth` (15 grid points).
 *
 * ntk-sweep: `node dist/src/cli/main.js run <spec> --db <fresh file> --json --quiet
 * --blas-threads B [--threads T]`, timed as a whole command (wall clock and the CPU time of all its
 * threads). Its defaults: one pool thread per core, one BLAS thread per job; above n_train 2,500 its
 * kernel jobs solve by Cholesky and Lanczos (krylov) instead of `eigh`.
 *
 * numpy (the same points: the selected, preprocessed `[n_train + n_test, 784]` matrix and labels are
 * written to raw files, which the script reads; BLAS threads `--numpy-blas-threads`, numpy's own
 * default being all cores): the input Gram, then one pass through the depths with the textbook
 * arc-cosine layer (`PY_RELU_LAYER`), and at each depth of the grid the kernel normalized by its
 * mean train diagonal (ntk-sweep's `time_scale: normalized`), one `numpy.linalg.eigh` (LAPACK
 * dsyevd) of the train block, and the gradient-flow predictions
 * `K(x,X) V diag((1 − e^{−λt/N})/λ) Vᵀ y` (targets one-hot minus 1/10, f₀ = 0) for every `t`,
 * and the test accuracy.
 *
 * `--numpy-depth D` (0 = all) stops the numpy pass at depth D, the full pass at n_train 10,000
 * taking over an hour: its fold is then scaled to the largest depth by its measured mean time per
 * layer (a layer costs the same at every depth), and the `eigh` and predictions of the depths
 * beyond D by the mean of those measured; the table says what was measured and what scaled.
 * With D below the smallest grid depth, one `eigh` is timed at depth D (no accuracies).
 *
 * Cross-check: the test accuracy of every grid point reached by both. The two sides differ by
 * the solver (krylov: predictions within 1e-6 relative of the eigendecomposition's, by its
 * tolerance) and by the recursion (the textbook `arccos` loses digits as the correlations approach
 * 1 at large depth; ntk-sweep's recursion is cancellation-free). A test point's predicted class can
 * only change when its two largest outputs are closer than such an error, so numpy counts, per grid
 * point, the test points whose top-two margin is below `--margin` (1e-5) times their largest
 * output ("near ties"); the accuracies must agree to within that many points.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { loadDataset, type DataParams } from '../../src/data/index.js';
import { parseParams } from '../../src/spec/params.js';
import { openStore } from '../../src/store/open.js';
import { PY_PRELUDE, PY_RELU_LAYER, fmt, machineLine, parseArgs, runCliTimed, runPython, table, tempDir, writeF64 } from './common.js';

const PY = `${PY_PRELUDE}${PY_RELU_LAYER}
def clock(): return np.array([now(), time.process_time()])
N, m, d, k = cfg["n_train"], cfg["n_test"], cfg["d"], cfg["k"]
n = N + m
c = clock()
X = np.fromfile(os.path.join(cfg["dir"], "x.bin")).reshape(n, d)
y_lab = np.fromfile(os.path.join(cfg["dir"], "labels_train.bin"), dtype=np.int32)
test_lab = np.fromfile(os.path.join(cfg["dir"], "labels_test.bin"), dtype=np.int32)
Y = np.eye(k)[y_lab] - 1.0 / k
out = {"numpy": np.__version__, "load": list(clock() - c)}
c = clock()
S = X @ X.T
S *= 1.0 / d                       # Σ¹ = σ_w² x·x'/d + σ_b², σ_w = 1, σ_b = 0
T = S.copy()                       # Θ¹ = Σ¹
buf = np.empty_like(S); th = np.empty_like(S)
out["input"] = list(clock() - c)
fold = np.zeros(2); eighs = []; preds = []; rows = []
D = cfg["numpy_depth"]
stops = [L for L in cfg["depths"] if L <= D] or [D]
depth = 1
for L in stops:
    c = clock()
    while depth < L:
        layer(S, T, buf, th)
        depth += 1
    fold += clock() - c
    c = clock()
    scale = np.mean(np.diag(T)[:N])          # time_scale normalized: train diagonal mean 1
    K = T[:N, :N] / scale
    Kc = T[N:, :N] / scale
    lam, V = np.linalg.eigh(K)
    eighs.append(list(clock() - c))
    if L not in cfg["depths"]:
        break
    c = clock()
    tol = N * np.finfo(float).eps * np.abs(lam).max()
    null = np.abs(lam) <= tol
    safe = np.where(null, 1.0, lam)
    r = V.T @ Y
    for tau in cfg["taus"]:
        t = tau * L
        g = np.where(null, t / N, -np.expm1(-safe * t / N) / safe)
        f = Kc @ (V @ (g[:, None] * r))
        top2 = np.sort(f, axis=1)[:, -2:]
        margin = (top2[:, 1] - top2[:, 0]) / np.abs(f).max(axis=1)
        rows.append({"depth": L, "tau": tau, "t": t, "test_acc": float(np.mean(np.argmax(f, axis=1) == test_lab)),
                     "near_ties": int(np.sum(margin < cfg["margin"]))})
    preds.append(list(clock() - c))
    del K, Kc, V
out.update({"fold": list(fold), "layers": depth - 1, "eigh": eighs, "predict": preds, "rows": rows, "maxrss_mib": maxrss_mib()})
print(json.dumps(out))
`;

/** [wall, cpu] seconds. */
type Clock = [number, number];

interface PyOut {
  numpy: string;
  load: Clock;
  input: Clock;
  fold: Clock;
  layers: number;
  eigh: Clock[];
  predict: Clock[];
  rows: { depth: number; tau: number; t: number; test_acc: number; near_ties: number }[];
  maxrss_mib: number;
}

interface OurRow {
  depth: number;
  t: number;
  tau: number;
  test_acc: number;
  solver_krylov: number;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** `sweeps/depth-time.yaml` with one `n_train` and the given `n_test`, written to `file`; its grid. */
function scaledSpec(file: string, nTrain: number, nTest: number): { name: string; depths: number[]; taus: number[] } {
  const spec = parse(readFileSync(path.join(root, 'sweeps', 'depth-time.yaml'), 'utf8')) as {
    name: string;
    fixed: Record<string, unknown>;
    grid: { n_train: number[]; depth: number[]; tau: number[] };
  };
  spec.grid.n_train = [nTrain];
  spec.fixed.n_test = nTest;
  writeFileSync(file, stringify(spec));
  return { name: spec.name, depths: [...spec.grid.depth].sort((a, b) => a - b), taus: spec.grid.tau };
}

/** The run's results, and the data params of its grid points (all the same but depth and t). */
async function readResults(db: string, sweep: string): Promise<{ rows: OurRow[]; data: DataParams }> {
  const store = await openStore(db);
  try {
    const raw = await store.query(`SELECT depth, t, test_acc, solver_krylov, params FROM results WHERE sweep = '${sweep}' AND status = 'done'`);
    const rows = raw.map((r) => {
      const params = JSON.parse(String(r.params)) as Record<string, unknown>;
      return { depth: Number(r.depth), t: Number(r.t), tau: Number(params.tau), test_acc: Number(r.test_acc), solver_krylov: Number(r.solver_krylov) };
    });
    if (raw.length === 0) throw new Error(`no finished grid point of ${sweep} in ${db}`);
    return { rows, data: parseParams('kernel', JSON.parse(String(raw[0].params)) as Record<string, unknown>).data };
  } finally {
    await store.close();
  }
}

/** The selected, preprocessed points of the run (train then test rows) and their labels, as raw files in `dir`. */
function writeData(dir: string, data: DataParams): { d: number; k: number } {
  const ds = loadDataset(data);
  const x = new Float64Array((ds.n_train + ds.n_test) * ds.d);
  x.set(ds.x_train);
  x.set(ds.x_test, ds.n_train * ds.d);
  writeF64(path.join(dir, 'x.bin'), x);
  writeFileSync(path.join(dir, 'labels_train.bin'), Buffer.from(ds.labels_train.buffer, ds.labels_train.byteOffset, ds.labels_train.byteLength));
  writeFileSync(path.join(dir, 'labels_test.bin'), Buffer.from(ds.labels_test.buffer, ds.labels_test.byteOffset, ds.labels_test.byteLength));
  return { d: ds.d, k: ds.classes.length };
}

const sum = (xs: Clock[]): Clock => xs.reduce<Clock>((a, b) => [a[0] + b[0], a[1] + b[1]], [0, 0]);
const scaleClock = (c: Clock, f: number): Clock => [c[0] * f, c[1] * f];

/**
 * The numpy script's time to the largest depth: measured parts as they are; the fold's layers
 * beyond the depth reached scaled by the mean layer time; the `eigh` and predictions of depths not
 * reached by the mean of those measured. Rows for the table, and the total.
 */
function numpyTotal(py: PyOut, depths: number[], nElem: number): { rows: (string | number)[][]; total: Clock } {
  const Lmax = depths[depths.length - 1];
  const perLayer = scaleClock(py.fold, 1 / Math.max(1, py.layers));
  const fold: Clock = py.layers >= Lmax - 1 ? py.fold : scaleClock(perLayer, Lmax - 1);
  const checked = py.predict.length;
  const eighAll: Clock = checked === depths.length ? sum(py.eigh) : scaleClock(sum(py.eigh), depths.length / py.eigh.length);
  const predAll: Clock = checked === depths.length || checked === 0 ? sum(py.predict) : scaleClock(sum(py.predict), depths.length / checked);
  const measured = py.layers >= Lmax - 1 ? 'measured' : `measured to depth ${py.layers + 1}, scaled to ${Lmax}`;
  const rows: (string | number)[][] = [
    ['  read the points', py.load[0], py.load[1], 'measured'],
    ['  input Gram X Xᵀ', py.input[0], py.input[1], 'measured'],
    [`  fold, ${Lmax - 1} layers`, fold[0], fold[1], `${measured}; ${fmt((perLayer[1] * 1e9) / nElem)} ns CPU per element per layer`],
    [`  eigh, ${depths.length} depths`, eighAll[0], eighAll[1], `${py.eigh.length} measured${py.eigh.length < depths.length ? ', the others at their mean' : ''}; ${fmt(py.eigh[0][0])} s the first`],
    [`  predictions, ${depths.length} depths`, predAll[0], predAll[1], `${checked} measured${checked > 0 && checked < depths.length ? ', the others at their mean' : ''}`],
  ];
  return { rows, total: sum([py.load, py.input, fold, eighAll, predAll]) };
}

/** Accuracy rows ours vs numpy; whether every difference is within the near ties. */
function crossCheck(ours: OurRow[], py: PyOut, nTest: number): { rows: (string | number)[][]; ok: boolean } {
  let ok = true;
  const rows = py.rows.map((p) => {
    const o = ours.find((r) => r.depth === p.depth && Math.abs(r.tau - p.tau) < 1e-12);
    if (!o) {
      ok = false;
      return [p.depth, p.tau, p.t, 'missing', p.test_acc, '', p.near_ties, 'MISSING'];
    }
    const points = Math.round(Math.abs(o.test_acc - p.test_acc) * nTest);
    const agree = points <= p.near_ties;
    ok &&= agree;
    return [p.depth, p.tau, p.t, o.test_acc, p.test_acc, points, p.near_ties, `${o.solver_krylov ? 'krylov' : 'eigh'}: ${agree ? 'ok' : 'DIFFERS'}`];
  });
  return { rows, ok };
}

async function main(): Promise<void> {
  const cores = availableParallelism();
  const o = parseArgs(process.argv.slice(2), {
    'n-train': '10000',
    'n-test': '1000',
    threads: '',
    'blas-threads': '1',
    'numpy-depth': '0',
    'numpy-blas-threads': String(cores),
    margin: '1e-5',
    python: 'python3',
  });
  const nTrain = Number(o['n-train']);
  const nTest = Number(o['n-test']);
  const { dir, cleanup } = tempDir('ntk-bench-depth-time-');
  try {
    const specFile = path.join(dir, 'depth-time.yaml');
    const grid = scaledSpec(specFile, nTrain, nTest);
    const Lmax = grid.depths[grid.depths.length - 1];
    const numpyDepth = Number(o['numpy-depth']) || Lmax;
    console.log(
      `depth-time benchmark (g): sweeps/depth-time.yaml at n_train ${nTrain}, n_test ${nTest} (${grid.depths.length * grid.taus.length} grid points: ` +
        `depths ${grid.depths.join(', ')}; tau ${grid.taus.join(', ')}; t = tau·depth); numpy to depth ${numpyDepth}`,
    );
    console.log(machineLine());
    const db = path.join(dir, 'run.sqlite');
    const args = ['run', specFile, '--db', db, '--json', '--quiet', '--blas-threads', o['blas-threads'], ...(o.threads ? ['--threads', o.threads] : [])];
    console.log(`ntk-sweep: node dist/src/cli/main.js ${args.join(' ')}`);
    const ours = runCliTimed(args);
    const summary = JSON.parse(ours.stdout) as { done: number; total: number; threads: number; backend: string };
    if (summary.done !== summary.total) throw new Error(`run finished ${summary.done} of ${summary.total} grid points`);
    console.log(`  ${fmt(ours.wall)} s wall, ${fmt(ours.cpu)} s CPU (${summary.threads} threads, backend ${summary.backend}); ${machineLine()}`);
    const { rows: ourRows, data } = await readResults(db, grid.name);
    const { d, k } = writeData(dir, data);
    const cfg = { n_train: nTrain, n_test: nTest, d, k, dir, depths: grid.depths, taus: grid.taus, numpy_depth: numpyDepth, margin: Number(o.margin) };
    const py = runPython<PyOut>(o.python, PY, cfg, Number(o['numpy-blas-threads']));
    const n = nTrain + nTest;
    const np = numpyTotal(py, grid.depths, n * n);
    console.log(
      table(
        ['implementation', 'wall s', 'cpu s', 'notes'],
        [
          [`ntk-sweep run (whole command)`, ours.wall, ours.cpu, `${summary.threads} pool threads, --blas-threads ${o['blas-threads']}, ${summary.backend}`],
          [`numpy ${py.numpy} script (total)`, np.total[0], np.total[1], `BLAS threads ${o['numpy-blas-threads']}; peak RSS ${fmt(py.maxrss_mib)} MiB`],
          ...np.rows,
        ],
      ),
    );
    console.log(`ratio ntk-sweep / numpy: ${fmt(ours.wall / np.total[0])} wall, ${fmt(ours.cpu / np.total[1])} CPU (goal ≤ 0.5)`);
    const check = crossCheck(ourRows, py, nTest);
    console.log(`\ntest accuracy, ntk-sweep vs numpy (near ties: test points whose top-two margin is below ${o.margin} of their largest output):`);
    console.log(table(['depth', 'tau', 't', 'ntk-sweep', 'numpy', 'points apart', 'near ties', 'solver: check'], check.rows));
    console.log(check.ok ? 'accuracies agree within the near ties at every depth numpy reached' : 'accuracies DIFFER beyond the near ties');
    console.log(machineLine());
    if (!check.ok) process.exitCode = 1;
  } finally {
    cleanup();
  }
}

await main();
