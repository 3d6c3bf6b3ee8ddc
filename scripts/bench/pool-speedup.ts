/**
 * Benchmark (e) of the README's performance table: speedup of a CPU-bound grid from 1 to 2 pool threads, through the
 * CLI, next to what the machine itself allows at the moment (a Python multiprocessing reference
 * doing fixed CPU work in 1 and 2 processes), side by side in one run.
 *
 *   npx tsc -p . && node dist/scripts/bench/pool-speedup.js [--grid kernel|debug|both]
 *       [--points 16] [--n-train 500] [--depth 20] [--sleep-ms 250] [--reps 2] [--profile]
 *       [--before <other build>/dist/src/cli/main.js] [--python python3]
 *
 * Grids (each run on a fresh database with `--threads 1`, then `--threads 2`, `--blas-threads 1`):
 * - `kernel`: `points` independent kernel jobs (`data_seed` 0..points−1, MNIST `--n-train`
 *   (500) + 200 test points, `--depth` (20), t ∈ {10, ∞}: ~0.3 s each of real work at the
 *   defaults: recursion + eigh), the realistic CPU-bound case. Each run also pays fixed costs
 *   that do not parallelize (process start, spec expansion and registration, starting the pool
 *   threads and loading the kernel code and MNIST in each): larger jobs (`--n-train 1000
 *   --depth 60`) show the steady-state speedup.
 * - `debug`: `4·points` debug tasks busy-waiting `sleep_ms` each. The debug busy-wait is timed
 *   by the wall clock, so it measures the engine's ability to keep both threads busy, not the
 *   CPU's (other load on the machine does not slow it).
 * References: Python `multiprocessing.Pool(1)` vs `Pool(2)` running the same number of
 * fixed-size pure-Python loops; its speedup is what the 2 cores give right now (the machine is
 * shared), so a ntk-sweep speedup close to it means the engine is not the limit. And the same
 * number of kernel jobs written with numpy (seeded unit-norm points of the same size, the
 * textbook ReLU layer to the same depth, one `eigh` of the train block, one BLAS thread): what
 * the 2 cores give to this memory-heavy work, where two jobs share the caches.
 * Reported: minimum wall time per thread count over `--reps` (with the CPU time of that run, all
 * threads), speedup = T(1)/T(2); goal ≥ 1.8.
 *
 * `--before` runs the kernel grid also with another build of the CLI (e.g. the previous commit's,
 * built in a scratch directory), interleaved with this one's, so that a change is measured under
 * the same load.
 *
 * `--profile` breaks each best run down from its database (claim and finish times on the
 * machine's clock, each job's time inside its worker) against the command's start and exit:
 * start-up to the first claim (process start, spec, registration, coordinator start) and to the
 * first job's start in a thread (after the thread's warm-up), the jobs' own time (median, and how
 * much longer the first job of each thread took: task code, dataset, JIT), the threads' idle time
 * between the first job's start and the last finish (hand-over between jobs, an uneven tail), and
 * the exit after the last finish.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { openStore } from '../../src/store/open.js';
import { PY_PRELUDE, PY_RELU_LAYER, fmt, machineLine, median, parseArgs, runCliTimed, runPython, table, tempDir } from './common.js';

const PY = `${PY_PRELUDE}${PY_RELU_LAYER}
from multiprocessing import Pool
def loops(i):
    s = 0.0
    for j in range(cfg["iters"]):
        s += (j * 1e-9) ** 0.5
    return s
def kernel_job(i):
    # the kernel grid's job as numpy code: unit-norm points, their Gram matrix, the ReLU
    # recursion to the same depth, one eigh of the train block (seeded data, not MNIST)
    n, N = cfg["n"], cfg["n_train"]
    X = np.random.default_rng(i).standard_normal((n, 784))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    S = X @ X.T
    T = S.copy()
    buf, th = np.empty_like(S), np.empty_like(S)
    for _ in range(cfg["depth"] - 1):
        layer(S, T, buf, th)
    np.linalg.eigh(T[:N, :N])
    return 0
res = {}
for name, work in (("loops", loops), ("numpy", kernel_job)):
    for procs in (1, 2):
        best = None
        for r in range(cfg["reps"]):
            with Pool(procs) as p:
                t0 = now()
                p.map(work, range(cfg["jobs"]), chunksize=1)
                w = now() - t0
            best = w if best is None else min(best, w)
        res[name + str(procs)] = best
print(json.dumps(res))
`;

/** One timed run: the whole command, and the epoch ms of its start and end (for the profile). */
interface Run {
  wall: number;
  cpu: number;
  db: string;
  startMs: number;
  endMs: number;
  threads: number;
}

function runCli(spec: string, db: string, threads: number, cli?: string): Run {
  const startMs = Date.now();
  const r = runCliTimed(['run', spec, '--db', db, '--json', '--quiet', '--threads', String(threads), '--blas-threads', '1'], [], cli);
  const j = JSON.parse(r.stdout) as { failed: number; done: number; total: number };
  if (j.done !== j.total) throw new Error(`run finished ${j.done} of ${j.total} grid points`);
  return { wall: r.wall, cpu: r.cpu, db, startMs, endMs: Date.now(), threads };
}

/** Where the time of a run went, from its database (module comment, `--profile`). Seconds. */
async function profile(run: Run): Promise<(string | number)[]> {
  const store = await openStore(run.db);
  let rows: Record<string, unknown>[];
  try {
    rows = await store.query('SELECT batch_key, started_at, finished_at, duration_s FROM tasks');
  } finally {
    await store.close();
  }
  // a job = the points of one claim: a kernel batch (its points' durations all count from the
  // job's start), or a chunk of independent points claimed together (durations add up)
  const jobs = new Map<string, { claim: number; finish: number; work: number }>();
  for (const r of rows) {
    const batch = String(r.batch_key);
    const key = batch || `chunk claimed at ${String(r.started_at)}`;
    const j = jobs.get(key) ?? { claim: Infinity, finish: 0, work: 0 };
    j.claim = Math.min(j.claim, Number(r.started_at));
    j.finish = Math.max(j.finish, Number(r.finished_at));
    j.work = batch ? Math.max(j.work, Number(r.duration_s)) : j.work + Number(r.duration_s);
    jobs.set(key, j);
  }
  // a job's start in its worker: its finish less its own time (the commit of its end is short)
  const list = [...jobs.values()].map((j) => ({ ...j, start: j.finish - 1000 * j.work })).sort((a, b) => a.start - b.start);
  const first = list.slice(0, run.threads);
  const rest = list.slice(run.threads);
  const firstStart = list[0].start;
  const lastFinish = Math.max(...list.map((j) => j.finish));
  const busy = list.reduce((s, j) => s + j.work, 0);
  const typical = rest.length ? median(rest.map((j) => j.work)) : NaN;
  const firstExtra = first.reduce((s, j) => s + j.work, 0) / first.length - typical;
  return [
    `${run.threads} thread${run.threads > 1 ? 's' : ''}`,
    run.wall,
    run.cpu,
    (list[0].claim - run.startMs) / 1000,
    (firstStart - run.startMs) / 1000,
    typical,
    firstExtra,
    busy,
    (run.threads * (lastFinish - firstStart)) / 1000 - busy,
    (run.endMs - lastFinish) / 1000,
  ];
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2), { grid: 'both', points: '16', 'n-train': '500', depth: '20', 'sleep-ms': '250', reps: '2', profile: 'false', before: '', python: 'python3' });
  const points = Number(o.points);
  const reps = Number(o.reps);
  console.log(`pool speedup benchmark (e): 1 vs 2 pool threads, min of ${reps} (runs alternate 1, 2, 1, 2 to share the machine's load fairly)`);
  console.log(machineLine());
  const { dir, cleanup } = tempDir('ntk-bench-pool-');
  const rows: (string | number)[][] = [];
  try {
    const specs: [string, string, string?][] = [];
    if (o.grid === 'kernel' || o.grid === 'both') {
      const seeds = Array.from({ length: points }, (_v, i) => i).join(', ');
      const spec = path.join(dir, 'kernel.yaml');
      writeFileSync(
        spec,
        `name: pool-kernel\nkind: kernel\ndataset: { name: mnist, center: true, unit_norm: true }\n` +
          `fixed:\n  n_train: ${Number(o['n-train'])}\n  n_test: 200\n  kernel: ntk\n  depth: ${Number(o.depth)}\ngrid:\n  data_seed: [${seeds}]\n  t: [10, inf]\n`,
      );
      specs.push([`kernel: ${points} jobs (MNIST ${o['n-train']}+200, depth ${o.depth}, eigh)`, spec]);
      if (o.before) specs.push([`kernel, build --before: ${points} jobs`, spec, o.before]);
    }
    if (o.grid === 'debug' || o.grid === 'both') {
      const spec = path.join(dir, 'debug.yaml');
      writeFileSync(spec, `name: pool-debug\nkind: debug\nfixed:\n  sleep_ms: ${Number(o['sleep-ms'])}\ngrid:\n  x: [${Array.from({ length: 4 * points }, (_v, i) => i).join(', ')}]\n`);
      specs.push([`debug: ${4 * points} × ${o['sleep-ms']} ms busy-wait`, spec]);
    }
    const profiles: (string | number)[][] = [];
    // reps outermost: every configuration sees the machine's load changes alike
    const best = specs.map(() => ({ 1: null, 2: null }) as Record<number, Run | null>);
    let runNo = 0;
    for (let r = 0; r < reps; r++) {
      for (const [i, [, spec, cli]] of specs.entries()) {
        for (const th of [1, 2]) {
          const run = runCli(spec, path.join(dir, `run${runNo++}.sqlite`), th, cli);
          if (!best[i][th] || run.wall < best[i][th]!.wall) best[i][th] = run;
        }
      }
    }
    for (const [i, [label]] of specs.entries()) {
      const [b1, b2] = [best[i][1]!, best[i][2]!];
      rows.push([`ntk-sweep ${label}`, b1.wall, b2.wall, `${fmt(b1.cpu)} / ${fmt(b2.cpu)}`, b1.wall / b2.wall]);
      if (o.profile !== 'true') continue;
      for (const b of [b1, b2]) {
        const p = await profile(b);
        profiles.push([`${label.split(':')[0]}, ${p[0]}`, ...p.slice(1)]);
      }
    }
    // references sized like the kernel grid: pure-Python loops of ~0.5 s (what the cores give),
    // and the kernel job itself written with numpy (what they give to this kind of work)
    const py = runPython<Record<string, number>>(o.python, PY, { jobs: points, iters: 3_000_000, reps, n: Number(o['n-train']) + 200, n_train: Number(o['n-train']), depth: Number(o.depth) }, 1);
    rows.push([`python multiprocessing: ${points} CPU-bound jobs (machine reference)`, py.loops1, py.loops2, '', py.loops1 / py.loops2]);
    rows.push([`numpy multiprocessing: ${points} kernel jobs (${o['n-train']}+200, depth ${o.depth}, eigh)`, py.numpy1, py.numpy2, '', py.numpy1 / py.numpy2]);
    console.log(table(['grid', '1 thread s', '2 threads s', 'CPU s, 1 / 2 threads', 'speedup'], rows));
    const kernelRow = rows.find((r) => String(r[0]).startsWith('ntk-sweep kernel'));
    if (kernelRow) console.log(`goal ≥ 1.8 on the CPU-bound kernel grid: ${(kernelRow[4] as number) >= 1.8 ? 'met' : 'MISSED'} (${fmt(kernelRow[4] as number)}×; the machine reference gives ${fmt(py.loops1 / py.loops2)}×, the numpy kernel jobs ${fmt(py.numpy1 / py.numpy2)}×)`);
    if (profiles.length) {
      console.log('\nwhere the time goes (seconds; from each best run\'s database, see the header):');
      console.log(table(['run', 'wall', 'CPU', 'to 1st claim', 'to 1st job start', 'job (median)', '1st jobs extra', 'jobs total', 'threads idle', 'exit after last'], profiles));
    }
    console.log(machineLine());
  } finally {
    cleanup();
  }
}

await main();
