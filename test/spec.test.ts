import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { SpecError } from '../src/spec/errors.js';
import { expandSpec, taskId } from '../src/spec/expand.js';
import { dataParams, parseParams } from '../src/spec/params.js';
import { validateSpec } from '../src/spec/spec.js';
import { specProblems as problems } from './helpers/spec.js';

const base = `
name: s
kind: kernel
dataset: { name: mnist }
fixed: { n_test: 50 }
`;

test('a negative depth in the grid is reported with its path and value', () => {
  const p = problems(base + 'grid: { n_train: [10], depth: [1, 2, -1] }');
  assert.deepEqual(p, ['grid.depth[2]: expected a positive integer (at most 100000), got -1']);
});

test('every problem of a spec is reported at once, each naming its field', () => {
  const p = problems(`
name: "bad name!"
kind: kernel
dataset: { name: mnsit }
fixed: { n_test: 0, sigma_w: -1, widht: 3 }
grid: { n_train: [], depth: [1] }
`);
  assert.ok(p.some((m) => m.startsWith('name:')), p.join('\n'));
  assert.ok(p.some((m) => m.startsWith('grid.n_train:') && m.includes('non-empty')), p.join('\n'));
  const q = problems(`
name: ok
kind: kernel
dataset: { name: mnsit }
fixed: { n_test: 0, sigma_w: -1, widht: 3 }
grid: { n_train: [10], depth: [1] }
`);
  assert.ok(q.includes('dataset.name: expected one of mnist, fashion-mnist, sphere, csv, got "mnsit"'), q.join('\n'));
  assert.ok(q.includes('fixed.n_test: expected a positive integer, got 0'), q.join('\n'));
  assert.ok(q.includes('fixed.sigma_w: expected a positive number, got -1'), q.join('\n'));
  assert.ok(q.some((m) => m.startsWith('fixed.widht: unknown parameter (did you mean width, a train parameter?)')), q.join('\n'));
});

test('unknown top-level fields get a suggestion', () => {
  const p = problems(base + 'gird: { depth: [1] }');
  assert.ok(p[0].startsWith('gird: unknown field (did you mean grid?)'), p.join('\n'));
});

test('a parameter set in two sections is rejected', () => {
  const p = problems(base + 'grid: { n_test: [10], n_train: [5], depth: [1] }');
  assert.ok(p.some((m) => m.includes('n_test is already set in fixed')), p.join('\n'));
});

test('required parameters are named when missing', () => {
  const p = problems(base + 'grid: { depth: [1] }');
  assert.deepEqual(p, ['n_train: required for kind kernel; set it in dataset, fixed, grid or derived']);
});

test('t accepts inf, .inf and Infinity but depth does not', () => {
  assert.deepEqual(problems(base + 'grid: { n_train: [10], depth: [1], t: [0, 1, inf, .inf] }').length, 1); // duplicate inf values
  assert.deepEqual(problems(base + 'grid: { n_train: [10], depth: [1], t: [0, 1, inf] }'), []);
  assert.deepEqual(problems(base + 'grid: { n_train: [10], depth: [inf] }'), ['grid.depth[0]: expected a positive integer (at most 100000), got "inf"']);
});

test('grid expansion yields the cartesian product, each point once', () => {
  const spec = validateSpec(parse(base + 'grid: { n_train: [10, 20, 40], depth: [1, 2, 3, 5], t: [1, 10, inf] }'));
  const tasks = expandSpec(spec);
  assert.equal(tasks.length, 3 * 4 * 3);
  assert.equal(new Set(tasks.map((t) => t.id)).size, 36);
  // kernel tasks sharing data and kernel share a batch: one per n_train
  assert.equal(new Set(tasks.map((t) => t.batchKey)).size, 3);
});

test('task ids depend on params only: key order, defaults and re-expansion do not change them', () => {
  const a = expandSpec(validateSpec(parse(base + 'grid: { n_train: [10], depth: [2, 3] }')));
  const b = expandSpec(
    validateSpec(parse(`
kind: kernel
name: other-name
grid: { depth: [3, 2], n_train: [10] }
fixed: { sigma_w: 1, n_test: 50, kernel: ntk }
dataset: { name: mnist, unit_norm: true }
`)),
  );
  assert.deepEqual(a.map((t) => t.id).sort(), b.map((t) => t.id).sort());
  const c = expandSpec(validateSpec(parse(base + 'grid: { n_train: [10], depth: [2, 3] }')));
  assert.deepEqual(a.map((t) => t.id), c.map((t) => t.id));
  // a changed param gives a different id
  const d = expandSpec(validateSpec(parse(base.replace('n_test: 50', 'n_test: 51') + 'grid: { n_train: [10], depth: [2, 3] }')));
  assert.notEqual(a[0].id, d[0].id);
  assert.equal(a[0].id, taskId('kernel', a[0].params));
  assert.match(a[0].id, /^[0-9a-f]{16}$/);
});

test('derived parameters are evaluated per grid point, e.g. t = tau * depth', () => {
  const spec = validateSpec(parse(base + 'grid: { n_train: [10], depth: [1, 2, 4], tau: [0.5, 3] }\nderived: { t: "tau * depth" }'));
  const tasks = expandSpec(spec);
  assert.equal(tasks.length, 6);
  for (const t of tasks) assert.equal(t.params.t, (t.params.tau as number) * (t.params.depth as number));
});

test('a derived value that breaks its parameter rule names the grid point', () => {
  const spec = validateSpec(parse(base + 'grid: { n_train: [10], depth: [1, 2], tau: [1, -1] }\nderived: { t: "tau * depth" }'));
  assert.throws(
    () => expandSpec(spec),
    (e: unknown) => e instanceof SpecError && e.problems.some((p) => p.startsWith('derived.t (at n_train=10, depth=1, tau=-1): "tau * depth" gives -1; expected a non-negative number or inf')),
  );
});

test('derived expressions may not use unknown names and are not JavaScript', () => {
  const p = problems(base + 'grid: { n_train: [10], depth: [1] }\nderived: { t: "process.exit(1)" }');
  assert.ok(p.length > 0);
  const q = problems(base + 'grid: { n_train: [10], depth: [1] }\nderived: { t: "taux * depth" }');
  assert.ok(q.some((m) => m.includes('uses taux, which is not set')), q.join('\n'));
});

test('train tasks get t = lr * steps and reject an inconsistent t', () => {
  const train = `
name: tr
kind: train
dataset: mnist
fixed: { n_train: 16, width: 8, depth: 2 }
grid: { lr: [0.5, 1], steps: [10] }
`;
  const tasks = expandSpec(validateSpec(parse(train)));
  assert.deepEqual(tasks.map((t) => t.params.t).sort((a, b) => Number(a) - Number(b)), [5, 10]);
  const bad = validateSpec(parse(train.replace('grid: { lr: [0.5, 1], steps: [10] }', 'grid: { lr: [0.5], steps: [10], t: [3] }')));
  assert.throws(() => expandSpec(bad), /t = lr·steps/);
});

test('dataset fields that do not apply to the chosen dataset are rejected', () => {
  const p = problems(base.replace('dataset: { name: mnist }', 'dataset: { name: mnist, d: 8 }') + 'grid: { n_train: [10], depth: [1] }');
  assert.deepEqual(p, ['dataset.d: applies only to the sphere dataset, not mnist']);
  const q = problems(base.replace('dataset: { name: mnist }', 'dataset: { name: sphere }') + 'grid: { n_train: [10], depth: [1] }');
  assert.deepEqual(q, ['dataset.d: required for the sphere dataset (input dimension)']);
  const r = problems(base.replace('dataset: { name: mnist }', 'dataset: { name: csv }') + 'grid: { n_train: [10], depth: [1] }');
  assert.equal(r.length, 1);
  assert.match(r[0], /^dataset\.path: the csv dataset needs/);
});

test('derived expressions cannot use mathjs constants (tau, pi, e, phi): each is a spec error naming it', () => {
  for (const name of ['tau', 'pi', 'e', 'phi', 'LN2']) {
    const p = problems(base + `grid: { n_train: [10], depth: [1, 2] }\nderived: { t: "${name} * depth" }`);
    assert.ok(p.some((m) => m.startsWith(`derived.t: expression "${name} * depth" uses ${name}, which is not set`)), `${name}: ${p.join('\n')}`);
  }
  // with the helper given, tau is the helper
  const spec = validateSpec(parse(base + 'grid: { n_train: [10], depth: [1, 2], tau: [0.5] }\nderived: { t: "tau * depth" }'));
  assert.deepEqual(expandSpec(spec).map((t) => t.params.t).sort(), [0.5, 1]);
});

test('derived expressions call only allowed functions, and assignments, property access and arrays are refused', () => {
  const cases: [string, RegExp][] = [
    ['evaluate(\'tau * depth\')', /calls evaluate, which is not an allowed function/],
    ['import(depth)', /calls import, which is not an allowed function/],
    ['depth = 3', /contains a assignment expression/],
    ['depth.x', /contains a accessor expression/],
    ['[depth, 1]', /contains a array expression/],
  ];
  for (const [expr, want] of cases) {
    const p = problems(base + `grid: { n_train: [10], depth: [1, 2] }\nderived: { t: "${expr}" }`);
    assert.ok(p.some((m) => want.test(m)), `${expr}: ${p.join('\n')}`);
  }
  const ok = validateSpec(parse(base + 'grid: { n_train: [10], depth: [4, 9] }\nderived: { t: "max(1, sqrt(depth)) * log10(100) + abs(-1)" }'));
  assert.deepEqual(expandSpec(ok).map((t) => t.params.t).sort(), [5, 7]);
});

test('log_points below 2 is refused: a log schedule needs the first and the last step', () => {
  const train = `
name: s
kind: train
dataset: { name: mnist }
fixed: { n_test: 50, n_train: 10, width: 8, depth: 2, lr: 1, steps: 10 }
`;
  assert.deepEqual(problems(train + 'grid: { log_points: [1, 2] }'), ['grid.log_points[0]: expected an integer >= 2 (the first and the last step), got 1']);
  assert.deepEqual(problems(train + 'grid: { log_points: [2, 5] }'), []);
});

test('typed task params come from the one definition: defaults filled, values checked, data params collected', () => {
  const k = parseParams('kernel', { dataset: 'mnist', n_train: 10, depth: 3, tau: 2 });
  assert.deepEqual(
    { ...k, data: undefined },
    { depth: 3, sigma_w: 1, sigma_b: 0, activation: 'relu', kernel: 'ntk', t: Infinity, time_scale: 'normalized', diag_reg: 0, diag_reg_mode: 'relative', data: undefined },
  );
  assert.deepEqual(k.data, { dataset: 'mnist', n_train: 10, n_test: 500, data_seed: 0, center: false, unit_norm: true });
  assert.deepEqual(dataParams({ dataset: 'sphere', d: 4, n_train: 5, n_test: 3, width: 8 }), { dataset: 'sphere', n_train: 5, n_test: 3, data_seed: 0, center: false, unit_norm: true, d: 4 });
  assert.throws(() => parseParams('kernel', { dataset: 'mnist', n_train: 10, depth: 0 }), /kernel task: param depth: expected a positive integer/);
  assert.throws(() => parseParams('kernel', { dataset: 'mnist', n_train: 10 }), /kernel task: param depth: required/);
  assert.throws(() => parseParams('train', { dataset: 'mnist', n_train: 10, width: 8, depth: 2, lr: 1, steps: 5, log_points: 1 }), /log_points: expected an integer >= 2/);
  const t = parseParams('train', { dataset: 'mnist', n_train: 10, width: 8, depth: 2, lr: 1, steps: 5, t: 5 });
  assert.equal(t.log_points, 20);
  assert.equal(t.log_every, undefined);
  assert.equal(t.seed, 0);
});
