/**
 * Concurrent coordinators on one database file: they split the work, never hold one grid point
 * at the same time, never fail on SQLITE_BUSY, and a coordinator that stalls past its lease loses
 * its points to another without anything being recorded twice. Real CLI processes, a real
 * database file, the real pool.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { auditTrail, compareSweep } from './helpers/verify.js';
import { runCli, tempDir, writeSpec } from './helpers/cli.js';
import { debugYaml, endsPerTask, sql, startCli, waitFor, waitForRunning } from './helpers/fault.js';

async function trails(db: string): Promise<Map<string, { owner: string | null; event: string }[]>> {
  const out = new Map<string, { owner: string | null; event: string }[]>();
  for (const e of await sql(db, 'SELECT task_id, owner, event FROM task_log ORDER BY id')) {
    const id = String(e.task_id);
    if (!out.has(id)) out.set(id, []);
    out.get(id)!.push({ owner: e.owner as string | null, event: String(e.event) });
  }
  return out;
}

test('three coordinators started together on a fresh database file split the work: every grid point claimed and done once, each coordinator did some, no SQLITE_BUSY', async () => {
  const dir = tempDir();
  const db = join(dir, 'db.sqlite');
  const n = 150;
  // tiny tasks: the coordinators spend most of their time in write transactions, racing for the lock
  const spec = writeSpec(dir, 'c', debugYaml('conc', Array.from({ length: n }, (_, i) => i), 'fixed: { sleep_ms: 5 }\n'));
  const runs = [0, 1, 2].map(() => startCli(['run', spec, '--db', db, '--threads', '1', '--json']));
  const ends = await Promise.all(runs.map((r) => r.done));
  for (const e of ends) {
    assert.equal(e.code, 0, e.stderr);
    assert.doesNotMatch(e.stderr, /SQLITE_BUSY|database is locked/);
  }
  const executed = ends.map((e) => JSON.parse(e.stdout).executed as number);
  assert.equal(
    executed.reduce((a, b) => a + b, 0),
    n,
    `executed ${executed.join(' + ')}`,
  );
  assert.ok(executed.filter((x) => x > 0).length >= 2, `the work was split: ${executed.join(', ')}`);
  const all = await trails(db);
  assert.equal(all.size, n);
  for (const [id, events] of all) {
    assert.deepEqual(
      events.map((e) => e.event),
      ['claim', 'done'],
      `${id}: claimed once and done once`,
    );
    assert.equal(events[0].owner, events[1].owner);
  }
  const rows = await sql(db, "SELECT json_extract(params, '$.x') AS x, y FROM results WHERE sweep = 'conc'");
  assert.equal(rows.length, n);
  for (const r of rows) assert.equal(r.y, (r.x as number) ** 2 + 1);
});

test('a coordinator stalled past its lease (SIGSTOP) loses its grid points to another one; after SIGCONT nothing is recorded twice and every result equals an uninterrupted run', async (t) => {
  const dir = tempDir();
  const db = join(dir, 'db.sqlite');
  const ref = join(dir, 'ref.sqlite');
  const spec = writeSpec(dir, 'z', debugYaml('zombie', [1, 2, 3, 4, 5, 6], 'fixed: { sleep_ms: 1200 }\n'));
  assert.equal((await runCli(['run', spec, '--db', ref, '--threads', '2'])).code, 0);

  const a = startCli(['run', spec, '--db', db, '--threads', '2', '--json', '--lease', '1']);
  await waitForRunning(db, a.pid, 2, 60_000, a.done);
  a.child.kill('SIGSTOP');
  try {
    const b = startCli(['run', spec, '--db', db, '--threads', '2', '--json', '--lease', '1']);
    // B must wait for A's leases to expire (A's pid is alive), then take its points over
    await waitFor(
      "B to reclaim A's expired leases",
      async () => Number((await sql(db, "SELECT COUNT(*) AS n FROM task_log WHERE event = 'reclaimed' AND detail = 'lease expired'"))[0].n) >= 2,
      60_000,
    );
    a.child.kill('SIGCONT');
    const [ea, eb] = await Promise.all([a.done, b.done]);
    assert.equal(ea.code, 0, ea.stderr);
    assert.equal(eb.code, 0, eb.stderr);
    const sa = JSON.parse(ea.stdout);
    const sb = JSON.parse(eb.stdout);
    t.diagnostic(`A executed ${sa.executed}, B executed ${sb.executed}`);
    assert.equal(sa.executed + sb.executed, 6, 'each point is counted as executed by exactly one coordinator');
  } finally {
    a.child.kill('SIGCONT');
  }
  for (const [id, events] of await trails(db)) {
    const audit = auditTrail(events);
    assert.equal(audit.ends, 1, `${id} finished once`);
    assert.equal(audit.overlaps, 0, `${id} never held by two live leases`);
  }
  const raced = await sql(db, "SELECT COUNT(*) AS n FROM task_log WHERE event = 'ignored' OR detail LIKE 'finished after its lease had passed%'");
  assert.ok(Number(raced[0].n) >= 1, 'the stalled coordinator finished points another one had taken over (the race happened)');
  const c = await compareSweep(ref, db, 'zombie');
  assert.deepEqual([c.lost, c.duplicated, c.mismatched], [0, 0, 0], c.examples.join('; '));
  assert.equal((await endsPerTask(db)).size, 6);
});
