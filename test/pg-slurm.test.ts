/**
 * `ntk-sweep slurm`: the job-array script it writes, run against a real PostgreSQL server (started
 * by the test). Its array tasks are run as local processes (bash on the script with the
 * `SLURM_ARRAY_*` variables set, as slurmd would); every grid point must be done exactly once, and
 * SIGUSR1 (what `--signal=USR1@120` sends) must drain an array task. Where a Slurm controller
 * answers (`sinfo`), the script is also submitted with the real `sbatch`.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli, tempDir, writeSpec } from './helpers/cli.js';
import { debugYaml, endsPerTask, sql, waitFor } from './helpers/fault.js';
import { startPostgres } from './helpers/pg.js';

const server = await startPostgres();
const skip = typeof server === 'string' ? server : false;
after(() => {
  if (typeof server !== 'string') server.close();
});

const xs = (n: number) => Array.from({ length: n }, (_, i) => i);

/** `ntk-sweep slurm` on a fresh database: the script's path, its text, and the database. */
async function generate(n: number, sleepMs: number, array: number, extra: string[] = []): Promise<{ db: string; script: string; text: string; stdout: string }> {
  if (typeof server === 'string') throw new Error(server);
  const db = await server.newDatabase();
  const dir = tempDir();
  const spec = writeSpec(dir, 'arr', debugYaml('arr', xs(n), `fixed:\n  sleep_ms: ${sleepMs}\n`));
  const script = join(dir, 'arr.slurm.sh');
  const r = await runCli(['slurm', spec, '--db', db, '--array', String(array), '--cpus-per-task', '1', '--out', script, ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return { db, script, text: readFileSync(script, 'utf8'), stdout: r.stdout };
}

/** One array task of the script as slurmd would start it (without `srun`: the worker runs directly). */
function arrayTask(script: string, i: number, jobId = '4242') {
  const env: NodeJS.ProcessEnv = { ...process.env, SLURM_ARRAY_TASK_ID: String(i), SLURM_ARRAY_JOB_ID: jobId, SLURM_CPUS_PER_TASK: '1', NTK_SWEEP_HOSTNAME: `node${i}` };
  delete env.SLURM_JOB_ID;
  const child = spawn('bash', [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stderr: string }>((res) => child.on('exit', (code) => res({ code, stderr })));
  return { child, done };
}

async function assertAllDoneOnce(db: string, n: number): Promise<void> {
  assert.deepEqual(await sql(db, 'SELECT status, COUNT(*) AS n FROM tasks GROUP BY status'), [{ status: 'done', n }]);
  const ends = await endsPerTask(db);
  assert.equal(ends.size, n);
  assert.deepEqual([...new Set(ends.values())], [1], 'each point executed to completion once');
}

test('slurm writes a job-array script (one worker per array task, USR1 two minutes before the limit) and prints the sbatch command', { skip }, async () => {
  const g = await generate(4, 0, 8, ['--time', '1:30:00', '--partition', 'short', '--mem', '4G']);
  assert.equal(g.stdout, `sbatch ${g.script}\n`);
  for (const line of ['#!/bin/bash', '#SBATCH --array=0-7', '#SBATCH --cpus-per-task=1', '#SBATCH --time=1:30:00', '#SBATCH --partition=short', '#SBATCH --mem=4G', '#SBATCH --signal=USR1@120']) {
    assert.ok(g.text.split('\n').includes(line), `script has ${line}`);
  }
  assert.match(g.text, /worker --db "\$NTK_SWEEP_DB" --sweep 'arr'/);
  assert.deepEqual(await sql(g.db, "SELECT COUNT(*) AS n FROM sweep_tasks WHERE sweep = 'arr'"), [{ n: 4 }], 'the sweep is registered');
  const lite = await runCli(['slurm', join(tempDir(), 'x.yaml'), '--db', join(tempDir(), 'x.sqlite'), '--array', '2']);
  assert.equal(lite.code, 2);
  assert.match(lite.stderr, /needs a shared PostgreSQL database/);
});

test('the array tasks of the script, run as local processes, finish every grid point exactly once', { skip }, async () => {
  const g = await generate(24, 100, 4);
  const tasks = xs(4).map((i) => arrayTask(g.script, i));
  for (const e of await Promise.all(tasks.map((t) => t.done))) assert.equal(e.code, 0, e.stderr);
  await assertAllDoneOnce(g.db, 24);
  const hosts = await sql(g.db, "SELECT COUNT(DISTINCT split_part(owner, ':', 1)) AS n FROM task_log WHERE event = 'done'");
  assert.ok(Number(hosts[0].n) >= 2, 'the array tasks shared the work');
});

test('SIGUSR1 (sbatch --signal=USR1@120) drains an array task: it exits 0, its running point finishes, the rest stays for the others', { skip }, async () => {
  const g = await generate(6, 1500, 2);
  const first = arrayTask(g.script, 0);
  await waitFor('a running point', async () => Number((await sql(g.db, "SELECT COUNT(*) AS n FROM tasks WHERE status = 'running'"))[0].n) > 0, 60_000);
  first.child.kill('SIGUSR1');
  const e = await first.done;
  assert.equal(e.code, 0, e.stderr);
  assert.deepEqual(await sql(g.db, "SELECT COUNT(*) AS n FROM tasks WHERE status = 'running'"), [{ n: 0 }]);
  const done = Number((await sql(g.db, "SELECT COUNT(*) AS n FROM tasks WHERE status = 'done'"))[0].n);
  assert.ok(done >= 1 && done < 6, `the drained task finished what it held and stopped claiming (${done} done)`);
  const second = arrayTask(g.script, 1);
  assert.equal((await second.done).code, 0);
  await assertAllDoneOnce(g.db, 6);
});

/** Whether a Slurm controller answers here. */
function slurmUp(): boolean {
  try {
    execFileSync('sinfo', ['-h'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

test('submitted with the real sbatch to a running Slurm, the job array finishes every grid point exactly once', { skip: skip || (slurmUp() ? false : 'no Slurm controller answers here (sinfo)') }, async () => {
  const g = await generate(12, 100, 3);
  const logs = tempDir();
  const out = execFileSync('sbatch', ['--parsable', `--chdir=${logs}`, `--output=${logs}/%A_%a.out`, g.script], { encoding: 'utf8' }).trim();
  const job = out.split(';')[0];
  await waitFor(`Slurm job ${job} to end`, () => execFileSync('squeue', ['-h', '-j', job], { encoding: 'utf8' }).trim() === '', 240_000, 500);
  await assertAllDoneOnce(g.db, 12);
});
