/**
 * The memory estimate that admits jobs (src/tasks/memory.ts) against the peaks
 * `scripts/bench/peak-rss.js` measured for the kernel task (whole CLI process, Fashion-MNIST,
 * n_test 1,000, NTK, krylov solver), and the structure of the estimate. Not timed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE_BYTES, estimateJobBytes, kernelJobBytes } from '../src/tasks/memory.js';
import { kindOf } from '../src/tasks/registry.js';

const GiB = 2 ** 30;

test('the one-depth kernel estimate lies a little above the measured peak RSS at n_train 20,000 and 30,000 (7.31 and 15.32 GiB measured)', () => {
  // node dist/scripts/bench/peak-rss.js --sizes 20000 --depths 3 (--blas-threads 1) and
  // --sizes 30000 --depths 3 --blas-threads 2: the process's VmHWM
  for (const [N, measuredGiB] of [[20_000, 7.31], [30_000, 15.32]]) {
    const measured = measuredGiB * GiB;
    const est = kernelJobBytes(N, 1_000, 'openblas', 1, 'ntk');
    assert.ok(est >= measured && est <= 1.1 * measured, `n_train ${N}: estimate ${(est / GiB).toFixed(2)} GiB vs measured ${measuredGiB} GiB`);
  }
});

test('an NTK batch from n_train 30,000 needs at most 2.5 × 8·N² bytes, O(N) terms included, with one depth or several: the ratio falls towards 2', () => {
  // from 30,000: at 20,000 the O(N) terms counted here (cross block, Lanczos bases, points) are
  // 0.32 of 8·N², and the ratio is 2.53
  for (const depths of [1, 3]) {
    let last = Infinity;
    for (const N of [30_000, 60_000, 120_000]) {
      const ratio = (kernelJobBytes(N, 1_000, 'openblas', depths, 'ntk') - BASE_BYTES) / (8 * N * N);
      assert.ok(ratio <= 2.5, `n_train ${N}, ${depths} depth(s): ${ratio.toFixed(3)} × 8·N²`);
      assert.ok(ratio < last, `n_train ${N}: the ratio ${ratio} does not fall`);
      last = ratio;
    }
    assert.ok(last < 2.1);
  }
});

test('several NTK depths cost no more memory than one (the train block is borrowed from the state); nngp adds one [N, N] block', () => {
  const N = 20_000;
  const one = kernelJobBytes(N, 1_000, 'openblas', 1, 'ntk');
  const three = kernelJobBytes(N, 1_000, 'openblas', 3, 'ntk');
  assert.equal(three, one);
  const nngpOne = kernelJobBytes(N, 1_000, 'openblas', 1, 'nngp');
  const nngpThree = kernelJobBytes(N, 1_000, 'openblas', 3, 'nngp');
  assert.equal(nngpThree - nngpOne, 8 * N * N);
  assert.ok(nngpThree < three);
  const n = N + 1_000;
  // state 2n², cross mN, two Lanczos bases, three copies of the points, the thread allowance
  assert.equal(one, 8 * (2 * n * n + 1_000 * N + 2 * 1510 * N + 3 * n * 784) + BASE_BYTES);
  const tasks = [1, 3, 10].map((depth) => ({ n_train: N, n_test: 1_000, depth, t: 10, kernel: 'ntk' }));
  assert.equal(estimateJobBytes(kindOf('kernel'), tasks, 'openblas'), three);
  assert.equal(estimateJobBytes(kindOf('kernel'), tasks.slice(0, 1), 'openblas'), one);
});

test('two one-depth NTK jobs at n_train 20,000 do not fit a 12 GiB budget together, one does; 30,000 fits 24 GiB alone', () => {
  const job = kernelJobBytes(20_000, 1_000, 'openblas', 1, 'ntk');
  assert.ok(job < 12 * GiB && 2 * job > 12 * GiB);
  assert.ok(kernelJobBytes(30_000, 1_000, 'openblas', 1, 'ntk') < 20 * GiB);
});
