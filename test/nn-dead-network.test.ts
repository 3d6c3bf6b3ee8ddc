/**
 * The dead-network rule: a network whose last hidden layer is 0 on every train point (and cannot
 * move again) ends as `diverged` at that step, instead of `done` with a loss that looks converged.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { deadNetworkReason, nonFiniteMetricReason } from '../src/nn/divergence.js';
import { activationOfParams } from '../src/ntk/index.js';
import type { ForwardCache, MlpArchitecture } from '../src/nn/mlp.js';
import { runTrainTask } from '../src/tasks/train.js';
import type { MetricRow, Params, TaskEnd } from '../src/tasks/types.js';
import { runCli, tempDir, writeSpec } from './helpers/cli.js';
import { sql } from './helpers/fault.js';

async function train(params: Params): Promise<{ rows: MetricRow[]; ends: TaskEnd[] }> {
  const rows: MetricRow[] = [];
  const ends: TaskEnd[] = [];
  await runTrainTask({ id: 'x', params }, { reporter: { progress() {}, metrics: (_i, r) => rows.push(...r), end: (_i, e) => ends.push(e) } });
  return { rows, ends };
}

const exploding: Params = { dataset: 'sphere', d: 5, n_train: 16, n_test: 8, data_seed: 1, center: false, unit_norm: true, width: 32, depth: 200, sigma_w: 2, lr: 0.1, steps: 5, seed: 3, log_every: 1, probe: 4 };

test('σ_w = 2 at depth 200: the loss explodes at init, one step kills every unit; the point is diverged at step 1 as a dead network', async () => {
  const { rows, ends } = await train(exploding);
  assert.equal(ends.length, 1);
  const end = ends[0];
  assert.equal(end.status, 'diverged', JSON.stringify(end));
  if (end.status !== 'diverged') return;
  assert.equal(end.step, 1);
  assert.match(end.reason, /^dead network: every unit of the last hidden layer outputs 0 on every train point/);
  assert.match(end.reason, /training loss 0\.500000/, 'the constant predictor f = 0 against ±1 labels: ℒ = 1/2');
  const loss0 = rows.find((r) => r.name === 'train_loss' && r.step === 0)!.value;
  assert.ok(loss0 > 1e40, `the initial loss exploded (${loss0})`);
  assert.ok(rows.every((r) => r.step === 0), 'no metric of the dead steps is stored');
});

test('a live network, the linear model and a zero layer whose activation still has a slope are not dead', async () => {
  const live = await train({ ...exploding, depth: 3, sigma_w: 1 });
  assert.deepEqual(live.ends, [{ status: 'done' }]);
  const n = 4;
  const zeros = (): Float64Array => new Float64Array(2 * n);
  const cache: ForwardCache = { n: 2, h: [new Float64Array(0), zeros(), zeros()], a: [zeros(), zeros()] };
  const arch = (activation: string): MlpArchitecture => ({ d: n, width: n, depth: 2, k: 1, sigma_w: 1, sigma_b: 0, activation: activationOfParams({ activation }), parameterization: 'ntk' });
  assert.match(deadNetworkReason(arch('relu'), cache, 0.5) ?? '', /^dead network/, 'relu: α = 0 and relu\'(0) = 0 — dead');
  assert.equal(deadNetworkReason(arch('sin'), cache, 0.5), null, "sin: α = 0 but sin'(0) = 1 — gradients still flow");
  assert.equal(deadNetworkReason({ ...arch('relu'), depth: 1 }, { n: 2, h: [new Float64Array(0), zeros()], a: [zeros()] }, 0.5), null, 'depth 1 has no hidden layer');
  cache.a[1][5] = 1e-300;
  assert.equal(deadNetworkReason(arch('relu'), cache, 0.5), null, 'one live unit on one point is enough');
});

test('through the engine: the dead point is stored as diverged with its step and reason, and run exits 0', async () => {
  const dir = tempDir();
  const db = join(dir, 'db.sqlite');
  const spec = writeSpec(
    dir,
    'dead',
    'name: dead\nkind: train\ndataset: { name: sphere, d: 5, data_seed: 1 }\nfixed: { n_train: 16, n_test: 8, width: 32, sigma_w: 2, lr: 0.1, steps: 5, log_every: 1, probe: 4 }\ngrid: { depth: [3, 200] }\n',
  );
  const r = await runCli(['run', spec, '--db', db, '--threads', '1', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const rows = await sql(db, "SELECT depth, status, diverged_step, error FROM results WHERE sweep = 'dead' ORDER BY depth");
  assert.equal(rows[0].status, 'done');
  assert.equal(rows[1].status, 'diverged');
  assert.equal(rows[1].diverged_step, 1);
  assert.match(String(rows[1].error), /^dead network/);
});

test('a train metric that is not finite while the loss is ends the point as diverged, naming the metric and step', () => {
  assert.equal(nonFiniteMetricReason([{ step: 3, name: 'train_loss', value: 0.2 }, { step: 3, name: 'kernel_gap', value: 1e-3 }]), null);
  assert.equal(
    nonFiniteMetricReason([{ step: 3, name: 'train_loss', value: 0.2 }, { step: 3, name: 'test_loss', value: Infinity }, { step: 3, name: 'kernel_gap', value: NaN }]),
    'metric test_loss is Infinity at step 3 (the training loss is finite): a value out of float64 range',
  );
});
