/** GroupCommit: what arrives during a commit goes into the next one; errors reject their batch only. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupCommit } from '../src/engine/group-commit.js';

test('items submitted in one turn share a commit, and items submitted while a commit runs are committed together by the next one, in order', async () => {
  const batches: number[][] = [];
  let release: () => void = () => undefined;
  const gc = new GroupCommit<number, number>(async (items) => {
    batches.push(items);
    if (batches.length === 1) await new Promise<void>((r) => (release = r));
    return items.map((x) => x * 10);
  });
  const first = [1, 2].map((x) => gc.submit(x));
  await Promise.resolve();
  await Promise.resolve();
  assert.deepEqual(batches, [[1, 2]], 'the items of one turn are committed at once, together');
  const rest = [3, 4, 5].map((x) => gc.submit(x));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(batches, [[1, 2]], 'nothing more starts while a commit runs');
  release();
  assert.deepEqual(await Promise.all([...first, ...rest]), [10, 20, 30, 40, 50]);
  assert.deepEqual(batches, [[1, 2], [3, 4, 5]]);
  await gc.idle();
});

test('a failing commit rejects every item of its batch, and later items still commit', async () => {
  let calls = 0;
  const gc = new GroupCommit<string, string>(async (items) => {
    calls++;
    if (items.includes('bad')) throw new Error('disk full');
    return items.map((s) => s.toUpperCase());
  });
  const a = gc.submit('bad');
  await Promise.resolve();
  await Promise.resolve();
  const b = gc.submit('x');
  await assert.rejects(a, /disk full/);
  assert.equal(await b, 'X', 'x was queued behind the failing batch and committed on its own');
  assert.equal(await gc.submit('y'), 'Y');
  await gc.idle();
  assert.equal(calls, 3);
});
