/**
 * `kind: train` sweeps end to end: real CLI processes, the real piscina pool and a real SQLite
 * file, checked with SQL (determinism across thread counts, divergence handling, the
 * per-layer metric naming rule).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli, tempDir, writeSpec } from './helpers/cli.js';
import { sql } from './helpers/fault.js';


/** 2 widths × 2 depths on the sphere (d = 8), 48 GD steps with log-spaced logging: a few seconds. */
const SMALL_TRAIN = `name: tr
kind: train
dataset: { name: sphere, d: 8, target: quadratic }
fixed:
  n_train: 32
  n_test: 16
  probe: 8
  lr: 2
  steps: 48
  log_points: 8
grid:
  width: [16, 64]
  depth: [2, 3]
`;

test('train sweep metric series are bit-identical with --threads 1 and --threads 2 (whole metrics table), and slope reproduces the two-point log-log slope', async () => {
  const dir = tempDir();
  const spec = writeSpec(dir, 'tr', SMALL_TRAIN);
  const a = join(dir, 'a.sqlite');
  const b = join(dir, 'b.sqlite');
  const ra = await runCli(['run', spec, '--db', a, '--threads', '1', '--json', '--quiet'], { timeoutMs: 120_000 });
  assert.equal(ra.code, 0, ra.stderr);
  const rb = await runCli(['run', spec, '--db', b, '--threads', '2', '--json', '--quiet'], { timeoutMs: 120_000 });
  assert.equal(rb.code, 0, rb.stderr);
  const q = 'SELECT task_id, name, step, value FROM metrics ORDER BY task_id, name, step';
  const ma = await sql(a, q);
  const mb = await sql(b, q);
  assert.ok(ma.length > 4 * 8 * 10, `expected a full series per task, got ${ma.length} rows`);
  assert.deepEqual(ma, mb);
  // every grid point finished and logged its series at the same log-spaced steps, ending at 48
  const st = await sql(a, "SELECT width, depth, status FROM results WHERE sweep = 'tr' ORDER BY width, depth");
  assert.deepEqual(
    st.map((r) => [r.width, r.depth, r.status]),
    [
      [16, 2, 'done'],
      [16, 3, 'done'],
      [64, 2, 'done'],
      [64, 3, 'done'],
    ],
  );
  const steps = await sql(a, "SELECT DISTINCT step FROM metrics WHERE name = 'train_loss' ORDER BY step");
  assert.deepEqual(steps.map((r) => r.step), [0, 1, 2, 4, 7, 13, 25, 48]);
  // the loss decreases on this learnable problem, at every grid point
  const loss = await sql(
    a,
    `SELECT m0.value AS l0, m1.value AS l1 FROM metrics m0 JOIN metrics m1 ON m1.task_id = m0.task_id AND m1.name = m0.name
     WHERE m0.name = 'train_loss' AND m0.step = 0 AND m1.step = 48`,
  );
  assert.equal(loss.length, 4);
  for (const r of loss) assert.ok((r.l1 as number) < 0.9 * (r.l0 as number), `train_loss ${r.l0} -> ${r.l1}`);
  // at step 0 nothing has moved yet
  const zero = await sql(a, "SELECT name, value FROM metrics WHERE step = 0 AND (name LIKE 'act_dev_%' OR name LIKE 'weight_rel_change%' OR name LIKE 'ntk_rel_change%' OR name = 'kernel_gap')");
  assert.ok(zero.length > 0);
  for (const r of zero) assert.equal(r.value, 0, `${r.name} at step 0`);

  // `slope` on two widths is the two-point log-log slope log(y64/y16)/log 4, per depth
  const sl = await runCli(['slope', 'tr', '--metric', 'act_dev_max', 'act_dev_norm', '--db', a, '--format', 'json']);
  assert.equal(sl.code, 0, sl.stderr);
  const fits = JSON.parse(sl.stdout) as Array<Record<string, unknown>>;
  assert.equal(fits.length, 4);
  for (const f of fits) {
    const ys = await sql(
      a,
      `SELECT json_extract(t.params, '$.width') AS width, f.value AS y FROM final_metrics f JOIN tasks t ON t.id = f.task_id
       WHERE f.name = '${f.metric}' AND json_extract(t.params, '$.depth') = ${f.depth} ORDER BY width`,
    );
    const expected = Math.log((ys[1].y as number) / (ys[0].y as number)) / Math.log(4);
    assert.equal(f.seeds, 1);
    assert.equal(f.points, 2);
    assert.ok(Math.abs((f.slope_mean as number) - expected) < 1e-12, `${f.metric} depth ${f.depth}: ${f.slope_mean} vs ${expected}`);
    assert.ok(Math.abs((f.pooled_slope as number) - expected) < 1e-12);
  }
  // at an intermediate logged step (t = lr·step), from the metrics table
  const s13 = await runCli(['slope', 'tr', '--metric', 'act_dev_max', '--step', '13', '--where', 'depth = 3', '--db', a, '--format', 'json']);
  assert.equal(s13.code, 0, s13.stderr);
  const f13 = JSON.parse(s13.stdout) as Array<Record<string, unknown>>;
  assert.deepEqual(f13.map((f) => [f.step, f.depth, f.points]), [[13, 3, 2]]);
  const y13 = await sql(
    a,
    `SELECT m.value AS y FROM metrics m JOIN tasks t ON t.id = m.task_id
     WHERE m.name = 'act_dev_max' AND m.step = 13 AND json_extract(t.params, '$.depth') = 3 ORDER BY json_extract(t.params, '$.width')`,
  );
  assert.ok(Math.abs((f13[0].slope_mean as number) - Math.log((y13[1].y as number) / (y13[0].y as number)) / Math.log(4)) < 1e-12);
});

test('per-layer metrics follow <base>_l<layer>: name LIKE act_dev_max_l% selects depth − 1 hidden layers, the bare name is the last one', async () => {
  const dir = tempDir();
  const spec = writeSpec(dir, 'tr', SMALL_TRAIN.replace('steps: 48', 'steps: 8'));
  const db = join(dir, 'db.sqlite');
  const r = await runCli(['run', spec, '--db', db, '--threads', '2', '--quiet'], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  const layers = await sql(
    db,
    `SELECT json_extract(t.params, '$.depth') AS depth, json_extract(t.params, '$.width') AS width,
            COUNT(DISTINCT f.name) AS n,
            MIN(CAST(substr(f.name, length('act_dev_max_l') + 1) AS INTEGER)) AS lo,
            MAX(CAST(substr(f.name, length('act_dev_max_l') + 1) AS INTEGER)) AS hi
     FROM final_metrics f JOIN tasks t ON t.id = f.task_id
     WHERE f.name LIKE 'act_dev_max_l%' GROUP BY t.id ORDER BY depth, width`,
  );
  assert.deepEqual(
    layers.map((x) => [x.depth, x.width, x.n, x.lo, x.hi]),
    [
      [2, 16, 1, 1, 1],
      [2, 64, 1, 1, 1],
      [3, 16, 2, 1, 2],
      [3, 64, 2, 1, 2],
    ],
  );
  // weight_rel_change_l<l> exists for every weight layer l = 1..L (the readout included)
  const w = await sql(
    db,
    `SELECT json_extract(t.params, '$.depth') AS depth, COUNT(*) AS n FROM final_metrics f JOIN tasks t ON t.id = f.task_id
     WHERE f.name LIKE 'weight_rel_change_l%' GROUP BY t.id ORDER BY depth`,
  );
  assert.deepEqual(w.map((x) => [x.depth, x.n]), [
    [2, 2],
    [2, 2],
    [3, 3],
    [3, 3],
  ]);
  // the bare alias is the last hidden layer l = L − 1, at every logged step
  const alias = await sql(
    db,
    `SELECT COUNT(*) AS n, SUM(a.value = l.value) AS same FROM metrics a JOIN tasks t ON t.id = a.task_id
     JOIN metrics l ON l.task_id = a.task_id AND l.step = a.step
       AND l.name = 'act_dev_max_l' || (json_extract(t.params, '$.depth') - 1)
     WHERE a.name = 'act_dev_max'`,
  );
  assert.ok((alias[0].n as number) >= 4 * 4, `alias rows ${alias[0].n}`);
  assert.equal(alias[0].same, alias[0].n);
});

test("a diverging learning rate ends as 'diverged' with diverged_step set, exit code 0, and the rest of the sweep still runs", async () => {
  const dir = tempDir();
  const yaml = `name: div
kind: train
dataset: { name: sphere, d: 8, target: quadratic }
fixed:
  n_train: 32
  n_test: 16
  probe: 8
  width: 32
  depth: 3
  steps: 40
  log_every: 5
grid:
  lr: [1, 1000000]
`;
  const spec = writeSpec(dir, 'div', yaml);
  const db = join(dir, 'db.sqlite');
  const r = await runCli(['run', spec, '--db', db, '--threads', '2', '--json', '--quiet'], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, `diverged grid points are results, not failures; stderr: ${r.stderr}`);
  const s = JSON.parse(r.stdout);
  assert.equal(s.total, 2);
  assert.equal(s.failed, 0);
  const rows = await sql(db, "SELECT lr, status, diverged_step, error, attempts, train_loss FROM results WHERE sweep = 'div' ORDER BY lr");
  assert.equal(rows.length, 2);
  const [ok, bad] = rows;
  assert.equal(ok.status, 'done');
  assert.equal(ok.diverged_step, null);
  assert.ok(Number.isFinite(ok.train_loss as number));
  assert.equal(bad.status, 'diverged');
  assert.equal(typeof bad.diverged_step, 'number');
  assert.ok((bad.diverged_step as number) >= 1 && (bad.diverged_step as number) <= 40, `diverged_step ${bad.diverged_step}`);
  assert.equal(bad.attempts, 1, 'a diverged grid point is not retried');
  // its series stops before the diverged step, and holds no NaN/Inf
  const series = await sql(
    db,
    `SELECT MAX(m.step) AS last, SUM(m.value IS NULL OR abs(m.value) > 1e308) AS bad FROM metrics m
     JOIN results r ON r.task_id = m.task_id WHERE r.sweep = 'div' AND r.status = 'diverged'`,
  );
  assert.ok((series[0].last as number) < (bad.diverged_step as number), `last logged step ${series[0].last}`);
  assert.equal(series[0].bad, 0);
  // running again is a no-op: diverged is final
  const again = await runCli(['run', spec, '--db', db, '--json', '--quiet'], { timeoutMs: 60_000 });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).executed, 0);
});
