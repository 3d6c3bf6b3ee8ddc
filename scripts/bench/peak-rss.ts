/**
 * Benchmark (f) of the README's performance table: peak resident memory (and time) of a kernel sweep at large n_train,
 * through the CLI as a user runs it, next to what a numpy eigh-based evaluation of the same grid
 * needs (measured with `--numpy`, else computed from its buffers), side by side in one run.
 *
 *   npx tsc -p . && node dist/scripts/bench/peak-rss.js [--sizes 10000,20000] [--n-test 1000]
 *       [--dataset fashion-mnist] [--depths 1,3,10] [--ts 10,1000,inf] [--numpy 10000]
 *       [--python python3]
 *
 * ntk-sweep: a `kind: kernel` spec (NTK, centered unit-norm inputs, `n_train` = each size,
 * grid `depth × t`) run by `/usr/bin/time -v node dist/src/cli/main.js run … --threads 1`; the
 * peak is `Maximum resident set size` of the whole process (main thread + worker thread). Above
 * the eigh threshold the krylov solver runs; the script prints the stored `solver_krylov`,
 * `krylov_dim`, `krylov_converged`, `test_acc` of every grid point.
 *
 * Expected buffers (8 bytes per float64, n = n_train + n_test, `src/tasks/memory.ts`): the
 * recursion state 2·n² (lower triangles kept current) and the cross block mN; the train block has
 * no buffer of its own (compacted into the state at the largest depth, borrowed from the state's
 * Θ̄ buffer below it) and the krylov solver's Cholesky factor shares it, plus Lanczos bases
 * ≤ 2·1510·N: ≈ 2·n² + mN + O(N) for one depth and for several. `--depths 3` measures the
 * one-depth case, the default `1,3,10` the other. A numpy eigh evaluation holds at least the kernel (n²), the train block (N²), the
 * eigenvectors (N²) and dsyevd's workspace (~2N² + …): ≥ 5N² + … ≈ 17 GB at N = 20,000 (and its
 * recursion temporaries); `--numpy N` runs it (fold to the largest depth, eigh, predictions) for
 * that size and reports its measured peak.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDataset } from '../../src/data/index.js';
import { PY_PRELUDE, fmt, machineLine, parseArgs, runPython, table, tempDir, writeF64 } from './common.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');

const PY = `${PY_PRELUDE}
N, m, d, L = cfg["N"], cfg["m"], cfg["d"], cfg["depth"]
n = N + m
X = np.fromfile(os.path.join(cfg["dir"], "x.bin")).reshape(n, d)
y = np.fromfile(os.path.join(cfg["dir"], "y.bin")).reshape(N, -1)
t0 = now()
S = X @ X.T; S *= 1.0 / d; T = S.copy()
buf = np.empty_like(S); th = np.empty_like(S)
for l in range(1, L):
    s = np.sqrt(np.diag(S).copy()); np.outer(s, s, out=buf)
    np.divide(S, buf, out=S); np.clip(S, -1, 1, out=S); np.arccos(S, out=th); np.subtract(np.pi, th, out=th)
    T *= th; T *= 1 / (2 * np.pi); np.multiply(th, S, out=th); np.multiply(S, S, out=S); np.subtract(1, S, out=S)
    np.maximum(S, 0, out=S); np.sqrt(S, out=S); S += th; S *= buf; S *= 1 / (2 * np.pi); T += S
del buf, th, S
dg = np.sqrt(np.diag(T).copy()); T /= np.outer(dg, dg)
K = T[:N, :N].copy(); Kc = T[N:, :N].copy(); del T
lam, V = np.linalg.eigh(K)
rt = V.T @ y
for t in cfg["ts"]:
    g = 1 / lam if t == "inf" else -np.expm1(-lam * float(t) / N) / lam
    test = Kc @ (V @ (g[:, None] * rt))
print(json.dumps({"wall": now() - t0, "maxrss_mib": maxrss_mib()}))
`;

function main(): void {
  const o = parseArgs(process.argv.slice(2), {
    sizes: '10000,20000',
    'n-test': '1000',
    dataset: 'fashion-mnist',
    depths: '1,3,10',
    ts: '10,1000,inf',
    numpy: '0',
    python: 'python3',
    'blas-threads': '1',
  });
  const sizes = o.sizes.split(',').map(Number);
  const m = Number(o['n-test']);
  console.log(`peak memory benchmark (f): ${o.dataset} NTK sweep, n_test = ${m}, depths [${o.depths}], t [${o.ts}], --threads 1`);
  console.log(machineLine());
  const { dir, cleanup } = tempDir('ntk-bench-rss-');
  const rows: (string | number)[][] = [];
  try {
    for (const N of sizes) {
      const spec = path.join(dir, `rss-${N}.yaml`);
      writeFileSync(
        spec,
        `name: rss-${N}\nkind: kernel\ndataset: { name: ${o.dataset}, center: true, unit_norm: true }\n` +
          `fixed:\n  n_train: ${N}\n  n_test: ${m}\n  kernel: ntk\ngrid:\n  depth: [${o.depths}]\n  t: [${o.ts}]\n`,
      );
      const db = path.join(dir, `rss-${N}.sqlite`);
      const r = spawnSync('/usr/bin/time', ['-v', process.execPath, cli, 'run', spec, '--db', db, '--json', '--quiet', '--threads', '1', '--blas-threads', o['blas-threads']], { encoding: 'utf8', maxBuffer: 64 << 20 });
      const rssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1] ?? NaN);
      const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/.exec(r.stderr)?.[1] ?? '?';
      if (r.status !== 0) {
        rows.push([`ntk-sweep n_train ${N}`, rssKb / 2 ** 20, wall, `FAILED (exit ${r.status}): ${(r.stdout + r.stderr).trim().split('\n').slice(0, 3).join(' | ')}`]);
        continue;
      }
      const q = spawnSync(
        process.execPath,
        [
          cli,
          'query',
          'SELECT depth, t, solver_krylov, krylov_dim, krylov_converged, test_acc, lambda_min, logdet, duration_s FROM results ORDER BY depth, t',
          '--db',
          db,
          '--format',
          'csv',
        ],
        { encoding: 'utf8' },
      );
      const ratio = (rssKb * 1024) / (8 * N * N);
      rows.push([`ntk-sweep n_train ${N}`, rssKb / 2 ** 20, wall, `peak RSS of the whole CLI process = ${fmt(ratio)} × 8·N² (goal ≤ 2.5)`]);
      console.log(`n_train ${N}: stored metrics\n${q.stdout.trim()}`);
    }
    const nNumpy = Number(o.numpy);
    if (nNumpy > 0) {
      const data = loadDataset({ dataset: o.dataset as 'fashion-mnist', n_train: nNumpy, n_test: m, center: true, unit_norm: true, data_seed: 0 });
      const x = new Float64Array((nNumpy + m) * data.d);
      x.set(data.x_train);
      x.set(data.x_test, nNumpy * data.d);
      writeF64(path.join(dir, 'x.bin'), x);
      writeF64(path.join(dir, 'y.bin'), data.y_train);
      const depthMax = Math.max(...o.depths.split(',').map(Number));
      const py = runPython<{ wall: number; maxrss_mib: number }>(o.python, PY, { N: nNumpy, m, d: data.d, depth: depthMax, ts: o.ts.split(','), dir }, 1);
      rows.push([`numpy fold + eigh, n_train ${nNumpy} (depth ${depthMax} only)`, py.maxrss_mib / 1024, `${fmt(py.wall)} s`, 'one depth, BLAS threads 1']);
    }
    console.log(table(['run', 'peak RSS GiB', 'wall', 'notes'], rows));
  } finally {
    cleanup();
  }
}

main();
