/**
 * `ntk-sweep merge`: finished grid points of SQLite files (offline nodes) copied into a store of
 * either dialect, a real SQLite file and a real PostgreSQL server started by the test. Merging is
 * idempotent by task id, copies every metric bit for bit, completes points left pending in the
 * target, and reports (never overwrites) a point finished with other values. Real CLI processes.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openStore } from '../src/store/open.js';
import { runCli, tempDir, writeSpec } from './helpers/cli.js';
import { debugYaml, endsPerTask, sql } from './helpers/fault.js';
import { startPostgres } from './helpers/pg.js';

const server = await startPostgres();
after(() => {
  if (typeof server !== 'string') server.close();
});

/** A fresh target database of each dialect: its URL, or the reason the dialect cannot run here. */
const TARGETS: [string, (() => Promise<string>) | string][] = [
  ['sqlite', async () => join(tempDir(), 'target.sqlite')],
  ['postgres', typeof server === 'string' ? server : () => server.newDatabase()],
];

function onBoth(name: string, fn: (target: () => Promise<string>) => Promise<void>): void {
  for (const [dialect, mk] of TARGETS) test(`${name} [${dialect}]`, typeof mk === 'string' ? { skip: mk } : {}, () => fn(mk as () => Promise<string>));
}

const TRAIN = 'name: mtrain\nkind: train\ndataset: { name: sphere, d: 6 }\nfixed:\n  n_train: 12\n  n_test: 6\n  lr: 0.5\n  steps: 5\ngrid:\n  width: [8, 16]\n  depth: [2, 3]\n';

/** An offline node's SQLite file: the train sweep and a debug sweep run to the end. */
async function node(dir: string, name: string): Promise<string> {
  const db = join(dir, `${name}.sqlite`);
  for (const spec of [writeSpec(dir, 'mtrain', TRAIN), writeSpec(dir, 'mdebug', debugYaml('mdebug', [0, 1, 2, 3, 4, 5]))]) {
    const r = await runCli(['run', spec, '--db', db, '--threads', '1', '--quiet', '--linalg', 'js']);
    assert.equal(r.code, 0, r.stderr);
  }
  return db;
}

async function merge(args: string[]): Promise<{ code: number | null; out: Record<string, unknown> & { sources: Record<string, number>[] }; stderr: string }> {
  const r = await runCli(['merge', ...args, '--json']);
  return { code: r.code, out: JSON.parse(r.stdout || '{"sources":[]}'), stderr: r.stderr };
}

/** Every metric row (and final value) of a database, in one order. */
async function allMetrics(db: string): Promise<{ metrics: Record<string, unknown>[]; finals: Record<string, unknown>[] }> {
  return {
    metrics: await sql(db, 'SELECT task_id, name, step, value FROM metrics ORDER BY task_id, name, step'),
    finals: await sql(db, 'SELECT task_id, name, step, value FROM final_metrics ORDER BY task_id, name'),
  };
}

function assertBitIdentical(got: Record<string, unknown>[], want: Record<string, unknown>[], what: string): void {
  assert.equal(got.length, want.length, `${what}: row count`);
  const differ = got.filter((r, i) => !Object.is(Number(r.value), Number(want[i].value)) || r.task_id !== want[i].task_id || r.name !== want[i].name || Number(r.step) !== Number(want[i].step));
  assert.deepEqual(differ.slice(0, 3), [], `${what}: every value bit-identical`);
}

onBoth('merging an offline node twice copies every finished point once, metrics bit-identical, and the second merge adds nothing', async (target) => {
  const dir = tempDir();
  const src = await node(dir, 'node1');
  const db = await target();
  const first = await merge([src, '--db', db]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.out.sources[0].added, 10);
  assert.equal(first.out.sources[0].attached, 10);
  const second = await merge([src, '--db', db]);
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual([second.out.sources[0].added, second.out.sources[0].completed, second.out.sources[0].same, second.out.sources[0].attached], [0, 0, 10, 0]);
  const text = await runCli(['merge', src, '--db', db]);
  assert.match(text.stdout, /all already in the target: nothing added/);
  const [want, got] = [await allMetrics(src), await allMetrics(db)];
  assert.ok(want.metrics.length > 40, `a real comparison (${want.metrics.length} metric rows)`);
  assertBitIdentical(got.metrics, want.metrics, 'metrics');
  assertBitIdentical(got.finals, want.finals, 'final_metrics');
  const ends = await endsPerTask(db);
  assert.equal(ends.size, 10);
  assert.deepEqual([...new Set(ends.values())], [1], 'one accepted end per point in the audit trail');
  const counts = await sql(db, 'SELECT sweep, COUNT(*) AS n FROM results WHERE status = \'done\' GROUP BY sweep ORDER BY sweep');
  assert.deepEqual(counts.map((r) => [r.sweep, Number(r.n)]), [['mdebug', 6], ['mtrain', 4]]);
  const facts = await sql(db, "SELECT run_info FROM tasks WHERE run_info IS NOT NULL");
  assert.equal(facts.length, 10, 'run facts copied');
  assert.match(String(facts[0].run_info), /backend/);
});

onBoth('a conflicting file (same task id, another metric value) is reported with exit 4 and never overwrites the target', async (target) => {
  const dir = tempDir();
  const good = await node(dir, 'good');
  const bad = await node(dir, 'bad');
  const victim = String((await sql(bad, "SELECT task_id FROM results WHERE sweep = 'mdebug' AND y = 10"))[0].task_id);
  const w = await openStore(bad);
  try {
    await w.query(`UPDATE metrics SET value = value + 1e-12 WHERE task_id = '${victim}' AND name = 'y'`);
    await w.query(`UPDATE final_metrics SET value = value + 1e-12 WHERE task_id = '${victim}' AND name = 'y'`);
  } finally {
    await w.close();
  }
  const db = await target();
  assert.equal((await merge([good, '--db', db])).code, 0);
  const before = await allMetrics(db);
  const dry = await merge([bad, '--db', db, '--dry-run']);
  assert.equal(dry.code, 4, dry.stderr);
  const r = await runCli(['merge', bad, '--db', db]);
  assert.equal(r.code, 4, r.stderr);
  assert.match(r.stdout, new RegExp(`1 CONFLICT\\(S\\) left untouched[\\s\\S]*conflict ${victim}: metric y@0: 10\\.000000000001 here, 10 in the target`));
  const afterMerge = await allMetrics(db);
  assertBitIdentical(afterMerge.metrics, before.metrics, 'target metrics after the conflicting merge');
  assertBitIdentical(afterMerge.finals, before.finals, 'target final values after the conflicting merge');
});

onBoth('merge completes points the target has pending, and a dry run writes nothing', async (target) => {
  const dir = tempDir();
  const src = await node(dir, 'offline');
  const db = await target();
  const spec = writeSpec(tempDir(), 'mdebug', debugYaml('mdebug', [0, 1, 2, 3, 4, 5, 6, 7]));
  assert.equal((await runCli(['submit', spec, '--db', db])).code, 0);
  const dry = await merge([src, '--db', db, '--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.deepEqual([dry.out.sources[0].completed, dry.out.sources[0].added], [6, 4]);
  assert.deepEqual(await sql(db, "SELECT COUNT(*) AS n FROM tasks WHERE status = 'done'"), [{ n: 0 }], 'the dry run wrote nothing');
  const real = await merge([src, '--db', db]);
  assert.equal(real.code, 0, real.stderr);
  assert.deepEqual([real.out.sources[0].completed, real.out.sources[0].added], [6, 4]);
  const w = await runCli(['worker', '--db', db, '--threads', '1', '--quiet']);
  assert.equal(w.code, 0, w.stderr);
  const done = await sql(db, "SELECT COUNT(*) AS n FROM task_log WHERE event = 'done' AND owner LIKE '%:%'");
  assert.equal(Number(done[0].n), 12, '10 merged ends + 2 points run by the worker, none twice');
  assert.deepEqual([...new Set((await endsPerTask(db)).values())], [1]);
});

test('merge refuses the target itself as a source, with exit 2', async () => {
  const db = join(tempDir(), 'x.sqlite');
  const r = await runCli(['merge', db, '--db', db]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /is the target database itself/);
});

test('merge of a source that does not exist exits 2 naming it, and creates no target', async () => {
  const dir = tempDir();
  const db = join(dir, 'target.sqlite');
  const missing = join(dir, 'nonexistent.sqlite');
  const r = await runCli(['merge', missing, '--db', db]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no database to merge from at .*nonexistent\.sqlite/);
  assert.equal(existsSync(db), false, 'the target was not created');
});
