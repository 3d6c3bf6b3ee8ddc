/**
 * The small connection + dialect interface that the storage protocol (`protocol.ts`) is written
 * over, in the manner of Kysely's `Dialect`: the protocol's SQL is shared, and each dialect
 * (`sqlite-dialect.ts`, `pg-dialect.ts`) supplies a connection, transactions, the server clock and
 * the few spellings that differ.
 */

export type SqlValue = string | number | null | bigint | Buffer;

/**
 * Statements on one connection (inside a transaction, or the dialect's own connection for
 * single statements). Bound parameters are written `?` in the SQL text, in both dialects.
 */
export interface SqlConn {
  /** Every row of a query (or of a statement with `RETURNING`). */
  all<T = Record<string, unknown>>(sql: string, params?: SqlValue[]): Promise<T[]>;
  /** Execute one statement; resolves with the number of changed rows. */
  run(sql: string, params?: SqlValue[]): Promise<number>;
  /** Execute one or more statements without parameters. */
  exec(sql: string): Promise<void>;
}

/** Column types the protocol casts bound parameters to (PostgreSQL needs them in `VALUES`). */
export interface SqlTypes {
  int: string;
  real: string;
  text: string;
  json: string;
}

/**
 * A database behind the storage protocol.
 *
 * Isolation: {@link Dialect.transaction} runs its function as one atomic transaction. SQLite
 * runs it under the database write lock (`BEGIN IMMEDIATE`: serializable, one writer at a time).
 * PostgreSQL runs it under READ COMMITTED: every statement sees the rows committed before it
 * started, so the protocol locks what it decides on (`FOR UPDATE`, `FOR UPDATE SKIP LOCKED` for
 * claims, where {@link Dialect.rowLocks} is true) and re-checks the status in each `UPDATE`.
 */
export interface Dialect extends SqlConn {
  readonly name: 'sqlite' | 'postgres';
  /** Where the data is, for messages: a file path, or a URL without its password. */
  readonly where: string;
  /** SQL expression of the database server's clock, in ms since the epoch (leases use it). */
  readonly nowMs: string;
  readonly types: SqlTypes;
  /** Whether `SELECT … FOR UPDATE [SKIP LOCKED]` exists (PostgreSQL; SQLite locks the whole file). */
  readonly rowLocks: boolean;
  /**
   * One bound parameter of a column type inside `VALUES`: `CAST(? AS …)` on PostgreSQL (a
   * `VALUES` list needs its types there), `?` on SQLite (the column's affinity converts it, and
   * casts would hide a `VALUES` list's rows from the planner and cost a conversion per value).
   */
  param(type: keyof SqlTypes): string;
  /**
   * Bound rows as a table to read `FROM … AS v` (columns `v.column1 … v.columnN`), with its
   * parameters: on SQLite one JSON array read by `json_each` (node-sqlite3 binds every parameter
   * with a call of its own; one text is cheaper, and the planner knows the rows are few), on
   * PostgreSQL a `VALUES` list cast to `types`. At most 500 rows (see {@link inChunks}).
   * Numbers pass through JSON text on SQLite, whose parser does not round every double
   * correctly, and JSON has no ±Infinity or NaN (they become NULL): values that must keep every
   * bit (metric values) are bound with {@link param}.
   */
  rows(types: (keyof SqlTypes)[], rows: SqlValue[][]): { sql: string; params: SqlValue[] };
  /** `ids` as an `IN` list, with its parameters: one JSON parameter on SQLite, `(?, ?, …)` on PostgreSQL (at most 500). */
  inList(ids: string[]): { sql: string; params: SqlValue[] };
  /** SQL of the JSON value at `key` of column `col`, as a number or as text (SQLite: its own type). */
  jsonField(col: string, key: string, as: 'number' | 'text'): string;
  /** SQL that (re)creates the `results` view for these metric names. */
  resultsViewSql(metricNames: string[]): string;
  /** Column names of the `results` view. */
  resultColumns(): Promise<string[]>;
  /**
   * Run `fn` as one transaction; rolls back and rethrows on error. A transient failure (lost
   * connection, restarting server, deadlock, busy database) is retried from the start with
   * backoff, so `fn` must derive everything it writes from what it reads in the transaction.
   */
  transaction<T>(fn: (c: SqlConn) => Promise<T>): Promise<T>;
  /** Serialize additions of metric names (and so of `results` columns) inside a transaction. */
  lockMetricNames(c: SqlConn): Promise<void>;
  /** Wake the workers waiting for runnable points, when the transaction commits. */
  notifyWork(c: SqlConn): Promise<void>;
  /** Resolve after `ms`, or earlier when another process announces runnable points. */
  waitForWork(ms: number): Promise<void>;
  close(): Promise<void>;
}

/** `?, ?, …` for an `IN (…)` list of `ids`. */
export function marks(ids: unknown[]): string {
  return ids.map(() => '?').join(', ');
}

/** Call `fn` on consecutive slices of at most 500 ids or rows (well below every bound-parameter limit). */
export async function inChunks<T>(ids: T[], fn: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) await fn(ids.slice(i, i + 500));
}

/** {@link Dialect.rows} of SQLite: `(SELECT value->>0 AS column1, … FROM json_each(?))`. */
export function jsonRows(width: number, rows: SqlValue[][]): { sql: string; params: SqlValue[] } {
  const cols = Array.from({ length: width }, (_v, i) => `value->>${i} AS column${i + 1}`);
  return { sql: `(SELECT ${cols.join(', ')} FROM json_each(?))`, params: [JSON.stringify(rows)] };
}

/** {@link Dialect.rows} of PostgreSQL: `(VALUES (CAST(? AS …), …), …)`. */
export function valuesRows(types: string[], rows: SqlValue[][]): { sql: string; params: SqlValue[] } {
  const one = '(' + types.map((t) => `CAST(? AS ${t})`).join(', ') + ')';
  return { sql: `(VALUES ${rows.map(() => one).join(', ')})`, params: rows.flat() };
}

/**
 * Execute `INSERT … VALUES (…), (…), …` for many rows with few statements (chunks of rows),
 * e.g. `insertRows(c, 'INSERT INTO t (a, b) VALUES', rows, 'ON CONFLICT DO NOTHING')`. `tuple`
 * is the SQL of one row (default `(?, ?, …)`; it may cast or hold expressions). Returns the
 * number of changed rows.
 */
export async function insertRows(c: SqlConn, head: string, rows: SqlValue[][], tail = '', tuple?: string): Promise<number> {
  if (rows.length === 0) return 0;
  const width = rows[0].length;
  const perStmt = Math.max(1, Math.floor(30000 / width / 4));
  const one = tuple ?? '(' + new Array(width).fill('?').join(', ') + ')';
  let changes = 0;
  for (let i = 0; i < rows.length; i += perStmt) {
    const chunk = rows.slice(i, i + perStmt);
    changes += await c.run(`${head} ${chunk.map(() => one).join(', ')} ${tail}`, chunk.flat());
  }
  return changes;
}
