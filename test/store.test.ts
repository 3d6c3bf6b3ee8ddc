/**
 * The Store contract, run on both dialects: a real SQLite file and a real PostgreSQL server
 * started by the test (skipped, with the reason printed, only where PostgreSQL cannot run). The
 * lease and finish protocol under the races that a crashed, stalled or concurrent coordinator can
 * cause, played out step by step.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openStore } from '../src/store/open.js';
import { SCHEMA_VERSION } from '../src/store/schema.js';
import type { NewTask, Store } from '../src/store/store.js';
import { SqliteDb } from '../src/store/sqlite-db.js';
import type { MetricRow } from '../src/tasks/types.js';
import { tempDir } from './helpers/cli.js';
import { startPostgres } from './helpers/pg.js';

const LEASE = 60_000;

const server = await startPostgres();
after(() => {
  if (typeof server !== 'string') server.close();
});

/** A fresh database of each dialect: its URL, or the reason the dialect cannot run here. */
const BACKENDS: [string, (() => Promise<string>) | string][] = [
  ['sqlite', async () => join(tempDir(), 'db.sqlite')],
  ['postgres', typeof server === 'string' ? server : () => server.newDatabase()],
];

let newUrl: () => Promise<string> = BACKENDS[0][1] as () => Promise<string>;

/** A contract test, once per dialect. */
function contract(name: string, fn: () => Promise<void>): void {
  for (const [backend, mk] of BACKENDS) {
    test(`${name} [${backend}]`, typeof mk === 'string' ? { skip: mk } : {}, async () => {
      newUrl = mk as () => Promise<string>;
      await fn();
    });
  }
}

async function fresh(n = 3): Promise<{ store: Store; ids: string[]; path: string }> {
  const path = await newUrl();
  const store = await openStore(path);
  const tasks: NewTask[] = Array.from({ length: n }, (_, i) => ({
    id: `task${i}`,
    kind: 'debug',
    params: { x: i },
    batchKey: '',
    cost: n - i,
    batchOrder: 0,
  }));
  await store.registerSweep({ name: 's', kind: 'debug', specJson: '{}', specHash: 'h' }, tasks);
  return { store, ids: tasks.map((t) => t.id), path };
}

const claim = (store: Store, owner: string, leaseMs = LEASE) => store.claimBatch('s', { owner, leaseMs, maxAttempts: 3, maxOrdersPerBatch: Infinity });

async function row(store: Store, id: string): Promise<Record<string, unknown>> {
  return (await store.query(`SELECT status, attempts, lease_owner, run_info FROM tasks WHERE id = '${id}'`))[0];
}

/** Finish one task through the batched finish (a batch of one). */
async function finish(store: Store, id: string, owner: string, rows: MetricRow[], info: Record<string, unknown> = {}): Promise<boolean> {
  const [ok] = await store.finishTasks([{ taskId: id, owner, end: { status: 'done' }, rows, durationS: 1, info }]);
  return ok;
}

const rowsOf = (x: number): MetricRow[] => [
  { step: 0, name: 'y', value: x * x + 1 },
  { step: 1, name: 'y', value: x * x + 2 },
];

contract('a finish by a coordinator whose lease passed to another is recorded once: the first finish wins and later ones change nothing', async () => {
  const { store } = await fresh(1);
  try {
    const [a] = await claim(store, 'hostA:1:a', 1);
    assert.equal(a.attempt, 1);
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(await store.reclaimExpired(), 1, 'the expired lease is reclaimed');
    const [b] = await claim(store, 'hostB:2:b');
    assert.equal(b.id, a.id);
    assert.equal(b.attempt, 1, 'the reclaimed attempt is not counted');
    // A (stalled, lease lost) finishes first: accepted, the result is deterministic
    assert.equal(await finish(store, a.id, 'hostA:1:a', rowsOf(2), { who: 'A' }), true);
    // B finishes later with different (corrupt) numbers: nothing changes
    assert.equal(await finish(store, b.id, 'hostB:2:b', [{ step: 1, name: 'y', value: 999 }], { who: 'B' }), false);
    await store.writeMetrics([{ taskId: b.id, rows: [{ step: 1, name: 'y', value: 999 }] }]);
    assert.equal(await store.failTask(b.id, 'hostB:2:b', 'late failure', 1), false);
    assert.equal(await store.releaseTasks('hostB:2:b'), 0);
    const r = await row(store, a.id);
    assert.equal(r.status, 'done');
    assert.equal(r.attempts, 1);
    assert.equal(r.lease_owner, null);
    assert.equal(JSON.parse(String(r.run_info)).who, 'A');
    const m = await store.query(`SELECT step, value FROM metrics WHERE task_id = '${a.id}' ORDER BY step`);
    assert.deepEqual(m, [
      { step: 0, value: 5 },
      { step: 1, value: 6 },
    ]);
    const f = await store.query(`SELECT step, value FROM final_metrics WHERE task_id = '${a.id}'`);
    assert.deepEqual(f, [{ step: 1, value: 6 }]);
    const log = await store.query(`SELECT owner, event FROM task_log WHERE task_id = '${a.id}' ORDER BY id`);
    assert.deepEqual(
      log.map((e) => `${e.event}:${e.owner}`),
      ['claim:hostA:1:a', 'reclaimed:hostA:1:a', 'claim:hostB:2:b', 'done:hostA:1:a', 'ignored:hostB:2:b'],
    );
  } finally {
    await store.close();
  }
});

contract('a live lease is never handed out twice, and a failed or released task is claimable again', async () => {
  const { store, ids } = await fresh(3);
  try {
    const a = await claim(store, 'h:1:a');
    const b = await claim(store, 'h:2:b');
    const c = await claim(store, 'h:3:c');
    const d = await claim(store, 'h:4:d');
    assert.deepEqual([...a, ...b, ...c].map((t) => t.id).sort(), ids);
    assert.equal(d.length, 0, 'nothing is left while every lease is live');
    assert.equal(await store.reclaimExpired(), 0, 'live leases are not reclaimed');
    assert.equal(await store.failTask(a[0].id, 'h:2:b', 'not my task', 1), false, 'only the lease holder can fail a task');
    assert.equal(await store.failTask(a[0].id, 'h:1:a', 'boom', 1), true);
    assert.equal(await store.releaseTasks('h:2:b', undefined, 'interrupted'), 1);
    const again = await claim(store, 'h:5:e');
    const again2 = await claim(store, 'h:5:e');
    assert.deepEqual([...again, ...again2].map((t) => t.id).sort(), [a[0].id, b[0].id].sort());
    assert.deepEqual(
      [...again, ...again2].map((t) => [t.id, t.attempt]).sort(),
      [
        [a[0].id, 2],
        [b[0].id, 1],
      ].sort(),
      'a failure counts as an attempt, an interruption does not',
    );
  } finally {
    await store.close();
  }
});

contract('a checkpoint is saved with the metric rows sent before it, only for the lease holder, handed to the next claim and deleted when the task finishes', async () => {
  const { store } = await fresh(1);
  try {
    const [t] = await claim(store, 'h:1:a');
    const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(await store.saveCheckpoint(t.id, 'h:1:a', 50, bytes, rowsOf(0)), true);
    assert.equal(await store.saveCheckpoint(t.id, 'h:9:z', 60, new Uint8Array([9]), []), false, 'a non-holder cannot overwrite it');
    const rows = await store.query(`SELECT COUNT(*) AS n FROM metrics WHERE task_id = '${t.id}'`);
    assert.equal(rows[0].n, 2, 'rows sent before the checkpoint are stored with it');
    // the holder dies; the next claim gets the checkpoint back
    assert.equal(await store.releaseTasks('h:1:a', undefined, 'owner process 1 is dead'), 1);
    const [t2] = await claim(store, 'h:2:b');
    assert.equal(t2.checkpoint?.step, 50);
    assert.deepEqual([...t2.checkpoint!.data], [...bytes]);
    assert.equal(await finish(store, t2.id, 'h:2:b', []), true);
    const left = await store.query('SELECT COUNT(*) AS n FROM checkpoints');
    assert.equal(left[0].n, 0, 'checkpoints of finished tasks are deleted');
    assert.equal(await store.saveCheckpoint(t2.id, 'h:2:b', 70, bytes, []), false, 'no checkpoint for a finished task');
  } finally {
    await store.close();
  }
});

test('a database file is migrated from schema version 1 and keeps its data [sqlite]', async () => {
  newUrl = BACKENDS[0][1] as () => Promise<string>;
  const { store, path } = await fresh(3);
  const [t] = await claim(store, 'h:1:a');
  await finish(store, t.id, 'h:1:a', rowsOf(1));
  await store.close();
  // make it a version-1 database: undo what migrations 2, 3, 4 and 5 did (version 1 gave every
  // train/debug point its own batch key `t:<id>`)
  const raw = await SqliteDb.open(path);
  await raw.exec(`UPDATE meta SET value = '1' WHERE key = 'schema_version'; DROP TABLE checkpoints; DROP TABLE task_log; DROP TABLE workers;
    DROP VIEW current_results; ALTER TABLE sweep_tasks DROP COLUMN spec_hash;
    DROP INDEX tasks_pending; DROP INDEX tasks_failed; DROP INDEX tasks_batch; CREATE INDEX tasks_status ON tasks (status, batch_key);
    UPDATE tasks SET batch_key = 't:' || id;`);
  await raw.close();
  const again = await openStore(path);
  try {
    const v = await again.query("SELECT value FROM meta WHERE key = 'schema_version'");
    assert.equal(v[0].value, String(SCHEMA_VERSION));
    const done = await again.query("SELECT COUNT(*) AS n FROM tasks WHERE status = 'done'");
    assert.equal(done[0].n, 1);
    assert.deepEqual(await again.query('SELECT COUNT(*) AS n FROM checkpoints'), [{ n: 0 }]);
    assert.deepEqual(await again.query('SELECT DISTINCT batch_key FROM tasks'), [{ batch_key: '' }], 'independent points get the empty batch key');
    assert.deepEqual(await again.query('SELECT COUNT(*) AS n FROM current_results'), [{ n: 0 }], 'which spec generated the old points is not known yet');
    await again.registerSweep({ name: 's', kind: 'debug', specJson: '{}', specHash: 'h' }, [0, 1, 2].map((i) => ({ id: `task${i}`, kind: 'debug', params: { x: i }, batchKey: '', cost: 3 - i, batchOrder: 0 })));
    assert.deepEqual(await again.query('SELECT COUNT(*) AS n FROM current_results'), [{ n: 3 }], 'the next registration of the same spec marks them current');
    const both = await again.claimBatch('s', { owner: 'h:2:b', leaseMs: LEASE, maxAttempts: 3, maxOrdersPerBatch: Infinity, chunk: { maxTasks: 10, maxCost: 10 } });
    assert.equal(both.length, 2, 'the two remaining points are claimed together');
  } finally {
    await again.close();
  }
});

contract('a chunked claim takes independent points most expensive first, within the task and cost limits', async () => {
  const { store } = await fresh(0);
  try {
    const costs = [0.05, 3, 0.1, 0.01, 0.2, 0.02, 0.01];
    const tasks: NewTask[] = costs.map((cost, i) => ({ id: `p${i}`, kind: 'debug', params: { x: i }, batchKey: '', cost, batchOrder: 0 }));
    await store.registerSweep({ name: 's', kind: 'debug', specJson: '{}', specHash: 'h' }, tasks);
    const opts = { owner: 'h:1:a', leaseMs: LEASE, maxAttempts: 3, maxOrdersPerBatch: Infinity, chunk: { maxTasks: 3, maxCost: 0.32 } };
    const ids = async () => (await store.claimBatch('s', opts)).map((t) => t.id);
    assert.deepEqual(await ids(), ['p1'], 'the most expensive point goes alone: it exceeds the cost limit by itself');
    assert.deepEqual(await ids(), ['p4', 'p2'], 'then 0.2 + 0.1 = 0.3; adding 0.05 would exceed 0.32');
    assert.deepEqual(await ids(), ['p0', 'p5', 'p3'], 'at most 3 points');
    assert.deepEqual(await ids(), ['p6']);
    assert.deepEqual(await ids(), []);
    const running = await store.query("SELECT COUNT(*) AS n FROM tasks WHERE status = 'running' AND lease_owner = 'h:1:a' AND attempts = 1");
    assert.equal(running[0].n, costs.length);
  } finally {
    await store.close();
  }
});

contract('a shared-work batch is claimed whole, or split by batch order', async () => {
  const { store } = await fresh(0);
  try {
    const tasks: NewTask[] = [];
    for (const key of ['k:a', 'k:b']) for (const depth of [3, 1, 2]) tasks.push({ id: `${key}-${depth}`, kind: 'kernel', params: { depth }, batchKey: key, cost: key === 'k:a' ? 2 : 1, batchOrder: depth });
    await store.registerSweep({ name: 's', kind: 'kernel', specJson: '{}', specHash: 'h' }, tasks);
    const opts = { owner: 'h:1:a', leaseMs: LEASE, maxAttempts: 3, maxOrdersPerBatch: 2 };
    const ids = async () => (await store.claimBatch('s', opts)).map((t) => t.id).sort();
    assert.deepEqual(await ids(), ['k:a-1', 'k:a-2'], 'the costlier batch first, its two smallest depths');
    assert.deepEqual(await ids(), ['k:a-3']);
    assert.deepEqual(await ids(), ['k:b-1', 'k:b-2']);
    assert.deepEqual(await ids(), ['k:b-3']);
    assert.deepEqual(await ids(), []);
  } finally {
    await store.close();
  }
});

contract('finishing many points is one transaction: first finish wins per point, and an unknown point rolls the whole batch back', async () => {
  const { store, ids } = await fresh(4);
  try {
    const claimed = await store.claimBatch('s', { owner: 'h:1:a', leaseMs: LEASE, maxAttempts: 3, maxOrdersPerBatch: Infinity, chunk: { maxTasks: 10, maxCost: 100 } });
    assert.equal(claimed.length, 4);
    const item = (id: string, x: number) => ({ taskId: id, owner: 'h:1:a', end: { status: 'done' as const }, rows: rowsOf(x), durationS: 0.5, info: { x } });
    await assert.rejects(store.finishTasks([item(ids[0], 0), item('nosuch', 9)]), /no task nosuch/);
    assert.deepEqual(await store.query("SELECT COUNT(*) AS n FROM metrics"), [{ n: 0 }], 'nothing of the failed batch was written');
    assert.deepEqual(await store.finishTasks([item(ids[0], 0), item(ids[1], 1), item(ids[0], 7)]), [true, true, false]);
    assert.deepEqual(await store.finishTasks([item(ids[1], 8), item(ids[2], 2)]), [false, true]);
    const f = await store.query('SELECT task_id, step, value FROM final_metrics ORDER BY task_id');
    assert.deepEqual(f, [0, 1, 2].map((i) => ({ task_id: ids[i], step: 1, value: i * i + 2 })), 'the first finish of each point is kept');
    const st = await store.query('SELECT id, status, run_info FROM tasks ORDER BY id');
    assert.deepEqual(st.map((r) => r.status), ['done', 'done', 'done', 'running']);
    assert.deepEqual(st.slice(0, 3).map((r) => JSON.parse(String(r.run_info)).x), [0, 1, 2]);
    const log = await store.query("SELECT task_id, event FROM task_log WHERE event != 'claim' ORDER BY id");
    assert.deepEqual(log.map((e) => `${e.task_id}:${e.event}`), [`${ids[0]}:done`, `${ids[1]}:done`, `${ids[0]}:ignored`, `${ids[1]}:ignored`, `${ids[2]}:done`]);
  } finally {
    await store.close();
  }
});

contract('stores claiming at the same instant get distinct points, and together all of them', async () => {
  const { store, path } = await fresh(0);
  // ten stores, each with its own connections, like ten processes; SQLite in one process: three
  // (each connection blocked on the file lock holds one of libuv's four threads)
  const n = store.dialect === 'sqlite' ? 3 : 10;
  const tasks: NewTask[] = Array.from({ length: 4 * n }, (_, i) => ({ id: `c${String(i).padStart(2, '0')}`, kind: 'debug', params: { x: i }, batchKey: '', cost: 1, batchOrder: 0 }));
  await store.registerSweep({ name: 's', kind: 'debug', specJson: '{}', specHash: 'h' }, tasks);
  const others: Store[] = [];
  for (let k = 0; k < n; k++) others.push(await openStore(path));
  try {
    const got = await Promise.all(
      others.map((s, k) => s.claimBatch('s', { owner: `h:${k + 1}:x`, leaseMs: LEASE, maxAttempts: 3, maxOrdersPerBatch: Infinity, chunk: { maxTasks: 4, maxCost: 100 } })),
    );
    const all = got.flat().map((t) => t.id);
    assert.equal(new Set(all).size, all.length, 'no point is claimed twice');
    assert.equal(all.length, 4 * n, 'each claim of four takes four points: together all of them');
    const owners = await store.query("SELECT COUNT(DISTINCT lease_owner) AS n, COUNT(*) AS m FROM tasks WHERE status = 'running'");
    assert.deepEqual(owners, [{ n, m: 4 * n }]);
    const claims = await store.query("SELECT COUNT(*) AS n, COUNT(DISTINCT task_id) AS d FROM task_log WHERE event = 'claim'");
    assert.deepEqual(claims, [{ n: 4 * n, d: 4 * n }]);
  } finally {
    for (const o of others) await o.close();
    await store.close();
  }
});

contract('a registration interrupted between chunks leaves no sweep and no task; a complete one registers every chunk', async () => {
  const { store } = await fresh(0);
  try {
    const chunk = (from: number): NewTask[] => Array.from({ length: 3 }, (_, i) => ({ id: `r${from + i}`, kind: 'debug', params: { x: from + i }, batchKey: '', cost: 1, batchOrder: 0 }));
    async function* broken(): AsyncIterable<NewTask[]> {
      yield chunk(0);
      throw new Error('expansion failed');
    }
    await assert.rejects(store.registerSweep({ name: 'half', kind: 'debug', specJson: '{}', specHash: 'h2' }, broken()), /expansion failed/);
    assert.deepEqual(await store.query("SELECT COUNT(*) AS n FROM sweeps WHERE name = 'half'"), [{ n: 0 }]);
    assert.deepEqual(await store.query("SELECT COUNT(*) AS n FROM tasks WHERE id LIKE 'r%'"), [{ n: 0 }]);
    async function* whole(): AsyncIterable<NewTask[]> {
      yield chunk(0);
      yield chunk(3);
    }
    const r = await store.registerSweep({ name: 'half', kind: 'debug', specJson: '{}', specHash: 'h2' }, whole());
    assert.deepEqual([r.inserted, r.attached], [6, 6]);
    assert.equal((await store.counts('half')).pending, 6);
  } finally {
    await store.close();
  }
});

contract('the results view has the standard columns, t = inf as an infinite number, and one column per metric', async () => {
  const { store } = await fresh(0);
  try {
    const tasks: NewTask[] = [Infinity, 10].map((t, i) => ({ id: `v${i}`, kind: 'kernel', params: { dataset: 'mnist', depth: 3, t, n_train: 100 }, batchKey: 'k', cost: 1, batchOrder: 3 }));
    await store.registerSweep({ name: 's', kind: 'kernel', specJson: '{}', specHash: 'h' }, tasks);
    const got = await store.claimBatch('s', { owner: 'h:1:a', leaseMs: LEASE, maxAttempts: 3, maxOrdersPerBatch: Infinity });
    assert.equal(got.length, 2);
    assert.equal(got.find((t) => t.id === 'v0')!.params.t, Infinity, 'params decode t = inf');
    await store.finishTasks(got.map((t) => ({ taskId: t.id, owner: 'h:1:a', end: { status: 'done' as const }, rows: [{ step: 0, name: 'test_mse', value: t.id === 'v0' ? 0.25 : 0.5 }], durationS: 1, info: { backend: 'js' } })));
    const cols = await store.resultColumns();
    for (const c of ['sweep', 'task_id', 'kind', 'status', 'dataset', 'width', 'depth', 'n_train', 't', 'attempts', 'error', 'duration_s', 'params', 'test_mse']) assert.ok(cols.includes(c), `column ${c}`);
    const rows = await store.query("SELECT task_id, dataset, depth, t, test_mse FROM results WHERE sweep = 's' AND t > 1e308");
    assert.deepEqual(rows, [{ task_id: 'v0', dataset: 'mnist', depth: 3, t: Infinity, test_mse: 0.25 }]);
    const p = await store.query(`SELECT ${store.paramSql('r', 't')} AS t, ${store.paramSql('r', 'dataset', 'text')} AS d FROM results r WHERE task_id = 'v1'`);
    assert.deepEqual(p, [{ t: 10, d: 'mnist' }]);
    assert.deepEqual(await store.backends('s'), ['js']);
  } finally {
    await store.close();
  }
});

contract('a heartbeat lists its owner with the points it holds; an expired lease is counted until it is taken over', async () => {
  const { store, ids } = await fresh(3);
  try {
    const a = await store.claimBatch('s', { owner: 'hostA:11:a', leaseMs: LEASE, maxAttempts: 3, maxOrdersPerBatch: Infinity, chunk: { maxTasks: 2, maxCost: 100 } });
    const b = await claim(store, 'hostB:12:b', 1);
    assert.equal(await store.renewLeases('hostA:11:a', LEASE, a.map((t) => t.id)), 2);
    await new Promise((r) => setTimeout(r, 10));
    const w = await store.workers();
    assert.deepEqual(
      w.map((x) => [x.owner, x.host, x.pid, x.held, x.expired, x.heartbeatAgeS !== null]),
      [
        ['hostA:11:a', 'hostA', 11, 2, 0, true],
        ['hostB:12:b', 'hostB', 12, 1, 1, false],
      ],
    );
    assert.ok(w[0].heartbeatAgeS! >= 0 && w[0].heartbeatAgeS! < 30);
    assert.equal(await store.reclaimExpired(), 1);
    assert.equal(b[0].id, ids[2]);
    await store.removeWorker('hostA:11:a');
    await store.releaseTasks('hostA:11:a');
    assert.deepEqual(await store.workers(), []);
  } finally {
    await store.close();
  }
});

contract('the results view has an activation column: the param where set, relu for kernel and train tasks without it, NULL for debug tasks', async () => {
  const store = await openStore(await newUrl());
  try {
    const task = (id: string, kind: string, params: Record<string, unknown>): NewTask => ({ id, kind, params, batchKey: '', cost: 1, batchOrder: 0 });
    await store.registerSweep({ name: 'k', kind: 'kernel', specJson: '{}', specHash: 'h' }, [
      task('k0', 'kernel', { depth: 2 }),
      task('k1', 'kernel', { depth: 2, activation: 'x * tanh(x)' }),
    ]);
    await store.registerSweep({ name: 'd', kind: 'debug', specJson: '{}', specHash: 'h' }, [task('d0', 'debug', { x: 1 })]);
    const rows = await store.query('SELECT task_id, activation FROM results ORDER BY task_id');
    assert.deepEqual(rows, [
      { task_id: 'd0', activation: null },
      { task_id: 'k0', activation: 'relu' },
      { task_id: 'k1', activation: 'x * tanh(x)' },
    ]);
  } finally {
    await store.close();
  }
});

contract('prune detaches the points the current spec no longer generates: shared ones stay as tasks, running ones stay attached; a dry run writes nothing', async () => {
  const { store } = await fresh(0);
  try {
    const task = (id: string): NewTask => ({ id, kind: 'debug', params: { x: id }, batchKey: '', cost: 1, batchOrder: 0 });
    await store.registerSweep({ name: 's', kind: 'debug', specJson: '{"v":1}', specHash: 'h1' }, ['a', 'b', 'c', 'd', 'e'].map(task));
    await store.registerSweep({ name: 'other', kind: 'debug', specJson: '{}', specHash: 'o' }, ['b'].map(task));
    // a finished stale point (a), one shared with `other` (b), one running (c)
    const all = await store.claimBatch('s', { owner: 'h:1:a', leaseMs: LEASE, maxAttempts: 3, maxOrdersPerBatch: Infinity, chunk: { maxTasks: 10, maxCost: 10 } });
    assert.equal(all.length, 5);
    for (const id of ['a', 'b']) assert.equal(await finish(store, id, 'h:1:a', rowsOf(1)), true);
    await store.releaseTasks('h:1:a', ['d', 'e']);
    // the spec changes: now d, e, f
    const reg = await store.registerSweep({ name: 's', kind: 'debug', specJson: '{"v":2}', specHash: 'h2' }, ['d', 'e', 'f'].map(task));
    assert.equal(reg.attached, 1, 'one new point (f) attached');
    const current = async () => (await store.query("SELECT task_id FROM current_results WHERE sweep = 's' ORDER BY task_id")).map((r) => r.task_id);
    assert.deepEqual(await current(), ['d', 'e', 'f'], 'current_results holds the points of the current spec only');
    assert.equal((await store.query("SELECT COUNT(*) AS n FROM results WHERE sweep = 's'"))[0].n, 6, 'results keeps every point until prune');
    const snapshot = async () => store.query('SELECT (SELECT COUNT(*) FROM tasks) AS tasks, (SELECT COUNT(*) FROM sweep_tasks) AS members, (SELECT COUNT(*) FROM metrics) AS metrics');
    const before = await snapshot();
    const dry = await store.pruneSweep('s', [['d', 'e'], ['f']], { apply: false });
    assert.deepEqual(await snapshot(), before, 'a dry run writes nothing');
    assert.equal(dry.applied, false);
    assert.equal(dry.current, 3);
    assert.equal(dry.stale.total, 3);
    assert.equal(dry.stale.done, 2);
    assert.equal(dry.stale.running, 1);
    assert.equal(dry.detached, 2);
    assert.equal(dry.shared, 1);
    assert.equal(dry.deleted, 1);
    assert.deepEqual(dry.sample.map((p) => [p.taskId, p.status, p.params.x]), [['a', 'done', 'a'], ['b', 'done', 'b'], ['c', 'running', 'c']]);
    const done = await store.pruneSweep('s', [['d', 'e', 'f']], { apply: true });
    assert.deepEqual({ ...done, applied: false }, dry, 'the applied prune does what the dry run said');
    const members = (await store.query("SELECT task_id FROM sweep_tasks WHERE sweep = 's' ORDER BY task_id")).map((r) => r.task_id);
    assert.deepEqual(members, ['c', 'd', 'e', 'f'], 'the running point stays attached until it finishes');
    assert.deepEqual((await store.query("SELECT id FROM tasks WHERE id IN ('a', 'b') ORDER BY id")).map((r) => r.id), ['b'], 'a is deleted; b stays for the other sweep');
    assert.deepEqual(await store.query("SELECT COUNT(*) AS n FROM metrics WHERE task_id = 'a'"), [{ n: 0 }]);
    assert.equal((await store.query("SELECT COUNT(*) AS n FROM metrics WHERE task_id = 'b'"))[0].n, 2, "the shared point keeps its results");
    assert.deepEqual((await store.query("SELECT task_id FROM results WHERE sweep = 'other'")).map((r) => r.task_id), ['b']);
    assert.ok((await store.query("SELECT COUNT(*) AS n FROM task_log WHERE task_id = 'a'"))[0].n as number > 0, 'the audit trail stays');
    const again = await store.pruneSweep('s', [['d', 'e', 'f']], { apply: true });
    assert.equal(again.stale.total, 1, 'only the running point is left to prune');
    await assert.rejects(store.pruneSweep('nope', [], { apply: false }), /no sweep named nope/);
  } finally {
    await store.close();
  }
});

test('a version-4 SQLite database gets the activation column of results when opened (migration 4 → 5)', async () => {
  const path = join(tempDir(), 'db.sqlite');
  const store = await openStore(path);
  await store.registerSweep({ name: 'k', kind: 'kernel', specJson: '{}', specHash: 'h' }, [{ id: 'k0', kind: 'kernel', params: { depth: 2, activation: 'tanh' }, batchKey: '', cost: 1, batchOrder: 0 }]);
  await store.close();
  const raw = await SqliteDb.open(path);
  await raw.exec(`UPDATE meta SET value = '4' WHERE key = 'schema_version'; DROP VIEW current_results; DROP VIEW results; ALTER TABLE sweep_tasks DROP COLUMN spec_hash; CREATE VIEW results AS SELECT s.sweep AS sweep, t.id AS task_id FROM sweep_tasks s JOIN tasks t ON t.id = s.task_id;`);
  await raw.close();
  const again = await openStore(path);
  try {
    assert.deepEqual(await again.query('SELECT task_id, activation FROM results'), [{ task_id: 'k0', activation: 'tanh' }]);
    assert.deepEqual(await again.query("SELECT value FROM meta WHERE key = 'schema_version'"), [{ value: String(SCHEMA_VERSION) }]);
  } finally {
    await again.close();
  }
});

contract('the spec_hash migration step adds the column and current_results to a database of the previous version, keeping its points', async () => {
  const { store, path } = await fresh(2);
  const pg = store.dialect === 'postgres';
  await store.close();
  // back to the previous version: what the step adds is removed
  if (pg) {
    const { default: pgLib } = await import('pg');
    const c = new pgLib.Client({ connectionString: path });
    await c.connect();
    await c.query("DROP VIEW current_results; DROP VIEW results; ALTER TABLE sweep_tasks DROP COLUMN spec_hash; UPDATE meta SET value = '2' WHERE key = 'schema_version'");
    await c.end();
  } else {
    const raw = await SqliteDb.open(path);
    await raw.exec("DROP VIEW current_results; DROP VIEW results; ALTER TABLE sweep_tasks DROP COLUMN spec_hash; UPDATE meta SET value = '5' WHERE key = 'schema_version'");
    await raw.close();
  }
  const again = await openStore(path);
  try {
    assert.deepEqual(await again.query("SELECT COUNT(*) AS n FROM results WHERE sweep = 's'"), [{ n: 2 }]);
    assert.deepEqual(await again.query('SELECT COUNT(*) AS n FROM current_results'), [{ n: 0 }]);
    const r = await again.pruneSweep('s', [['task0', 'task1']], { apply: true });
    assert.equal(r.stale.total, 0);
    assert.deepEqual(await again.query('SELECT COUNT(*) AS n FROM current_results'), [{ n: 2 }], 'prune marks the current points');
  } finally {
    await again.close();
  }
});

contract('the stale dist_to_limit migration step removes the values measured against ¼ where that is not the point\'s limit (ReLU with sigma_b > 0, the nngp kernel), and keeps every other value', async () => {
  const path = await newUrl();
  const store = await openStore(path);
  const points: [string, Record<string, unknown>, boolean][] = [
    ['bias_old', { depth: 3, sigma_b: 0.1 }, false], // stored before the fix (no chi): removed
    ['nngp_old', { depth: 3, kernel: 'nngp' }, false], // removed
    ['plain_old', { depth: 3, sigma_b: 0, kernel: 'ntk' }, false], // ¼ is its limit: kept
    ['bias_new', { depth: 3, sigma_b: 0.1 }, true], // measured against its own limit: kept
    ['tanh_old', { depth: 3, sigma_b: 0.1, activation: 'tanh' }, false], // not ReLU: kept
  ];
  const tasks: NewTask[] = points.map(([id, params]) => ({ id, kind: 'kernel', params, batchKey: '', cost: 1, batchOrder: 0 }));
  await store.registerSweep({ name: 'k', kind: 'kernel', specJson: '{}', specHash: 'h' }, tasks);
  let claimed = 0;
  for (let c = await store.claimBatch('k', { owner: 'h:1:a', leaseMs: LEASE, maxAttempts: 3, maxOrdersPerBatch: Infinity }); c.length > 0; c = await store.claimBatch('k', { owner: 'h:1:a', leaseMs: LEASE, maxAttempts: 3, maxOrdersPerBatch: Infinity })) claimed += c.length;
  assert.equal(claimed, points.length);
  await store.finishTasks(
    points.map(([id, , hasChi], i) => ({
      taskId: id,
      owner: 'h:1:a',
      end: { status: 'done' as const },
      rows: [{ step: 0, name: 'dist_to_limit', value: 0.5 + i }, { step: 0, name: 'test_acc', value: 0.9 }, ...(hasChi ? [{ step: 0, name: 'chi', value: 0.9 }] : [])],
      durationS: 1,
      info: {},
    })),
  );
  const pg = store.dialect === 'postgres';
  await store.close();
  const back = `UPDATE meta SET value = '${pg ? 3 : 6}' WHERE key = 'schema_version'`;
  if (pg) {
    const { default: pgLib } = await import('pg');
    const c = new pgLib.Client({ connectionString: path });
    await c.connect();
    await c.query(back);
    await c.end();
  } else {
    const raw = await SqliteDb.open(path);
    await raw.exec(back);
    await raw.close();
  }
  const again = await openStore(path);
  try {
    const rows = await again.query("SELECT task_id, dist_to_limit, test_acc FROM results WHERE sweep = 'k' ORDER BY task_id");
    const got = Object.fromEntries(rows.map((r) => [r.task_id, [r.dist_to_limit === null ? null : Number(r.dist_to_limit), Number(r.test_acc)]]));
    assert.deepEqual(got, { bias_new: [3.5, 0.9], bias_old: [null, 0.9], nngp_old: [null, 0.9], plain_old: [2.5, 0.9], tanh_old: [4.5, 0.9] });
    assert.deepEqual(await again.query("SELECT COUNT(*) AS n FROM metrics WHERE name = 'dist_to_limit'"), [{ n: 3 }]);
  } finally {
    await again.close();
  }
});
