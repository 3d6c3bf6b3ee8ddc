/**
 * The engine end to end: real CLI processes, the real piscina pool and a real SQLite file,
 * checked with SQL.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI, runCli, tempDir, writeSpec } from './helpers/cli.js';
import { metricsOnOneAndTwoThreads, sql } from './helpers/fault.js';


test('a sweep runs every grid point exactly once through the real pool, and a second run executes nothing', async () => {
  const dir = tempDir();
  const db = join(dir, 'db.sqlite');
  const xs = Array.from({ length: 30 }, (_, i) => i - 7);
  const spec = writeSpec(dir, 'd', `name: dbg\nkind: debug\ngrid:\n  x: [${xs.join(', ')}]\n`);
  const first = await runCli(['run', spec, '--db', db, '--threads', '2', '--json']);
  assert.equal(first.code, 0, first.stderr);
  const s1 = JSON.parse(first.stdout);
  assert.equal(s1.total, 30);
  assert.equal(s1.executed, 30);
  assert.equal(s1.already_done, 0);
  const rows = await sql(db, "SELECT json_extract(params, '$.x') AS x, y, status, attempts FROM results WHERE sweep = 'dbg' ORDER BY x");
  assert.deepEqual(rows.map((r) => r.x), [...xs].sort((a, b) => a - b));
  for (const r of rows) {
    assert.equal(r.status, 'done');
    assert.equal(r.attempts, 1);
    assert.equal(r.y, (r.x as number) ** 2 + 1);
  }
  const second = await runCli(['run', spec, '--db', db, '--threads', '2', '--json']);
  assert.equal(second.code, 0, second.stderr);
  const s2 = JSON.parse(second.stdout);
  assert.deepEqual([s2.total, s2.executed, s2.already_done, s2.failed], [30, 0, 30, 0]);
  const n = await sql(db, 'SELECT COUNT(*) AS n FROM tasks');
  assert.equal(n[0].n, 30);
});

test('failing grid points are retried up to max_attempts, recorded with their error, and the sweep goes on', async () => {
  const dir = tempDir();
  const db = join(dir, 'db.sqlite');
  const spec = writeSpec(dir, 'f', 'name: flaky\nkind: debug\nmax_attempts: 2\ngrid:\n  x: [1, 2, 3]\n  fail: [none, throw, exit]\n');
  const r = await runCli(['run', spec, '--db', db, '--threads', '2', '--json']);
  assert.equal(r.code, 1, 'exit code 1 means some grid points failed; stderr: ' + r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.done, 3);
  assert.equal(s.failed, 6);
  const failed = await sql(db, "SELECT json_extract(params, '$.fail') AS fail, attempts, error FROM results WHERE status = 'failed'");
  assert.equal(failed.length, 6);
  for (const f of failed) {
    assert.equal(f.attempts, 2);
    if (f.fail === 'throw') assert.match(String(f.error), /failing on purpose/);
    else assert.match(String(f.error), /worker|exit/i);
  }
  const status = await runCli(['status', 'flaky', '--db', db]);
  assert.equal(status.code, 0);
  assert.match(status.stdout, /failed flaky\/[0-9a-f]{16} after 2 attempt\(s\): .*failing on purpose/);
  // --retry-failed runs them once more
  const again = await runCli(['run', spec, '--db', db, '--retry-failed', '--json']);
  assert.equal(again.code, 1);
  const att = await sql(db, "SELECT MIN(attempts) AS lo, MAX(attempts) AS hi FROM tasks WHERE status = 'failed'");
  assert.deepEqual([att[0].lo, att[0].hi], [3, 3]);
});

test('an invalid spec exits 2 with the offending path and writes nothing', async () => {
  const dir = tempDir();
  const db = join(dir, 'db.sqlite');
  const spec = writeSpec(dir, 'bad', 'name: bad\nkind: kernel\ndataset: mnist\ngrid:\n  n_train: [10]\n  depth: [1, 2, -1]\n');
  const r = await runCli(['run', spec, '--db', db]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /grid\.depth\[2\]: expected a positive integer \(at most 100000\), got -1/);
  assert.equal(existsSync(db), false, 'no database file is created for an invalid spec');
  const tooMany = writeSpec(dir, 'big', 'name: big\nkind: kernel\ndataset: mnist\nfixed: { n_test: 500 }\ngrid:\n  n_train: [9900]\n  depth: [1]\n');
  const r2 = await runCli(['run', tooMany, '--db', db]);
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /dataset: .*10000/);
  assert.equal(existsSync(db), false);
});

test('SIGINT stops the run with exit 130, leaves nothing running, and the next run completes the sweep', async () => {
  const dir = tempDir();
  const db = join(dir, 'db.sqlite');
  const spec = writeSpec(dir, 's', 'name: slow\nkind: debug\nfixed: { sleep_ms: 250 }\ngrid:\n  x: [' + Array.from({ length: 24 }, (_, i) => i).join(', ') + ']\n');
  const child = spawn(process.execPath, [CLI, 'run', spec, '--db', db, '--threads', '2', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  // wait (on the database, not the clock: the machine may be slow) until some points are done
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  let gone = false;
  void exited.then(() => (gone = true));
  for (const deadline = Date.now() + 60_000; !gone && Date.now() < deadline; ) {
    await new Promise((r) => setTimeout(r, 50));
    const n = existsSync(db) ? await sql(db, "SELECT COUNT(*) AS n FROM tasks WHERE status = 'done'").catch(() => [{ n: 0 }]) : [{ n: 0 }];
    if (Number(n[0].n) >= 2) break;
  }
  child.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 130);
  const s = JSON.parse(out);
  assert.equal(s.interrupted, true);
  assert.ok(s.executed > 0 && s.executed < 24, `executed ${s.executed}`);
  const running = await sql(db, "SELECT COUNT(*) AS n FROM tasks WHERE status = 'running'");
  assert.equal(running[0].n, 0);
  const resumed = await runCli(['run', spec, '--db', db, '--json']);
  assert.equal(resumed.code, 0, resumed.stderr);
  const s2 = JSON.parse(resumed.stdout);
  assert.equal(s2.already_done + s2.executed, 24);
  assert.equal(s2.already_done, s.executed);
  const rows = await sql(db, "SELECT json_extract(params, '$.x') AS x, y, attempts FROM results");
  assert.equal(rows.length, 24);
  for (const r of rows) {
    assert.equal(r.y, (r.x as number) ** 2 + 1);
    assert.equal(r.attempts, 1, 'an interrupted attempt is not counted');
  }
});

test('kernel sweep metrics are bit-identical with 1 and 2 threads, and t = 0 predicts f0 = 0 (test_mse = mean y² = 1 for ±1 labels)', async () => {
  const dir = tempDir();
  const yaml = `name: k
kind: kernel
dataset: { name: sphere, d: 8, target: quadratic }
fixed: { n_test: 40 }
grid:
  n_train: [30, 60]
  depth: [1, 3, 10]
  t: [0, 5, inf]
`;
  const spec = writeSpec(dir, 'k', yaml);
  const { db: a, one: ra, two: rb } = await metricsOnOneAndTwoThreads(spec, dir);
  const names = new Set(ra.map((r) => r.name)).size;
  assert.ok(names >= 15, `${names} metrics per grid point`);
  assert.equal(ra.length, 18 * names, 'every grid point has every metric once');
  assert.deepEqual(ra, rb);
  const t0 = await sql(a, 'SELECT test_mse, train_mse, pred_spread FROM results WHERE t = 0');
  assert.equal(t0.length, 6);
  for (const r of t0) {
    assert.equal(r.test_mse, 1);
    assert.equal(r.train_mse, 1);
  }
  // t = ∞ interpolates the training labels (kernel regression with a PD kernel)
  const inf = await sql(a, 'SELECT train_mse FROM results WHERE t > 1e308 AND depth > 1');
  for (const r of inf) assert.ok((r.train_mse as number) < 1e-8, `train_mse ${r.train_mse}`);
});

test('the memory budget keeps jobs whose estimated peaks do not fit together from running at the same time', async () => {
  const dir = tempDir();
  // four points of 400 ms that each declare 600 MiB (debug `mem_mb`; nothing is allocated)
  const spec = writeSpec(dir, 'm', 'name: mem\nkind: debug\nfixed: { sleep_ms: 400, mem_mb: 600 }\ngrid:\n  x: [1, 2, 3, 4]\n');
  const intervals = async (db: string): Promise<[number, number][]> =>
    (await sql(db, 'SELECT finished_at - 1000 * duration_s AS s, finished_at AS e FROM tasks ORDER BY s')).map((r) => [r.s as number, r.e as number]);
  const overlaps = (iv: [number, number][]): number => iv.slice(1).filter(([s], i) => s < iv[i][1] - 5).length;

  const tight = join(dir, 'tight.sqlite');
  const r1 = await runCli(['run', spec, '--db', tight, '--threads', '2', '--memory', '1', '--json']);
  assert.equal(r1.code, 0, r1.stderr);
  assert.equal(JSON.parse(r1.stdout).done, 4);
  assert.equal(overlaps(await intervals(tight)), 0, '600 + 600 MiB > 1 GiB: one job at a time');

  const roomy = join(dir, 'roomy.sqlite');
  const r2 = await runCli(['run', spec, '--db', roomy, '--threads', '2', '--memory', '4', '--json']);
  assert.equal(r2.code, 0, r2.stderr);
  assert.ok(overlaps(await intervals(roomy)) >= 1, 'within 4 GiB two jobs run side by side');

  // a job larger than the whole budget still runs (alone), with a note
  const big = writeSpec(dir, 'b', 'name: big\nkind: debug\nfixed: { mem_mb: 3000 }\ngrid:\n  x: [1, 2]\n');
  const r3 = await runCli(['run', big, '--db', join(dir, 'big.sqlite'), '--threads', '2', '--memory', '2']);
  assert.equal(r3.code, 0, r3.stderr);
  assert.match(r3.stderr, /needs about 2\.9 GiB, more than the memory budget of 2\.0 GiB: such jobs run alone/);
});

test('each point of a chunk records its own duration, not the time since its chunk started', async () => {
  const dir = tempDir();
  const db = join(dir, 'db.sqlite');
  // 24 points busy-waiting 30 ms: claimed three at a time (24 / (4 · 2 threads))
  const spec = writeSpec(dir, 'c', `name: dur\nkind: debug\nfixed: { sleep_ms: 30 }\ngrid:\n  x: [${Array.from({ length: 24 }, (_, i) => i).join(', ')}]\n`);
  const r = await runCli(['run', spec, '--db', db, '--threads', '2', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const claims = await sql(db, "SELECT MAX(n) AS n FROM (SELECT COUNT(*) AS n FROM task_log WHERE event = 'claim' GROUP BY owner, at)");
  assert.ok((claims[0].n as number) > 1, 'points were claimed in chunks');
  const d = (await sql(db, 'SELECT duration_s AS d FROM tasks')).map((row) => row.d as number);
  assert.ok(d.every((x) => x >= 0.029), `every point ran its 30 ms (${d.join(', ')})`);
  assert.ok(d.filter((x) => x < 0.045).length >= d.length / 2, `most points took about 30 ms, not 60 or 90 (${d.join(', ')})`);
});
