/**
 * Helpers of the fault-injection tests (test/fault-*.test.ts): start the real CLI as a child
 * process, poll its database, and read it with SQL. No mocks: real processes, a real SQLite file,
 * the real worker pool.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openStore } from '../../src/store/open.js';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CLI, runCli, type CliResult } from './cli.js';

/** A running CLI process and a promise of its end. */
export interface Running {
  child: ChildProcess;
  pid: number;
  done: Promise<CliResult>;
  /** Output so far. */
  output(): { stdout: string; stderr: string };
}

/** Start `ntk-sweep <args>` without waiting for it. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((res, rej) => {
    child.on('error', rej);
    child.on('exit', (code, signal) => res({ code, signal, stdout, stderr }));
  });
  return { child, pid: child.pid!, done, output: () => ({ stdout, stderr }) };
}

/** Read-only SQL against a database file (fresh connection each call). */
export async function sql(db: string, q: string): Promise<Record<string, unknown>[]> {
  const s = await openStore(db, { readonly: true });
  try {
    return await s.query(q);
  } finally {
    await s.close();
  }
}

/**
 * Run `spec` into two fresh databases in `dir`, on 1 and on 2 pool threads, and return every
 * metric row of each (`task_id, name, step, value`, ordered) plus the 1-thread database's path.
 */
export async function metricsOnOneAndTwoThreads(spec: string, dir: string): Promise<{ db: string; one: Record<string, unknown>[]; two: Record<string, unknown>[] }> {
  const a = join(dir, 'a.sqlite');
  const b = join(dir, 'b.sqlite');
  assert.equal((await runCli(['run', spec, '--db', a, '--threads', '1'])).code, 0);
  assert.equal((await runCli(['run', spec, '--db', b, '--threads', '2'])).code, 0);
  const q = 'SELECT m.task_id, m.name, m.step, m.value FROM metrics m ORDER BY 1, 2, 3';
  return { db: a, one: await sql(a, q), two: await sql(b, q) };
}

/** The first row's first column of `q`, or undefined if the database is not readable yet. */
export async function scalar(db: string, q: string): Promise<unknown> {
  try {
    const rows = await sql(db, q);
    return rows.length ? Object.values(rows[0])[0] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Poll `check` every `everyMs` until it returns true; rejects after `timeoutMs` with `what`.
 * Tests wait on database state this way rather than sleeping fixed times.
 */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Resolve once the coordinator with process id `pid` holds at least `n` running grid points, or
 * as soon as `exited` (the process's end) settles.
 */
export function waitForRunning(db: string, pid: number, n = 1, timeoutMs = 60_000, exited?: Promise<unknown>): Promise<void> {
  let gone = false;
  void exited?.then(() => (gone = true));
  return waitFor(
    `${n} grid point(s) running under pid ${pid}`,
    async () => gone || Number((await scalar(db, `SELECT COUNT(*) FROM tasks WHERE status = 'running' AND lease_owner LIKE '%:${pid}:%'`)) ?? 0) >= n,
    timeoutMs,
  );
}

/** Accepted ends (`done`/`diverged`) per task id, from the audit trail. */
export async function endsPerTask(db: string): Promise<Map<string, number>> {
  const rows = await sql(db, "SELECT task_id, COUNT(*) AS n FROM task_log WHERE event IN ('done', 'diverged') GROUP BY task_id");
  return new Map(rows.map((r) => [String(r.task_id), Number(r.n)]));
}

/** `name: <name>\nkind: debug\n…` with grid x = xs and the given extra YAML lines. */
export function debugYaml(name: string, xs: number[], extra = ''): string {
  return `name: ${name}\nkind: debug\n${extra}grid:\n  x: [${xs.join(', ')}]\n`;
}
