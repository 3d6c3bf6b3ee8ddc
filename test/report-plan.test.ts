/** What `report` draws: axis choice, ordering, replicate aggregation, collapsing, infinite x. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gridTicks, linearTicks, logTicks, powerLabel } from '../src/report/axes.js';
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

test('errors name the option and what exists', () => {
  const rows = grid({ depth: [1, 2], t: [1, 2], dataset: ['mnist'] }, () => ({ test_acc: 0.5, nan_only: NaN }));
  const opts = { kind: 'kernel', gridAxes: ['depth', 't'] };
  const fails = (o: object, re: RegExp): void => assert.throws(() => planReport(rows, { ...opts, ...o }), (e: Error) => e instanceof ReportError && re.test(e.message));
  fails({ x: 'widht' }, /^--x: "widht" is not a param.*params: dataset, depth, t$/);
  fails({ color: 'nosuch' }, /^--color: "nosuch"/);
  fails({ facet: ['depth', 'nosuch'] }, /^--facet: "nosuch"/);
  fails({ metrics: ['test_mse'] }, /^--metric: no metric named "test_mse".*metrics: test_acc$/);
  fails({ metrics: ['nan_only'] }, /^--metric: "nan_only" has no finite value/);
  fails({ metrics: [] }, /^--metric: name at least one metric/);
  fails({ x: 'dataset' }, /^--x: "dataset" takes non-numeric values \(mnist\)/);
  fails({ x: 'depth', color: 'depth' }, /^--color: "depth" is already on the x axis/);
  fails({ x: 'depth', facet: ['depth'] }, /^--facet: "depth" is already on the x axis/);
  fails({ facet: ['t', 't'] }, /^--facet: "t" is already listed/);
  const one = rows.filter((r) => r.params.depth === 1);
  assert.throws(() => planReport(one, { kind: 'kernel', gridAxes: ['depth', 't'], x: 'depth' }), /^ReportError: --x: "depth" takes a single finite value \(1\)/);
  const tInf = grid({ depth: [1, 2], t: [10, Infinity] }, () => ({ test_acc: 0.5 }));
  assert.throws(() => planReport(tInf, { kind: 'kernel', gridAxes: ['depth', 't'], x: 't' }), /--x: "t" takes a single finite value \(10\) .*\(∞ cannot be placed on an axis\)/);
  fails({ color: 'dataset' }, /^--color: "dataset" takes a single value \(mnist\)/);
  fails({ replicates: ['seeed'] }, /^--replicate: "seeed" is not a param/);
  const flat = grid({ depth: [3], seed: [0, 1] }, () => ({ test_acc: 0.5 }));
  assert.throws(() => planReport(flat, { kind: 'kernel', gridAxes: ['depth', 'seed'] }), /no grid axis takes more than one value among the 2 selected grid point/);
});

test('a varying grid axis is never averaged: left off an explicit --facet, it becomes a panel', () => {
  const axes = { n_train: [100, 400], depth: [1, 2, 4], t: [1, 10, 100] };
  const rows = grid(axes, (p) => ({ test_acc: (p.n_train as number) + (p.depth as number) * 10 + (p.t as number) / 1000 }));
  const plan = planReport(rows, { kind: 'kernel', gridAxes: Object.keys(axes), x: 'depth', color: 't', facet: [] });
  assert.deepEqual(plan.autoFacet, ['n_train']);
  const c = plan.charts[0];
  assert.deepEqual(c.facet, ['n_train']);
  assert.equal(c.points.length, 18);
  assert.ok(c.points.every((p) => p.n === 1 && p.min === p.max));
  assert.deepEqual(c.averagedOver, []);
  // by default the leftover axes are panels, and that is not reported as an addition
  assert.deepEqual(planReport(rows, { kind: 'kernel', gridAxes: Object.keys(axes) }).autoFacet, []);
});

test('a param outside the grid that varies (the spec changed between runs) becomes a panel, with a note', () => {
  // fixed.lr was 1, then 0.5: both sets of points belong to the sweep
  const axes = { width: [32, 64, 128], seed: [0, 1, 2], lr: [1, 0.5] };
  const rows = grid(axes, (p) => ({ train_loss: (p.lr as number) / (p.width as number) + (p.seed as number) * 1e-3 }));
  const plan = planReport(rows, { kind: 'train', gridAxes: ['width', 'seed'] });
  assert.deepEqual(plan.autoFacet, ['lr']);
  const c = plan.charts[0];
  assert.deepEqual(c.facet, ['lr']);
  assert.deepEqual(c.panelOrder, ['lr=0.5', 'lr=1']);
  assert.equal(c.points.length, 6);
  assert.ok(c.points.every((p) => p.n === 3), 'averaged over the 3 seeds only, never over lr');
  // a derived param that follows the grid (steps = t / lr with lr on an axis) is not a panel
  const derived = rows.map((r) => ({ ...r, params: { ...r.params, steps: 2 / (r.params.lr as number) } }));
  assert.deepEqual(planReport(derived, { kind: 'train', gridAxes: ['width', 'seed'], color: 'lr' }).charts[0].facet, []);
});

test('an axis fixed by the chosen ones is not a panel; x derived from the color axis keeps every line', () => {
  // t = tau · depth: with x = t and color = depth, tau follows from them
  const axes = { depth: [1, 3, 10], tau: [0.1, 1, 10] };
  const rows = grid(axes, (p) => ({ test_acc: (p.tau as number) / (p.depth as number), dist_to_limit: 1 / (p.depth as number) })).map((r) => ({
    ...r,
    params: { ...r.params, t: (r.params.tau as number) * (r.params.depth as number) },
  }));
  const byDepth = planReport(rows, { kind: 'kernel', gridAxes: Object.keys(axes), x: 't', color: 'depth' });
  assert.deepEqual(byDepth.charts[0].facet, []);
  assert.equal(byDepth.charts[0].points.length, 9);
  assert.deepEqual(byDepth.charts[0].points.filter((p) => p.color === '3').map((p) => p.x), [0.30000000000000004, 3, 30]);
  // color = tau with x = t: depth = t / tau follows too, so a line per tau runs over the depths;
  // dist_to_limit does not depend on tau but its x does, so it is not collapsed onto one tau
  const byTau = planReport(rows, { kind: 'kernel', gridAxes: Object.keys(axes), x: 't', color: 'tau' });
  const dist = byTau.charts.find((c) => c.metric === 'dist_to_limit')!;
  assert.deepEqual(dist.facet, []);
  assert.deepEqual(dist.points.filter((p) => p.color === '10').map((p) => [p.x, p.mean]), [[10, 1], [30, 1 / 3], [100, 1 / 10]]);
  assert.equal(dist.color, 'tau');
  assert.equal(dist.points.length, 9);
  assert.equal(dist.xScale, byTau.charts[0].xScale, 'one x scale for every chart');
});

test('a log axis that was asked for leaves out marks ≤ 0 and counts them', () => {
  const rows = grid({ depth: [1, 2, 3, 4] }, (p) => ({ offdiag_mean: (p.depth as number) - 2.5 }));
  const c = planReport(rows, { kind: 'kernel', gridAxes: ['depth'], yScale: 'log' }).charts[0];
  assert.deepEqual(c.points.map((p) => p.x), [3, 4]);
  assert.equal(c.skippedNonPositiveY, 2);
  assert.equal(c.skippedNonPositiveX, 0);
  assert.equal(planReport(rows, { kind: 'kernel', gridAxes: ['depth'] }).charts[0].yScale, 'linear');
});

test('log axes are labelled at decades (1-2-5 over fewer than three), minor ticks at 2…9 × 10^k, no two labels closer than their width', () => {
  // depth 1…10,000 over 300 px: decades only, every one labelled; minors while a decade has 40 px
  const depth = logTicks([1, 2, 5, 10, 100, 1000, 10000], 300, { nice: false, vertical: false });
  assert.deepEqual(depth.major, [1, 10, 100, 1000, 10000]);
  assert.deepEqual(depth.labels, ['1', '10', '100', '1,000', '10,000']);
  assert.deepEqual(depth.minor.slice(0, 8), [2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(depth.minor.length, 4 * 8);
  // widths 64…4096 hold two decades: 1-2-5 labels, the x extent is the grid's
  const width = logTicks([64, 128, 256, 512, 1024, 2048, 4096], 500, { nice: false, vertical: false });
  assert.deepEqual(width.domain, [64, 4096]);
  assert.deepEqual(width.labels, ['100', '200', '500', '1,000', '2,000']);
  // the y axis extends to whole decades; far from 1, powers of ten are written as such
  const y = logTicks([3e-9, 0.02, 40], 200, { nice: true, vertical: true });
  assert.deepEqual(y.domain, [1e-9, 100]);
  assert.deepEqual(y.labels, ['10⁻⁹', '10⁻⁸', '10⁻⁷', '10⁻⁶', '10⁻⁵', '10⁻⁴', '0.001', '0.01', '0.1', '1', '10', '100']);
  // under three decades the y axis ends at the enclosing 1-2-5 values, labelled at 1-2-5
  const small = logTicks([0.012, 0.07], 200, { nice: true, vertical: true });
  assert.deepEqual(small.domain, [0.01, 0.1]);
  assert.deepEqual(small.labels, ['0.01', '0.02', '0.05', '0.1']);
  assert.deepEqual(logTicks([0.021, 0.045], 200, { nice: true, vertical: true }).domain, [0.02, 0.05]);
  // 12 decades in 200 px leave 18 px per label (12 px tall): all kept, no minors (< 40 px a decade)
  assert.deepEqual(y.minor, []);
  // 30 decades in 200 px (6.7 px each): every third decade labelled (20 px ≥ 12 px + 2 px gap),
  // the others are unlabelled ticks
  const deep = logTicks([1e-30, 1], 200, { nice: true, vertical: true });
  assert.deepEqual(deep.major.map((v) => Math.round(Math.log10(v))), [-30, -27, -24, -21, -18, -15, -12, -9, -6, -3, 0]);
  assert.equal(deep.major.length + deep.minor.length, 31);
  // labels side by side keep 8 px apart: 1, 10, 100 in 40 px cannot all be labelled
  const narrow = logTicks([1, 100], 40, { nice: false, vertical: false });
  assert.deepEqual(narrow.major, [1, 100]);
  assert.deepEqual(narrow.minor.includes(10), true);
});

test('linear axes are labelled at both ends; grid values are labelled where they fit', () => {
  const y = linearTicks([0.013, 0.87]);
  assert.deepEqual(y.domain, [0, 1]);
  assert.equal(y.major[0], 0);
  assert.equal(y.major[y.major.length - 1], 1);
  assert.deepEqual(y.labels, ['0.0', '0.2', '0.4', '0.6', '0.8', '1.0']);
  const flat = linearTicks([0.5, 0.5]);
  assert.ok(flat.domain[0] < 0.5 && flat.domain[1] > 0.5);
  assert.deepEqual(gridTicks([32, 64, 128], 300).labels, ['32', '64', '128']);
  // 4,096 is flush with the right end: 3,584 would touch it and is left unlabelled
  const g = gridTicks([512, 1024, 1536, 2048, 2560, 3072, 3584, 4096], 200);
  assert.equal(g.labels[0], '512');
  assert.equal(g.labels[g.labels.length - 1], '4,096');
  assert.ok(!g.labels.includes('3,584'));
  assert.deepEqual(powerLabel(2, -8), '2×10⁻⁸');
});

test('value labels', () => {
  assert.deepEqual([1, 1600, 0.1, 0.1 * 3, 1 / 3, 0.10001, Infinity, -Infinity, 'relu'].map(valueLabel), ['1', '1600', '0.1', '0.3', '0.333333333333', '0.10001', '∞', '-∞', 'relu']);
});

test('an activations sweep gets one panel per activation by default (σ_w as the color); an explicit --color or --facet places it elsewhere', () => {
  const axes = { activation: ['relu', 'erf', 'tanh'], sigma_w: [0.8, 1.5], depth: [1, 10, 100], tau: [1] };
  const rows = grid(axes, (p) => ({ dist_to_limit: (p.depth as number) * (p.sigma_w as number) + String(p.activation).length }));
  const c = planReport(rows, { kind: 'kernel', gridAxes: Object.keys(axes) }).charts[0];
  assert.equal(c.x, 'depth');
  assert.equal(c.color, 'sigma_w');
  assert.deepEqual(c.facet, ['activation']);
  assert.deepEqual(c.panelOrder, ['activation=erf', 'activation=relu', 'activation=tanh']);
  const byColor = planReport(rows, { kind: 'kernel', gridAxes: Object.keys(axes), color: 'activation' }).charts[0];
  assert.equal(byColor.color, 'activation');
  assert.deepEqual(byColor.facet, ['sigma_w']);
});
