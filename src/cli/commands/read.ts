/** Read-only commands over a database: `status`, `query`, `export`. */
import { writeFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { isDeadHere } from '../../engine/lease.js';
import { DEFAULT_DB, openStore, redactUrl } from '../../store/open.js';
import { explainFilterError } from '../../store/schema.js';
import type { Store, WorkerInfo } from '../../store/store.js';
import { checkReadOnlySql, columnsProbeSql } from '../read-only-sql.js';
import { CliError, EXIT } from '../exit.js';
import { renderRows, type Format } from '../format.js';

async function withStore<T>(db: string, fn: (s: Store) => Promise<T>): Promise<T> {
  const store = await openStore(db, { readonly: true });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export function registerStatus(y: Argv): Argv {
  return y.command<{ sweep?: string; db: string; json: boolean }>(
    'status [sweep]',
    'Grid points by state for each sweep (or one), with failure messages',
    (c) =>
      c
        .positional('sweep', { type: 'string', describe: 'Sweep name (default: all sweeps)' })
        .option('json', { type: 'boolean', default: false, describe: 'JSON output' })
        .example('$0 status quickstart', ''),
    async (a) => {
      await withStore(a.db, async (store) => {
        const sweeps = (await store.sweeps()).filter((s) => !a.sweep || s.name === a.sweep);
        if (a.sweep && sweeps.length === 0) {
          const names = (await store.sweeps()).map((s) => s.name);
          throw new CliError(`no sweep named "${a.sweep}" in ${a.db}; sweeps: ${names.join(', ') || '(none)'}`, EXIT.USAGE);
        }
        const out = [];
        for (const s of sweeps) {
          const counts = await store.counts(s.name);
          const failures = await store.failures(s.name);
          const backends = await store.backends(s.name);
          out.push({ sweep: s.name, kind: s.kind, ...counts, backends, failures: failures.map((f) => ({ task_id: f.taskId, attempts: f.attempts, error: f.error, params: f.params })) });
        }
        const workers = await liveness(store);
        if (a.json) {
          // every entry carries the processes holding leases or beating on this database
          process.stdout.write(JSON.stringify(out.map((o) => ({ ...o, workers })), null, 2) + '\n');
          return;
        }
        if (out.length === 0) process.stdout.write(`no sweeps in ${redactUrl(a.db)}\n`);
        process.stdout.write(renderRows(out.map(({ failures: _f, backends: _b, ...rest }) => rest), 'table'));
        for (const s of out) {
          if (s.backends.length > 1) {
            process.stdout.write(`warning: sweep ${s.sweep} mixes linear-algebra backends (${s.backends.join(', ')}): their numbers differ in the last bits; run every worker with the same --linalg\n`);
          }
        }
        printLiveness(workers);
        for (const s of out) {
          for (const f of s.failures) {
            const firstLine = f.error.split('\n')[0];
            process.stdout.write(`failed ${s.sweep}/${f.task_id} after ${f.attempts} attempt(s): ${firstLine}\n  params: ${JSON.stringify(f.params)}\n`);
          }
        }
      });
    },
  );
}

type Liveness = WorkerInfo & { state: 'live' | 'dead' | 'expired' };

/** Every lease holder and registered worker, with whether it is alive, dead on this host, or silent past its lease. */
async function liveness(store: Store): Promise<Liveness[]> {
  return (await store.workers()).map((w) => ({ ...w, state: isDeadHere(w.owner) ? 'dead' : w.expired > 0 ? 'expired' : 'live' }));
}

function printLiveness(workers: Liveness[]): void {
  if (workers.length === 0) return;
  process.stdout.write('workers:\n');
  process.stdout.write(
    renderRows(
      workers.map((w) => ({ owner: w.owner, host: w.host, points_held: w.held, last_heartbeat: w.heartbeatAgeS === null ? 'never' : `${w.heartbeatAgeS.toFixed(1)} s ago`, state: w.state })),
      'table',
    ),
  );
  const expired = workers.reduce((n, w) => n + w.expired, 0);
  const dead = workers.filter((w) => w.state === 'dead' && w.held > 0);
  if (expired > 0) process.stdout.write(`${expired} running grid point(s) have an expired lease: the next worker or run takes them over\n`);
  for (const w of dead) {
    process.stdout.write(`${w.held} grid point(s) are running under ${w.owner}, a process of this host that is gone: the next worker or run takes them over at once\n`);
  }
}

export function registerQuery(y: Argv): Argv {
  return y.command<{ sql: string; db: string; format: Format }>(
    'query <sql>',
    'Run read-only SQL against the database (view `results`, tables tasks, metrics, sweeps, ...)',
    (c) =>
      c
        .positional('sql', { type: 'string', demandOption: true })
        .option('format', { choices: ['table', 'csv', 'json'] as const, default: 'table' as Format, describe: 'Output format' })
        .example(`$0 query "SELECT depth, t, test_mse FROM results WHERE sweep = 'quickstart' AND n_train = 400 ORDER BY depth, t"`, '')
        .example(`$0 query "SELECT step, value FROM metrics WHERE task_id = '…' AND name = 'train_loss'" --format csv`, '')
        .epilog('The database is opened read-only. `t = inf` is stored as REAL infinity: select it with `t > 1e308`.'),
    async (a) => {
      await withStore(a.db, async (store) => {
        checkReadOnlySql(a.sql);
        let rows: Record<string, unknown>[];
        try {
          rows = await store.query(a.sql);
          if (rows.length === 0 && a.format === 'csv' && !/^\s*EXPLAIN\b/i.test(a.sql)) {
            // no row to take the column names from: one all-NULL row gives them, for the header
            const probe = await store.query(columnsProbeSql(a.sql)).catch(() => []);
            if (probe.length) {
              process.stdout.write(renderRows([probe[0]], 'csv').split('\n')[0] + '\n');
              return;
            }
          }
        } catch (e) {
          const msg = (e as Error).message;
          if (/SQLITE_READONLY|readonly|read-only/i.test(msg)) {
            throw new CliError('query opens the database read-only: only reading statements (SELECT, WITH, EXPLAIN) are allowed', EXIT.USAGE);
          }
          if (!a.sql.trim()) throw new CliError('query: the SQL text is empty', EXIT.USAGE);
          throw new CliError(`SQL error: ${explainFilterError(e)}`, EXIT.USAGE);
        }
        process.stdout.write(renderRows(rows, a.format));
      });
    },
  );
}

export function registerExport(y: Argv): Argv {
  return y.command<{ sweep?: string; db: string; format: Format; series: boolean; out?: string }>(
    'export [sweep]',
    'Export results (one row per grid point, final metrics) or full metric series as CSV/JSON',
    (c) =>
      c
        .positional('sweep', { type: 'string', describe: 'Sweep name (default: all)' })
        .option('format', { choices: ['csv', 'json'] as const, default: 'csv' as Format })
        .option('series', { type: 'boolean', default: false, describe: 'Export every logged step (long format: sweep, task_id, step, name, value)' })
        .option('out', { type: 'string', describe: 'Write to this file instead of stdout' }),
    async (a) => {
      await withStore(a.db, async (store) => {
        if (a.sweep && !(await store.sweeps()).some((s) => s.name === a.sweep)) {
          const names = (await store.sweeps()).map((s) => s.name);
          throw new CliError(`no sweep named "${a.sweep}" in ${a.db}; sweeps: ${names.join(', ') || '(none)'}`, EXIT.USAGE);
        }
        const text = renderRows(a.series ? await store.metricSeries(a.sweep) : await store.resultRows(a.sweep), a.format);
        if (!a.out) {
          process.stdout.write(text);
          return;
        }
        try {
          writeFileSync(a.out, text);
        } catch (e) {
          throw new CliError(`cannot write ${a.out}: ${(e as Error).message}`, EXIT.STORAGE);
        }
      });
    },
  );
}

export { DEFAULT_DB };
