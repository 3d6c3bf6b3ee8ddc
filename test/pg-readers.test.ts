/**
 * The readers on PostgreSQL: `report`, `export` and `slope` read a sweep run by workers on a real
 * PostgreSQL server (started by the test) and give what they give for the same spec run on SQLite;
 * a filter naming a param that is not a column gets the PostgreSQL spelling; and a worker on
 * another machine finds a csv sweep's data by content through its own copy of the spec.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { runCli, tempDir, writeSpec } from './helpers/cli.js';
import { sql } from './helpers/fault.js';
import { startPostgres } from './helpers/pg.js';

const server = await startPostgres();
const skip = typeof server === 'string' ? server : false;
after(() => {
  if (typeof server !== 'string') server.close();
});

const SPEC = `name: prep
kind: kernel
dataset: { name: sphere, d: 6, target: linear }
fixed: { n_test: 20 }
grid:
  n_train: [16, 32]
  depth: [1, 2, 4]
  t: [1, 10, inf]
  data_seed: [0, 1]
`;

/** The same kernel sweep on SQLite (one `run`) and on PostgreSQL (two workers). */
async function bothDialects(): Promise<{ dir: string; lite: string; pg: string }> {
  if (typeof server === 'string') throw new Error(server);
  const dir = tempDir();
  const spec = writeSpec(dir, 'prep', SPEC);
  const lite = join(dir, 'one.sqlite');
  const pg = await server.newDatabase();
  const r = await runCli(['run', spec, '--db', lite, '--threads', '1', '--quiet', '--linalg', 'js']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await runCli(['submit', spec, '--db', pg])).code, 0);
  const ws = await Promise.all([1, 2].map(() => runCli(['worker', '--db', pg, '--threads', '1', '--quiet', '--linalg', 'js'])));
  for (const w of ws) assert.equal(w.code, 0, w.stderr);
  return { dir, lite, pg };
}

let shared: Promise<{ dir: string; lite: string; pg: string }> | undefined;
const sweeps = () => (shared ??= bothDialects());

test('report on PostgreSQL draws the same marks as on SQLite (data.csv equal), and the overview lists the sweep', { skip }, async () => {
  const { dir, lite, pg } = await sweeps();
  const csv: Record<string, string>[][] = [];
  for (const [name, db] of [['lite', lite], ['pg', pg]]) {
    const r = await runCli(['report', 'prep', '--db', db, '--out', join(dir, name), '--fit', '--json']);
    assert.equal(r.code, 0, r.stderr);
    csv.push(parse(readFileSync(join(dir, name, 'data.csv'), 'utf8'), { columns: true }) as Record<string, string>[]);
  }
  assert.ok(csv[0].length >= 36, `a real comparison (${csv[0].length} marks)`);
  assert.deepEqual(csv[1], csv[0]);
  const o = await runCli(['report', '--db', pg, '--out', join(dir, 'overview'), '--json']);
  assert.equal(o.code, 0, o.stderr);
  const info = JSON.parse(o.stdout) as { sweeps: { sweep: string; done: number; last_run: string | null }[] };
  assert.deepEqual(info.sweeps.map((s) => [s.sweep, s.done]), [['prep', 36]]);
  assert.ok(info.sweeps[0].last_run !== null, 'the last run time is read');
});

test('export on PostgreSQL gives the rows and series that SQLite gives', { skip }, async () => {
  const { lite, pg } = await sweeps();
  const drop = (rows: Record<string, string>[]) => rows.map(({ duration_s: _d, ...r }) => r);
  const results = await Promise.all([lite, pg].map(async (db) => {
    const r = await runCli(['export', 'prep', '--db', db]);
    assert.equal(r.code, 0, r.stderr);
    return drop(parse(r.stdout, { columns: true }) as Record<string, string>[]);
  }));
  assert.equal(results[0].length, 36);
  assert.deepEqual(results[1], results[0]);
  const series = await Promise.all([lite, pg].map(async (db) => (await runCli(['export', 'prep', '--series', '--format', 'json', '--db', db])).stdout));
  assert.ok(JSON.parse(series[0]).length > 100);
  assert.equal(series[1], series[0]);
});

test('a filter naming a param that is not a column: SQLite hints json_extract, PostgreSQL params->>', { skip }, async () => {
  const { dir, lite, pg } = await sweeps();
  const lr = await runCli(['report', 'prep', '--db', lite, '--out', join(dir, 'x1'), '--where', 'target = 1']);
  assert.equal(lr.code, 2);
  assert.match(lr.stderr, /json_extract\(params, '\$\.target'\)/);
  const pr = await runCli(['report', 'prep', '--db', pg, '--out', join(dir, 'x2'), '--where', 'target = 1']);
  assert.equal(pr.code, 2);
  assert.match(pr.stderr, /params->>'target'/);
  const ps = await runCli(['slope', 'prep', '--metric', 'test_mse', '--x', 'n_train', '--by', 'depth', '--seed', 'data_seed', '--db', pg, '--where', 'target = 1']);
  assert.equal(ps.code, 2);
  assert.match(ps.stderr, /params->>'target'/);
  const q = await runCli(['query', 'SELECT target FROM results', '--db', pg]);
  assert.equal(q.code, 2);
  assert.match(q.stderr, /params->>'target'/);
  const ok = await runCli(['report', 'prep', '--db', pg, '--out', join(dir, 'x3'), '--where', "params->>'target' = 'linear' AND n_train = 16", '--json']);
  assert.equal(ok.code, 0, ok.stderr);
});

test('a worker on another machine runs a csv sweep from its own copy of the data, found by content through --spec', { skip }, async () => {
  if (typeof server === 'string') return;
  const dir = tempDir();
  const rows = Array.from({ length: 16 }, (_, i) => `${Math.cos(i)},${Math.sin(3 * i)},${i % 2},${i < 12 ? 'train' : 'test'}`);
  const yaml = 'name: csvw\nkind: kernel\ndataset: { name: csv, path: data/points.csv }\nfixed: { n_train: 12, n_test: 4 }\ngrid: { depth: [1, 2, 3] }\n';
  const here = join(dir, 'submitter');
  mkdirSync(join(here, 'data'), { recursive: true });
  writeFileSync(join(here, 'data', 'points.csv'), ['a,b,label,split', ...rows].join('\n') + '\n');
  writeSpec(here, 'csvw', yaml);
  const there = join(dir, 'other-machine');
  cpSync(here, there, { recursive: true });
  const db = await server.newDatabase();
  assert.equal((await runCli(['submit', join(here, 'csvw.yaml'), '--db', db])).code, 0);
  rmSync(here, { recursive: true }); // the submitting machine's files are not on the worker's machine
  const w = await runCli(['worker', '--db', db, '--threads', '1', '--quiet', '--spec', join(there, 'csvw.yaml')]);
  assert.equal(w.code, 0, w.stderr);
  assert.deepEqual(await sql(db, "SELECT status, COUNT(*) AS n FROM tasks GROUP BY status"), [{ status: 'done', n: 3 }]);
  assert.deepEqual(await sql(db, "SELECT COUNT(*) AS n FROM task_log WHERE event = 'failed'"), [{ n: 0 }]);
});
