/**
 * Inputs that used to give wrong results or a crash without a word now give a clear error with
 * a meaningful exit code and leave the database as it was. Real CLI processes, real databases.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli, tempDir, writeSpec } from './helpers/cli.js';
import { debugYaml, sql } from './helpers/fault.js';

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
