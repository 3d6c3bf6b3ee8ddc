/**
 * Fault injection on long training tasks: a train grid point interrupted mid-way (kill -9, or
 * Ctrl-C) continues from its last checkpoint, and its whole metric series and final metrics are
 * bit-identical to an uninterrupted run. Real CLI processes, a real database file, the real pool.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { compareSweep } from './helpers/verify.js';
import { useLinalg } from '../src/linalg/select.js';
import { encodeTrainState } from '../src/nn/checkpoint.js';
import { runTrainTask } from '../src/tasks/train.js';
import type { MetricRow, TaskCheckpoint, TaskReporter } from '../src/tasks/types.js';
import { runCli, tempDir, writeSpec } from './helpers/cli.js';
import { scalar, sql, startCli, waitFor } from './helpers/fault.js';

const dir = tempDir();
const STEPS = 4000;
const spec = writeSpec(
  dir,
  'train',
  `name: ckpt
kind: train
dataset: { name: sphere, d: 8 }
fixed: { n_train: 32, n_test: 32, width: 64, depth: 3, lr: 0.5, steps: ${STEPS}, log_every: 40, checkpoint_every: 50, seed: 1 }
`,
);
const refDb = join(dir, 'ref.sqlite');
// Pinned backend: bit-identity holds per backend, and a test must not depend on whether the
// native addon happens to load (a checkpoint of another backend is ignored, see below).
const ARGS = ['--threads', '1', '--linalg', 'js'];
let reference: Promise<void> | null = null;
/** The uninterrupted run, made once for both tests. */
function referenceRun(): Promise<void> {
  reference ??= runCli(['run', spec, '--db', refDb, ...ARGS]).then((r) => assert.equal(r.code, 0, r.stderr));
  return reference;
}

const checkpointStep = async (db: string): Promise<number> => Number((await scalar(db, 'SELECT MAX(step) FROM checkpoints')) ?? 0);

async function series(db: string, maxStep = Infinity): Promise<Record<string, unknown>[]> {
  return sql(db, `SELECT name, step, value FROM metrics WHERE step <= ${Number.isFinite(maxStep) ? maxStep : 1e18} ORDER BY name, step`);
}

async function interruptAndResume(signal: 'SIGKILL' | 'SIGINT'): Promise<{ savedAt: number; resumedFrom: number; db: string }> {
  await referenceRun();
  const db = join(dir, `${signal}.sqlite`);
  const run = startCli(['run', spec, '--db', db, ...ARGS]);
  await waitFor('a checkpoint past step 800', async () => (await checkpointStep(db)) >= 800, 120_000, 20);
  run.child.kill(signal);
  const end = await run.done;
  if (signal === 'SIGINT') assert.equal(end.code, 130, end.stderr);
  else assert.equal(end.signal, 'SIGKILL');
  const savedAt = await checkpointStep(db);
  assert.ok(savedAt >= 800 && savedAt < STEPS, `checkpoint at step ${savedAt}`);
  const status = await scalar(db, 'SELECT status FROM tasks');
  assert.equal(status, signal === 'SIGINT' ? 'pending' : 'running', 'a Ctrl-C returns the point to pending; kill -9 leaves it to be taken over');
  // every metric of a step up to the checkpoint is already stored, identical to the reference
  assert.deepEqual(await series(db, savedAt), await series(refDb, savedAt));

  const resumed = await runCli(['run', spec, '--db', db, ...ARGS, '--json']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(JSON.parse(resumed.stdout).executed, 1);
  const info = JSON.parse(String(await scalar(db, 'SELECT run_info FROM tasks')));
  return { savedAt, resumedFrom: info.resumed_from_step, db };
}

async function assertIdentical(db: string): Promise<void> {
  const a = await series(db);
  const b = await series(refDb);
  assert.equal(a.length, b.length, 'no metric row missing or extra');
  assert.deepEqual(a, b, 'the whole metric series is bit-identical');
  assert.deepEqual(await sql(db, 'SELECT name, step, value FROM final_metrics ORDER BY name'), await sql(refDb, 'SELECT name, step, value FROM final_metrics ORDER BY name'));
  const c = await compareSweep(refDb, db, 'ckpt');
  assert.deepEqual([c.lost, c.duplicated, c.mismatched, c.resumed_from_checkpoint], [0, 0, 0, 1]);
  assert.equal(await scalar(db, 'SELECT COUNT(*) FROM checkpoints'), 0, 'the checkpoint of the finished point is deleted');
  assert.equal(await scalar(db, 'SELECT attempts FROM tasks'), 1, 'the interrupted attempt is not counted');
}

test('a training grid point killed with kill -9 mid-way resumes from its last checkpoint, and its whole metric series and final metrics are bit-identical to an uninterrupted run', async () => {
  const { savedAt, resumedFrom, db } = await interruptAndResume('SIGKILL');
  assert.equal(resumedFrom, savedAt, 'continued from the last checkpoint, not from step 0');
  await assertIdentical(db);
});

test('Ctrl-C during a training grid point keeps its checkpoint and received metrics; the next run continues from the checkpoint with bit-identical results', async () => {
  const { savedAt, resumedFrom, db } = await interruptAndResume('SIGINT');
  assert.equal(resumedFrom, savedAt);
  await assertIdentical(db);
});

test('a checkpoint made with another linear-algebra backend, or of another shape, is ignored: the task starts again from step 0', async () => {
  const params = { dataset: 'sphere', d: 5, n_train: 16, n_test: 8, width: 16, depth: 2, lr: 0.5, steps: 200, log_every: 50, checkpoint_every: 50, seed: 3 };
  useLinalg('js');
  const record = async (checkpoint?: TaskCheckpoint): Promise<{ rows: MetricRow[]; saved: TaskCheckpoint[] }> => {
    const rows: MetricRow[] = [];
    const saved: TaskCheckpoint[] = [];
    const reporter: TaskReporter = {
      progress() {},
      metrics: (_id, r) => void rows.push(...r),
      end() {},
      checkpoint: async (_id, step, data) => void saved.push({ step, data }),
    };
    await runTrainTask({ id: 't', params, checkpoint }, { reporter });
    return { rows, saved };
  };
  const full = await record();
  assert.deepEqual(full.saved.map((c) => c.step), [50, 100, 150]);
  const at100 = full.saved[1];
  // the same backend continues from step 100 and sends only later rows, identical to the full run
  const resumed = await record(at100);
  assert.deepEqual(resumed.rows, full.rows.filter((r) => r.step > 100));
  // another backend's checkpoint (same bytes otherwise) is ignored
  const patched = new Float64Array(new Uint8Array(at100.data).buffer);
  patched[4] += 1; // header field 4: hash of the backend's name
  const foreign = await record({ step: 100, data: new Uint8Array(patched.buffer) });
  assert.deepEqual(foreign.rows, full.rows, 'started again from step 0');
  // a checkpoint of another network shape is ignored
  const narrow = await record({ step: 100, data: encodeTrainState({ step: 100, params: { W: [new Float64Array(5 * 8), new Float64Array(8)], b: [new Float64Array(8), new Float64Array(1)] } }, 'js') });
  assert.deepEqual(narrow.rows, full.rows);
});
