/**
 * Fault injection on long training tasks: a train grid point interrupted mid-way (kill -9, or
 * Ctrl-C) continues from its last checkpoint, and its whole metric series and final metrics are
 * bit-identical to an uninterrupted run. Real CLI processes, a real database file, the real pool.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { compareSweep } from '../src/engine/verify.js';
import { runCli, tempDir, writeSpec } from './helpers/cli.js';
import { scalar, sql, startCli, waitFor } from './helpers/fault.js';

const dir = tempDir();
const STEPS = 5000;
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
let reference: Promise<void> | null = null;
/** The uninterrupted run, made once for both tests. */
function referenceRun(): Promise<void> {
  reference ??= runCli(['run', spec, '--db', refDb, '--threads', '1']).then((r) => assert.equal(r.code, 0, r.stderr));
  return reference;
}

const checkpointStep = async (db: string): Promise<number> => Number((await scalar(db, 'SELECT MAX(step) FROM checkpoints')) ?? 0);

async function series(db: string, maxStep = Infinity): Promise<Record<string, unknown>[]> {
  return sql(db, `SELECT name, step, value FROM metrics WHERE step <= ${Number.isFinite(maxStep) ? maxStep : 1e18} ORDER BY name, step`);
}

async function interruptAndResume(signal: 'SIGKILL' | 'SIGINT'): Promise<{ savedAt: number; resumedFrom: number; db: string }> {
  await referenceRun();
  const db = join(dir, `${signal}.sqlite`);
  const run = startCli(['run', spec, '--db', db, '--threads', '1']);
  await waitFor('a checkpoint past step 1000', async () => (await checkpointStep(db)) >= 1000, 120_000, 20);
  run.child.kill(signal);
  const end = await run.done;
  if (signal === 'SIGINT') assert.equal(end.code, 130, end.stderr);
  else assert.equal(end.signal, 'SIGKILL');
  const savedAt = await checkpointStep(db);
  assert.ok(savedAt >= 1000 && savedAt < STEPS, `checkpoint at step ${savedAt}`);
  const status = await scalar(db, 'SELECT status FROM tasks');
  assert.equal(status, signal === 'SIGINT' ? 'pending' : 'running', 'a Ctrl-C returns the point to pending; kill -9 leaves it to be taken over');
  // every metric of a step up to the checkpoint is already stored, identical to the reference
  assert.deepEqual(await series(db, savedAt), await series(refDb, savedAt));

  const resumed = await runCli(['run', spec, '--db', db, '--threads', '1', '--json']);
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
