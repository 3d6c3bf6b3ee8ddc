import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset, checkDataParams, DataError, type DataParams, type Dataset } from '../src/data/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ntk-data-csv-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

// 12 rows: feature (a, b) = (i, i/4), label cycles 5, 7, 9; rows 0..7 train, 8..11 test
const rows = Array.from({ length: 12 }, (_, i) => ({ a: i, b: i / 4, label: [5, 7, 9][i % 3], split: i < 8 ? 'train' : 'test' }));
const single = file('single.csv', ['a,label,b,split', ...rows.map((r) => `${r.a},${r.label},${r.b},${r.split}`)].join('\n') + '\n');

const p1: DataParams = { dataset: 'csv', path: single, n_train: 8, n_test: 4, data_seed: 0, center: false, unit_norm: false };
const rowsOf = (x: Float64Array, labels: Int32Array, classes: number[], n: number, d: number) =>
  Array.from({ length: n }, (_, i) => [...x.subarray(i * d, (i + 1) * d), classes[labels[i]]].join(' ')).sort();

test('csv single file with a split column round-trips every row, features in header order, numeric classes [5, 7, 9]', () => {
  const ds = loadDataset(p1);
  assert.equal(ds.d, 2);
  assert.equal(ds.k, 3);
  assert.deepEqual(ds.classes, [5, 7, 9]);
  const want = (part: string) => rows.filter((r) => r.split === part).map((r) => `${r.a} ${r.b} ${r.label}`).sort();
  assert.deepEqual(rowsOf(ds.x_train, ds.labels_train, ds.classes, 8, 2), want('train'));
  assert.deepEqual(rowsOf(ds.x_test, ds.labels_test, ds.classes, 4, 2), want('test'));
  for (let i = 0; i < 8; i++) {
    const y = [...ds.y_train.subarray(3 * i, 3 * i + 3)];
    assert.deepEqual(y, [0, 1, 2].map((j) => (j === ds.labels_train[i] ? 1 - 1 / 3 : -1 / 3)));
  }
});

test('csv selection is seeded, nested within each part, and the class subset [9, 5] gives ±1 labels (9 → -1)', () => {
  const a = loadDataset({ ...p1, n_train: 5, n_test: 2 });
  assert.deepEqual(loadDataset({ ...p1, n_train: 5, n_test: 2 }), a);
  const big = loadDataset(p1);
  assert.deepEqual(big.x_train.subarray(0, 10), a.x_train);
  assert.deepEqual(big.x_test.subarray(0, 4), a.x_test);
  const seeds = new Set([0, 1, 2, 3, 4].map((s) => loadDataset({ ...p1, data_seed: s }).x_train.join(',')));
  assert.ok(seeds.size > 1, 'different data seeds give different orders');
  const sub = loadDataset({ ...p1, classes: [9, 5], n_train: 5, n_test: 2 });
  assert.equal(sub.k, 1);
  assert.deepEqual(sub.classes, [9, 5]);
  for (let i = 0; i < 5; i++) {
    const a0 = sub.x_train[2 * i];
    const label = [5, 7, 9][a0 % 3];
    assert.equal(sub.y_train[i], label === 9 ? -1 : 1);
  }
  assert.deepEqual(checkDataParams({ ...p1, classes: [9, 5], n_train: 6, n_test: 2 }), [`n_train = 6 exceeds the 5 train rows of classes 5, 9 in csv ${single}`]);
});

test('csv two files: test columns matched by name, string labels sorted (ant=0, cat=1, dog=2), center + unit_norm applied', () => {
  const train = file('train.csv', 'x1,x2,species\n3,0,cat\n0,4,dog\n6,8,ant\n-3,-4,cat\n');
  const testF = file('test.csv', 'species,x2,x1\ndog,1,1\nant,0,2\n');
  const p: DataParams = { dataset: 'csv', train_path: train, test_path: testF, label_column: 'species', n_train: 4, n_test: 2, data_seed: 1, center: false, unit_norm: false };
  const ds: Dataset = loadDataset(p);
  assert.deepEqual(ds.classes, [0, 1, 2]);
  assert.deepEqual(ds.class_names, ['ant', 'cat', 'dog']);
  const name = (labels: Int32Array, i: number) => ds.class_names![labels[i]];
  const trainRows = Array.from({ length: 4 }, (_, i) => `${ds.x_train[2 * i]},${ds.x_train[2 * i + 1]},${name(ds.labels_train, i)}`).sort();
  assert.deepEqual(trainRows, ['-3,-4,cat', '0,4,dog', '3,0,cat', '6,8,ant']);
  const testRows = Array.from({ length: 2 }, (_, i) => `${ds.x_test[2 * i]},${ds.x_test[2 * i + 1]},${name(ds.labels_test, i)}`).sort();
  assert.deepEqual(testRows, ['1,1,dog', '2,0,ant']);
  // train mean (1.5, 2): centered train [1.5,-2],[-1.5,2],[4.5,6],[-4.5,-6]; unit norm: [0.6,-0.8] etc.
  const c = loadDataset({ ...p, center: true, unit_norm: true });
  const got = Array.from({ length: 4 }, (_, i) => [c.x_train[2 * i], c.x_train[2 * i + 1]].map((v) => v.toFixed(12)).join(',')).sort();
  assert.deepEqual(got, ['-0.600000000000,0.800000000000', '-0.600000000000,-0.800000000000', '0.600000000000,-0.800000000000', '0.600000000000,0.800000000000'].sort());
  // test (1,1) - (1.5,2) = (-0.5,-1) → /√1.25
  const i = c.labels_test[0] === 2 ? 0 : 1;
  assert.ok(Math.abs(c.x_test[2 * i] + 0.5 / Math.sqrt(1.25)) < 1e-15);
  assert.ok(Math.abs(c.x_test[2 * i + 1] + 1 / Math.sqrt(1.25)) < 1e-15);
  // classes [2, 0]: dog → -1, ant → +1; cat rows excluded
  const sub = loadDataset({ ...p, classes: [2, 0], n_train: 2, n_test: 2 });
  assert.deepEqual(sub.class_names, ['dog', 'ant']);
  for (let j = 0; j < 2; j++) assert.equal(sub.y_train[j], sub.x_train[2 * j] === 0 ? -1 : 1);
});

test('csv errors name the file, line and column', () => {
  const msg = (p: Partial<DataParams>) => checkDataParams({ ...p1, ...p } as DataParams);
  const bad = file('bad.csv', 'a,b,label,split\n1,2,0,train\n3,abc,1,train\n');
  assert.deepEqual(msg({ path: bad }), [`csv: ${bad}, line 3, column "b": value "abc" is not a finite number`]);
  assert.throws(() => loadDataset({ ...p1, path: bad }), (e: unknown) => e instanceof DataError && e.message.includes('line 3, column "b"'));
  const empty = file('empty-cell.csv', 'a,label,split\n,0,train\n');
  assert.deepEqual(msg({ path: empty }), [`csv: ${empty}, line 2, column "a": empty value`]);
  const noLabel = file('nolabel.csv', 'a,y,split\n1,0,train\n');
  assert.deepEqual(msg({ path: noLabel }), [`csv: ${noLabel} has no label column "label" (columns: a, y, split); set label_column`]);
  const noSplit = file('nosplit.csv', 'a,label\n1,0\n');
  assert.match(msg({ path: noSplit })[0], /has no "split" column; a single csv file \(path\) needs one/);
  const badSplit = file('badsplit.csv', 'a,label,split\n1,0,train\n2,1,validation\n');
  assert.deepEqual(msg({ path: badSplit }), [`csv: ${badSplit}, line 3, column "split": value "validation" is neither train nor test`]);
  const ragged = file('ragged.csv', 'a,label,split\n1,0,train\n1,2,3,test\n');
  assert.match(msg({ path: ragged })[0], new RegExp(`^csv: ${ragged.replace(/[.\\/]/g, '\\$&')}: Invalid Record Length: expect 3, got 4 on line 3`));
  const oneClass = file('oneclass.csv', 'a,label,split\n1,0,train\n2,0,test\n');
  assert.match(msg({ path: oneClass })[0], /column "label" has 1 distinct label\(s\) \(0\); need at least 2 classes/);
  const missing = join(dir, 'missing.csv');
  assert.match(msg({ path: missing })[0], new RegExp(`^csv: cannot read file ${missing.replace(/[.\\/]/g, '\\$&')}: ENOENT`));
  assert.deepEqual(msg({ train_path: single }), ['csv: give either path (one file with a "split" column) or train_path + test_path, not both']);
  assert.deepEqual(msg({ path: undefined, train_path: single }), ['csv: train_path given without test_path; give both, or one file as path']);
  assert.deepEqual(msg({ n_train: 9 }), [`n_train = 9 exceeds the 8 train rows in csv ${single}`]);
  assert.deepEqual(msg({ classes: [5, 6] }), [`unknown class 6 for csv ${single}; classes present: 5, 7, 9`]);
  const tr = file('tr.csv', 'a,b,label\n1,2,0\n3,4,1\n');
  const te = file('te.csv', 'a,c,label\n1,2,0\n');
  assert.deepEqual(msg({ path: undefined, train_path: tr, test_path: te, n_train: 2, n_test: 1 }), [`csv: ${te} feature columns differ from the train file's: missing "b"; extra "c"`]);
  const teSplit = file('te-split.csv', 'a,b,label,split\n1,2,0,train\n');
  assert.deepEqual(msg({ path: undefined, train_path: tr, test_path: teSplit, n_train: 2, n_test: 1 }), [`csv: ${teSplit}, line 2, column "split": value "train" in the test file (test_path); every row there must be test`]);
});

test('csv cache notices a rewritten file', () => {
  const p = file('change.csv', 'a,label,split\n1,0,train\n2,1,train\n');
  const q: DataParams = { ...p1, path: p, n_train: 2, n_test: 0 };
  assert.deepEqual([...loadDataset(q).x_train].sort(), [1, 2]);
  writeFileSync(p, 'a,label,split\n10,0,train\n20,1,train\n');
  assert.deepEqual([...loadDataset(q).x_train].sort((s, t) => s - t), [10, 20]);
});

test('csv regression: labels are the targets (k = 1, no classes); real-valued labels without task are an error asking to choose', () => {
  const vals = [0.25, -1.5, 3.125, 2, 0.5, -0.75, 1.0625, 4];
  const reg = file('reg.csv', ['a,y,split', ...vals.map((v, i) => `${i + 1},${v},${i < 6 ? 'train' : 'test'}`)].join('\n') + '\n');
  const p: DataParams = { dataset: 'csv', path: reg, label_column: 'y', task: 'regression', n_train: 6, n_test: 2, data_seed: 0, center: false, unit_norm: false };
  const ds = loadDataset(p);
  assert.equal(ds.task, 'regression');
  assert.equal(ds.k, 1);
  assert.deepEqual(ds.classes, []);
  // each selected row keeps its own target: feature a = i + 1 belongs to vals[i]
  for (let i = 0; i < 6; i++) assert.equal(ds.y_train[i], vals[ds.x_train[i] - 1]);
  for (let i = 0; i < 2; i++) assert.equal(ds.y_test[i], vals[ds.x_test[i] - 1]);
  assert.match(checkDataParams({ ...p, task: undefined })[0], /column "y" holds non-integer numbers \(.*reg\.csv, line 2: 0\.25\): set dataset\.task: regression/);
  assert.equal(loadDataset({ ...p, task: 'classification' }).classes.length, 8, 'explicit classification: each distinct value a class');
});

test('csv labels mixing numbers and text are an error naming the line of the stray value', () => {
  const lines = Array.from({ length: 10 }, (_, i) => `${i},${i === 6 ? 'cat' : i % 2},${i < 8 ? 'train' : 'test'}`);
  const mixed = file('mixed.csv', ['a,label,split', ...lines].join('\n') + '\n');
  const msgs = checkDataParams({ dataset: 'csv', path: mixed, n_train: 4, n_test: 2, data_seed: 0, center: false, unit_norm: false });
  assert.equal(msgs.length, 1);
  assert.match(msgs[0], /column "label" mixes numbers and text \(9 numeric, 1 not\); first text at .*mixed\.csv, line 8: "cat"/);
});
