import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeRng } from '../src/util/rng.js';
import { advanceInPlace, continueFrom, gdStepInPlace, initialState, trainLoss } from '../src/nn/gd.js';
import type { GdProblem } from '../src/nn/gd.js';
import { backward, cloneParams, forward, initMlp } from '../src/nn/mlp.js';
import type { MlpArchitecture } from '../src/nn/mlp.js';

/** n unit-norm inputs in R^d with targets y = sign(w·x) (a learnable linear rule). */
function linearProblem(n: number, d: number, lr: number, arch: Partial<MlpArchitecture> = {}): GdProblem {
  const rng = makeRng({ purpose: 'test-gd', n, d });
  const w = rng.fillNormal(new Float64Array(d));
  const x = new Float64Array(n * d);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let nrm = 0;
    for (let j = 0; j < d; j++) {
      x[i * d + j] = rng.normal();
      nrm += x[i * d + j] ** 2;
    }
    let dot = 0;
    for (let j = 0; j < d; j++) {
      x[i * d + j] /= Math.sqrt(nrm);
      dot += x[i * d + j] * w[j];
    }
    y[i] = dot > 0 ? 1 : -1;
  }
  const full: MlpArchitecture = { d, width: 64, depth: 2, k: 1, sigma_w: 1, sigma_b: 0, parameterization: 'ntk', ...arch };
  return { arch: full, x, y, n, lr };
}

test('full-batch GD decreases the training loss on a learnable problem (at least 10× over 300 steps)', () => {
  const problem = linearProblem(20, 5, 5);
  const s0 = initialState(initMlp(problem.arch, 0));
  const l0 = trainLoss(problem, s0.params);
  const losses: number[] = [];
  const { state } = continueFrom(problem, s0, 300, (_s, loss) => {
    losses.push(loss);
  });
  const lT = trainLoss(problem, state.params);
  assert.equal(losses[0], l0, 'the observer sees ℒ(θ_0) first');
  assert.ok(lT < l0 / 10, `loss ${l0} → ${lT}`);
  // with a small enough step GD is monotone on this problem
  for (let i = 1; i < losses.length; i++) assert.ok(losses[i] <= losses[i - 1] + 1e-15, `step ${i}`);
});

test('GD in the standard parameterization also decreases the loss', () => {
  const problem = linearProblem(20, 5, 0.05, { parameterization: 'standard', sigma_b: 0.1 });
  const s0 = initialState(initMlp(problem.arch, 0));
  const { state } = continueFrom(problem, s0, 200);
  assert.ok(trainLoss(problem, state.params) < trainLoss(problem, s0.params) / 3);
});

test('one GD step equals θ − lr·∇ℒ from the backward pass', () => {
  const problem = linearProblem(6, 3, 0.7, { sigma_b: 0.3, depth: 3, width: 5 });
  const p0 = initMlp(problem.arch, 2);
  const { grads } = backward(problem.arch, p0, forward(problem.arch, p0, problem.x, problem.n), problem.y);
  const p1 = cloneParams(p0);
  gdStepInPlace(problem, p1);
  for (let l = 0; l < 3; l++) {
    for (let i = 0; i < p0.W[l].length; i++) assert.equal(p1.W[l][i], p0.W[l][i] - 0.7 * grads.W[l][i]);
    for (let i = 0; i < p0.b[l].length; i++) assert.equal(p1.b[l][i], p0.b[l][i] - 0.7 * grads.b[l][i]);
  }
});

test('continuing from a saved state is bit-identical to one uninterrupted run (resume property)', () => {
  const problem = linearProblem(12, 4, 3, { depth: 3, width: 16, sigma_b: 0.2 });
  const s0 = initialState(initMlp(problem.arch, 9));
  const whole = continueFrom(problem, s0, 50).state;
  const half = continueFrom(problem, s0, 17).state;
  const rest = continueFrom(problem, half, 50).state;
  assert.equal(rest.step, 50);
  assert.deepEqual(rest.params, whole.params);
  // continueFrom never modified its input states
  assert.deepEqual(s0.params, initMlp(problem.arch, 9));
  assert.equal(half.step, 17);
});

test("observer 'stop' leaves the update unapplied and 'pause' returns after applying it", () => {
  const problem = linearProblem(8, 3, 1);
  const state = initialState(initMlp(problem.arch, 1));
  const before = cloneParams(state.params);
  assert.equal(advanceInPlace(problem, state, 10, () => 'stop'), 'stopped');
  assert.equal(state.step, 0);
  assert.deepEqual(state.params, before);
  assert.equal(advanceInPlace(problem, state, 10, () => 'pause'), 'paused');
  assert.equal(state.step, 1);
  assert.equal(advanceInPlace(problem, state, 10), 'reached');
  assert.equal(state.step, 10);
  assert.deepEqual(state.params, continueFrom(problem, initialState(before), 10).state.params);
  assert.throws(() => advanceInPlace(problem, state, 5), RangeError);
});
