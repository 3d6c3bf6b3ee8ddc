/**
 * Messages and conventions that used to mislead: spec and YAML errors, defaults named as such,
 * unknown flags, tiny budgets, the logged steps of `slope`, an unwritable report folder, t = ∞ in
 * JSON, the first ETA, and a Ctrl-C while `run --json` starts. Real CLI processes.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { showParams, toJson } from '../src/cli/format.js';
import { estimateEta } from '../src/engine/progress.js';
import { runCli, tempDir, writeSpec } from './helpers/cli.js';
import { startCli } from './helpers/fault.js';

test('spec errors are in words: a missing name, the kind options, NaN, and a YAML error with its lines and a caret', async () => {
  const dir = tempDir();
  const cases: [string, RegExp][] = [
    ['kind: kernel\ngrid: { depth: [1] }\n', /name: required: the sweep name/],
    ['name: a\nkind: kern\n', /kind: expected one of kernel, train, debug, got "kern"/],
    ['name: a\nkind: kernel\ndataset: { name: sphere, d: 3 }\nfixed: { n_train: 4, n_test: 2 }\ngrid: { depth: [1], t: [.nan] }\n', /grid\.t\[0\]: got NaN \(\.nan\), which is not a value; write a number, or inf for t = ∞/],
    ['name: a\nkind: kernel\ngrid:\n  depth: [1, 2\n  t: [1]\n', /YAML syntax error: Flow sequence .* at line 5, column 3:\n +depth: \[1, 2\n +t: \[1\]\n +\^/],
  ];
  for (const [yaml, re] of cases) {
    const r = await runCli(['run', writeSpec(dir, 'bad', yaml), '--db', join(dir, 'db.sqlite')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /Invalid input|Invalid option/);
  }
});

test('a csv spec without n_test says that 500 is the default; a point that centering makes 0 is refused naming its CSV line', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'm.csv'), 'a,b,label,split\n0,0,0,train\n2,2,1,train\n1,1,0,train\n1,1,1,test\n0,3,1,test\n');
  const noTest = await runCli(['run', writeSpec(dir, 'n', 'name: n\nkind: kernel\ndataset: { name: csv, path: m.csv }\nfixed: { n_train: 2 }\ngrid: { depth: [1] }\n'), '--db', join(dir, 'db.sqlite')]);
  assert.equal(noTest.code, 2);
  assert.match(noTest.stderr, /n_test = 500 exceeds the 2 test rows .* \(n_test is not set in the spec: 500 is its default; set n_test in fixed or grid\)/);
  const centered = await runCli(['run', writeSpec(dir, 'c', 'name: c\nkind: kernel\ndataset: { name: csv, path: m.csv, center: true }\nfixed: { n_train: 3, n_test: 2 }\ngrid: { depth: [1] }\n'), '--db', join(dir, 'db.sqlite')]);
  assert.equal(centered.code, 2, centered.stderr);
  assert.match(centered.stderr, /m\.csv, line 4: the point equals the mean of the 3 selected train points \(data_seed 0\), so centering makes it 0/);
  assert.match(centered.stderr, /m\.csv, line 5: the point equals the mean/, 'a test point equal to the train mean too');
  writeFileSync(join(dir, 'm2.csv'), 'a,b,label,split\n0,0,0,train\n2,2,1,train\n1,1,0,train\n3,1,1,train\n0,3,1,test\n1,2,0,test\n');
  const ok = await runCli(['run', writeSpec(dir, 'o', 'name: o\nkind: kernel\ndataset: { name: csv, path: m2.csv, center: true }\nfixed: { n_train: 4, n_test: 2 }\ngrid: { depth: [1] }\n'), '--db', join(dir, 'db.sqlite'), '--json']);
  assert.equal(ok.code, 0, `another selection of the same file runs: ${ok.stderr}`);
});

test('an unknown flag is named once; --memory below 0.25 GiB is refused; report --out under /proc fails at once (exit 3)', async () => {
  const dir = tempDir();
  const r = await runCli(['status', '--bogus-flag', '--db', join(dir, 'db.sqlite')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /error: Unknown argument: bogus-flag\n/);
  const m = await runCli(['run', 'x.yaml', '--memory', '0.001']);
  assert.equal(m.code, 2);
  assert.match(m.stderr, /--memory: 0\.001 GiB is below the smallest budget, 0\.25 GiB/);
  const db = join(dir, 'db.sqlite');
  assert.equal((await runCli(['run', writeSpec(dir, 'd', 'name: d\nkind: debug\ngrid:\n  x: [1, 2]\n'), '--db', db, '--json'])).code, 0);
  const rep = await runCli(['report', 'd', '--out', '/proc/ntk-sweep-report', '--db', db], { timeoutMs: 60_000 });
  assert.equal(rep.code, 3, rep.stderr);
  assert.match(rep.stderr, /cannot write the report to \/proc\/ntk-sweep-report/);
});

test('slope --step with no value there lists the steps that were logged', async () => {
  const dir = tempDir();
  const db = join(dir, 'db.sqlite');
  const spec = 'name: w\nkind: train\ndataset: { name: sphere, d: 3 }\nfixed: { n_train: 8, n_test: 4, depth: 2, lr: 1, steps: 4, log_every: 2, probe: 2 }\ngrid: { width: [8, 16] }\n';
  assert.equal((await runCli(['run', writeSpec(dir, 'w', spec), '--db', db, '--json'])).code, 0);
  const r = await runCli(['slope', 'w', '--metric', 'act_norm', '--step', '3', '--db', db]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /logged at step 3; the logged steps of act_norm in this sweep: 0, 2, 4/);
});

test('t = ∞ in JSON output is the number 1e999 (JavaScript and Python read ∞, jq reads the largest double); messages write inf', async () => {
  assert.equal(toJson({ t: Infinity, l: -Infinity, n: NaN, x: 1 }), '{"t":1e999,"l":-1e999,"n":null,"x":1}');
  assert.equal(JSON.parse(toJson([{ t: Infinity }]))[0].t, Infinity);
  assert.equal(showParams({ depth: 3, t: Infinity }), '{"depth":3,"t":inf}');
  const dir = tempDir();
  const db = join(dir, 'db.sqlite');
  const spec = 'name: k\nkind: kernel\ndataset: { name: sphere, d: 3 }\nfixed: { n_train: 4, n_test: 2 }\ngrid: { depth: [1], t: [1, inf] }\n';
  assert.equal((await runCli(['run', writeSpec(dir, 'k', spec), '--db', db, '--json'])).code, 0);
  const out = join(dir, 'k.json');
  assert.equal((await runCli(['export', 'k', '--format', 'json', '--out', out, '--db', db])).code, 0);
  const text = readFileSync(out, 'utf8');
  assert.match(text, /"t": 1e999/);
  assert.deepEqual(JSON.parse(text).map((r: { t: number }) => r.t).sort(), [1, Infinity]);
  try {
    const jq = execFileSync('jq', ['-c', '[.[] | select(.t > 1e308) | .depth]', out], { encoding: 'utf8' });
    assert.equal(jq.trim(), '[1]', 'jq selects t = ∞ with t > 1e308, as SQL does');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const q = await runCli(['query', "SELECT t FROM results WHERE sweep = 'k' AND t > 1e308", '--format', 'json', '--db', db]);
  assert.deepEqual(JSON.parse(q.stdout), [{ t: Infinity }]);
});

test('the ETA is based on finished points only, and waits for 3 points and 5 seconds', () => {
  assert.ok(Number.isNaN(estimateEta(0, 120, 0, 1).eta), 'nothing finished: no ETA');
  assert.ok(Number.isNaN(estimateEta(2, 120, 0, 30).eta), 'two points are not enough');
  assert.ok(Number.isNaN(estimateEta(10, 120, 0, 4).eta), 'nor is under 5 s');
  assert.equal(estimateEta(13, 120, 0, 10).eta, (120 - 13) / 1.3);
  assert.equal(estimateEta(60, 120, 50, 10).eta, 60, 'points done before this run do not count towards the rate');
  assert.equal(estimateEta(120, 120, 0, 1).eta, 0);
});

test('a Ctrl-C while run --json is still reading its spec exits 130 and prints a JSON summary that says nothing was written', async () => {
  const dir = tempDir();
  const db = join(dir, 'db.sqlite');
  // the spec is a named pipe: the run blocks reading it until the test writes it, so the
  // interrupt lands at a known moment (before any registration)
  const fifo = join(dir, 'spec.yaml');
  execFileSync('mkfifo', [fifo]);
  const child = startCli(['run', fifo, '--db', db, '--json']);
  const writer = await open(fifo, 'w'); // resolves once the run has opened the spec to read it
  child.child.kill('SIGINT');
  await new Promise((r) => setTimeout(r, 200));
  await writer.writeFile('name: d\nkind: debug\ngrid:\n  x: [1, 2]\n');
  await writer.close();
  const end = await child.done;
  assert.equal(end.code, 130, end.stderr);
  const summary = JSON.parse(end.stdout);
  assert.equal(summary.interrupted, true);
  assert.equal(summary.signal, 'SIGINT');
  assert.equal(summary.executed, 0);
  assert.equal(existsSync(db), false, 'nothing was written');
});

test("the query a run suggests selects the grid's axes and the kind's main metrics, and runs as printed", async () => {
  const dir = tempDir();
  const db = join(dir, 'h.sqlite');
  const spec = writeSpec(dir, 'k', 'name: k\nkind: kernel\ndataset: { name: mnist, classes: [0, 1] }\nfixed: { n_train: 20, n_test: 10 }\ngrid:\n  depth: [1, 3]\n  t: [10, inf]\n');
  const r = await runCli(['run', spec, '--db', db, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  const m = /^results: npx ntk-sweep query "(.*)" --db (.*)$/m.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.equal(m[1], "SELECT depth, t, test_acc, test_mse FROM results WHERE sweep = 'k' ORDER BY depth, t LIMIT 20");
  const q = await runCli(['query', m[1], '--db', m[2], '--format', 'json']);
  assert.equal(q.code, 0, q.stderr);
  const rows = JSON.parse(q.stdout) as Record<string, unknown>[];
  assert.deepEqual(rows.map((x) => [x.depth, x.t]), [[1, 10], [1, 1e999], [3, 10], [3, 1e999]]);
  for (const x of rows) assert.ok(typeof x.test_acc === 'number' && x.test_acc >= 0 && x.test_acc <= 1, JSON.stringify(x));
});
