/**
 * A thin promise layer over the `sqlite3` driver: statements, a write mutex and
 * `BEGIN IMMEDIATE` transactions with retry on `SQLITE_BUSY`.
 */
import sqlite3 from 'sqlite3';

import { StoreError } from './errors.js';
import type { SqlValue } from './sql.js';

export { StoreError };


/** Promise wrapper of one `sqlite3.Database` connection. */
export class SqliteDb {
  private writeChain: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly db: sqlite3.Database,
    readonly path: string,
  ) {}

  /**
   * Open (and create unless `readonly`) the database file at `path`; `immutable` opens it
   * read-only without any locking, for files on read-only media.
   * @throws StoreError naming the path and the cause (missing directory, permissions, ...).
   */
  static open(path: string, opts: { readonly?: boolean; immutable?: boolean } = {}): Promise<SqliteDb> {
    let mode = opts.readonly || opts.immutable ? sqlite3.OPEN_READONLY : sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE;
    let name = path;
    if (opts.immutable) {
      // read-only media: no locks, no -shm file (the caller has checked that no WAL is pending)
      mode |= sqlite3.OPEN_URI;
      name = 'file:' + encodeURI(path).replace(/[?#]/g, encodeURIComponent) + '?immutable=1';
    }
    return new Promise((resolve, reject) => {
      const db = new sqlite3.Database(name, mode, (err) => {
        const code = (err as { code?: string } | null)?.code;
        if (err) reject(new StoreError(`cannot open database ${path}: ${err.message}${hintFor(code)}`, code));
        else resolve(new SqliteDb(db, path));
      });
    });
  }

  /** Execute one statement with bound parameters; resolves with the changed-row count. */
  run(sql: string, params: SqlValue[] = []): Promise<{ changes: number; lastID: number }> {
    return new Promise((resolve, reject) => {
      this.db.run(sql, params, function (this: sqlite3.RunResult, err: Error | null) {
        if (err) reject(wrap(err, sql));
        else resolve({ changes: this.changes, lastID: this.lastID });
      });
    });
  }

  /** Every row of a query (or of a statement with `RETURNING`). */
  all<T = Record<string, unknown>>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    return new Promise((resolve, reject) => {
      this.db.all(sql, params, (err: Error | null, rows: T[]) => (err ? reject(wrap(err, sql)) : resolve(rows)));
    });
  }

  /** The first row of a query, or undefined. */
  async get<T = Record<string, unknown>>(sql: string, params: SqlValue[] = []): Promise<T | undefined> {
    const rows = await this.all<T>(sql, params);
    return rows[0];
  }

  /** Execute one or more statements without parameters. */
  exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.db.exec(sql, (err) => (err ? reject(wrap(err, sql)) : resolve()));
    });
  }

  /** {@link exec} retried with backoff while SQLite answers `SQLITE_BUSY`, for up to `busyMs`. */
  async execRetry(sql: string, busyMs = 60_000): Promise<void> {
    const deadline = Date.now() + busyMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.exec(sql);
      } catch (e) {
        if (!(e instanceof StoreError) || e.code !== 'SQLITE_BUSY' || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 1000)));
      }
    }
  }

  /** Prepared statement executed many times, e.g. bulk inserts inside a transaction. */
  async runMany(sql: string, rows: SqlValue[][]): Promise<number> {
    if (rows.length === 0) return 0;
    const stmt = await new Promise<sqlite3.Statement>((resolve, reject) => {
      const s = this.db.prepare(sql, (err) => (err ? reject(wrap(err, sql)) : resolve(s)));
    });
    let changes = 0;
    try {
      for (const r of rows) {
        changes += await new Promise<number>((resolve, reject) => {
          stmt.run(r, function (this: sqlite3.RunResult, err: Error | null) {
            if (err) reject(wrap(err, sql));
            else resolve(this.changes);
          });
        });
      }
    } finally {
      await new Promise<void>((resolve) => stmt.finalize(() => resolve()));
    }
    return changes;
  }

  /**
   * Run `fn` inside `BEGIN IMMEDIATE … COMMIT`, serialised with every other transaction of this
   * connection; rolls back and rethrows on error. `SQLITE_BUSY` at `BEGIN` (another process
   * holds the write lock beyond the busy timeout) is retried with backoff for up to `busyMs`.
   */
  transaction<T>(fn: () => Promise<T>, busyMs = 60_000): Promise<T> {
    const next = this.writeChain.then(async () => {
      const deadline = Date.now() + busyMs;
      for (let attempt = 0; ; attempt++) {
        try {
          await this.exec('BEGIN IMMEDIATE');
          break;
        } catch (e) {
          if (!(e instanceof StoreError) || e.code !== 'SQLITE_BUSY' || Date.now() > deadline) throw e;
          await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 1000)));
        }
      }
      try {
        const out = await fn();
        await this.exec('COMMIT');
        return out;
      } catch (e) {
        await this.exec('ROLLBACK').catch(() => undefined);
        throw e;
      }
    });
    this.writeChain = next.catch(() => undefined);
    return next;
  }

  /**
   * Close the connection once every queued transaction has ended (SQLite merges and removes the
   * WAL when it is the last one).
   */
  async close(): Promise<void> {
    await this.writeChain;
    return new Promise((resolve, reject) => this.db.close((err) => (err ? reject(wrap(err, 'close')) : resolve())));
  }
}

/** A parenthesised explanation of an SQLite error code, or ''. */
function hintFor(code: string | undefined): string {
  let hint = '';
  if (code === 'SQLITE_FULL') hint = ' (the disk is full: free space and re-run; nothing of the failed transaction was written)';
  else if (code === 'SQLITE_READONLY') hint = ' (the database file or its directory is read-only: make both writable, or copy the file somewhere writable)';
  else if (code === 'SQLITE_NOTADB') hint = ' (the file is not an SQLite database, so not an ntk-sweep database; refusing to touch it)';
  else if (code === 'SQLITE_BUSY') hint = ' (another process holds the database lock)';
  else if (code === 'SQLITE_CANTOPEN') hint = ' (cannot open the database or its -wal/-shm files: check that the directory exists and is writable)';
  else if (code === 'SQLITE_IOERR') hint = ' (I/O error: the disk may be full, read-only or failing; nothing of the failed transaction was written)';
  else if (code === 'SQLITE_CORRUPT') hint = ' (the database file is corrupt)';
  else if (code === 'SQLITE_PERM' || code === 'SQLITE_AUTH') hint = ' (permission denied)';
  return hint;
}

function wrap(err: Error, sql: string): StoreError {
  const code = (err as { code?: string }).code;
  const hint = hintFor(code);
  const what = sql.length > 80 ? sql.slice(0, 77).replace(/\s+/g, ' ') + '...' : sql.replace(/\s+/g, ' ');
  return new StoreError(`${err.message}${hint} [in: ${what}]`, code);
}
