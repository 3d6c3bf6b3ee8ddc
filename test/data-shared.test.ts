/**
 * Dataset classes shared by the worker threads of a pool (`src/data/shared-classes.ts`): real
 * worker threads, real package files, and a real kernel sweep through the CLI and its pool.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { createPoolDataCache, type SharedDataCache } from '../src/data/index.js';
import { mnistClass } from '../src/data/mnist.js';
import { runCli, tempDir, writeSpec } from './helpers/cli.js';
import { metricsOnOneAndTwoThreads, sql } from './helpers/fault.js';

/**
 * Code of a worker thread that installs `workerData.cache` and runs `workerData.op` on the mnist
 * classes in `workerData.order`: `get` (mnistClass: the arrays are posted back) or `prefetch`
 * (prefetchDataset of all of mnist).
 */
const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
(async () => {
  const data = await import(workerData.dataUrl);
  const mnist = await import(workerData.mnistUrl);
  data.installSharedDataCache(workerData.cache);
  if (workerData.op === 'prefetch') {
    data.prefetchDataset({ dataset: 'mnist', n_train: 10, n_test: 10, data_seed: 0, center: false, unit_norm: false });
    parentPort.postMessage([]);
  } else {
    parentPort.postMessage(workerData.order.map((c) => mnist.mnistClass(c)));
  }
})();
`;

function inWorker(cache: SharedDataCache, op: 'get' | 'prefetch', order: number[]): Promise<Float64Array[]> {
  const dataUrl = new URL('../src/data/index.js', import.meta.url).href;
  const mnistUrl = new URL('../src/data/mnist.js', import.meta.url).href;
  const w = new Worker(WORKER, { eval: true, workerData: { cache, op, order, dataUrl, mnistUrl } });
  return new Promise((res, rej) => {
    w.once('message', (m: Float64Array[]) => {
      res(m);
      void w.terminate();
    });
    w.once('error', rej);
  });
}

const sameBits = (a: Float64Array, b: Float64Array): boolean =>
  a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

test('threads sharing the cache get every mnist class in shared memory, with the same bits as a private read', async () => {
  const cache = createPoolDataCache();
  const all = Array.from({ length: 10 }, (_v, c) => c);
  // three threads at once, asking in different orders, so that they meet classes another is reading
  const got = await Promise.all([inWorker(cache, 'get', all), inWorker(cache, 'get', [...all].reverse()), inWorker(cache, 'get', [5, 0, 9, 1, 8, 2, 7, 3, 6, 4])]);
  assert.deepEqual([...cache.mnist.state], Array(10).fill(2), 'every class is in shared memory');
  for (const arrays of got) {
    for (const a of arrays) {
      assert.ok(a.buffer instanceof SharedArrayBuffer, 'a shared array, not a private copy');
    }
  }
  const [first] = got;
  for (let c = 0; c < 10; c++) assert.ok(sameBits(first[c], mnistClass(c)), `class ${c}: the bits of a private read`);
  // one memory for all threads: a write through the pool's slot shows in the arrays they were given
  const slot = new Float64Array(cache.mnist.buffer, cache.mnist.offsets[4], 1);
  slot[0] = -7;
  assert.equal(got[0][4][0], -7);
  assert.equal(got[1][5][0], -7); // reverse order: index 5 is class 4
});

test('prefetching threads together read every class once into the shared cache; a failed class is read privately by the others', async () => {
  const cache = createPoolDataCache();
  cache.mnist.state[3] = 3; // as if the thread reading class 3 had failed
  await Promise.all([inWorker(cache, 'prefetch', []), inWorker(cache, 'prefetch', [])]);
  assert.deepEqual([...cache.mnist.state], [2, 2, 2, 3, 2, 2, 2, 2, 2, 2]);
  const [three, four] = await inWorker(cache, 'get', [3, 4]);
  assert.ok(!(three.buffer instanceof SharedArrayBuffer), 'class 3 comes from a private read');
  assert.ok(four.buffer instanceof SharedArrayBuffer);
  assert.ok(sameBits(three, mnistClass(3)));
  assert.ok(sameBits(four, mnistClass(4)));
});

test('an mnist kernel sweep gives bit-identical metrics with 1 and 2 pool threads (classes shared and read ahead)', async () => {
  const dir = tempDir();
  const spec = writeSpec(
    dir,
    'm',
    `name: m
kind: kernel
dataset: { name: mnist, center: true, unit_norm: true }
fixed: { n_train: 60, n_test: 30 }
grid:
  data_seed: [0, 1, 2, 3]
  depth: [1, 4]
  t: [1, inf]
`,
  );
  const { db: a, one: ra, two: rb } = await metricsOnOneAndTwoThreads(spec, dir);
  assert.ok(ra.length >= 16 * 15, `${ra.length} metric rows`);
  assert.deepEqual(rb, ra);
  const acc = await sql(a, 'SELECT test_acc FROM results WHERE depth = 1 AND t > 1e308');
  for (const r of acc) assert.ok((r.test_acc as number) > 0.3, `test_acc ${r.test_acc}: the digits were read`);
});
