/**
 * The one entry point to storage: `openStore(url)`. A file path means SQLite; a `postgres://`
 * or `postgresql://` URL means PostgreSQL. Every command and the test tooling open stores here.
 */
import { dirname, resolve } from 'node:path';
import { SqlStore } from './protocol.js';
import type { Store } from './store.js';

/** Default database location, relative to the working directory. */
export const DEFAULT_DB = 'db/ntk-sweep.sqlite';

/** The database of a command: `--db`, else `NTK_SWEEP_DB`, else {@link DEFAULT_DB}. */
export function defaultDb(): string {
  return process.env.NTK_SWEEP_DB || DEFAULT_DB;
}

/** Whether `url` names a PostgreSQL database. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/**
 * Open the store at `url`. For writing (default) the database is created if needed (a SQLite
 * file's folder only when it is the default `db/`) and its schema migrated; `readonly` opens an existing ntk-sweep database for reading only (status,
 * query, export, report).
 * @throws StoreError if it cannot be opened, is not an ntk-sweep database, or is newer than this
 *   version of ntk-sweep.
 */
export async function openStore(url: string, opts: { readonly?: boolean } = {}): Promise<Store> {
  const readonly = opts.readonly ?? false;
  // each driver is loaded when its dialect is opened: a SQLite user never loads pg, and the other way round
  // only the default database's folder is created; any other missing folder is likely a typo
  const createDir = resolve(dirname(url)) === resolve(dirname(DEFAULT_DB));
  const d = isPostgresUrl(url) ? await (await import('./pg-dialect.js')).openPostgres(url, readonly) : await (await import('./sqlite-dialect.js')).openSqlite(url, readonly, createDir);
  try {
    return await SqlStore.over(d);
  } catch (e) {
    await d.close().catch(() => undefined);
    throw e;
  }
}

export { redactUrl } from './url.js';
