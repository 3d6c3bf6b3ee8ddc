/**
 * Fault injection: the coordinator process is killed (`kill -9`, a second Ctrl-C) in the middle of
 * a sweep; the next runs must lose nothing, duplicate nothing and change no number. Real CLI
 * processes, a real database file, the real pool.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeRng } from '../src/util/rng.js';
import { compareSweep } from './helpers/verify.js';
import { runCli, tempDir, writeSpec } from './helpers/cli.js';
import { debugYaml, endsPerTask, sql, startCli, waitFor, waitForRunning } from './helpers/fault.js';

const SEED = Number(process.env.NTK_SWEEP_FAULT_SEED ?? 7);

test('kill -9 of the coordinator at 4 random moments, then resume: every grid point done exactly once, none missing, every metric and attempt count equal to an uninterrupted run', async (t) => {
  t.diagnostic(`seed ${SEED} (set NTK_SWEEP_FAULT_SEED to replay another schedule)`);
  const rng = makeRng({ purpose: 'fault-kill', seed: SEED });
  const dir = tempDir();
  const xs = Array.from({ length: 40 }, (_, i) => i);
  // x % 8 == 5 throws on its first attempt only; x == 7 and x == 15 throw on every attempt
  const spec = writeSpec(
    dir,
    'k',
    debugYaml('kill9', xs, 'max_attempts: 2\nfixed: { sleep_ms: 60 }\nderived:\n  fail: \'mod(x, 8) == 5 or x == 7 or x == 15 ? "throw" : "none"\'\n  fail_attempts: \'x == 7 or x == 15 ? 9 : 1\'\n'),
  );
  const ref = join(dir, 'ref.sqlite');
  const db = join(dir, 'db.sqlite');
  const clean = await runCli(['run', spec, '--db', ref, '--threads', '2', '--json']);
  assert.equal(clean.code, 1, clean.stderr);

  for (let k = 0; k < 4; k++) {
    const run = startCli(['run', spec, '--db', db, '--threads', '2', '--json']);
    const delay = 50 + rng.uniform() * 700;
    await waitForRunning(db, run.pid, 1, 60_000, run.done);
    await new Promise((r) => setTimeout(r, delay));
    run.child.kill('SIGKILL');
    const end = await run.done;
    t.diagnostic(`kill ${k + 1}: ${Math.round(delay)} ms after the first claim -> ${end.signal ?? 'exit ' + end.code}`);
  }
  const interrupted = Number((await sql(db, "SELECT COUNT(DISTINCT task_id) AS n FROM task_log WHERE event = 'released'"))[0].n);
  const resumed = await runCli(['run', spec, '--db', db, '--threads', '2', '--json']);
  assert.equal(resumed.code, 1, 'exit 1: the two always-failing points failed; stderr: ' + resumed.stderr);
  const s = JSON.parse(resumed.stdout);
  assert.deepEqual([s.total, s.pending, s.running_elsewhere, s.failed], [40, 0, 0, 2]);

  const c = await compareSweep(ref, db, 'kill9');
  assert.deepEqual(c.examples, []);
  assert.deepEqual([c.tasks, c.lost, c.duplicated, c.mismatched], [40, 0, 0, 0]);
  assert.ok(interrupted > 0, 'some grid points were running when the coordinator was killed');
  for (const [id, n] of await endsPerTask(db)) assert.equal(n, 1, `${id} finished once`);
  const running = await sql(db, "SELECT COUNT(*) AS n FROM tasks WHERE status = 'running'");
  assert.equal(running[0].n, 0);
  const integrity = await sql(db, 'PRAGMA integrity_check');
  assert.deepEqual(integrity, [{ integrity_check: 'ok' }]);
});

test('after a second Ctrl-C exits at once, the next run takes over the dead coordinator\'s grid points immediately instead of waiting for the lease', async () => {
  const dir = tempDir();
  const db = join(dir, 'db.sqlite');
  const spec = writeSpec(dir, 'i', debugYaml('twice', Array.from({ length: 4 }, (_, i) => i), 'fixed: { sleep_ms: 3000 }\n'));
  // --drain: the first Ctrl-C waits for the running points, the second one exits at once
  const run = startCli(['run', spec, '--db', db, '--threads', '2', '--lease', '120', '--drain']);
  await waitForRunning(db, run.pid, 2, 60_000, run.done);
  run.child.kill('SIGINT');
  await waitFor('the first SIGINT to be handled', () => /stopping/.test(run.output().stderr), 30_000);
  run.child.kill('SIGINT');
  const end = await run.done;
  assert.equal(end.code, 130, end.stderr);
  assert.match(end.stderr, /exiting now; the database is consistent/);
  const left = await sql(db, `SELECT COUNT(*) AS n FROM tasks WHERE status = 'running' AND lease_owner LIKE '%:${run.pid}:%'`);
  assert.equal(left[0].n, 2, 'the second signal leaves its points running under a dead owner');
  const t0 = Date.now();
  const next = await runCli(['run', spec, '--db', db, '--threads', '2', '--json', '--lease', '120']);
  assert.equal(next.code, 0, next.stderr);
  assert.ok(Date.now() - t0 < 60_000, 'did not wait for the 120 s lease');
  const s = JSON.parse(next.stdout);
  assert.equal(s.done, 4);
  const released = await sql(db, `SELECT COUNT(*) AS n FROM task_log WHERE event = 'released' AND detail = 'owner process ${run.pid} is dead'`);
  assert.equal(released[0].n, 2);
  const rows = await sql(db, "SELECT y, json_extract(params, '$.x') AS x, attempts FROM results WHERE sweep = 'twice'");
  assert.equal(rows.length, 4);
  for (const r of rows) {
    assert.equal(r.y, (r.x as number) ** 2 + 1);
    assert.equal(r.attempts, 1, 'the interrupted attempt is not counted');
  }
  for (const [id, n] of await endsPerTask(db)) assert.equal(n, 1, `${id} finished once`);
});
