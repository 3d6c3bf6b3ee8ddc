/**
 * Benchmark: native OpenBLAS/LAPACK backend vs numpy, side by side in one run.
 *
 *   npx tsc -p . && node dist/scripts/bench/native.js [--sizes 1000,1600,2048] [--threads 1,2]
 *                                                    [--gemm 1024] [--python python3] [--evr]
 *
 * Cases: f64 GEMM `C = A·B` (n × n × n, reported in GFLOP/s = 2n³ / time) and symmetric
 * eigendecomposition with eigenvectors (`eigh`, LAPACK dsyevd in both), for each BLAS thread
 * count. numpy runs in a subprocess per thread count with `OPENBLAS_NUM_THREADS` and
 * `OMP_NUM_THREADS` set; ntk-sweep sets the count with `openblas_set_num_threads`. Both sides
 * decompose the *same* matrices (written to a temporary file, read with `numpy.fromfile`), and
 * the largest eigenvalue difference is printed as a cross-check. Times are medians of repeats
 * after one warm-up; "(cpu)" is the median process CPU time of the same runs (user + system, all
 * threads), a fairer figure than wall time when the machine is busy: with one BLAS thread it is
 * close to the uncontended wall time. The ratio column is ntk-sweep wall time / numpy wall time
 * (lower is better).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { makeRng } from '../../src/util/rng.js';
import { loadNativeBackend } from '../../src/linalg/native.js';
import { median } from './common.js';

interface Options {
  sizes: number[];
  threads: number[];
  gemmN: number;
  python: string;
  evr: boolean;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { sizes: [1000, 1600, 2048], threads: [1, 2], gemmN: 1024, python: 'python3', evr: false };
  for (let i = 0; i < argv.length; i++) {
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${argv[i - 1]} needs a value`);
      return v;
    };
    switch (argv[i]) {
      case '--sizes': opts.sizes = next().split(',').map(Number); break;
      case '--threads': opts.threads = next().split(',').map(Number); break;
      case '--gemm': opts.gemmN = Number(next()); break;
      case '--python': opts.python = next(); break;
      case '--evr': opts.evr = true; break;
      default: throw new Error(`unknown option ${argv[i]} (see the header of scripts/bench/native.ts)`);
    }
  }
  return opts;
}

/** Median wall-clock and process-CPU seconds of `repeats` runs after one warm-up. */
function time(repeats: number, fn: () => void): { wall: number; cpu: number } {
  fn(); // warm-up
  const walls: number[] = [];
  const cpus_: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    fn();
    walls.push(Number(process.hrtime.bigint() - t0) / 1e9);
    const c = process.cpuUsage(c0);
    cpus_.push((c.user + c.system) / 1e6);
  }
  return { wall: median(walls), cpu: median(cpus_) };
}

const repeatsFor = (n: number): number => (n <= 1200 ? 5 : 3);

const PYTHON = String.raw`
import json, sys, time
import numpy as np
cfg = json.loads(sys.argv[1])
def med(xs):
    xs = sorted(xs); m = len(xs) // 2
    return xs[m] if len(xs) % 2 else (xs[m - 1] + xs[m]) / 2
def timeit(reps, f):
    f(); ts = []; cs = []
    for _ in range(reps):
        c0 = time.process_time(); t0 = time.perf_counter(); f()
        ts.append(time.perf_counter() - t0); cs.append(time.process_time() - c0)
    return {"wall": med(ts), "cpu": med(cs)}
out = {"numpy": np.__version__}
try:
    cfgs = np.show_config(mode="dicts")
    out["blas"] = cfgs["Build Dependencies"]["blas"].get("openblas configuration", cfgs["Build Dependencies"]["blas"].get("name"))
except Exception as e:
    out["blas"] = "unknown"
g = cfg["gemm"]
a = np.fromfile(g["a"], dtype=np.float64).reshape(g["n"], g["n"])
b = np.fromfile(g["b"], dtype=np.float64).reshape(g["n"], g["n"])
out["gemm"] = timeit(10, lambda: a @ b)
out["eigh"] = {}
for e in cfg["eigh"]:
    m = np.fromfile(e["file"], dtype=np.float64).reshape(e["n"], e["n"])
    res = {}
    def run():
        res["w"] = np.linalg.eigh(m)[0]
    t = timeit(e["repeats"], run)
    out["eigh"][str(e["n"])] = {"t": t, "values": res["w"].tolist()}
print(json.dumps(out))
`;

type T = { wall: number; cpu: number };
/** What the numpy side reports (`PYTHON`). */
type NumpyTimes = { numpy: string; blas: string; gemm: T; eigh: Record<string, { t: T; values: number[] }> };

/** The seeded inputs, written to `dir` for numpy too: two gemm operands and one symmetric matrix per size. */
function makeInputs(opts: Options, dir: string) {
  const rng = makeRng({ purpose: 'bench/native' });
  const gn = opts.gemmN;
  const ga = new Float64Array(gn * gn).map(() => rng.uniform() - 0.5);
  const gb = new Float64Array(gn * gn).map(() => rng.uniform() - 0.5);
  writeFileSync(path.join(dir, 'ga.f64'), ga);
  writeFileSync(path.join(dir, 'gb.f64'), gb);
  const mats = opts.sizes.map((n) => {
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        const v = rng.uniform() - 0.5;
        a[i * n + j] = v;
        a[j * n + i] = v;
      }
    }
    const file = path.join(dir, `eigh-${n}.f64`);
    writeFileSync(file, a);
    return { n, a, file };
  });
  const pyCfg = {
    gemm: { n: gn, a: path.join(dir, 'ga.f64'), b: path.join(dir, 'gb.f64') },
    eigh: mats.map(({ n, file }) => ({ n, file, repeats: repeatsFor(n) })),
  };
  return { ga, gb, mats, pyCfg };
}

/** numpy's timings with `t` BLAS threads, or why it could not run. */
function numpyTimes(opts: Options, pyCfg: unknown, t: number): NumpyTimes | { error: string } {
  const py = spawnSync(opts.python, ['-c', PYTHON, JSON.stringify(pyCfg)], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, OPENBLAS_NUM_THREADS: String(t), OMP_NUM_THREADS: String(t), MKL_NUM_THREADS: String(t) },
  });
  if (py.status === 0) return JSON.parse(py.stdout) as NumpyTimes;
  return { error: (py.stderr || String(py.error)).trim().split('\n').pop() ?? '' };
}

/** Print `rows` (the first is the header) as aligned columns. */
function printTable(rows: string[][]): void {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const [i, r] of rows.entries()) {
    console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

function main(): void {
  const opts = parseArgs(process.argv.slice(2));
  const loaded = loadNativeBackend();
  if ('error' in loaded) {
    console.error(`native backend not available: ${loaded.error}`);
    process.exit(1);
  }
  const { backend } = loaded;
  const info = loaded.info();
  const dir = mkdtempSync(path.join(tmpdir(), 'ntk-bench-native-'));
  try {
    const { ga, gb, mats, pyCfg } = makeInputs(opts, dir);
    const gn = opts.gemmN;
    console.log(`ntk-sweep native: ${info.config} (core ${info.corename}), LAPACK from ${info.lapackLibrary}`);
    const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');
    console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, node ${process.version}, load average ${load()}`);
    if (loadavg()[0] > 0.5) {
      console.log('warning: the machine is busy (1-minute load average > 0.5); timings will be pessimistic');
    }
    const rows: string[][] = [['case', 'BLAS threads', 'ntk-sweep', '(cpu)', 'numpy', '(cpu)', 'ratio ours/numpy', 'max |Δλ|']];
    const savedThreads = loaded.getThreads();
    let pyHeader = '';
    const gflops = (s: number): string => `${((2 * gn ** 3) / s / 1e9).toFixed(1)} GFLOP/s`;
    const secs = (s: number): string => `${s.toFixed(3)} s`;
    for (const t of opts.threads) {
      loaded.setThreads(t);
      const got = numpyTimes(opts, pyCfg, t);
      const np = 'error' in got ? null : got;
      if ('error' in got && !pyHeader) pyHeader = `numpy unavailable: ${got.error}`;
      if (np && !pyHeader) pyHeader = `numpy ${np.numpy} (${np.blas})`;

      const gc = new Float64Array(gn * gn);
      const tg = time(10, () => backend.gemm(false, false, gn, gn, gn, 1, ga, gb, 0, gc));
      rows.push([`gemm ${gn}³`, String(t), gflops(tg.wall), gflops(tg.cpu), np ? gflops(np.gemm.wall) : '—',
        np ? gflops(np.gemm.cpu) : '—', np ? (tg.wall / np.gemm.wall).toFixed(2) : '—', '']);
      for (const { n, a } of mats) {
        let values: Float64Array = new Float64Array(0);
        const te = time(repeatsFor(n), () => {
          values = backend.eigh(n, a).values;
        });
        const ref = np?.eigh[String(n)];
        let dmax = NaN;
        if (ref) dmax = Math.max(...ref.values.map((v, i) => Math.abs(v - values[i])));
        rows.push([`eigh n=${n} (dsyevd)`, String(t), secs(te.wall), secs(te.cpu), ref ? secs(ref.t.wall) : '—',
          ref ? secs(ref.t.cpu) : '—', ref ? (te.wall / ref.t.wall).toFixed(2) : '—', ref ? dmax.toExponential(1) : '']);
        if (opts.evr) {
          const tr = time(repeatsFor(n), () => loaded.eighWith(n, a, 'evr'));
          rows.push([`eigh n=${n} (dsyevr)`, String(t), secs(tr.wall), secs(tr.cpu), ref ? secs(ref.t.wall) : '—',
            ref ? secs(ref.t.cpu) : '—', ref ? (tr.wall / ref.t.wall).toFixed(2) : '—', '']);
        }
      }
    }
    loaded.setThreads(savedThreads);
    console.log(`${pyHeader}; load average at the end ${load()}`);
    printTable(rows);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
