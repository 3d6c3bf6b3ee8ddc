/**
 * csv data is identified by its content (SHA-256) and parsing options, never by its path: a
 * copied or moved project resumes its sweep, databases written with path-based ids are
 * re-identified, and a file changed after registration is an error, not other numbers.
 * Real CLI processes and real database files.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadDataset, type DataParams } from '../src/data/index.js';
import { legacyTaskId } from '../src/spec/expand.js';
import { openStore } from '../src/store/open.js';
import { decodeParams } from '../src/util/json.js';
import { runCli, tempDir, writeSpec } from './helpers/cli.js';
import { sql } from './helpers/fault.js';

const rows = Array.from({ length: 16 }, (_, i) => `${Math.cos(i)},${Math.sin(3 * i)},${i % 2},${i < 12 ? 'train' : 'test'}`);
const csvText = ['a,b,label,split', ...rows].join('\n') + '\n';
const specYaml = `name: csvid
kind: kernel
dataset: { name: csv, path: data/points.csv }
fixed: { n_train: 12, n_test: 4 }
grid: { depth: [1, 2, 3] }
`;

/** Run a writing statement on the real database (test setup only). */
async function write(db: string, q: string): Promise<void> {
  const store = await openStore(db);
  try {
    await store.query(q);
  } finally {
    await store.close();
  }
}

function project(root: string): string {
  mkdirSync(join(root, 'data'), { recursive: true });
  writeFileSync(join(root, 'data', 'points.csv'), csvText);
  return writeSpec(root, 'csvid', specYaml);
}

test('a copied project resumes its csv sweep: same task ids, nothing recomputed, no duplicate rows', async () => {
  const dir = tempDir();
  const db = join(dir, 'db.sqlite');
  const first = await runCli(['run', project(join(dir, 'a')), '--db', db, '--json', '--threads', '1']);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(JSON.parse(first.stdout).executed, 3);
  cpSync(join(dir, 'a'), join(dir, 'b'), { recursive: true });
  const second = await runCli(['run', join(dir, 'b', 'csvid.yaml'), '--db', db, '--json', '--threads', '1']);
  assert.equal(second.code, 0, second.stderr);
  const s = JSON.parse(second.stdout);
  assert.equal(s.new_grid_points, 0);
  assert.equal(s.executed, 0);
  assert.equal(s.total, 3);
  assert.equal((await sql(db, "SELECT COUNT(*) AS n FROM results WHERE sweep = 'csvid'"))[0].n, 3);
});

test('a pending csv point registered from another folder runs from the current folder\'s copy', async () => {
  const dir = tempDir();
  const db = join(dir, 'db.sqlite');
  const a = project(join(dir, 'a'));
  // points registered (and here run) from folder a, set back to pending; then folder a moves to b
  assert.equal((await runCli(['run', a, '--db', db, '--json', '--threads', '1'])).code, 0);
  await write(db, "UPDATE tasks SET status = 'pending'");
  renameSync(join(dir, 'a'), join(dir, 'b'));
  const again = await runCli(['run', join(dir, 'b', 'csvid.yaml'), '--db', db, '--json', '--threads', '1']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).executed, 3);
});

test('a database with path-based csv ids is re-identified on the next run: finished points are kept, none is added', async () => {
  const dir = tempDir();
  const db = join(dir, 'db.sqlite');
  const spec = project(join(dir, 'a'));
  assert.equal((await runCli(['run', spec, '--db', db, '--json', '--threads', '1'])).code, 0);
  const before = await sql(db, "SELECT task_id, offdiag_mean FROM results WHERE sweep = 'csvid' ORDER BY depth");
  // turn the database into one written by the path-based rule
  const store = await openStore(db);
  const tasks = (await store.query('SELECT id, kind, params FROM tasks')) as { id: string; kind: string; params: string }[];
  const legacy = tasks.map((t) => ({ from: t.id, to: legacyTaskId(t.kind, decodeParams(t.params))! }));
  assert.ok(legacy.every((p) => p.to !== p.from), 'the path-based id differs from the content id');
  assert.equal(await store.rekeyTasks(legacy), 3);
  await store.close();

  const again = await runCli(['run', spec, '--db', db, '--json', '--threads', '1']);
  assert.equal(again.code, 0, again.stderr);
  const s = JSON.parse(again.stdout);
  assert.equal(s.new_grid_points, 0);
  assert.equal(s.executed, 0);
  assert.match(again.stderr, /3 csv grid points of this database re-identified/);
  assert.deepEqual(await sql(db, "SELECT task_id, offdiag_mean FROM results WHERE sweep = 'csvid' ORDER BY depth"), before);
  assert.equal((await sql(db, 'SELECT COUNT(*) AS n FROM metrics WHERE task_id NOT IN (SELECT id FROM tasks)'))[0].n, 0);
});

test('a csv file changed after its grid points were registered fails them naming the cause (no other numbers under the old id)', async () => {
  const dir = tempDir();
  const db = join(dir, 'db.sqlite');
  const spec = project(join(dir, 'a'));
  assert.equal((await runCli(['run', spec, '--db', db, '--json', '--threads', '1'])).code, 0);
  const stored = (await sql(db, 'SELECT params FROM tasks LIMIT 1'))[0].params as string;
  writeFileSync(join(dir, 'a', 'data', 'points.csv'), csvText.replace('0,train\n', '1,train\n'));
  assert.throws(() => loadDataset(decodeParams(stored) as unknown as DataParams), /changed since the grid point was registered/);
});
