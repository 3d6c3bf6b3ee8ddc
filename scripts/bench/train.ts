/**
 * Benchmark: one full-batch GD step (forward + backward + update) of the training task's MLP,
 * ntk-sweep vs numpy (and torch when installed), side by side in one run.
 *
 *   npx tsc -p . && node dist/scripts/bench/train.js [--n 256] [--width 1024] [--depth 3]
 *       [--steps 5] [--threads 1,2] [--backends js,native] [--python python3]
 *
 * Setup: N = 256 MNIST training points (`loadDataset({dataset: 'mnist', …})`, d = 784,
 * k = 10 one-hot-minus-1/k targets, unit-norm inputs), width 1024, depth 3, float64, NTK
 * parameterization with σ_w = 1, σ_b = 0. If mnist cannot be loaded, seeded random unit-norm
 * data of the same shape is used (said in the output).
 *
 * Every implementation starts from the **same** data and initial weights (written to a temporary
 * directory as raw float64 and read by Python with `numpy.fromfile`), runs one warm-up step and
 * then `--steps` timed steps; the reported time is the minimum (and median) per step. The
 * training loss after the last step is printed for each implementation as a cross-check that
 * the same computation was timed.
 *
 * GFLOP/s counts the matmul flops only (`gdStepFlops`: forward `2·N·n_l·n_{l−1}` per layer,
 * weight gradient the same, backpropagated signal the same for layers ≥ 2). ntk-sweep runs the
 * network code through `linalg()` with each requested backend (`js`: pure TypeScript, one thread;
 * `native`: OpenBLAS through the addon, with the BLAS thread count set per row). numpy runs in a
 * subprocess per thread count with `OPENBLAS_NUM_THREADS`/`OMP_NUM_THREADS`/`MKL_NUM_THREADS`
 * set; torch (if `python3 -c "import torch"` works) with `torch.set_num_threads`. The ratio
 * column is time / numpy time at the same thread count (lower is better).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { loadDataset } from '../../src/data/index.js';
import { makeRng } from '../../src/util/rng.js';
import { linalg, setLinalg } from '../../src/linalg/index.js';
import type { LinalgBackend } from '../../src/linalg/index.js';
import { jsBackend } from '../../src/linalg/js.js';
import { mlMatrixBackend } from '../../src/linalg/mlmatrix.js';
import { loadNativeBackend } from '../../src/linalg/native.js';
import { gdStepInPlace, makeGdWorkspace, trainLoss } from '../../src/nn/gd.js';
import type { GdProblem } from '../../src/nn/gd.js';
import { cloneParams, gdStepFlops, initMlp, layerSizes } from '../../src/nn/mlp.js';
import type { MlpParams, MlpArchitecture } from '../../src/nn/mlp.js';
import { median } from './common.js';

interface Options {
  n: number;
  width: number;
  depth: number;
  steps: number;
  threads: number[];
  backends: string[];
  python: string;
  lr: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { n: 256, width: 1024, depth: 3, steps: 5, threads: [1, 2], backends: ['js', 'native'], python: 'python3', lr: 1 };
  for (let i = 0; i < argv.length; i++) {
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${argv[i - 1]} needs a value`);
      return v;
    };
    switch (argv[i]) {
      case '--n': o.n = Number(next()); break;
      case '--width': o.width = Number(next()); break;
      case '--depth': o.depth = Number(next()); break;
      case '--steps': o.steps = Number(next()); break;
      case '--threads': o.threads = next().split(',').map(Number); break;
      case '--backends': o.backends = next().split(','); break;
      case '--python': o.python = next(); break;
      case '--lr': o.lr = Number(next()); break;
      default: throw new Error(`unknown option ${argv[i]} (see the header of scripts/bench/train.ts)`);
    }
  }
  return o;
}

function data(o: Options): { x: Float64Array; y: Float64Array; d: number; k: number; source: string } {
  try {
    const ds = loadDataset({ dataset: 'mnist', n_train: o.n, n_test: 0, data_seed: 0, center: false, unit_norm: true });
    return { x: ds.x_train, y: ds.y_train, d: ds.d, k: ds.k, source: `mnist (${o.n} points, d = ${ds.d}, k = ${ds.k})` };
  } catch (e) {
    const d = 784;
    const k = 10;
    const rng = makeRng({ purpose: 'bench-train', n: o.n });
    const x = rng.fillNormal(new Float64Array(o.n * d));
    for (let i = 0; i < o.n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += x[i * d + j] ** 2;
      for (let j = 0; j < d; j++) x[i * d + j] /= Math.sqrt(s);
    }
    const y = new Float64Array(o.n * k).fill(-1 / k);
    for (let i = 0; i < o.n; i++) y[i * k + rng.int(k)] += 1;
    return { x, y, d, k, source: `random unit-norm data (mnist unavailable: ${(e as Error).message.split('\n')[0]})` };
  }
}

interface Row {
  impl: string;
  threads: number;
  min: number;
  med: number;
  loss: number;
  note?: string;
}

function timeJs(problem: GdProblem, params0: MlpParams, steps: number): { min: number; med: number; loss: number } {
  const params = cloneParams(params0);
  const ws = makeGdWorkspace(problem.arch);
  gdStepInPlace(problem, params, ws); // warm-up (JIT, buffers)
  const times: number[] = [];
  for (let s = 0; s < steps; s++) {
    const t0 = process.hrtime.bigint();
    gdStepInPlace(problem, params, ws);
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return { min: Math.min(...times), med: median(times), loss: trainLoss(problem, params) };
}

/** The same step in numpy / torch; reads the shared inputs from `dir`. Prints one JSON line. */
const PYTHON_SCRIPT = String.raw`
import json, os, sys, time
import numpy as np
cfg = json.loads(sys.argv[1])
d = cfg["dir"]; sizes = cfg["sizes"]; N = cfg["n"]; L = len(sizes) - 1; lr = cfg["lr"]; steps = cfg["steps"]
X = np.fromfile(os.path.join(d, "x.bin"), dtype=np.float64).reshape(N, sizes[0])
Y = np.fromfile(os.path.join(d, "y.bin"), dtype=np.float64).reshape(N, sizes[-1])
W0 = [np.fromfile(os.path.join(d, "w%d.bin" % l), dtype=np.float64).reshape(sizes[l], sizes[l - 1]) for l in range(1, L + 1)]
c = [cfg["sigma_w"] / np.sqrt(sizes[l - 1]) for l in range(1, L + 1)]

def numpy_step(W):
    # forward: H^l = c_l A^{l-1} W^l^T, A^l = relu(H^l); f = H^L   (sigma_b = 0: no bias)
    A = [X]; H = []
    for l in range(L):
        h = c[l] * (A[-1] @ W[l].T)
        H.append(h)
        if l < L - 1:
            A.append(np.maximum(h, 0.0))
    f = H[-1]
    loss = 0.5 * np.sum((f - Y) ** 2) / N
    G = (f - Y) / N
    for l in range(L - 1, -1, -1):
        dW = c[l] * (G.T @ A[l])
        if l > 0:
            G = (c[l] * (G @ W[l])) * (H[l - 1] > 0)
        W[l] -= lr * dW
    return loss

def final_loss_np(W):
    a = X
    for l in range(L):
        h = c[l] * (a @ W[l].T)
        a = np.maximum(h, 0.0) if l < L - 1 else h
    return float(0.5 * np.sum((a - Y) ** 2) / N)

def bench(step, W, final):
    step(W)
    ts = []
    for _ in range(steps):
        t0 = time.perf_counter(); step(W); ts.append(time.perf_counter() - t0)
    return {"min": min(ts), "med": float(np.median(ts)), "loss": final(W)}

out = {}
if cfg["impl"] == "numpy":
    out = bench(numpy_step, [w.copy() for w in W0], final_loss_np)
    out["blas"] = np.__version__
else:
    import torch
    torch.set_num_threads(cfg["threads"])
    Xt = torch.from_numpy(X); Yt = torch.from_numpy(Y)
    Wt = [torch.from_numpy(w.copy()) for w in W0]
    def torch_step(W):
        with torch.no_grad():
            A = [Xt]; H = []
            for l in range(L):
                h = c[l] * (A[-1] @ W[l].T)
                H.append(h)
                if l < L - 1:
                    A.append(torch.clamp(h, min=0.0))
            f = H[-1]
            G = (f - Yt) / N
            for l in range(L - 1, -1, -1):
                dW = c[l] * (G.T @ A[l])
                if l > 0:
                    G = (c[l] * (G @ W[l])) * (H[l - 1] > 0)
                W[l] -= lr * dW
    def final_loss_t(W):
        return final_loss_np([w.numpy() for w in W])
    out = bench(torch_step, Wt, final_loss_t)
    out["blas"] = torch.__version__
print(json.dumps(out))
`;

function runPython(o: Options, impl: 'numpy' | 'torch', threads: number, dir: string, sizes: number[], sigma_w: number): Row {
  const env = {
    ...process.env,
    OPENBLAS_NUM_THREADS: String(threads),
    OMP_NUM_THREADS: String(threads),
    MKL_NUM_THREADS: String(threads),
  };
  const cfg = { dir, sizes, n: o.n, lr: o.lr, steps: o.steps, sigma_w, impl, threads };
  const r = spawnSync(o.python, ['-c', PYTHON_SCRIPT, JSON.stringify(cfg)], { env, encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) {
    return { impl, threads, min: NaN, med: NaN, loss: NaN, note: `failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}` };
  }
  const res = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { min: number; med: number; loss: number; blas: string };
  return { impl: `${impl} ${res.blas}`, threads, min: res.min, med: res.med, loss: res.loss };
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

function main(): void {
  const o = parseArgs(process.argv.slice(2));
  const { x, y, d, k, source } = data(o);
  const arch: MlpArchitecture = { d, width: o.width, depth: o.depth, k, sigma_w: 1, sigma_b: 0, parameterization: 'ntk' };
  const problem: GdProblem = { arch, x, y, n: o.n, lr: o.lr };
  const params0 = initMlp(arch, 0);
  const flops = gdStepFlops(arch, o.n);
  const sizes = layerSizes(arch);
  console.log(`train step benchmark: N = ${o.n}, layers ${sizes.join('→')}, float64, lr ${o.lr}; data: ${source}`);
  console.log(`matmul work per step: ${(flops / 1e9).toFixed(3)} GFLOP; ${o.steps} timed steps after 1 warm-up; CPU: ${cpus()[0]?.model ?? '?'} × ${cpus().length}`);

  const rows: Row[] = [];
  const original = linalg();
  for (const name of o.backends) {
    let backend: LinalgBackend | null = null;
    let threadList = [1];
    let setThreads: ((t: number) => void) | null = null;
    if (name === 'js') backend = jsBackend;
    else if (name === 'ml-matrix') backend = mlMatrixBackend;
    else if (name === 'native') {
      const nb = loadNativeBackend();
      if ('error' in nb) {
        rows.push({ impl: 'ntk-sweep native', threads: 1, min: NaN, med: NaN, loss: NaN, note: `unavailable: ${nb.error}` });
        continue;
      }
      backend = nb.backend;
      threadList = o.threads;
      setThreads = (t) => void nb.setThreads(t);
    } else throw new Error(`unknown backend ${name} (js, native, ml-matrix)`);
    setLinalg(backend);
    for (const t of threadList) {
      setThreads?.(t);
      const r = timeJs(problem, params0, o.steps);
      rows.push({ impl: `ntk-sweep ${backend.name}`, threads: t, ...r });
    }
  }
  setLinalg(original);

  const dir = mkdtempSync(path.join(tmpdir(), 'ntk-bench-train-'));
  try {
    const raw = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    writeFileSync(path.join(dir, 'x.bin'), raw(x));
    writeFileSync(path.join(dir, 'y.bin'), raw(y));
    params0.W.forEach((w, i) => writeFileSync(path.join(dir, `w${i + 1}.bin`), raw(w)));
    for (const t of o.threads) rows.push(runPython(o, 'numpy', t, dir, sizes, arch.sigma_w));
    const hasTorch = spawnSync(o.python, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
    if (hasTorch) for (const t of o.threads) rows.push(runPython(o, 'torch', t, dir, sizes, arch.sigma_w));
    else rows.push({ impl: 'torch', threads: 0, min: NaN, med: NaN, loss: NaN, note: `not installed for ${o.python}` });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const numpyAt = new Map(rows.filter((r) => r.impl.startsWith('numpy') && Number.isFinite(r.min)).map((r) => [r.threads, r.min]));
  const header = [pad('implementation', 26), pad('threads', 8, true), pad('s/step (min)', 13, true), pad('median', 10, true), pad('GFLOP/s', 9, true), pad('vs numpy', 9, true), pad('loss after', 13, true)];
  console.log('');
  console.log(header.join('  '));
  console.log('-'.repeat(header.join('  ').length));
  for (const r of rows) {
    if (!Number.isFinite(r.min)) {
      console.log(`${pad(r.impl, 26)}  ${r.note ?? ''}`);
      continue;
    }
    const np = numpyAt.get(r.threads);
    console.log(
      [
        pad(r.impl, 26),
        pad(String(r.threads), 8, true),
        pad(r.min.toFixed(4), 13, true),
        pad(r.med.toFixed(4), 10, true),
        pad((flops / r.min / 1e9).toFixed(2), 9, true),
        pad(np ? `${(r.min / np).toFixed(2)}×` : '-', 9, true),
        pad(r.loss.toPrecision(10), 13, true),
      ].join('  '),
    );
  }
  console.log('\n"vs numpy" = time / numpy time at the same thread count (lower is better); "loss after" = training loss after all steps (cross-check).');
}

main();
