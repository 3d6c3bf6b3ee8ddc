/**
 * `ntk-sweep slurm <spec> --db postgres://… --array N`: register the sweep (as `submit` does) and
 * write a Slurm job-array batch script whose every array task runs one `ntk-sweep worker` on the
 * shared PostgreSQL database. `#SBATCH --signal=USR1@120` makes Slurm send SIGUSR1 two minutes
 * before the time limit, which drains the worker (no new claims; what it holds finishes or goes
 * back to pending). The `sbatch` command is printed, not run, unless `--submit`.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Argv } from 'yargs';
import { isPostgresUrl, openStore, redactUrl } from '../../store/open.js';
import { badOption, CliError, EXIT, EXIT_HELP } from '../exit.js';
import { MAX_POINTS_OPTION } from '../spec-options.js';

interface SlurmArgs {
  spec: string;
  db: string;
  array: number;
  'cpus-per-task': number;
  time?: string;
  partition?: string;
  mem?: string;
  out?: string;
  submit: boolean;
  'max-points': number;
}

/** What the batch script is made of. */
export interface SlurmScriptOptions {
  sweep: string;
  /** The database URL written into the script (without password). */
  db: string;
  array: number;
  cpusPerTask: number;
  time?: string;
  partition?: string;
  mem?: string;
  /** Working directory of the array tasks (where the spec's relative paths were resolved). */
  chdir: string;
  /** Node binary and CLI entry point the array tasks run. */
  node: string;
  cli: string;
}

/** Single-quote `s` for bash. */
function sh(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The text of a job-array batch script: array tasks `0..array-1`, each one `ntk-sweep worker` on
 * `sweep` with `cpusPerTask` pool threads, started as a job step (`srun`) so that the
 * `--signal=USR1@120` warning reaches it; outside Slurm (no `srun`, e.g. to try the script by
 * hand with `SLURM_ARRAY_TASK_ID` set) the worker runs directly.
 */
export function slurmScript(o: SlurmScriptOptions): string {
  const directives = [
    `--job-name=ntk-${o.sweep}`,
    `--array=0-${o.array - 1}`,
    '--ntasks=1',
    `--cpus-per-task=${o.cpusPerTask}`,
    ...(o.time ? [`--time=${o.time}`] : []),
    ...(o.partition ? [`--partition=${o.partition}`] : []),
    ...(o.mem ? [`--mem=${o.mem}`] : []),
    `--chdir=${o.chdir}`,
    `--output=slurm-${o.sweep}-%A_%a.out`,
    // two minutes before the time limit: SIGUSR1 drains the worker
    '--signal=USR1@120',
  ];
  return [
    '#!/bin/bash',
    `# ntk-sweep job array for sweep ${o.sweep}: each array task runs one worker on the shared database.`,
    '# Written by `ntk-sweep slurm`; submit with sbatch. Workers may also join from anywhere else.',
    ...directives.map((d) => `#SBATCH ${d}`),
    'set -euo pipefail',
    `export NTK_SWEEP_DB="\${NTK_SWEEP_DB:-${o.db.replace(/["\\$`]/g, '\\$&')}}"`,
    `worker=(${sh(o.node)} ${sh(o.cli)} worker --db "$NTK_SWEEP_DB" --sweep ${sh(o.sweep)} --threads "\${SLURM_CPUS_PER_TASK:-${o.cpusPerTask}}")`,
    'echo "ntk-sweep array task ${SLURM_ARRAY_TASK_ID:-?} of job ${SLURM_ARRAY_JOB_ID:-?} on $(hostname): sweep ' + o.sweep.replace(/["\\$`]/g, '') + '" >&2',
    'if [ -n "${SLURM_JOB_ID:-}" ] && command -v srun >/dev/null 2>&1; then',
    '  exec srun --ntasks=1 --cpus-per-task="${SLURM_CPUS_PER_TASK:-' + o.cpusPerTask + '}" "${worker[@]}"',
    'fi',
    'exec "${worker[@]}"',
    '',
  ].join('\n');
}

/** The database URL for the script: the password left out (sbatch passes NTK_SWEEP_DB or PGPASSWORD from the environment). */
function scriptUrl(db: string): { url: string; hadPassword: boolean } {
  try {
    const u = new URL(db);
    if (!u.password) return { url: db, hadPassword: false };
    u.password = '';
    return { url: u.toString(), hadPassword: true };
  } catch {
    return { url: db, hadPassword: false };
  }
}

export function registerSlurm(y: Argv): Argv {
  return y.command<SlurmArgs>(
    'slurm <spec>',
    'Register a sweep on a shared PostgreSQL database and write a Slurm job-array script whose array tasks each run one worker',
    (c) =>
      c
        .positional('spec', { type: 'string', demandOption: true, describe: 'Sweep spec, e.g. sweeps/quickstart.yaml' })
        .option('array', { type: 'number', demandOption: true, describe: 'Number of array tasks (workers)' })
        .option('cpus-per-task', { type: 'number', default: 4, describe: 'Cores per array task (the worker pool threads)' })
        .option('time', { type: 'string', describe: 'Time limit per array task (sbatch --time, e.g. 4:00:00); the worker drains 2 min before it' })
        .option('partition', { type: 'string', describe: 'Slurm partition' })
        .option('mem', { type: 'string', describe: 'Memory per array task (sbatch --mem, e.g. 16G)' })
        .option('out', { type: 'string', describe: 'Where to write the script (default: <sweep>.slurm.sh; - prints it)' })
        .option('submit', { type: 'boolean', default: false, describe: 'Run sbatch on the script instead of printing the command' })
        .option('max-points', MAX_POINTS_OPTION)
        .example('$0 slurm sweeps/quickstart.yaml --db postgres://ntk@dbhost/ntk --array 16 --cpus-per-task 8 --time 2:00:00', 'write quickstart.slurm.sh')
        .epilog(
          'Array tasks that find nothing left exit at once; more can be submitted, or plain `worker` processes started anywhere, at any time. ' +
            'A password in --db is not written into the script: export NTK_SWEEP_DB (or PGPASSWORD, or use ~/.pgpass) before sbatch, which passes the environment. ' +
            EXIT_HELP,
        ),
    async (a) => {
      if (!isPostgresUrl(a.db)) {
        throw new CliError(`--db: a Slurm job array runs on many nodes and needs a shared PostgreSQL database (postgres://…), got ${a.db}; an SQLite file cannot be shared safely over a network file system`, EXIT.USAGE);
      }
      if (!(Number.isInteger(a.array) && a.array >= 1)) throw badOption('--array', 'a positive integer (number of array tasks)', a.array);
      if (!(Number.isInteger(a['cpus-per-task']) && a['cpus-per-task'] >= 1)) throw badOption('--cpus-per-task', 'a positive integer', a['cpus-per-task']);
      const { prepareSpec, registerSpec } = await import('../submit-spec.js');
      const prepared = await prepareSpec(a.spec, a['max-points']);
      const store = await openStore(a.db);
      let pending: number;
      try {
        await registerSpec(store, prepared, { quiet: false, json: false });
        const c = await store.counts(prepared.spec.name);
        pending = c.pending + c.failed + c.running;
      } finally {
        await store.close();
      }
      const { url, hadPassword } = scriptUrl(a.db);
      const script = slurmScript({
        sweep: prepared.spec.name,
        db: url,
        array: a.array,
        cpusPerTask: a['cpus-per-task'],
        time: a.time,
        partition: a.partition,
        mem: a.mem,
        chdir: process.cwd(),
        node: process.execPath,
        cli: fileURLToPath(new URL('../main.js', import.meta.url)),
      });
      if (a.out === '-') {
        process.stdout.write(script);
        return;
      }
      const out = a.out ?? `${prepared.spec.name}.slurm.sh`;
      try {
        writeFileSync(out, script, { mode: 0o755 });
      } catch (e) {
        throw new CliError(`cannot write ${out}: ${(e as Error).message}`, EXIT.STORAGE);
      }
      const note = hadPassword ? '\nnote: the password is not in the script; export NTK_SWEEP_DB (or PGPASSWORD) before sbatch' : '';
      process.stderr.write(`sweep ${prepared.spec.name} registered on ${redactUrl(a.db)}: ${pending} grid point(s) to run; job array of ${a.array} worker(s) written to ${out}${note}\n`);
      if (!a.submit) {
        process.stdout.write(`sbatch ${out}\n`);
        return;
      }
      const r = spawnSync('sbatch', [out], { stdio: ['ignore', 'inherit', 'inherit'] });
      if (r.error) throw new CliError(`--submit: cannot run sbatch (${r.error.message}); submit ${out} on a Slurm login node`, EXIT.USAGE);
      if (r.status !== 0) throw new CliError(`sbatch ${out} failed (exit ${r.status})`, EXIT.USAGE);
    },
  );
}
