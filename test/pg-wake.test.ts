/**
 * A worker that waits while another worker holds points of a sweep (to take them over should
 * their owner die) is woken when that worker leaves, not at its next poll: `removeWorker` wakes
 * `waitForWork` in other processes sharing the PostgreSQL database (a real server, started by
 * the test).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { openStore } from '../src/store/open.js';
import { startPostgres } from './helpers/pg.js';

const server = await startPostgres();
const skip = typeof server === 'string' ? server : false;
after(() => {
  if (typeof server !== 'string') server.close();
});

test('removeWorker wakes a waitForWork of another connection long before its own deadline', { skip }, async () => {
  if (typeof server === 'string') throw new Error(server);
  const url = await server.newDatabase();
  const waiting = await openStore(url);
  const leaving = await openStore(url);
  try {
    // the listener is connected by the first wait; a short one makes sure it is before we leave
    await waiting.waitForWork(1);
    const deadline = 60_000;
    let timer: NodeJS.Timeout | undefined;
    const outcome = Promise.race([
      waiting.waitForWork(deadline).then(() => 'woken' as const),
      new Promise<'deadline'>((r) => (timer = setTimeout(() => r('deadline'), deadline / 2))),
    ]);
    await leaving.removeWorker('host:1:gone');
    assert.equal(await outcome, 'woken');
    clearTimeout(timer);
  } finally {
    await waiting.close();
    await leaving.close();
  }
});
