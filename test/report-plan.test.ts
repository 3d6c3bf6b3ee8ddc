/** What `report` draws: axis choice, ordering, replicate aggregation, collapsing, infinite x. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planReport, ReportError, valueLabel, type PointRow } from '../src/report/plan.js';

/** Cartesian product of the given axes, one row each, metrics from `f`. */
function grid(axes: Record<string, unknown[]>, f: (p: Record<string, unknown>) => Record<string, number>): PointRow[] {
  let combos: Record<string, unknown>[] = [{}];
  for (const [k, vs] of Object.entries(axes)) combos = combos.flatMap((c) => vs.map((v) => ({ ...c, [k]: v })));
  return combos.map((params) => ({ params, metrics: f(params) }));
}

test('kernel grid: x = depth, a line per t (∞ last), a panel per n_train in numeric order', () => {
  const axes = { n_train: [1600, 100, 400], depth: [1, 2, 10], t: [Infinity, 1, 10] };
  const tPart = (t: unknown): number => (t === Infinity ? 0.05 : (t as number) / 1000);
  const rows = grid(axes, (p) => ({ test_acc: (p.depth as number) / 100 + (p.n_train as number) / 1e4 + tPart(p.t), pred_spread: 1 }));
  const plan = planReport(rows, { kind: 'kernel', gridAxes: Object.keys(axes) });
  const acc = plan.charts.find((c) => c.metric === 'test_acc')!;
  assert.deepEqual(plan.charts.map((c) => c.metric), ['test_acc', 'pred_spread']);
  assert.equal(acc.x, 'depth');
  assert.equal(acc.color, 't');
  assert.deepEqual(acc.facet, ['n_train']);
  assert.deepEqual(acc.panelOrder, ['n_train=100', 'n_train=400', 'n_train=1600']);
  assert.deepEqual(acc.colorOrder, ['1', '10', '∞']);
  assert.equal(acc.points.length, 27);
  const p = acc.points.find((q) => q.panel === 'n_train=400' && q.color === '∞' && q.x === 10)!;
  assert.equal(p.mean, 10 / 100 + 400 / 1e4 + 0.05);
  assert.equal(p.n, 1);
  assert.equal(acc.xScale, 'linear', 'depth 1..10 spans less than 20×');
  // pred_spread does not depend on t here, so its lines collapse into one, with one mark per x
  assert.equal(plan.charts[1].color, null);
  assert.equal(plan.charts[1].points.length, 9);
  assert.ok(plan.charts[1].points.every((q) => q.n === 1));
});

test('replicates: mean, min and max over seeds, exactly', () => {
  const axes = { width: [64, 256, 1024, 4096], depth: [2, 3], seed: [0, 1, 2] };
  const rows = grid(axes, (p) => ({ act_dev_max: (p.width as number) ** -0.5 * (1 + (p.seed as number)) * (p.depth as number), act_dev_norm: 0.5 + (p.depth as number) }));
  const plan = planReport(rows, { kind: 'train', gridAxes: Object.keys(axes) });
  assert.deepEqual(plan.replicates, ['seed']);
  const c = plan.charts[0];
  assert.equal(c.metric, 'act_dev_max');
  assert.equal(c.x, 'width');
  assert.equal(c.color, 'depth');
  assert.deepEqual(c.facet, []);
  assert.equal(c.xScale, 'log');
  assert.equal(c.points.length, 8);
  for (const p of c.points) {
    const base = p.x ** -0.5 * Number(p.color);
    assert.equal(p.n, 3);
    assert.equal(p.min, base);
    assert.equal(p.max, 3 * base);
    assert.ok(Math.abs(p.mean - 2 * base) <= 1e-15 * base, `${p.mean} vs ${2 * base}`);
  }
  // a metric with no seed dependence: the min–max band has zero width
  const norm = plan.charts[1];
  for (const p of norm.points) assert.equal(p.min, p.max);
});

test('derived params are not default axes; a metric that varies along the color axis keeps its lines', () => {
  // depth-time: grid n_train × depth × tau, derived t = tau · depth
  const axes = { n_train: [500, 2000], depth: [10, 100, 1000], tau: [0.1, 1, 10] };
  const rows = grid(axes, (p) => ({ test_acc: 1 / (1 + (p.depth as number) / (p.tau as number)) })).map((r) => ({
    ...r,
    params: { ...r.params, t: (r.params.tau as number) * (r.params.depth as number) },
  }));
  const plan = planReport(rows, { kind: 'kernel', gridAxes: Object.keys(axes) });
  const c = plan.charts[0];
  assert.equal(c.x, 'depth');
  assert.equal(c.color, 'tau');
  assert.deepEqual(c.facet, ['n_train']);
  assert.equal(c.xScale, 'log');
  assert.equal(c.points.length, 18);
  // asked for explicitly, a derived param can be the x axis
  const byT = planReport(rows, { kind: 'kernel', gridAxes: Object.keys(axes), x: 't', color: 'tau', facet: ['n_train'] });
  assert.equal(byT.charts[0].x, 't');
  assert.deepEqual(byT.charts[0].points.filter((p) => p.color === '10' && p.panel === 'n_train=500').map((p) => p.x), [100, 1000, 10000]);
});

test('t on the x axis: t = ∞ points are counted, not drawn; the y scale goes log over 100×', () => {
  const axes = { depth: [1, 5], t: [0.1, 1, 10, 100, 1000, Infinity] };
  const rows = grid(axes, (p) => ({ test_mse: (p.t === Infinity ? 1e-4 : 1 / (1 + (p.t as number))) * (p.depth as number) }));
  const plan = planReport(rows, { kind: 'kernel', gridAxes: Object.keys(axes), x: 't' });
  const c = plan.charts[0];
  assert.equal(c.skippedInfiniteX, 2);
  assert.equal(c.points.length, 10);
  assert.equal(c.xScale, 'log');
  assert.equal(c.yScale, 'log');
  assert.equal(c.color, 'depth');
  assert.equal(planReport(rows, { kind: 'kernel', gridAxes: Object.keys(axes), x: 't', yScale: 'linear' }).charts[0].yScale, 'linear');
});

test('missing and non-finite values are left out and counted', () => {
  const rows: PointRow[] = [1, 2, 3, 4].map((depth) => ({ params: { depth }, metrics: { test_acc: depth === 3 ? null : depth === 4 ? NaN : depth / 10 } }));
  const c = planReport(rows, { kind: 'kernel', gridAxes: ['depth'] }).charts[0];
  assert.deepEqual(c.points.map((p) => [p.x, p.mean]), [[1, 0.1], [2, 0.2]]);
  assert.equal(c.skippedNoValue, 2);
  assert.equal(c.color, null);
});

test('errors name the unknown axis or metric and list what exists', () => {
  const rows = grid({ depth: [1, 2], t: [1, 2] }, () => ({ test_acc: 0.5 }));
  const opts = { kind: 'kernel', gridAxes: ['depth', 't'] };
  assert.throws(() => planReport(rows, { ...opts, x: 'widht' }), (e: Error) => e instanceof ReportError && /"widht".*params: depth, t/.test(e.message));
  assert.throws(() => planReport(rows, { ...opts, metrics: ['test_mse'] }), (e: Error) => e instanceof ReportError && /"test_mse".*metrics: test_acc/.test(e.message));
  const flat = grid({ depth: [3], seed: [0, 1] }, () => ({ test_acc: 0.5 }));
  assert.throws(() => planReport(flat, { kind: 'kernel', gridAxes: ['depth', 'seed'] }), /no grid axis takes more than one value/);
});

test('value labels', () => {
  assert.deepEqual([1, 1600, 0.1, 1 / 3, Infinity, -Infinity, 'relu'].map(valueLabel), ['1', '1600', '0.1', '0.3333', '∞', '-∞', 'relu']);
});
