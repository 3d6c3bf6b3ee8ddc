/** The coordinator's collaborators and the task-kind registry, each on its own. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chunkLimits } from '../src/engine/claim.js';
import { Waker } from '../src/engine/dispatch.js';
import { blamed } from '../src/engine/job.js';
import { LivePoints } from '../src/engine/live.js';
import { MemoryBudget } from '../src/engine/memory-budget.js';
import { estimateJobBytes, kernelJobBytes, trainTaskBytes } from '../src/tasks/memory.js';
import { isKind, KIND_NAMES, kindOf, loadRunner } from '../src/tasks/registry.js';
import type { TaskInput } from '../src/tasks/types.js';
import { taskVersion } from '../src/tasks/versions.js';

const tasks = (n: number): TaskInput[] => Array.from({ length: n }, (_, i) => ({ id: `t${i}`, params: { x: i } }));

test('a dead worker is blamed for the points it had started: all of a batch kind, the last started one otherwise; a job that did not die fails all its open points', () => {
  const t = tasks(5);
  const open = t.slice(1); // t0 finished
  assert.deepEqual(blamed({ execution: 'each' }, t, open, 3, true).map((x) => x.id), ['t2']);
  assert.deepEqual(blamed({ execution: 'batch' }, t, open, 5, true).map((x) => x.id), ['t1', 't2', 't3', 't4']);
  assert.deepEqual(blamed({ execution: 'each' }, t, open, 1, true).map((x) => x.id), [], 'the running point had finished: nobody to blame');
  assert.deepEqual(blamed({ execution: 'each' }, t, open, 0, true), open, 'nothing started: every open point');
  assert.deepEqual(blamed({ execution: 'each' }, t, open, 3, false), open, 'no death: every open point');
});

test('the memory budget admits a job while the reserved peaks plus its own fit, always when nothing runs, and notes once a job larger than the budget', async () => {
  const notes: string[] = [];
  const b = new MemoryBudget(10 * 2 ** 30, (m) => notes.push(m));
  assert.ok(b.fits(12 * 2 ** 30, 'a kernel job'), 'nothing runs: even a job over the budget starts (alone)');
  assert.match(notes[0], /a kernel job needs about 12\.0 GiB, more than the memory budget of 10\.0 GiB/);
  let end!: () => void;
  b.hold(new Promise<void>((r) => (end = r)), 6 * 2 ** 30);
  assert.equal(b.running, 1);
  assert.equal(b.reserved(), 6 * 2 ** 30);
  assert.ok(b.fits(4 * 2 ** 30));
  assert.ok(!b.fits(5 * 2 ** 30));
  assert.match(b.waitingNote(5 * 2 ** 30), /next job \(5\.0 GiB\) waits for memory: running jobs hold 6\.0 GiB, budget 10\.0 GiB/);
  const ended = b.anyEnded();
  end();
  await ended;
  await b.allEnded();
  assert.equal(b.running, 0);
  assert.equal(b.reserved(), 0);
  assert.equal(notes.length, 1);
});

test('chunks of independent points: at most 256 points, four chunks per thread, 0.2 s of estimated work', () => {
  assert.deepEqual(chunkLimits(10_000, 2), { maxTasks: 256, maxCost: 0.2 });
  assert.deepEqual(chunkLimits(40, 2), { maxTasks: 5, maxCost: 0.2 });
  assert.deepEqual(chunkLimits(0, 2), { maxTasks: 1, maxCost: 0.2 });
});

test('live points hand over unwritten rows once, skip ended points, and sum and show running fractions', () => {
  const live = new LivePoints();
  const t = tasks(3);
  live.add(t);
  live.open('t0')!.rows.push({ step: 1, name: 'loss', value: 0.5 });
  live.open('t1')!.rows.push({ step: 1, name: 'loss', value: 0.25 });
  live.open('t1')!.ended = { status: 'done' };
  live.open('t0')!.fraction = 0.4;
  live.open('t2')!.fraction = 1.7;
  assert.deepEqual(live.takeRows(t), [{ taskId: 't0', rows: [{ step: 1, name: 'loss', value: 0.5 }] }]);
  assert.deepEqual(live.takeRows(t), []);
  assert.ok(live.ended('t1') && !live.ended('t0'));
  assert.equal(live.open('t1'), undefined);
  assert.equal(live.partial(), 1.4);
  assert.equal(live.note(), '| running points at 40% 170%');
  live.remove(t);
  assert.deepEqual(live.ids(), []);
  // a point released by one job and claimed again by the next is held for the next one
  const first = tasks(2);
  live.add(first);
  const again = [{ ...first[1] }];
  live.add(again);
  live.remove(first);
  assert.deepEqual(live.ids(), ['t1']);
  assert.ok(live.open('t1'));
});

test('a waker ends a wait early; a wait also ends with its event or its timeout', async () => {
  const w = new Waker();
  const t0 = Date.now();
  const waiting = w.wait([], 60_000);
  w.wake();
  await waiting;
  assert.ok(Date.now() - t0 < 30_000);
  await w.wait([Promise.resolve()]);
  await w.wait([], 1);
});

test('every registered kind is found by its name and feeds the spec, the ids and the memory budget from its one descriptor', () => {
  assert.deepEqual(KIND_NAMES, ['kernel', 'train', 'debug']);
  for (const k of KIND_NAMES) {
    const d = kindOf(k);
    assert.equal(d.name, k);
    assert.equal(taskVersion(k), d.version);
  }
  assert.deepEqual(Object.fromEntries(KIND_NAMES.map((k) => [k, taskVersion(k)])), { kernel: 2, train: 1, debug: 1 });
  assert.deepEqual(
    Object.fromEntries(KIND_NAMES.map((k) => [k, kindOf(k).required])),
    { kernel: ['dataset', 'n_train', 'depth'], train: ['dataset', 'n_train', 'width', 'depth', 'lr', 'steps'], debug: [] },
  );
  assert.ok(!isKind('toString') && !isKind('gan'));
  assert.throws(() => kindOf('gan'), /unknown task kind "gan"; registered kinds: kernel, train, debug/);
  // the memory estimates are the kinds' own, the largest point of a job counts
  const k = [{ n_train: 1000, n_test: 200 }, { n_train: 4000, n_test: 200 }];
  assert.equal(estimateJobBytes(kindOf('kernel'), k, 'openblas'), kernelJobBytes(4000, 200, 'openblas'));
  const tr = { width: 512, depth: 3, n_train: 1000, n_test: 500 };
  assert.equal(estimateJobBytes(kindOf('train'), [tr], 'js'), trainTaskBytes(tr));
  assert.equal(estimateJobBytes(kindOf('debug'), [{ mem_mb: 3 }, { mem_mb: 5 }], 'js'), 5 * 2 ** 20);
  assert.equal(kindOf('debug').needsData, false);
  assert.equal(kindOf('train').metricsFlushMs, 1000);
  assert.equal(kindOf('kernel').execution, 'batch');
});

test('a kind loads its task code on demand, as the function the worker calls', async () => {
  for (const k of KIND_NAMES) assert.equal(typeof (await loadRunner(kindOf(k))), 'function');
});

test('train points get t = lr·steps from their kind, and a contradicting t is named', () => {
  const p: Record<string, unknown> = { lr: 0.5, steps: 10 };
  assert.deepEqual(kindOf('train').complete!(p), []);
  assert.equal(p.t, 5);
  assert.match(kindOf('train').complete!({ lr: 0.5, steps: 10, t: 4 })[0], /^t: for train tasks t = lr·steps, but t = 4 while lr·steps = 5/);
});
