/**
 * Storage faults: a file that is not an ntk-sweep database, a database of a newer version, a
 * read-only database and a full disk each end `run` with a clear message and exit code 3, and
 * leave no half-written row. The full-disk and read-only cases use a small tmpfs when the tests
 * run as root (mount allowed); otherwise SQLite's `max_page_count` (through the
 * NTK_SWEEP_FAULT_MAX_PAGE_COUNT fault-injection variable) and file permissions.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteDb } from '../src/store/sqlite-db.js';
import { runCli, tempDir, writeSpec } from './helpers/cli.js';
import { debugYaml, endsPerTask, sql } from './helpers/fault.js';

const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

function mount(dir: string, opts: string): boolean {
  if (process.getuid?.() !== 0) return false;
  return spawnSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', dir]).status === 0;
}
const remount = (dir: string, opts: string): void => {
  const r = spawnSync('mount', ['-o', `remount,${opts}`, dir]);
  assert.equal(r.status, 0, String(r.stderr));
};
const umount = (dir: string): void => void spawnSync('umount', [dir]);

test('a file that is not an SQLite database is refused with exit 3 and left untouched', async () => {
  const dir = tempDir();
  const db = join(dir, 'notes.txt');
  writeFileSync(db, 'these are my notes, not a database\n'.repeat(200));
  const before = sha(db);
  const spec = writeSpec(dir, 's', debugYaml('s', [1, 2]));
  const r = await runCli(['run', spec, '--db', db]);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /storage error: .*not an SQLite database/);
  assert.equal(sha(db), before);
  assert.equal(existsSync(`${db}-wal`), false);
  const st = await runCli(['status', '--db', db]);
  assert.equal(st.code, 3);
});

test('an SQLite database of another application is refused with exit 3 and left byte-for-byte untouched', async () => {
  const dir = tempDir();
  const db = join(dir, 'other.sqlite');
  const raw = await SqliteDb.open(db);
  await raw.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('ann');");
  await raw.close();
  const before = sha(db);
  const spec = writeSpec(dir, 's', debugYaml('s', [1, 2]));
  const r = await runCli(['run', spec, '--db', db]);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /is an SQLite database but not an ntk-sweep database .*refusing to touch it/);
  assert.equal(sha(db), before, 'not even its journal mode was changed');
});

test('a --db in a folder that does not exist (a typo) is refused with exit 3, and nothing is created', async () => {
  const dir = tempDir();
  const spec = writeSpec(dir, 's', debugYaml('s', [1, 2]));
  const missing = join(dir, 'resutls', 'deeper');
  const r = await runCli(['run', spec, '--db', join(missing, 'x.sqlite')]);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /storage error: directory .*resutls\/deeper does not exist: check --db/);
  assert.equal(existsSync(join(dir, 'resutls')), false);
  // the default folder db/ is still created when missing
  const cwd = tempDir();
  const d = await runCli(['run', spec], { cwd, env: { NTK_SWEEP_DB: '' } });
  assert.equal(d.code, 0, d.stderr);
  assert.equal(existsSync(join(cwd, 'db', 'ntk-sweep.sqlite')), true);
});

test('a database written by a newer ntk-sweep is refused with exit 3', async () => {
  const dir = tempDir();
  const db = join(dir, 'db.sqlite');
  const spec = writeSpec(dir, 's', debugYaml('s', [1, 2]));
  assert.equal((await runCli(['run', spec, '--db', db])).code, 0);
  const raw = await SqliteDb.open(db);
  await raw.exec("UPDATE meta SET value = '999' WHERE key = 'schema_version'");
  await raw.close();
  const r = await runCli(['run', spec, '--db', db]);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /schema version 999, newer than this ntk-sweep/);
});

test('a read-only database makes run exit 3 with a clear message and change nothing, while status still reads it', async (t) => {
  const dir = tempDir();
  const ro = join(dir, 'ro');
  mkdirSync(ro);
  const mounted = mount(ro, 'size=8m');
  if (!mounted && process.getuid?.() === 0) {
    t.skip('running as root without permission to mount a tmpfs: root ignores file permissions, so there is no read-only place to test');
    return;
  }
  try {
    const db = join(ro, 'db.sqlite');
    const spec = writeSpec(dir, 's', debugYaml('ro', [1, 2, 3]));
    assert.equal((await runCli(['run', spec, '--db', db])).code, 0);
    if (mounted) remount(ro, 'ro');
    else {
      chmodSync(db, 0o444);
      chmodSync(ro, 0o555);
    }
    const before = sha(db);
    const grown = writeSpec(dir, 's2', debugYaml('ro', [1, 2, 3, 4]));
    const r = await runCli(['run', grown, '--db', db]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /storage error: database .* cannot be written: .*read-only/);
    assert.equal(sha(db), before);
    const st = await runCli(['status', 'ro', '--db', db, '--json']);
    assert.equal(st.code, 0, st.stderr);
    assert.equal(JSON.parse(st.stdout)[0].done, 3);
  } finally {
    if (mounted) umount(ro);
    else chmodSync(ro, 0o755);
  }
});

test('a full disk stops the run with exit 3 and a clear message, leaves no half-written grid point, and the run completes once there is space', async (t) => {
  const dir = tempDir();
  const small = join(dir, 'small');
  mkdirSync(small);
  const mounted = mount(small, 'size=1m');
  t.diagnostic(mounted ? 'full disk: a 1 MiB tmpfs' : 'full disk: SQLite max_page_count = 60 (no tmpfs mount permitted)');
  const env = mounted ? {} : { NTK_SWEEP_FAULT_MAX_PAGE_COUNT: '60' };
  try {
    const db = join(small, 'db.sqlite');
    const n = 300;
    const spec = writeSpec(dir, 's', debugYaml('full', Array.from({ length: n }, (_, i) => i)));
    const r = await runCli(['run', spec, '--db', db, '--threads', '2'], { env });
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /storage error: SQLITE_FULL: .*disk is full/);

    // consistent: every grid point is either done with all its metrics, or has none at all
    assert.deepEqual(await sql(db, 'PRAGMA integrity_check'), [{ integrity_check: 'ok' }]);
    const done = await sql(db, "SELECT COUNT(*) AS n FROM tasks WHERE status = 'done'");
    assert.ok(Number(done[0].n) > 0 && Number(done[0].n) < n, `${done[0].n} done before the disk filled up`);
    const half = await sql(
      db,
      `SELECT t.id, t.status, (SELECT COUNT(*) FROM metrics m WHERE m.task_id = t.id) AS m, (SELECT COUNT(*) FROM final_metrics f WHERE f.task_id = t.id) AS f
       FROM tasks t WHERE NOT ((t.status = 'done' AND m = 2 AND f = 2) OR (t.status != 'done' AND m = 0 AND f = 0))`,
    );
    assert.deepEqual(half, [], 'no half-written grid point');
    for (const [id, k] of await endsPerTask(db)) assert.equal(k, 1, `${id} finished once`);

    if (mounted) remount(small, 'size=64m');
    const again = await runCli(['run', spec, '--db', db, '--threads', '2', '--json']);
    assert.equal(again.code, 0, again.stderr);
    const rows = await sql(db, "SELECT json_extract(params, '$.x') AS x, y, attempts FROM results WHERE sweep = 'full'");
    assert.equal(rows.length, n);
    for (const row of rows) {
      assert.equal(row.y, (row.x as number) ** 2 + 1);
      assert.equal(row.attempts, 1);
    }
  } finally {
    if (mounted) umount(small);
  }
});
