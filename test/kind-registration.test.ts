/**
 * A new task kind is its own file plus its registration: `kind: poly` (test/helpers/poly-kind.ts,
 * with its own params, defaults, rules and task code) is registered here and nowhere in `src/`,
 * then validated, expanded, and run end to end through the real worker pool into a real SQLite
 * database.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Coordinator } from '../src/engine/coordinator.js';
import { expandSpec, specHash, taskId } from '../src/spec/expand.js';
import { kindParams, paramTable, parseParams } from '../src/spec/params.js';
import { validateSpec } from '../src/spec/spec.js';
import { openStore } from '../src/store/open.js';
import { isKind, KIND_NAMES, kindOf, registerKind } from '../src/tasks/registry.js';
import { taskVersion } from '../src/tasks/versions.js';
import { encodeParams } from '../src/util/json.js';
import { tempDir } from './helpers/cli.js';
import { POLY_MODULE, polyKind } from './helpers/poly-kind.js';
import { specProblems as problems } from './helpers/spec.js';

registerKind(polyKind, POLY_MODULE);

test('a registered kind is known by its name, and its own params join the param table with their defaults', () => {
  assert.ok(isKind('poly'));
  assert.equal(kindOf('poly'), polyKind);
  assert.deepEqual(KIND_NAMES, ['kernel', 'train', 'debug', 'poly']);
  assert.equal(taskVersion('poly'), 7);
  assert.deepEqual(Object.keys(kindParams('poly')), ['u', 'power', 'coef']);
  assert.deepEqual(paramTable().coef.kinds, ['poly']);
  assert.deepEqual(paramTable().depth.kinds, ['kernel', 'train'], 'shared params stay with the kinds that take them');
  assert.deepEqual(parseParams('poly', { u: 2, depth: 5 }), { u: 2, power: 2, coef: 3 });
  assert.throws(() => parseParams('poly', { power: 1 }), /^RangeError: poly task: param u: required \(a finite number\)$/);
  assert.throws(() => parseParams('poly', { u: 1, power: 11 }), /poly task: param power: expected an integer from 0 to 10, got 11/);
  registerKind(polyKind, POLY_MODULE); // again: nothing changes
  assert.throws(() => registerKind({ ...polyKind }, POLY_MODULE), /task kind "poly" is already registered/);
});

test('a spec of the new kind is checked against its own params and rules, and other kinds do not take them', () => {
  assert.deepEqual(problems({ name: 'p', kind: 'poly', grid: { u: [1, 2] } }), []);
  assert.deepEqual(problems({ name: 'p', kind: 'poly', fixed: { power: 11 }, grid: { u: [1] } }), ['fixed.power: expected an integer from 0 to 10, got 11']);
  assert.deepEqual(problems({ name: 'p', kind: 'poly', fixed: { power: 2 } }), ['u: required for kind poly; set it in dataset, fixed, grid or derived']);
  assert.deepEqual(problems({ name: 'p', kind: 'poly', fixed: { power: 3 }, grid: { u: [-1, 1] } }), ['power: odd powers need u ≥ 0 in poly sweeps']);
  assert.deepEqual(problems({ name: 'p', kind: 'poly', fixed: { depth: 3 }, grid: { u: [1] } }), ['fixed.depth: depth is not a parameter of kind poly tasks']);
  assert.deepEqual(problems({ name: 'd', kind: 'debug', fixed: { coef: 2 }, grid: { x: [1] } }), ['fixed.coef: coef is not a parameter of kind debug tasks']);
  assert.deepEqual(problems({ name: 'p', kind: 'polly' }), ['kind: expected one of kernel, train, debug, poly, got "polly"']);
});

test('grid points of the new kind run through the real pool into SQLite, once each, with its defaults and its version in their ids', async () => {
  const spec = validateSpec({ name: 'poly-e2e', kind: 'poly', fixed: { power: 3 }, grid: { u: [0, 1, 2, 3, 4, 5] } });
  const tasks = expandSpec(spec);
  assert.equal(tasks.length, 6);
  for (const t of tasks) {
    assert.deepEqual(Object.keys(t.params).sort(), ['coef', 'power', 'u']);
    assert.equal(t.params.coef, 3);
    assert.equal(t.id, taskId('poly', t.params));
  }
  assert.notEqual(taskId('poly', tasks[0].params), taskId('debug', tasks[0].params), 'the kind and its version enter the id');
  const db = join(tempDir(), 'db.sqlite');
  const store = await openStore(db);
  try {
    await store.registerSweep({ name: spec.name, kind: spec.kind, specJson: encodeParams(spec as unknown as Record<string, unknown>), specHash: specHash(spec) }, tasks);
    const first = await new Coordinator(store, { threads: 2, maxAttempts: 1 }).run(spec.name, spec.kind);
    assert.deepEqual([first.total, first.executed, first.failed, first.already_done], [6, 6, 0, 0]);
    const rows = await store.query("SELECT json_extract(params, '$.u') AS u, poly_value, status, attempts FROM results WHERE sweep = 'poly-e2e' ORDER BY u");
    assert.deepEqual(
      rows.map((r) => [r.u, r.poly_value, r.status, r.attempts]),
      [0, 1, 2, 3, 4, 5].map((u) => [u, 3 * u ** 3, 'done', 1]),
    );
    const second = await new Coordinator(store, { threads: 2, maxAttempts: 1 }).run(spec.name, spec.kind);
    assert.deepEqual([second.total, second.executed, second.already_done], [6, 0, 6]);
  } finally {
    await store.close();
  }
});
