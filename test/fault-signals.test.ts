/**
 * Signals: SIGTERM aborts running grid points and exits 143; `--drain` lets them finish. In both
 * cases the database is consistent (nothing left `running`) and the next run completes the
 * sweep. Real CLI processes, a real database file, the real pool.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli, tempDir, writeSpec } from './helpers/cli.js';
import { debugYaml, endsPerTask, sql, startCli, waitForRunning } from './helpers/fault.js';

test('SIGTERM aborts the running grid points: exit 143, none left running, the interrupted attempts are not counted, and the next run completes the sweep', async () => {
  const dir = tempDir();
  const db = join(dir, 'db.sqlite');
  const spec = writeSpec(dir, 't', debugYaml('term', Array.from({ length: 4 }, (_, i) => i), 'fixed: { sleep_ms: 2500 }\n'));
  const run = startCli(['run', spec, '--db', db, '--threads', '2', '--json']);
  await waitForRunning(db, run.pid, 2, 60_000, run.done);
  run.child.kill('SIGTERM');
  const end = await run.done;
  assert.equal(end.code, 143, end.stderr);
  assert.equal(JSON.parse(end.stdout).interrupted, true);
  // the two running points were aborted (not finished), and no attempt was counted
  const states = await sql(db, 'SELECT status, attempts, COUNT(*) AS n FROM tasks GROUP BY 1, 2');
  assert.deepEqual(states, [{ status: 'pending', attempts: 0, n: 4 }]);
  const released = await sql(db, "SELECT COUNT(*) AS n FROM task_log WHERE event = 'released' AND detail = 'interrupted'");
  assert.equal(released[0].n, 2);
  const again = await runCli(['run', spec, '--db', db, '--threads', '2', '--json']);
  assert.equal(again.code, 0, again.stderr);
  const rows = await sql(db, "SELECT status, attempts FROM results WHERE sweep = 'term'");
  assert.equal(rows.length, 4);
  for (const r of rows) assert.deepEqual(r, { status: 'done', attempts: 1 });
});

test('with --drain, Ctrl-C lets the running grid points finish and record their results, then exits 130 without starting new ones', async () => {
  const dir = tempDir();
  const db = join(dir, 'db.sqlite');
  const spec = writeSpec(dir, 'd', debugYaml('drain', Array.from({ length: 8 }, (_, i) => i), 'fixed: { sleep_ms: 1500 }\n'));
  const run = startCli(['run', spec, '--db', db, '--threads', '2', '--json', '--drain']);
  await waitForRunning(db, run.pid, 2, 60_000, run.done);
  const running = (await sql(db, "SELECT id FROM tasks WHERE status = 'running'")).map((r) => r.id);
  run.child.kill('SIGINT');
  const end = await run.done;
  assert.equal(end.code, 130, end.stderr);
  assert.match(end.stderr, /letting running grid points finish/);
  const s = JSON.parse(end.stdout);
  assert.equal(s.interrupted, true);
  assert.ok(s.executed >= 2 && s.executed < 8, `executed ${s.executed}`);
  const done = new Set((await sql(db, "SELECT id FROM tasks WHERE status = 'done'")).map((r) => r.id));
  for (const id of running) assert.ok(done.has(id), `${id}, running at the signal, finished`);
  const leftRunning = await sql(db, "SELECT COUNT(*) AS n FROM tasks WHERE status = 'running'");
  assert.equal(leftRunning[0].n, 0);
  const released = await sql(db, "SELECT COUNT(*) AS n FROM task_log WHERE event = 'released'");
  assert.equal(released[0].n, 0, 'nothing was aborted');
  const again = await runCli(['run', spec, '--db', db, '--threads', '2', '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).already_done, s.done);
  for (const [id, n] of await endsPerTask(db)) assert.equal(n, 1, `${id} finished once`);
  assert.equal((await endsPerTask(db)).size, 8);
});
