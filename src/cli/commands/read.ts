/** Read-only commands over a database: `query`, `export` (`status` is in status.ts). */
import { writeFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { DEFAULT_DB, openStore, redactUrl } from '../../store/open.js';
import { explainFilterError } from '../../store/schema.js';
import type { Store } from '../../store/store.js';
import { checkReadOnlySql, columnsProbeSql } from '../read-only-sql.js';
import { CliError, EXIT } from '../exit.js';
import { renderRows, type Format } from '../format.js';

/** Run `fn` on the store at `db`, opened read-only, and close it. */
export async function withStore<T>(db: string, fn: (s: Store) => Promise<T>): Promise<T> {
  const store = await openStore(db, { readonly: true });
  try {
    return await fn(store);
  } finally {
    await store.close();
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
