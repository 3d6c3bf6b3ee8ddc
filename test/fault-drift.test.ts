/**
 * Spec drift: re-running a sweep name with a changed spec adds the new grid points, keeps every
 * earlier result, and prints what changed. Real CLI processes and a real database file.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli, tempDir, writeSpec } from './helpers/cli.js';
import { debugYaml, sql } from './helpers/fault.js';

test('re-running a sweep name with a changed spec adds the new grid points, keeps the old results untouched, and prints what changed', async () => {
  const dir = tempDir();
  const db = join(dir, 'db.sqlite');
  const v1 = writeSpec(dir, 'v1', debugYaml('drift', [1, 2, 3]));
  const first = await runCli(['run', v1, '--db', db, '--json']);
  assert.equal(first.code, 0, first.stderr);
  const before = await sql(db, "SELECT r.task_id, t.finished_at, r.y FROM results r JOIN tasks t ON t.id = r.task_id WHERE r.sweep = 'drift' ORDER BY r.task_id");

  // grid grows, and a fixed value changes: every point of the new spec is a new grid point
  const v2 = writeSpec(dir, 'v2', debugYaml('drift', [1, 2, 3, 4], 'fixed: { sleep_ms: 1 }\n'));
  const second = await runCli(['run', v2, '--db', db, '--json']);
  assert.equal(second.code, 0, second.stderr);
  const s = JSON.parse(second.stdout);
  assert.equal(s.new_grid_points, 4);
  assert.equal(s.total, 7, 'old and new grid points both belong to the sweep');
  assert.equal(s.already_done, 3);
  assert.equal(s.executed, 4);

  // the human output names each change
  const v3 = writeSpec(dir, 'v3', debugYaml('drift', [1, 2, 3, 4, 5], 'fixed: { sleep_ms: 1 }\n'));
  const third = await runCli(['run', v3, '--db', db]);
  assert.equal(third.code, 0, third.stderr);
  assert.match(third.stderr, /sweep drift: the spec changed since it was last registered:/);
  assert.match(third.stderr, /~ grid\.x: \[1,2,3,4\] -> \[1,2,3,4,5\]/);
  assert.match(third.stderr, /1 new grid point\(s\) added; results of earlier grid points are kept/);

  const after = await sql(db, "SELECT r.task_id, t.finished_at, r.y FROM results r JOIN tasks t ON t.id = r.task_id WHERE r.sweep = 'drift' ORDER BY r.task_id");
  assert.equal(after.length, 8);
  for (const old of before) assert.deepEqual(after.find((r) => r.task_id === old.task_id), old, 'an old result is kept as it was');
  const specs = await sql(db, "SELECT COUNT(*) AS n FROM sweep_specs WHERE sweep = 'drift'");
  assert.equal(specs[0].n, 3, 'every spec the name has had is kept');
  const ids = await sql(db, 'SELECT COUNT(*) AS n, COUNT(DISTINCT params) AS p FROM tasks');
  assert.deepEqual(ids, [{ n: 8, p: 8 }], 'one grid point per distinct params, never two meanings under one id');
});
