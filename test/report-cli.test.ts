/**
 * `ntk-sweep report` end to end: a real kernel sweep through the worker pool into SQLite, then the
 * report read back from that database. The plotted means must equal what SQL computes from the
 * stored metrics; the SVG and Vega-Lite files must be complete documents.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { runCli, tempDir, writeSpec } from './helpers/cli.js';
import { sql } from './helpers/fault.js';

const SPEC = `name: rep
kind: kernel
description: report test
dataset: { name: sphere, d: 6, target: linear }
fixed: { n_test: 30 }
grid:
  n_train: [20, 40]
  depth: [1, 2, 4]
  t: [1, 10, inf]
  data_seed: [0, 1, 2]
`;

test('report: charts, data.csv means equal SQL averages over data_seed, --json, and clear errors', async () => {
  const dir = tempDir();
  const db = join(dir, 'r.sqlite');
  const spec = writeSpec(dir, 'rep', SPEC);
  const run = await runCli(['run', spec, '--db', db, '--quiet']);
  assert.equal(run.code, 0, run.stderr);

  const out = join(dir, 'out');
  const r = await runCli(['report', 'rep', '--db', db, '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout) as { out: string; index: string; charts: { metric: string; file: string; marks: number }[] };
  assert.deepEqual(info.charts.map((c) => c.metric).slice(0, 2), ['test_acc', 'test_mse']);
  for (const c of info.charts) {
    const svg = readFileSync(c.file, 'utf8');
    assert.match(svg, /^<svg[\s\S]*<\/svg>$/);
    assert.ok(svg.includes('>depth<'), `${c.metric}: x axis titled depth`);
    assert.ok(existsSync(c.file.replace(/\.svg$/, '.vl.json')));
  }
  // test_mse depends on t: a line per t (3) in a panel per n_train (2) at 3 depths
  assert.equal(info.charts.find((c) => c.metric === 'test_mse')!.marks, 18);
  const html = readFileSync(info.index, 'utf8');
  assert.ok(html.includes('report test') && html.includes('54 done') && html.includes('averaged over: <code>data_seed</code>'));

  const csv = parse(readFileSync(join(out, 'data.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
  const expected = await sql(
    db,
    `SELECT n_train, depth, t, AVG(test_mse) AS mean, MIN(test_mse) AS lo, MAX(test_mse) AS hi, COUNT(*) AS n
     FROM results WHERE sweep = 'rep' GROUP BY n_train, depth, t`,
  );
  assert.equal(expected.length, 18);
  for (const e of expected) {
    const label = (e.t as number) > 1e308 ? 'inf' : String(e.t);
    const row = csv.find((c) => c.metric === 'test_mse' && c.panel === `n_train=${e.n_train}` && c.color === label && Number(c.x) === e.depth);
    assert.ok(row, `a mark for n_train ${e.n_train}, depth ${e.depth}, t ${label}`);
    assert.equal(Number(row.n), 3);
    assert.equal(Number(row.min), e.lo);
    assert.equal(Number(row.max), e.hi);
    assert.ok(Math.abs(Number(row.mean) - (e.mean as number)) <= 1e-15 * Math.abs(e.mean as number), `${row.mean} vs ${e.mean}`);
  }

  // t on x: the t = ∞ points cannot be drawn on a log axis and are counted in the title
  const byT = await runCli(['report', 'rep', '--db', db, '--out', join(dir, 'byt'), '--x', 't', '--metric', 'test_mse', '--where', 'n_train = 40']);
  assert.equal(byT.code, 0, byT.stderr);
  const spec2 = JSON.parse(readFileSync(join(dir, 'byt', 'test_mse.vl.json'), 'utf8')) as { title: { text: string; subtitle: string[] }; data: { values: unknown[] } };
  assert.deepEqual(spec2.title.subtitle, ['where n_train = 40', 'line: mean over data_seed; band: min–max', '9 grid point(s) with t = ∞ not drawn']);
  assert.equal(spec2.data.values.length, 6, 'a line per depth over the two finite t, one panel');

  // a --where that closes its parenthesis still selects inside this sweep only
  const other = writeSpec(dir, 'other', SPEC.replace('name: rep', 'name: other').replace('n_train: [20, 40]', 'n_train: [10]'));
  assert.equal((await runCli(['run', other, '--db', db, '--quiet'])).code, 0);
  const escape = await runCli(['report', 'rep', '--db', db, '--out', join(dir, 'esc'), '--metric', 'test_mse', '--where', '1=1) OR (1=1', '--json']);
  assert.equal(escape.code, 0, escape.stderr);
  assert.equal((JSON.parse(escape.stdout) as typeof info).charts[0].marks, 18, 'n_train 10 of the other sweep is not drawn');

  // a second report into the same folder replaces the first: stale charts go, other files stay
  writeFileSync(join(out, 'notes.txt'), 'mine');
  const again = await runCli(['report', 'rep', '--db', db, '--out', out, '--metric', 'test_acc']);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(readdirSync(out).sort(), ['.ntk-sweep-report.json', 'data.csv', 'index.html', 'notes.txt', 'test_acc.svg', 'test_acc.vl.json']);

  // a repeated metric is drawn once
  const dup = await runCli(['report', 'rep', '--db', db, '--out', out, '--metric', 'test_mse', 'test_acc', 'test_mse', '--json']);
  assert.equal(dup.code, 0, dup.stderr);
  assert.deepEqual((JSON.parse(dup.stdout) as typeof info).charts.map((c) => c.metric), ['test_mse', 'test_acc']);
  assert.equal(readdirSync(out).filter((f) => f.includes('.tmp-')).length, 0);

  // an output path that is a file, or a folder with files a report did not write: bad input
  const file = join(dir, 'afile');
  writeFileSync(file, 'x');
  const onFile = await runCli(['report', 'rep', '--db', db, '--out', file]);
  assert.equal(onFile.code, 2);
  assert.match(onFile.stderr, /^error: --out .*afile is a file, not a folder$/m);
  assert.equal(readFileSync(file, 'utf8'), 'x');
  const foreign = join(dir, 'mine');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'index.html'), '<p>my page</p>');
  const onForeign = await runCli(['report', 'rep', '--db', db, '--out', foreign]);
  assert.equal(onForeign.code, 2);
  assert.match(onForeign.stderr, /already holds index\.html, not written by ntk-sweep report/);
  assert.deepEqual(readdirSync(foreign), ['index.html']);

  // a UNION in the filter cannot bring in the other sweep's points; comments are refused
  const union = await runCli(['report', 'rep', '--db', db, '--out', join(dir, 'u'), '--metric', 'test_mse', '--json', '--where', "1) UNION ALL SELECT * FROM results WHERE (sweep = 'other'"]);
  assert.equal(union.code, 0, union.stderr);
  assert.equal((JSON.parse(union.stdout) as typeof info).charts[0].marks, 18);
  const comment = await runCli(['report', 'rep', '--db', db, '--where', 'depth > 1 -- and more']);
  assert.equal(comment.code, 2);
  assert.match(comment.stderr, /without ; or comments/);

  const unknownSweep = await runCli(['report', 'nope', '--db', db]);
  assert.equal(unknownSweep.code, 2);
  assert.match(unknownSweep.stderr, /no sweep named "nope".*sweeps: rep, other/);
  const badMetric = await runCli(['report', 'rep', '--db', db, '--out', join(dir, 'bad'), '--metric', 'act_dev_max']);
  assert.equal(badMetric.code, 2);
  assert.match(badMetric.stderr, /--metric: no metric named "act_dev_max".*test_acc/);
  assert.equal(existsSync(join(dir, 'bad')), false, 'nothing written on bad input');
  const badWhere = await runCli(['report', 'rep', '--db', db, '--where', 'widht > 3']);
  assert.equal(badWhere.code, 2);
  assert.match(badWhere.stderr, /--where "widht > 3".*no such column: widht/);
});

test('report --series: training curves against t = lr·step, means over seeds equal SQL over the metrics table', async () => {
  const dir = tempDir();
  const db = join(dir, 's.sqlite');
  const spec = writeSpec(
    dir,
    'curves',
    `name: curves
kind: train
dataset: { name: sphere, d: 5, target: linear }
fixed: { n_train: 16, n_test: 8, probe: 4, lr: 0.5, steps: 6, log_every: 2 }
grid:
  width: [8, 16, 32]
  depth: [2, 3]
  seed: [0, 1]
`,
  );
  const run = await runCli(['run', spec, '--db', db, '--quiet']);
  assert.equal(run.code, 0, run.stderr);
  const out = join(dir, 'out');
  const r = await runCli(['report', 'curves', '--db', db, '--series', '--metric', 'train_loss', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const csv = parse(readFileSync(join(out, 'data.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
  // x = t at steps 2, 4, 6 (t = 0 cannot sit on the log axis); a line per width; a panel per depth
  assert.deepEqual([...new Set(csv.map((c) => c.x))], ['1', '2', '3']);
  assert.deepEqual([...new Set(csv.map((c) => `${c.x_axis}/${c.color_axis}`))], ['t/width']);
  assert.equal(csv.length, 3 * 3 * 2);
  const expected = await sql(
    db,
    `SELECT json_extract(t.params, '$.width') AS width, json_extract(t.params, '$.depth') AS depth, m.step AS step,
            AVG(m.value) AS mean, MIN(m.value) AS lo, MAX(m.value) AS hi, COUNT(*) AS n
     FROM metrics m JOIN tasks t ON t.id = m.task_id WHERE m.name = 'train_loss' AND m.step > 0 GROUP BY 1, 2, 3`,
  );
  assert.equal(expected.length, 18);
  for (const e of expected) {
    const row = csv.find((c) => c.color === String(e.width) && c.panel === `depth=${e.depth}` && Number(c.x) === 0.5 * (e.step as number))!;
    assert.ok(row, `width ${e.width} depth ${e.depth} step ${e.step}`);
    assert.equal(Number(row.n), 2);
    assert.equal(Number(row.min), e.lo);
    assert.equal(Number(row.max), e.hi);
    assert.ok(Math.abs(Number(row.mean) - (e.mean as number)) <= 1e-15 * Math.abs(e.mean as number));
  }
  // slope on the same sweep: a fit that would pool over depth is refused, names are checked
  const ok = await runCli(['slope', 'curves', '--db', db, '--metric', 'train_loss', '--format', 'json']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual((JSON.parse(ok.stdout) as { depth: number; seeds: number }[]).map((r) => [r.depth, r.seeds]), [[2, 2], [3, 2]]);
  const pooled = await runCli(['slope', 'curves', '--db', db, '--metric', 'train_loss', '--by', 'seed']);
  assert.equal(pooled.code, 2);
  assert.match(pooled.stderr, /^error: depth varies among the selected points but is not --x, --by or --seed/m);
  const noMetric = await runCli(['slope', 'curves', '--db', db, '--metric', 'act_dev_mx']);
  assert.equal(noMetric.code, 2);
  assert.match(noMetric.stderr, /--metric: no metric named "act_dev_mx".*act_dev_max/);
  const noAxis = await runCli(['slope', 'curves', '--db', db, '--metric', 'train_loss', '--by', 'dpth']);
  assert.equal(noAxis.code, 2);
  assert.match(noAxis.stderr, /--by: "dpth" is not a param/);

  const byWidth = await runCli(['report', 'curves', '--db', db, '--series', '--x', 'width']);
  assert.equal(byWidth.code, 2);
  assert.match(byWidth.stderr, /--x: with --series the x axis is the training time t \(or step\), not width/);
  const vl = JSON.parse(readFileSync(join(out, 'train_loss.vl.json'), 'utf8')) as { title: { subtitle: string[] } };
  assert.deepEqual(vl.title.subtitle, ['line: mean over seed; band: min–max', '6 mark(s) at t ≤ 0 not drawn on the log x axis']);
});
