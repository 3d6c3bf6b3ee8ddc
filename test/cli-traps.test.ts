/**
 * Inputs that used to give wrong results or a crash without a word now give a clear error with
 * a meaningful exit code and leave the database as it was. Real CLI processes, real databases.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli, tempDir, writeSpec } from './helpers/cli.js';
import { debugYaml, scalar, sql } from './helpers/fault.js';

test('a spec that reuses a sweep name with another kind is refused (exit 2), naming both kinds; nothing is written', async () => {
  const dir = tempDir();
  const db = join(dir, 'db.sqlite');
  assert.equal((await runCli(['run', writeSpec(dir, 'a', debugYaml('mixed', [1, 2])), '--db', db, '--json'])).code, 0);
  const before = await sql(db, 'SELECT (SELECT COUNT(*) FROM tasks) AS tasks, (SELECT COUNT(*) FROM sweep_tasks) AS members, (SELECT kind FROM sweeps) AS kind');
  const kernel = writeSpec(dir, 'b', 'name: mixed\nkind: kernel\ndataset: { name: sphere, d: 3 }\nfixed: { n_train: 4, n_test: 2 }\ngrid: { depth: [1] }\n');
  const r = await runCli(['run', kernel, '--db', db]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /sweep mixed already exists with kind debug; a sweep cannot change kind/);
  assert.deepEqual(await sql(db, 'SELECT (SELECT COUNT(*) FROM tasks) AS tasks, (SELECT COUNT(*) FROM sweep_tasks) AS members, (SELECT kind FROM sweeps) AS kind'), before);
});

test('data that cannot be projected to the sphere is refused before anything runs (exit 2, CSV line named, no database)', async () => {
  const dir = tempDir();
  const db = join(dir, 'db.sqlite');
  const rows = ['a,b,label,split', '1,2,0,train', '0,0,1,train', '3,1,0,train', '2,2,1,train', '1,1,0,test', '0,3,1,test'];
  writeFileSync(join(dir, 'zero.csv'), rows.join('\n') + '\n');
  const csvSpec = writeSpec(dir, 'z', 'name: z\nkind: kernel\ndataset: { name: csv, path: zero.csv }\nfixed: { n_train: 2, n_test: 2 }\ngrid: { depth: [1, 2] }\n');
  const r = await runCli(['run', csvSpec, '--db', db]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /unit_norm: csv .*zero\.csv, line 3: the point is all zeros/);
  const one = writeSpec(dir, 'one', 'name: one\nkind: kernel\ndataset: { name: sphere, d: 3, center: true }\nfixed: { n_train: 1, n_test: 2 }\ngrid: { depth: [1] }\n');
  const r1 = await runCli(['run', one, '--db', db]);
  assert.equal(r1.code, 2, r1.stderr);
  assert.match(r1.stderr, /n_train = 1 with center: the one train point minus the train mean is 0/);
  assert.equal(existsSync(db), false);
  // the kernel command: a zero point with σ_b = 0 is bad input, not an internal error
  const k = await runCli(['kernel', '--data', join(dir, 'zero.csv'), '--depth', '2']);
  assert.equal(k.code, 2, k.stderr);
  assert.match(k.stderr, /zero\.csv, line 3: the point is all zeros; with σ_b = 0/);
  const kb = await runCli(['kernel', '--data', join(dir, 'zero.csv'), '--depth', '2', '--sigma-b', '0.5']);
  assert.equal(kb.code, 0, kb.stderr);
});

test('kernel without --normalized warns when the absolute kernel underflows to 0 at great depth', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'p.csv'), '1,0\n0,1\n');
  const deep = await runCli(['kernel', '--data', join(dir, 'p.csv'), '--depth', '10000']);
  assert.equal(deep.code, 0, deep.stderr);
  assert.match(deep.stderr, /warning: 2 of 2 diagonal entries are 0: the absolute kernel underflows or overflows at depth 10000; --normalized/);
  const shallow = await runCli(['kernel', '--data', join(dir, 'p.csv'), '--depth', '3']);
  assert.equal(shallow.stderr, '');
});

test('query refuses several statements, VACUUM INTO, PRAGMA and writes (exit 2, database unchanged); csv prints the header with zero rows', async () => {
  const dir = tempDir();
  const db = join(dir, 'db.sqlite');
  assert.equal((await runCli(['run', writeSpec(dir, 'q', debugYaml('q', [1, 2])), '--db', db, '--json'])).code, 0);
  const cases: [string, RegExp][] = [
    ['SELECT 1; DELETE FROM tasks', /2 statements given; query runs exactly one/],
    [`VACUUM INTO '${join(dir, 'copy.sqlite')}'`, /VACUUM is refused/],
    ['PRAGMA writable_schema=ON', /PRAGMA is refused/],
    ['WITH x AS (SELECT 1) DELETE FROM tasks', /DELETE is refused/],
  ];
  for (const [q, want] of cases) {
    const r = await runCli(['query', q, '--db', db]);
    assert.equal(r.code, 2, `${q}: ${r.stderr}`);
    assert.match(r.stderr, want);
  }
  assert.equal(existsSync(join(dir, 'copy.sqlite')), false);
  assert.equal(await scalar(db, 'SELECT COUNT(*) FROM tasks'), 2);
  const quoted = await runCli(['query', "SELECT 'a; DELETE' AS s", '--db', db, '--format', 'csv']);
  assert.equal(quoted.stdout, 's\na; DELETE\n');
  const empty = await runCli(['query', "SELECT task_id, status FROM results WHERE sweep = 'none'", '--db', db, '--format', 'csv']);
  assert.equal(empty.code, 0, empty.stderr);
  assert.equal(empty.stdout, 'task_id,status\n');
});
