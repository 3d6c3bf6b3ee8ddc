/**
 * Linear-algebra benchmark: the pure-TypeScript backend (`src/linalg/js.ts`) against the
 * ml-matrix reference backend and against numpy (OpenBLAS/LAPACK) in a `python3` child process.
 *
 *   npx tsc -p . && node dist/scripts/bench/linalg.js [--quick] [--reps=N] [--ml-eigh-max=N]
 *
 * Operations: gemm 1024³ (C = A·B), syrk (Gram X·Xᵀ of 1600 × 784, MNIST-sized), cholesky 1600,
 * eigh at n = 500, 1000, 1600, 2048 (`--quick`: gemm 512³, eigh 500 and 1000 only).
 * ml-matrix eigh only up to `--ml-eigh-max` (default 1000; it is O(n³) with a large constant:
 * tens of seconds at 1600). numpy generates its own matrices of the same shapes and
 * distributions (`default_rng(0)`) and times only the operation.
 *
 * Timing: each entry is the minimum over `--reps` runs (default 3, 1 for the largest eigh) of
 * the wall-clock time; for the JS backends the minimum process CPU time (`process.cpuUsage`)
 * is shown as well, which is less sensitive to other processes on a shared machine. numpy is
 * timed with its default OpenBLAS thread count and again with `OPENBLAS_NUM_THREADS=1`
 * (single-thread, the fair comparison for single-threaded JS). The environment variables that
 * steer OpenBLAS (`OPENBLAS_CORETYPE`, `OPENBLAS_L2_SIZE`, …) are passed through unchanged and
 * printed.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { makeRng } from '../../src/util/rng.js';
import type { LinalgBackend } from '../../src/linalg/backend.js';
import { jsBackend } from '../../src/linalg/js.js';
import { mlMatrixBackend } from '../../src/linalg/mlmatrix.js';

interface Timing {
  wall: number;
  cpu?: number;
}

interface Case {
  op: 'gemm' | 'syrk' | 'cholesky' | 'eigh';
  label: string;
  /** gemm: [m, n, k]; syrk: [n, k]; cholesky/eigh: [n]. */
  dims: number[];
  flops: number;
  reps: number;
  runMl: boolean;
}

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const repsArg = Number(args.find((a) => a.startsWith('--reps='))?.slice(7) ?? 3);
const mlEighMax = Number(args.find((a) => a.startsWith('--ml-eigh-max='))?.slice(14) ?? 1000);

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Minimum wall and CPU time of `reps` runs of `fn` (inputs prepared outside the timing). */
function timeMin(reps: number, fn: () => void): Timing {
  let wall = Infinity;
  let cpu = Infinity;
  for (let r = 0; r < reps; r++) {
    const c0 = cpuSeconds();
    const w0 = performance.now();
    fn();
    wall = Math.min(wall, (performance.now() - w0) / 1e3);
    cpu = Math.min(cpu, cpuSeconds() - c0);
  }
  return { wall, cpu };
}

function normalMatrix(len: number, tag: string): Float64Array {
  return makeRng({ bench: 'linalg', tag, len }).fillNormal(new Float64Array(len));
}

function symmetric(n: number): Float64Array {
  const a = normalMatrix(n * n, 'sym');
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const v = (a[i * n + j] + a[j * n + i]) / 2;
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  }
  return a;
}

/** G Gᵀ / k + I with G [n, k]: well-conditioned SPD. */
function spd(n: number): Float64Array {
  const k = n;
  const g = normalMatrix(n * k, 'spd');
  const a = new Float64Array(n * n);
  jsBackend.syrk(n, k, 1 / k, g, 0, a);
  for (let i = 0; i < n; i++) a[i * n + i] += 1;
  return a;
}

function runJs(backend: LinalgBackend, c: Case): Timing {
  switch (c.op) {
    case 'gemm': {
      const [m, n, k] = c.dims;
      const a = normalMatrix(m * k, 'A');
      const b = normalMatrix(k * n, 'B');
      const out = new Float64Array(m * n);
      return timeMin(c.reps, () => backend.gemm(false, false, m, n, k, 1, a, b, 0, out));
    }
    case 'syrk': {
      const [n, k] = c.dims;
      const x = normalMatrix(n * k, 'X');
      const out = new Float64Array(n * n);
      return timeMin(c.reps, () => backend.syrk(n, k, 1, x, 0, out));
    }
    case 'cholesky': {
      const [n] = c.dims;
      const a = spd(n);
      return timeMin(c.reps, () => {
        if (backend.cholesky(n, a) === null) throw new Error('bench: SPD matrix did not factor');
      });
    }
    case 'eigh': {
      const [n] = c.dims;
      const a = symmetric(n);
      return timeMin(c.reps, () => void backend.eigh(n, a));
    }
  }
}

const PYTHON = String.raw`
import json, sys, time
import numpy as np
cases = json.loads(sys.argv[1])
rng = np.random.default_rng(0)
out = []
for c in cases:
    op, dims, reps = c["op"], c["dims"], c["reps"]
    if op == "gemm":
        m, n, k = dims
        A = rng.standard_normal((m, k)); B = rng.standard_normal((k, n))
        f = lambda: A @ B
    elif op == "syrk":
        n, k = dims
        X = rng.standard_normal((n, k))
        f = lambda: X @ X.T
    elif op == "cholesky":
        n, = dims
        G = rng.standard_normal((n, n)); S = G @ G.T / n + np.eye(n)
        f = lambda: np.linalg.cholesky(S)
    else:
        n, = dims
        S = rng.standard_normal((n, n)); S = (S + S.T) / 2
        f = lambda: np.linalg.eigh(S)
    f()  # warm-up (thread pool start, page faults)
    wall = cpu = float("inf")
    for _ in range(reps):
        c0 = time.process_time(); w0 = time.perf_counter()
        f()
        wall = min(wall, time.perf_counter() - w0); cpu = min(cpu, time.process_time() - c0)
    out.append({"wall": wall, "cpu": cpu})
print(json.dumps({"version": np.__version__, "results": out}))
`;

interface NumpyRun {
  version: string;
  results: Timing[];
}

function runNumpy(cases: Case[], env: NodeJS.ProcessEnv): NumpyRun | string {
  const payload = JSON.stringify(cases.map((c) => ({ op: c.op, dims: c.dims, reps: Math.max(3, c.reps) })));
  const r = spawnSync('python3', ['-c', PYTHON, payload], { env, encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.error) return `python3 failed to start: ${r.error.message}`;
  if (r.status !== 0) return `python3 exited with ${r.status}: ${r.stderr.trim().split('\n').slice(-1)[0]}`;
  return JSON.parse(r.stdout) as NumpyRun;
}

function fmt(t: Timing | undefined, withCpu = false): string {
  if (!t) return '—';
  const w = t.wall < 10 ? t.wall.toFixed(3) : t.wall.toFixed(1);
  if (!withCpu || t.cpu === undefined) return w;
  const c = t.cpu < 10 ? t.cpu.toFixed(3) : t.cpu.toFixed(1);
  return `${w} (${c})`;
}

function ratio(num: Timing | undefined, den: Timing | undefined, useCpu: boolean): string {
  if (!num || !den) return '—';
  const x = useCpu && num.cpu !== undefined && den.cpu !== undefined ? num.cpu / den.cpu : num.wall / den.wall;
  return x >= 10 ? `${x.toFixed(0)}×` : `${x.toFixed(1)}×`;
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function main(): void {
  const gemmN = quick ? 512 : 1024;
  const eighSizes = quick ? [500, 1000] : [500, 1000, 1600, 2048];
  const cases: Case[] = [
    { op: 'gemm', label: `${gemmN}³`, dims: [gemmN, gemmN, gemmN], flops: 2 * gemmN ** 3, reps: repsArg, runMl: true },
    { op: 'syrk', label: '1600×784', dims: [1600, 784], flops: 1600 * 1600 * 784, reps: repsArg, runMl: !quick },
    { op: 'cholesky', label: 'n=1600', dims: [1600], flops: 1600 ** 3 / 3, reps: repsArg, runMl: !quick },
    ...eighSizes.map(
      (n): Case => ({ op: 'eigh', label: `n=${n}`, dims: [n], flops: 9 * n ** 3, reps: n >= 2048 ? 1 : n >= 1600 ? Math.min(2, repsArg) : repsArg, runMl: n <= mlEighMax }),
    ),
  ];

  const envKeys = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE', 'OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'OPENBLAS_VERBOSE'];
  console.log(`node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} logical CPUs, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log(envKeys.map((k) => `${k}=${process.env[k] ?? '(unset)'}`).join('  '));

  // JIT warm-up so the first timed case is not measuring tier-up.
  const wa = symmetric(160);
  jsBackend.eigh(160, wa);
  jsBackend.gemm(false, false, 160, 160, 160, 1, wa, wa, 0, new Float64Array(160 * 160));
  jsBackend.cholesky(160, spd(160));

  const js: Timing[] = [];
  const ml: (Timing | undefined)[] = [];
  for (const c of cases) {
    process.stderr.write(`js ${c.op} ${c.label} … `);
    js.push(runJs(jsBackend, c));
    process.stderr.write(`${fmt(js[js.length - 1], true)} s\n`);
  }
  for (const c of cases) {
    if (!c.runMl) {
      ml.push(undefined);
      continue;
    }
    process.stderr.write(`ml-matrix ${c.op} ${c.label} … `);
    ml.push(runJs(mlMatrixBackend, { ...c, reps: c.op === 'eigh' && c.dims[0] >= 1000 ? 1 : Math.min(2, c.reps) }));
    process.stderr.write(`${fmt(ml[ml.length - 1], true)} s\n`);
  }
  process.stderr.write('numpy (default threads, then OPENBLAS_NUM_THREADS=1) …\n');
  const npDefault = runNumpy(cases, process.env);
  const npOne = runNumpy(cases, { ...process.env, OPENBLAS_NUM_THREADS: '1' });
  const npD = typeof npDefault === 'string' ? undefined : npDefault.results;
  const np1 = typeof npOne === 'string' ? undefined : npOne.results;
  if (typeof npDefault === 'string') console.log(`numpy unavailable: ${npDefault}`);
  else console.log(`numpy ${npDefault.version} (OpenBLAS via numpy; default thread count, and 1 thread)`);
  console.log(`load average after: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);

  const rows = cases.map((c, i) => [
    c.op,
    c.label,
    fmt(js[i], true),
    `${(c.flops / (js[i].cpu ?? js[i].wall) / 1e9).toFixed(2)}`,
    fmt(ml[i], true),
    ratio(ml[i], js[i], true),
    fmt(npD?.[i]),
    fmt(np1?.[i], true),
    ratio(js[i], np1?.[i], true),
  ]);
  console.log(
    table(
      ['op', 'size', 'js s wall (cpu)', 'js GF/s', 'ml-matrix s wall (cpu)', 'ml/js', 'numpy s wall', 'numpy 1-thread s wall (cpu)', 'js/numpy1'],
      rows,
    ),
  );
  console.log(
    '\nGF/s from CPU time with nominal flop counts (gemm 2mnk, syrk n²k, cholesky n³/3, eigh 9n³).' +
      '\nml/js and js/numpy1 compare process CPU times (all single-threaded; less sensitive to other' +
      '\nload than wall time). "numpy s wall": default OpenBLAS thread count. "—": not run.',
  );
}

main();
