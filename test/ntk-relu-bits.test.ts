import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { linalg } from '../src/linalg/index.js';
import { activationOf, kernelFold, kernelMatrix, type FoldOptions } from '../src/ntk/index.js';
import { runKernelBatch } from '../src/tasks/kernel.js';
import { kernelDigests, sweepTaskIds, taskValues, type KernelCase, type TaskCase } from '../scripts/relu-fixture.js';

// test/fixtures/relu-bits.<backend>.json were written by scripts/relu-fixture.ts from the code
// before activations became objects (commit ae7c388), one per linear-algebra backend (the input
// Gram and eigendecompositions round differently on each): every ReLU number must still come out
// bit for bit on the backend that runs the test.
const backend = linalg().name;
const fixtureFile = new URL(`../../test/fixtures/relu-bits.${backend}.json`, import.meta.url);
const fixture = existsSync(fixtureFile)
  ? (JSON.parse(readFileSync(fixtureFile, 'utf8'), (_k, v) => (v === 'inf' ? Infinity : v)) as { kernelCases: KernelCase[]; taskCases: TaskCase[] })
  : null;
const skip = fixture === null ? `no recorded ReLU numbers for the ${backend} backend (only js and openblas)` : false;
const ids = JSON.parse(readFileSync(new URL('../../test/fixtures/relu-task-ids.json', import.meta.url), 'utf8')) as { taskIds: Record<string, string[]> };

test('ReLU kernels through the activation fold are bit-identical to the recorded pre-refactor values (every kernel, scale, depth to 1000)', { skip }, () => {
  const relu = activationOf('relu');
  const fold: typeof kernelFold = (x, n, d, options: FoldOptions, onDepth) => kernelFold(x, n, d, { ...options, activation: relu }, onDepth);
  for (const c of fixture!.kernelCases) {
    const got = kernelDigests(c, fold, kernelMatrix);
    assert.deepEqual(got, c.digests, `sigma_w=${c.sigma_w} sigma_b=${c.sigma_b}`);
  }
});

test('ReLU kernel-task metrics are bit-identical to the recorded pre-refactor values (activation: relu explicit)', { skip }, async () => {
  for (const c of fixture!.taskCases) {
    const got = await taskValues({ ...c, params: { ...c.params, activation: 'relu' } }, runKernelBatch);
    for (const [id, values] of Object.entries(c.values)) {
      for (const [name, bits] of Object.entries(values)) {
        // dist_to_limit of the NNGP was measured against ¼·11ᵀ + ¾·I, the NTK's limit; the NNGP of
        // ReLU tends to 11ᵀ, so that one number changed on purpose.
        if (name === 'dist_to_limit' && c.params.kernel !== 'ntk') continue;
        assert.equal(got[id][name], bits, `${c.params.kernel} ${id} ${name}`);
      }
    }
  }
});

test('task ids of the shipped ReLU sweeps are the ones recorded before the activation param existed (existing databases resume)', () => {
  process.chdir(new URL('../..', import.meta.url).pathname);
  assert.deepEqual(sweepTaskIds(), ids.taskIds);
});
