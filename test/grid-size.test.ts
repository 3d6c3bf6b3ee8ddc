/**
 * Huge grids: the size is computed before anything is expanded and refused past the limit
 * (exit 2, axes named, nothing written); big grids are registered as a stream with a progress
 * line, and a Ctrl-C during registration ends the process quickly leaving no sweep.
 * Real CLI processes and real databases.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli, tempDir, writeSpec } from './helpers/cli.js';
import { scalar, sql, startCli, waitFor } from './helpers/fault.js';

const list = (n: number) => `[${Array.from({ length: n }, (_, i) => i + 1).join(', ')}]`;

test('a 10^12-point grid is refused at once with exit 2, naming each axis and its size; no database is written', async () => {
  const dir = tempDir();
  const db = join(dir, 'db.sqlite');
  const spec = writeSpec(
    dir,
    'huge',
    `name: huge\nkind: kernel\ndataset: { name: sphere, d: 3 }\nfixed: { n_test: 10 }\ngrid:\n  n_train: ${list(100)}\n  depth: ${list(100)}\n  t: ${list(100)}\n  sigma_w: ${list(100)}\n  diag_reg: ${list(100)}\n  data_seed: ${list(100)}\n`,
  );
  const t0 = Date.now();
  const r = await runCli(['run', spec, '--db', db]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /grid: 1,000,000,000,000 grid points \(n_train 100 × depth 100 × t 100 × sigma_w 100 × diag_reg 100 × data_seed 100\) exceed the limit of 1,000,000; shrink the grid, or raise the limit with --max-points/);
  assert.ok(Date.now() - t0 < 30_000, 'refused without expanding');
  assert.equal(existsSync(db), false);
  const small = await runCli(['run', spec, '--db', db, '--max-points', '0']);
  assert.equal(small.code, 2);
  assert.match(small.stderr, /--max-points: expected a positive integer, got 0/);
});

// 600 × 500 = 300,000 debug points from two short helper lists
const bigDebug = `name: big\nkind: debug\ngrid:\n  a: ${list(600)}\n  b: ${list(500)}\nderived:\n  x: "a * 1000 + b"\n`;

test('Ctrl-C while a 300,000-point grid registers exits 130 within 2 s and leaves no sweep and no grid point', async () => {
  const dir = tempDir();
  const db = join(dir, 'db.sqlite');
  const spec = writeSpec(dir, 'big', bigDebug);
  const run = startCli(['run', spec, '--db', db, '--threads', '1']);
  await waitFor('registration progress', () => /registering grid points/.test(run.output().stderr), 120_000);
  await new Promise((r) => setTimeout(r, 300));
  const t0 = Date.now();
  run.child.kill('SIGINT');
  const end = await run.done;
  assert.equal(end.code, 130, end.stderr);
  assert.ok(Date.now() - t0 < 2000, `stopped ${Date.now() - t0} ms after SIGINT`);
  assert.equal(await scalar(db, 'SELECT COUNT(*) FROM sweeps'), 0);
  assert.equal(await scalar(db, 'SELECT COUNT(*) FROM tasks'), 0);
});

test('a 60,000-point grid registers completely with a progress line (same count as the product)', async () => {
  const dir = tempDir();
  const db = join(dir, 'db.sqlite');
  const spec = writeSpec(dir, 'big', bigDebug.replace(list(600), list(120)));
  const run = startCli(['run', spec, '--db', db, '--threads', '1']);
  // registration is complete once the sweep row is visible (one transaction); then stop the run
  await waitFor('registered sweep', async () => Number(await scalar(db, 'SELECT COUNT(*) FROM sweep_tasks')) > 0, 240_000, 200);
  run.child.kill('SIGINT');
  const end = await run.done;
  assert.equal(end.code, 130, end.stderr);
  assert.match(end.stderr, /registering grid points: 60,000 \/ 60,000, committing/);
  assert.deepEqual(await sql(db, "SELECT COUNT(*) AS n, COUNT(DISTINCT json_extract(params, '$.x')) AS xs FROM tasks"), [{ n: 60_000, xs: 60_000 }]);
});
