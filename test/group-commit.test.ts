/** GroupCommit: what arrives during a commit goes into the next one; errors reject their batch only. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupCommit } from '../src/engine/group-commit.js';

test('items submitted while a commit runs are committed together by the next one, in order', async () => {
  const batches: number[][] = [];
  let release: () => void = () => undefined;
  const gc = new GroupCommit<number, number>(async (items) => {
    batches.push(items);
    if (batches.length === 1) await new Promise<void>((r) => (release = r));
    return items.map((x) => x * 10);
  });
  const first = gc.submit(1);
  const rest = [2, 3, 4].map((x) => gc.submit(x));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(batches, [[1]], 'the first item is committed at once, alone');
  release();
  assert.deepEqual(await Promise.all([first, ...rest]), [10, 20, 30, 40]);
  assert.deepEqual(batches, [[1], [2, 3, 4]]);
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
  const b = gc.submit('x');
  await assert.rejects(a, /disk full/);
  assert.equal(await b, 'X', 'x was queued behind the failing batch and committed on its own');
  assert.equal(await gc.submit('y'), 'Y');
  await gc.idle();
  assert.equal(calls, 3);
});
