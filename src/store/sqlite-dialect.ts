/**
 * The SQLite dialect of the storage protocol: one `sqlite3` connection per process, WAL journal,
 * busy timeout plus retried `BEGIN IMMEDIATE` transactions, and the file checks that turn
 * read-only media, directories and foreign files into clear errors.
 */
import { accessSync, constants as fsConstants, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { APP_ID, MIGRATIONS, SCHEMA_VERSION, resultsViewSql } from './schema.js';
import { jsonRows, type Dialect, type SqlConn, type SqlTypes, type SqlValue } from './sql.js';
import { SqliteDb } from './sqlite-db.js';
import { StoreError } from './errors.js';

/** Whether this process may write `path` (a file or a directory). */
function isWritable(path: string): boolean {
  try {
    accessSync(path, fsConstants.W_OK);
    return true;
  } catch {
    return false;
  }
}

class SqliteDialect implements Dialect {
  readonly name = 'sqlite' as const;
  // SQLite's clock is this machine's: one file is only ever shared by processes of one host
  readonly nowMs = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";
  readonly types = { int: 'INTEGER', real: 'REAL', text: 'TEXT', json: 'TEXT' };
  readonly rowLocks = false;
  private readonly conn: SqlConn;

  constructor(readonly db: SqliteDb) {
    this.conn = {
      all: (sql, params) => db.all(sql, params),
      run: async (sql, params) => (await db.run(sql, params)).changes,
      exec: (sql) => db.exec(sql),
    };
  }

  get where(): string {
    return this.db.path;
  }

  param(): string {
    return '?';
  }
  rows(types: (keyof SqlTypes)[], rows: SqlValue[][]): { sql: string; params: SqlValue[] } {
    return jsonRows(types.length, rows);
  }
  inList(ids: string[]): { sql: string; params: SqlValue[] } {
    return { sql: '(SELECT value FROM json_each(?))', params: [JSON.stringify(ids)] };
  }

  all<T = Record<string, unknown>>(sql: string, params?: SqlValue[]): Promise<T[]> {
    return this.db.all<T>(sql, params);
  }
  run(sql: string, params?: SqlValue[]): Promise<number> {
    return this.conn.run(sql, params);
  }
  exec(sql: string): Promise<void> {
    return this.db.exec(sql);
  }
  jsonField(col: string, key: string): string {
    return `json_extract(${col}, '$.${key}')`;
  }
  resultsViewSql(metricNames: string[]): string {
    return resultsViewSql(metricNames);
  }
  async resultColumns(): Promise<string[]> {
    return (await this.db.all<{ name: string }>("SELECT name FROM pragma_table_info('results')")).map((r) => r.name);
  }
  transaction<T>(fn: (c: SqlConn) => Promise<T>): Promise<T> {
    return this.db.transaction(() => fn(this.conn));
  }
  async lockMetricNames(): Promise<void> {
    // the transaction already holds the database write lock
  }
  async notifyWork(): Promise<void> {
    // processes sharing a file poll it
  }
  waitForWork(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
  }
  close(): Promise<void> {
    return this.db.close();
  }

  /** Refuse what is not an ntk-sweep database; returns its schema version (0: empty file). */
  async checkApp(allowEmpty: boolean): Promise<number> {
    const tables = await this.db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'");
    if (tables.length === 0 && allowEmpty) return 0;
    if (tables.length === 0) {
      throw new StoreError(`${this.db.path} is an empty database: no sweep has been registered in it yet (a first run interrupted at once leaves an empty file); run \`ntk-sweep run <spec>\` first`);
    }
    const hasMeta = tables.some((t) => t.name === 'meta');
    const app = hasMeta ? await this.db.get<{ value: string }>("SELECT value FROM meta WHERE key = 'app'") : undefined;
    if (!app || app.value !== APP_ID) {
      throw new StoreError(`${this.db.path} is an SQLite database but not an ntk-sweep database (no ntk-sweep schema); refusing to touch it`);
    }
    const v = await this.db.get<{ value: string }>("SELECT value FROM meta WHERE key = 'schema_version'");
    const version = Number(v?.value ?? 0);
    if (version > SCHEMA_VERSION) {
      throw new StoreError(`${this.db.path} has schema version ${version}, newer than this ntk-sweep (${SCHEMA_VERSION}); upgrade ntk-sweep`);
    }
    return version;
  }

  /** Pragmas, then migrations to the current schema version (one transaction). */
  async init(): Promise<void> {
    await this.db.exec('PRAGMA busy_timeout = 10000');
    // Refuse a file that is not ours before changing anything in it (even its journal mode).
    await this.checkApp(true);
    await this.db.execRetry('PRAGMA journal_mode = WAL');
    await this.db.exec('PRAGMA synchronous = NORMAL');
    // Checkpoint the WAL into the database file every 32 MiB instead of every 4 MiB: each
    // checkpoint syncs the file, and small ones cost a fast sweep ~1/3 of its commit time.
    // The WAL file is truncated back to 64 MiB at most after a checkpoint.
    await this.db.exec('PRAGMA wal_autocheckpoint = 8192');
    await this.db.exec('PRAGMA journal_size_limit = 67108864');
    await this.db.exec('PRAGMA foreign_keys = ON');
    const maxPages = Number(process.env.NTK_SWEEP_FAULT_MAX_PAGE_COUNT ?? '');
    if (Number.isInteger(maxPages) && maxPages > 0) {
      // Fault injection for tests without a small filesystem: the file cannot grow beyond this.
      await this.db.exec(`PRAGMA max_page_count = ${maxPages}`);
    }
    await this.db.transaction(async () => {
      const version = await this.checkApp(true);
      if (version === 0) {
        await this.db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
        await this.db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('app', ?)", [APP_ID]);
      }
      for (let v = version; v < SCHEMA_VERSION; v++) {
        await this.db.exec(MIGRATIONS[v]);
        await this.db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", [String(v + 1)]);
      }
      const hasView = await this.db.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'view' AND name = 'results'");
      if (!hasView) {
        const names = await this.db.all<{ name: string }>('SELECT name FROM metric_names');
        await this.db.exec(resultsViewSql(names.map((n) => n.name)));
      }
    });
  }
}

/**
 * Refuse to open `path` for writing when it or its directory is read-only, with the way out, or
 * when its directory does not exist and `createDir` is false.
 */
function checkWritable(path: string, createDir: boolean): void {
  const dirReadonly = !isWritable(dirname(path)) && !(existsSync(`${path}-wal`) && existsSync(`${path}-shm`));
  if (existsSync(path) && !statSync(path).isDirectory() && (!isWritable(path) || dirReadonly)) {
    const what = isWritable(path) ? `its directory ${dirname(path)} is` : 'it is';
    throw new StoreError(
      `database ${path} cannot be written: ${what} read-only (a run records results and leases, and SQLite needs to create ` +
        `${path}-wal and -shm next to it); make it writable, or copy it to a writable place and pass --db. Read-only commands (status, query, export) still work.`,
      'SQLITE_READONLY',
    );
  }
  const dir = dirname(path);
  if (!existsSync(dir)) {
    // a typo in --db must not start a second, empty database somewhere else
    if (!createDir) throw new StoreError(`directory ${dir} does not exist: check --db (or $NTK_SWEEP_DB) for a typo, or create it first (mkdir -p ${dir})`);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new StoreError(`cannot create directory ${dir} for the database: ${(e as Error).message}`);
    }
  }
  if (existsSync(path) && statSync(path).isDirectory()) throw new StoreError(`${path} is a directory, not a database file`);
}

/**
 * Open the SQLite file at `path`: for writing (creating the file, and its directory when
 * `createDir`, migrating the schema) or `readonly` (an existing ntk-sweep database; a WAL database on read-only media
 * without pending changes is read without locking).
 * @throws StoreError if the file is not an ntk-sweep database, was written by a newer version,
 *   or cannot be opened or written (read-only file, full disk, a missing directory).
 */
export async function openSqlite(path: string, readonly: boolean, createDir = false): Promise<Dialect> {
  if (!readonly) {
    if (path !== ':memory:') checkWritable(path, createDir);
    const d = new SqliteDialect(await SqliteDb.open(path));
    try {
      await d.init();
    } catch (e) {
      await d.close().catch(() => undefined);
      throw e;
    }
    return d;
  }
  if (!existsSync(path)) throw new StoreError(`no database at ${path} (run \`ntk-sweep run <spec>\` first, or pass --db)`);
  const attempt = async (immutable: boolean): Promise<Dialect> => {
    const d = new SqliteDialect(await SqliteDb.open(path, { readonly: true, immutable }));
    try {
      await d.exec('PRAGMA busy_timeout = 10000');
      await d.checkApp(false);
    } catch (e) {
      await d.close().catch(() => undefined);
      throw e;
    }
    return d;
  };
  try {
    return await attempt(false);
  } catch (e) {
    // A WAL database on read-only media cannot be opened normally (no -shm file can be made).
    // Without a pending -wal file its content is complete: read it without locking.
    if (!(e instanceof StoreError) || (e.code !== 'SQLITE_CANTOPEN' && e.code !== 'SQLITE_READONLY') || isWritable(dirname(path))) throw e;
    const wal = `${path}-wal`;
    if (existsSync(wal) && statSync(wal).size > 0) {
      throw new StoreError(`${path} is on a read-only location and has unmerged changes in ${wal}; copy both files to a writable directory to read them`, e.code);
    }
    return attempt(true);
  }
}
