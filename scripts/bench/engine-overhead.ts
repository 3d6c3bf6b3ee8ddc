/**
 * Benchmark (d) of the README's performance table: engine overhead, 10,000 trivial grid points persisted, through the
 * CLI exactly as a user runs it, against a minimal Python/SQLite runner doing the same durable
 * work, side by side in one run.
 *
 *   npx tsc -p . && node dist/scripts/bench/engine-overhead.js [--tasks 10000] [--threads 2]
 *       [--reps 2] [--profile] [--python python3]
 *
 * ntk-sweep: a `kind: debug` spec whose grid is `x: [0, …, tasks − 1]` (each point computes
 * `y = x² + 1` and `√x`: two metric rows), run by `node dist/src/cli/main.js run spec.yaml --db
 * <fresh file> --json --quiet`. Timed: the whole command (process start, spec validation and
 * expansion, task registration, scheduling on the worker pool, metric and status writes, exit),
 * and separately the `elapsed_s` the command reports; and the store alone (the run's claims and
 * finishes through the Store API, no CLI and no pool), its floor. With GNU `time` installed the
 * CPU seconds of each process (all its threads) are printed next to the wall times: on a shared
 * machine they move far less with the load than wall times do. The fixed costs of any run are
 * printed too: `node -e 0` (Node's start) and `run --help` (Node plus the modules `run` loads).
 * `--profile` adds a run under `--cpu-prof` and prints the functions with the most self time of
 * each thread (where the time goes; the SQLite driver's work runs outside them, on libuv's threads).
 *
 * Reference (Python `sqlite3`, same SQLite settings as ntk-sweep: WAL, synchronous = NORMAL): a
 * runner with the same durable steps per task (register all pending in one transaction; per
 * task: mark running in one transaction, write its 2 metric rows and mark it done in another),
 * in one process and thread. It bounds what per-task transactions cost on this disk. For scale,
 * Optuna 3.1's GridSampler with SQLite manages about 5 trials/s on a 1,000-point grid.
 * Goal: ≥ 10,000 tasks/s. The whole command also pays costs that do not depend on the engine
 * (Node's start, loading the modules, parsing a YAML spec that lists 10,000 values, expanding
 * and registering the grid); the rate inside the run is the engine's own. The machine's load is
 * printed with the figures: on a shared machine they are upper bounds of the time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/open.js';
import { PY_PRELUDE, fmt, machineLine, parseArgs, runPython, table, tempDir } from './common.js';

const PY = `${PY_PRELUDE}
import sqlite3
n = cfg["tasks"]
db = os.path.join(cfg["dir"], "ref.sqlite")
t0 = now()
c0 = time.process_time()
con = sqlite3.connect(db, isolation_level=None)
con.execute("PRAGMA journal_mode = WAL"); con.execute("PRAGMA synchronous = NORMAL")
con.execute("CREATE TABLE tasks (id TEXT PRIMARY KEY, params TEXT, status TEXT, attempts INT, started REAL, finished REAL)")
con.execute("CREATE TABLE metrics (task_id TEXT, step INT, name TEXT, value REAL, PRIMARY KEY (task_id, step, name))")
con.execute("BEGIN IMMEDIATE")
con.executemany("INSERT INTO tasks VALUES (?, ?, 'pending', 0, NULL, NULL)", [("t%d" % i, json.dumps({"x": i})) for i in range(n)])
con.execute("COMMIT")
for i in range(n):
    tid = "t%d" % i
    con.execute("BEGIN IMMEDIATE")
    con.execute("UPDATE tasks SET status = 'running', attempts = attempts + 1, started = ? WHERE id = ?", (time.time(), tid))
    con.execute("COMMIT")
    x = float(i)
    con.execute("BEGIN IMMEDIATE")
    con.executemany("INSERT INTO metrics VALUES (?, 0, ?, ?)", [(tid, "y", x * x + 1), (tid, "sqrt_x", x ** 0.5)])
    con.execute("UPDATE tasks SET status = 'done', finished = ? WHERE id = ?", (time.time(), tid))
    con.execute("COMMIT")
done = con.execute("SELECT COUNT(*) FROM tasks WHERE status = 'done'").fetchone()[0]
con.close()
print(json.dumps({"wall": now() - t0, "cpu": time.process_time() - c0, "done": done, "sqlite": sqlite3.sqlite_version}))
`;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');

interface RunResult {
  wall: number;
  /** CPU seconds of the whole process (every thread: main, pool, SQLite's), NaN without /usr/bin/time. */
  cpu: number;
  elapsed: number;
  executed: number;
  done: number;
}

/** One process, timed: wall seconds and (with GNU time) CPU seconds, user + system. */
function timed(args: string[]): { out: ReturnType<typeof spawnSync>; wall: number; cpu: number } {
  const gnuTime = existsSync('/usr/bin/time');
  const cpuFile = path.join(path.dirname(cli), `.cpu-${process.pid}`);
  const argv = gnuTime ? ['-f', '%U %S', '-o', cpuFile, process.execPath, ...args] : args;
  const t0 = performance.now();
  const out = spawnSync(gnuTime ? '/usr/bin/time' : process.execPath, argv, { encoding: 'utf8', maxBuffer: 16 << 20 });
  const wall = (performance.now() - t0) / 1000;
  let cpu = NaN;
  if (gnuTime && existsSync(cpuFile)) {
    const [u, sys] = readFileSync(cpuFile, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
    cpu = u + sys;
    rmSync(cpuFile, { force: true });
  }
  return { out, wall, cpu };
}

function runCli(spec: string, db: string, threads: number, extraNode: string[] = []): RunResult {
  const { out: r, wall, cpu } = timed([...extraNode, cli, 'run', spec, '--db', db, '--json', '--quiet', '--threads', String(threads)]);
  if (r.status !== 0) throw new Error(`ntk-sweep run exited ${r.status}: ${String(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  const j = JSON.parse(String(r.stdout)) as { elapsed_s: number; executed: number; done: number };
  return { wall, cpu, elapsed: j.elapsed_s, executed: j.executed, done: j.done };
}

/** The fixed costs of any run, minimum of `reps`: Node's own start, and loading `run`'s modules (its `--help`). */
function fixedCosts(reps: number): { node: { wall: number; cpu: number }; load: { wall: number; cpu: number } } {
  const best = (args: string[]) => {
    let b = { wall: Infinity, cpu: Infinity };
    for (let i = 0; i < reps; i++) {
      const t = timed(args);
      if (t.wall < b.wall) b = { wall: t.wall, cpu: t.cpu };
    }
    return b;
  };
  return { node: best(['-e', '0']), load: best([cli, 'run', '--help']) };
}

/** Self time per function from a V8 `.cpuprofile`, largest first. */
function topSelf(file: string, count: number): [string, number][] {
  const p = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  p.samples.forEach((id, i) => {
    const n = byId.get(id)!;
    const key = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + (p.timeDeltas[i] ?? 0) / 1e6);
  });
  return [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, count);
}

/**
 * The store's share: the same durable writes as the run (register the tasks, then claim chunks
 * of 256 and finish each chunk with its 2 metric rows per point), straight through the Store API
 * in this process, without the CLI, the pool or the channel. Seconds of wall time.
 */
async function storeOnly(n: number, db: string): Promise<{ register: number; claimFinish: number; cpu: number }> {
  const store = await openStore(db);
  const owner = 'bench:1:store';
  try {
    const t0 = performance.now();
    const tasks = Array.from({ length: n }, (_v, i) => ({ id: `t${i}`, kind: 'debug', params: { x: i, sleep_ms: 0, fail: 'none' }, batchKey: '', batchOrder: 0, cost: 0 }));
    await store.registerSweep({ name: 'store', kind: 'debug', specJson: '{}', specHash: 'store' }, tasks);
    const t1 = performance.now();
    const c1 = process.cpuUsage();
    const chunk = { maxTasks: 256, maxCost: 0.2 };
    for (;;) {
      const got = await store.claimBatch('store', { owner, leaseMs: 30_000, maxAttempts: 3, maxOrdersPerBatch: Infinity, chunk });
      if (got.length === 0) break;
      const rows = (x: number) => [{ step: 0, name: 'y', value: x * x + 1 }, { step: 0, name: 'sqrt_x', value: Math.sqrt(x) }];
      await store.finishTasks(got.map((t) => ({ taskId: t.id, owner, end: { status: 'done' as const }, rows: rows(Number(t.params.x)), durationS: 0, info: { owner } })));
    }
    const c = process.cpuUsage(c1);
    return { register: (t1 - t0) / 1000, claimFinish: (performance.now() - t1) / 1000, cpu: (c.user + c.system) / 1e6 };
  } finally {
    await store.close();
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2), { tasks: '10000', threads: '2', reps: '2', profile: 'false', python: 'python3' });
  const n = Number(o.tasks);
  const threads = Number(o.threads);
  const reps = Number(o.reps);
  console.log(`engine overhead benchmark (d): ${n} trivial debug grid points, --threads ${threads}, min of ${reps}`);
  console.log(machineLine());
  const { dir, cleanup } = tempDir('ntk-bench-engine-');
  try {
    const spec = path.join(dir, 'overhead.yaml');
    writeFileSync(spec, `name: overhead\nkind: debug\ndescription: engine overhead benchmark\ngrid:\n  x: [${Array.from({ length: n }, (_v, i) => i).join(', ')}]\n`);
    let best: RunResult | null = null;
    for (let r = 0; r < reps; r++) {
      const res = runCli(spec, path.join(dir, `run${r}.sqlite`), threads);
      if (res.done !== n) throw new Error(`expected ${n} done grid points, got ${res.done}`);
      if (!best || res.wall < best.wall) best = res;
    }
    const st = await storeOnly(n, path.join(dir, 'store.sqlite'));
    const py = runPython<{ wall: number; cpu: number; done: number; sqlite: string }>(o.python, PY, { tasks: n, dir }, 1);
    const pyRate = py.done / py.wall;
    const fixed = fixedCosts(Math.max(3, reps));
    const cpuNote = (cpu: number) => (Number.isNaN(cpu) ? '' : `CPU ${fmt(cpu)} s; `);
    const rows: (string | number)[][] = [
      ['ntk-sweep run (whole command)', best!.wall, n / best!.wall, n / best!.wall / pyRate, `${cpuNote(best!.cpu)}all threads`],
      ['ntk-sweep run (elapsed_s it reports)', best!.elapsed, n / best!.elapsed, n / best!.elapsed / pyRate, 'from after registration to the end of the run'],
      ['store alone: claim 256 + finish them, repeated', st.claimFinish, n / st.claimFinish, n / st.claimFinish / pyRate, `${cpuNote(st.cpu)}the run's SQL writes without CLI or pool; + ${fmt(st.register)} s registration`],
      [`python sqlite3 ${py.sqlite} per-task transactions`, py.wall, pyRate, 1, `${cpuNote(py.cpu)}2 transactions per task, no pool, no scheduling`],
    ];
    const cpuOf = (cpu: number) => (Number.isNaN(cpu) ? '' : ` (CPU ${fmt(cpu)} s)`);
    console.log(`fixed costs of any run (min of ${Math.max(3, reps)}): node -e 0 ${fmt(fixed.node.wall)} s${cpuOf(fixed.node.cpu)}; node + run's modules (run --help) ${fmt(fixed.load.wall)} s${cpuOf(fixed.load.cpu)}`);
    console.log(table(['implementation', 'wall s', 'tasks/s', 'rate / python', 'notes'], rows));
    console.log(`goal ≥ 10000 tasks/s: ${n / best!.wall >= 10_000 ? 'met' : 'MISSED'} (whole command ${fmt(n / best!.wall)} tasks/s). Optuna 3.1 GridSampler + SQLite: ~5 trials/s (a reference figure, not measured by this script).`);
    console.log(machineLine());
    if (o.profile === 'true') {
      const profDir = path.join(dir, 'prof');
      runCli(spec, path.join(dir, 'prof.sqlite'), threads, ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
      for (const f of readdirSync(profDir)) {
        const top = topSelf(path.join(profDir, f), 15);
        const total = top.reduce((s, [, v]) => s + v, 0);
        console.log(`\nprofile ${f} (self time, top 15 = ${fmt(total)} s):`);
        for (const [name, s] of top) console.log(`  ${fmt(s).padStart(7)} s  ${name}`);
      }
    }
  } finally {
    cleanup();
  }
}

await main();
