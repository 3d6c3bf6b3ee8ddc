/**
 * Failing grid points: a task that throws, a worker thread that dies and a worker over its memory
 * limit are each recorded as `failed` with their error and attempt count, retried up to
 * max_attempts, and the rest of the sweep completes. Real CLI processes, a real database file,
 * the real pool.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli, tempDir, writeSpec } from './helpers/cli.js';
import { endsPerTask, sql } from './helpers/fault.js';

test('a throwing task, a dying worker and a task over its memory limit each fail with their error after max_attempts attempts, a flaky task succeeds on retry, and the rest of the sweep completes', async () => {
  const dir = tempDir();
  const db = join(dir, 'db.sqlite');
  const spec = writeSpec(
    dir,
    'f',
    `name: faults
kind: debug
max_attempts: 2
grid:
  x: [1, 2, 3, 4, 5, 6, 7, 8]
derived:
  fail: 'x == 1 ? "throw" : (x == 2 ? "exit" : (x == 3 ? "oom" : (x == 4 ? "throw" : "none")))'
  fail_attempts: 'x == 4 ? 1 : 9'
`,
  );
  const r = await runCli(['run', spec, '--db', db, '--threads', '2', '--max-memory', '64', '--json']);
  assert.equal(r.code, 1, 'exit 1: some grid points failed; stderr: ' + r.stderr);
  const s = JSON.parse(r.stdout);
  assert.deepEqual([s.total, s.done, s.failed, s.pending, s.failed_attempts_this_run], [8, 5, 3, 0, 7]);
  const rows = await sql(db, "SELECT json_extract(params, '$.x') AS x, status, attempts, error, y FROM results WHERE sweep = 'faults' ORDER BY x");
  const byX = new Map(rows.map((row) => [row.x as number, row]));
  const expectFailed = (x: number, re: RegExp): void => {
    const row = byX.get(x)!;
    assert.equal(row.status, 'failed', `x=${x}`);
    assert.equal(row.attempts, 2, `x=${x} used both attempts`);
    assert.match(String(row.error), re);
    assert.equal(row.y, null, 'a failed point has no result');
  };
  expectFailed(1, /failing on purpose \(fail: throw, attempt 2\)/);
  expectFailed(2, /worker thread died: .*exited with code: 7/);
  expectFailed(3, /worker ran out of memory .*raise --max-memory/);
  assert.deepEqual([byX.get(4)!.status, byX.get(4)!.attempts, byX.get(4)!.y], ['done', 2, 17], 'the flaky point succeeded on its second attempt');
  for (const x of [5, 6, 7, 8]) assert.deepEqual([byX.get(x)!.status, byX.get(x)!.attempts, byX.get(x)!.y], ['done', 1, x * x + 1]);
  for (const [id, n] of await endsPerTask(db)) assert.equal(n, 1, `${id} finished once`);

  // status lists the failures with their messages
  const st = await runCli(['status', 'faults', '--db', db]);
  assert.equal(st.code, 0, st.stderr);
  assert.equal((st.stdout.match(/^failed faults\//gm) ?? []).length, 3);
  assert.match(st.stdout, /after 2 attempt\(s\): worker ran out of memory/);

  // a re-run does not retry exhausted points; --retry-failed gives each one more attempt
  const again = await runCli(['run', spec, '--db', db, '--threads', '2', '--max-memory', '64', '--json']);
  assert.equal(again.code, 1);
  assert.equal(JSON.parse(again.stdout).failed_attempts_this_run, 0);
  const retry = await runCli(['run', spec, '--db', db, '--threads', '2', '--max-memory', '64', '--json', '--retry-failed']);
  assert.equal(retry.code, 1);
  assert.equal(JSON.parse(retry.stdout).failed_attempts_this_run, 3);
  const att = await sql(db, "SELECT MIN(attempts) AS lo, MAX(attempts) AS hi FROM tasks WHERE status = 'failed'");
  assert.deepEqual(att, [{ lo: 3, hi: 3 }]);
});

test('independent points run in chunks; a worker dying inside a chunk fails only the point it was running, and the rest of its chunk is rerun without using an attempt', async () => {
  const dir = tempDir();
  const db = join(dir, 'db.sqlite');
  const xs = Array.from({ length: 64 }, (_, i) => i + 1);
  const spec = writeSpec(
    dir,
    'c',
    `name: chunks\nkind: debug\nmax_attempts: 2\ngrid:\n  x: [${xs.join(', ')}]\nderived:\n  fail: 'x == 20 ? "exit" : (x == 41 ? "throw" : "none")'\n`,
  );
  const r = await runCli(['run', spec, '--db', db, '--threads', '2', '--json']);
  assert.equal(r.code, 1, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.deepEqual([s.total, s.done, s.failed, s.pending], [64, 62, 2, 0]);
  const rows = await sql(db, "SELECT json_extract(params, '$.x') AS x, status, attempts, error, y FROM results WHERE sweep = 'chunks' ORDER BY x");
  for (const row of rows) {
    const x = row.x as number;
    if (x === 20) assert.match(String(row.error), /worker thread died: .*exited with code: 7/);
    else if (x === 41) assert.match(String(row.error), /failing on purpose/);
    else assert.deepEqual([row.status, row.attempts, row.y], ['done', 1, x * x + 1], `x=${x}: done at its first attempt`);
    if (x === 20 || x === 41) assert.deepEqual([row.status, row.attempts], ['failed', 2], `x=${x}`);
  }
  for (const [id, n] of await endsPerTask(db)) assert.equal(n, 1, `${id} finished once`);
  // claims took several points at a time (one claim = one timestamp and owner in the audit trail)
  const claims = await sql(db, "SELECT owner, at, COUNT(*) AS n FROM task_log WHERE event = 'claim' GROUP BY owner, at ORDER BY n DESC");
  assert.ok((claims[0].n as number) > 1, 'some claim took several points');
  assert.ok(claims.length < rows.length, `fewer claims (${claims.length}) than points`);
  const released = await sql(db, "SELECT COUNT(*) AS n FROM task_log WHERE event = 'released' AND detail LIKE 'the worker died%'");
  assert.ok((released[0].n as number) > 0, 'the dead worker\'s other points went back to pending');
});
