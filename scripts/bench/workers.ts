/**
 * Benchmark: many worker processes on one PostgreSQL server on localhost.
 *
 *   npx tsc -p . && node dist/scripts/bench/workers.js [--points 4000] [--workers 1,2,4,8]
 *       [--cpu-points 16] [--cpu-ms 1000] [--db postgres://…] [--claim statement|transaction|both]
 *
 * Without `--db` it starts its own server (initdb into a temporary directory, as in the tests).
 * 1. Trivial grid points (`kind: debug`, y = x² + 1) claimed and persisted per second by K
 *    `ntk-sweep worker --threads 1` processes, for each K: from the first claim to the last
 *    finish in `task_log` (database clock), and for the whole commands (with process start).
 *    Reference side by side: the same points run by one `ntk-sweep run` process on SQLite.
 *    Goal: ≥ 2,000 points/s at 8 workers.
 * 2. Claim latency: K bare claimer processes (the real Store: claim a chunk of 16, finish it,
 *    repeat), p50 and p99 of the claim transaction as each process sees it.
 *    `--claim both` measures 1. and 2. with both PostgreSQL claim paths, side by side in one run:
 *    `statement` (default: a chunk of independent points claimed in one statement) and
 *    `transaction` (the general claim transaction, `NTK_SWEEP_PG_CLAIM=transaction`).
 * 3. A CPU-bound grid (`--cpu-points` points of `--cpu-ms` ms of busy work) by 1 and by 2 worker
 *    processes: the speedup. Goal: ≥ 1.8× (needs 2 idle cores).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/open.js';
import { startPostgres } from '../../test/helpers/pg.js';
import { fmt, machineLine, parseArgs, table, tempDir } from './common.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.resolve(here, '../../src/cli/main.js');

function exec(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const c = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    c.on('error', reject);
    c.on('exit', (code) => (code === 0 ? resolve((performance.now() - t0) / 1000) : reject(new Error(`${args.join(' ')} exited ${code}`))));
  });
}

function spec(dir: string, name: string, n: number, sleepMs: number): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\nkind: debug\nfixed:\n  sleep_ms: ${sleepMs}\ngrid:\n  x: [${Array.from({ length: n }, (_, i) => i).join(', ')}]\n`);
  return file;
}

/** Seconds from the first claim to the last accepted finish, on the database clock. */
async function span(db: string): Promise<number> {
  const s = await openStore(db, { readonly: true });
  try {
    const [r] = await s.query("SELECT (MAX(CASE WHEN event = 'done' THEN at END) - MIN(CASE WHEN event = 'claim' THEN at END)) / 1000.0 AS s FROM task_log");
    return Number(r.s);
  } finally {
    await s.close();
  }
}

/** Child mode: claim chunks of 16 and finish them until none is left; print claim latencies (ms). */
async function claimer(db: string, id: number): Promise<void> {
  const s = await openStore(db);
  const lat: number[] = [];
  const owner = `bench:${process.pid}:${id}`;
  for (;;) {
    const t0 = performance.now();
    const got = await s.claimBatch('claims', { owner, leaseMs: 60_000, maxAttempts: 3, maxOrdersPerBatch: Infinity, chunk: { maxTasks: 16, maxCost: 1e9 } });
    lat.push(performance.now() - t0);
    if (got.length === 0) break;
    await s.finishTasks(got.map((t) => ({ taskId: t.id, owner, end: { status: 'done' as const }, rows: [{ step: 0, name: 'y', value: Number(t.params.x) ** 2 + 1 }], durationS: 0, info: {} })));
  }
  await s.close();
  process.stdout.write(JSON.stringify(lat) + '\n');
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

async function claimLatency(newDb: () => Promise<string>, dir: string, points: number, k: number): Promise<{ p50: number; p99: number; rate: number }> {
  const db = await newDb();
  await exec([CLI, 'submit', spec(dir, 'claims', points, 0), '--db', db]);
  const t0 = performance.now();
  const outs = await Promise.all(
    Array.from({ length: k }, (_, i) =>
      new Promise<number[]>((resolve, reject) => {
        const c = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', db, '--id', String(i)], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        c.stdout.on('data', (d) => (out += d));
        c.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`claimer exited ${code}`))));
      }),
    ),
  );
  const wall = (performance.now() - t0) / 1000;
  const lat = outs.flat();
  return { p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), rate: points / wall };
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2), { points: '4000', workers: '1,2,4,8', 'cpu-points': '16', 'cpu-ms': '1000', db: '', child: '', id: '0', claim: 'statement' });
  if (o.child) return claimer(o.child, Number(o.id));
  const { dir, cleanup } = tempDir('ntk-bench-workers-');
  const server = o.db ? null : await startPostgres();
  if (typeof server === 'string') throw new Error(server);
  let n = 0;
  const newDb = async (): Promise<string> => (server ? server.newDatabase() : o.db.replace(/\/[^/]*$/, `/bench${n++}`));
  try {
    console.log(machineLine());
    const points = Number(o.points);
    const ks = o.workers.split(',').map(Number);
    const lite = path.join(dir, 'ref.sqlite');
    const liteWall = await exec([CLI, 'run', spec(dir, 'trivial', points, 0), '--db', lite, '--threads', '1', '--quiet']);
    const liteSpan = await span(lite);
    const rows: (string | number)[][] = [];
    const modes = o.claim === 'both' ? ['statement', 'transaction'] : [o.claim];
    for (const k of ks) {
      for (const mode of modes) {
        // children inherit it: which claim path the workers and claimers take
        process.env.NTK_SWEEP_PG_CLAIM = mode;
        const db = await newDb();
        await exec([CLI, 'submit', spec(dir, 'trivial', points, 0), '--db', db]);
        const t0 = performance.now();
        await Promise.all(Array.from({ length: k }, () => exec([CLI, 'worker', '--db', db, '--threads', '1', '--quiet'])));
        const wall = (performance.now() - t0) / 1000;
        const s = await span(db);
        const c = await claimLatency(newDb, dir, points, k);
        rows.push([k, mode, points / s, points / wall, points / liteSpan, points / s / (points / liteSpan), c.rate, c.p50, c.p99]);
      }
    }
    delete process.env.NTK_SWEEP_PG_CLAIM;
    console.log(`\n${points} trivial grid points; reference: one \`run\` process on SQLite (whole command ${fmt(liteWall)} s)`);
    console.log(table(['workers', 'claim', 'points/s (first claim→last finish)', 'points/s (whole commands)', 'SQLite 1 process', 'ratio', 'bare claimers points/s', 'claim p50 ms', 'claim p99 ms'], rows));
    const cpuPoints = Number(o['cpu-points']);
    const cpuMs = Number(o['cpu-ms']);
    const walls: number[] = [];
    for (const k of [1, 2]) {
      const db = await newDb();
      await exec([CLI, 'submit', spec(dir, 'cpu', cpuPoints, cpuMs), '--db', db]);
      const t0 = performance.now();
      await Promise.all(Array.from({ length: k }, () => exec([CLI, 'worker', '--db', db, '--threads', '1', '--quiet'])));
      walls.push((performance.now() - t0) / 1000);
    }
    console.log(`\nCPU-bound grid: ${cpuPoints} points × ${cpuMs} ms; 1 worker ${fmt(walls[0])} s, 2 workers ${fmt(walls[1])} s: speedup ${fmt(walls[0] / walls[1])}× (goal ≥ 1.8×)`);
  } finally {
    if (server) server.close();
    cleanup();
  }
}

await main();
