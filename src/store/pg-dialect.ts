/**
 * The PostgreSQL dialect of the storage protocol (node-postgres): at most 3 connections per
 * process (2 for statements, 1 listening for `NOTIFY`), READ COMMITTED transactions retried with
 * backoff when the server goes away (restart, network loss) or reports a deadlock, the server's
 * clock, and schema migrations under an advisory lock (many workers may start at once).
 */
import pg from 'pg';
import { APP_ID } from './schema.js';
import { PG_MIGRATIONS, PG_SCHEMA_VERSION, pgNumber, pgResultsViewSql } from './pg-schema.js';
import { marks, valuesRows, type Dialect, type SqlConn, type SqlTypes, type SqlValue } from './sql.js';
import { StoreError } from './errors.js';
import { redactUrl } from './url.js';

export { redactUrl };

const CHANNEL = 'ntk_sweep_work';

/**
 * How long a lost server is waited for before a call fails (ms): `NTK_SWEEP_RECONNECT_S`
 * seconds, default 600. Meanwhile the pool threads keep computing.
 */
function reconnectMs(): number {
  const raw = process.env.NTK_SWEEP_RECONNECT_S;
  const s = Number(raw);
  return raw !== undefined && raw.trim() !== '' && Number.isFinite(s) && s >= 0 ? s * 1000 : 600_000;
}

/** `?` placeholders to `$1, $2, …` (outside quoted strings and identifiers). */
export function numberPlaceholders(sql: string): string {
  let out = '';
  let n = 0;
  let quote: string | null = null;
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = null;
      out += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
    } else if (ch === '?') {
      out += `$${++n}`;
    } else out += ch;
  }
  return out;
}

/** BIGINT and NUMERIC as JS numbers (timestamps and counts fit), JSON as its text (like SQLite). */
const TYPES = {
  getTypeParser(oid: number, format?: string) {
    if (oid === 20 || oid === 1700) return (v: string) => Number(v);
    if (oid === 3802 || oid === 114) return (v: string) => v;
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', '57P01', '57P02', '57P03', '40001', '40P01', '53300']);

/** A driver error as a StoreError; lost connections, restarts, deadlocks are `transient`. */
function toStoreError(e: unknown, sql?: string): StoreError {
  if (e instanceof StoreError) return e;
  const err = e as { message?: string; code?: string };
  const code = err.code;
  const msg = err.message ?? String(e);
  const transient =
    (code !== undefined && (TRANSIENT_CODES.has(code) || code.startsWith('08'))) ||
    /Connection terminated|not queryable|timeout exceeded when trying to connect|connection timeout/i.test(msg);
  const what = sql ? ` [in: ${sql.replace(/\s+/g, ' ').slice(0, 77)}]` : '';
  return new StoreError(`${msg}${code ? ` (${code})` : ''}${what}`, code, transient);
}

function connOf(client: pg.PoolClient | pg.Pool): SqlConn {
  const q = async (sql: string, params?: SqlValue[]) => {
    try {
      return params && params.length ? await client.query(numberPlaceholders(sql), params as unknown[]) : await client.query(sql);
    } catch (e) {
      throw toStoreError(e, sql);
    }
  };
  return {
    all: async <T>(sql: string, params?: SqlValue[]) => {
      const r = await q(sql, params);
      // a multi-statement text returns one result per statement: the last one's rows
      const last = Array.isArray(r) ? r[r.length - 1] : r;
      return last.rows as T[];
    },
    run: async (sql, params) => (await q(sql, params)).rowCount ?? 0,
    exec: async (sql) => void (await q(sql)),
  };
}

class PgDialect implements Dialect {
  readonly name = 'postgres' as const;
  readonly nowMs = '(floor(extract(epoch from clock_timestamp()) * 1000)::bigint)';
  readonly types = { int: 'BIGINT', real: 'DOUBLE PRECISION', text: 'TEXT', json: 'JSONB' };
  readonly rowLocks = true;
  private readonly pool: pg.Pool;
  private readonly direct: SqlConn;
  /** Reconnect budget; 0 while opening (a wrong URL fails at once). */
  retryMs = 0;
  private listener: pg.Client | null = null;
  private waiters = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly url: string,
    readonly where: string,
    private readonly readonly: boolean,
  ) {
    this.pool = new pg.Pool({
      connectionString: url,
      max: 2,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: 10_000,
      types: TYPES,
      application_name: 'ntk-sweep',
      options: readonly ? '-c default_transaction_read_only=on' : undefined,
    });
    // an idle connection dropped by a restarting server: the next call reconnects
    this.pool.on('error', () => undefined);
    this.direct = connOf(this.pool);
  }

  /** Retry `fn` while it fails transiently, with backoff, within the reconnect budget. */
  private async retrying<T>(fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.retryMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        const se = toStoreError(e);
        if (!se.transient || Date.now() > deadline || this.closed) {
          if (se.transient) throw new StoreError(`cannot reach the PostgreSQL server at ${this.where}: ${se.message}`, se.code, true);
          throw se;
        }
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 5000)));
      }
    }
  }

  all<T = Record<string, unknown>>(sql: string, params?: SqlValue[]): Promise<T[]> {
    return this.retrying(() => this.direct.all<T>(sql, params));
  }
  run(sql: string, params?: SqlValue[]): Promise<number> {
    return this.retrying(() => this.direct.run(sql, params));
  }
  exec(sql: string): Promise<void> {
    return this.retrying(() => this.direct.exec(sql));
  }
  param(type: keyof SqlTypes): string {
    return `CAST(? AS ${this.types[type]})`;
  }
  rows(types: (keyof SqlTypes)[], rows: SqlValue[][]): { sql: string; params: SqlValue[] } {
    return valuesRows(types.map((t) => this.types[t]), rows);
  }
  inList(ids: string[]): { sql: string; params: SqlValue[] } {
    return { sql: `(${marks(ids)})`, params: ids };
  }
  jsonField(col: string, key: string, as: 'number' | 'text'): string {
    return as === 'number' ? pgNumber(col, key) : `(${col}->>'${key}')`;
  }
  resultsViewSql(metricNames: string[]): string {
    return pgResultsViewSql(metricNames);
  }
  async resultColumns(): Promise<string[]> {
    const rows = await this.all<{ name: string }>(
      "SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'results' ORDER BY ordinal_position",
    );
    return rows.map((r) => r.name);
  }

  transaction<T>(fn: (c: SqlConn) => Promise<T>): Promise<T> {
    return this.retrying(async () => {
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (e) {
        throw toStoreError(e);
      }
      let broken: Error | undefined;
      // the server may end the connection between two statements (restart, network loss): the
      // next statement then fails and the transaction is retried; without a listener the
      // client's 'error' event would end the process
      const lost = (e: Error) => (broken ??= e);
      client.on('error', lost);
      try {
        const c = connOf(client);
        await c.exec('BEGIN');
        try {
          const out = await fn(c);
          await c.exec('COMMIT');
          return out;
        } catch (e) {
          await client.query('ROLLBACK').catch((re: Error) => (broken = re));
          throw e;
        }
      } catch (e) {
        const se = toStoreError(e);
        if (se.transient) broken ??= se;
        throw se;
      } finally {
        client.off('error', lost);
        client.release(broken);
      }
    });
  }

  async lockMetricNames(c: SqlConn): Promise<void> {
    // new names rebuild the results view from every name: one such transaction at a time
    await c.exec('LOCK TABLE metric_names IN EXCLUSIVE MODE');
  }
  async notifyWork(c: SqlConn): Promise<void> {
    await c.exec(`NOTIFY ${CHANNEL}`);
  }

  async waitForWork(ms: number): Promise<void> {
    await this.listen().catch(() => undefined); // without a listener: a plain wait
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  /** The listening connection (the third one), made on first use and after it is lost. */
  private async listen(): Promise<void> {
    if (this.listener || this.closed) return;
    const client = new pg.Client({ connectionString: this.url, types: TYPES, application_name: 'ntk-sweep listen' });
    const drop = () => {
      if (this.listener === client) this.listener = null;
      client.end().catch(() => undefined);
    };
    client.on('error', drop);
    client.on('end', drop);
    client.on('notification', () => {
      for (const w of [...this.waiters]) w();
    });
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.listener = client;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of [...this.waiters]) w();
    await this.listener?.end().catch(() => undefined);
    await this.pool.end();
  }

  /** Check the database is ours (or empty, when writing) and migrate it to the current version. */
  async init(): Promise<void> {
    const has = async () => (await this.all<{ r: string | null }>("SELECT to_regclass('meta')::text AS r"))[0].r !== null;
    if (!(await has())) {
      if (this.readonly) throw new StoreError(`${this.where} has no ntk-sweep schema yet: no sweep has been registered in it (run \`ntk-sweep submit <spec>\` or \`run\` first)`);
    }
    if (this.readonly) {
      await this.checkVersion(this.direct);
      return;
    }
    await this.transaction(async (c) => {
      // workers starting together: one migrates, the others wait here and find it done
      await c.exec("SELECT pg_advisory_xact_lock(hashtext('ntk-sweep schema'))");
      const empty = (await c.all<{ n: number }>("SELECT COUNT(*) AS n FROM pg_tables WHERE schemaname = current_schema()"))[0].n === 0;
      if (!(await c.all<{ r: string | null }>("SELECT to_regclass('meta')::text AS r"))[0].r) {
        if (!empty) throw new StoreError(`${this.where} is a PostgreSQL database with other tables but no ntk-sweep schema; refusing to touch it (use an empty database)`);
        await c.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
        await c.run("INSERT INTO meta (key, value) VALUES ('app', ?), ('schema_version', '0')", [APP_ID]);
      }
      const version = await this.checkVersion(c);
      for (let v = version; v < PG_SCHEMA_VERSION; v++) {
        await c.exec(PG_MIGRATIONS[v]);
        await c.run("UPDATE meta SET value = ? WHERE key = 'schema_version'", [String(v + 1)]);
      }
      if (!(await c.all<{ r: string | null }>("SELECT to_regclass('results')::text AS r"))[0].r) {
        const names = await c.all<{ name: string }>('SELECT name FROM metric_names');
        await c.exec(pgResultsViewSql(names.map((n) => n.name)));
      }
    });
  }

  private async checkVersion(c: SqlConn): Promise<number> {
    const rows = await c.all<{ key: string; value: string }>('SELECT key, value FROM meta');
    const meta = new Map(rows.map((r) => [r.key, r.value]));
    if (meta.get('app') !== APP_ID) throw new StoreError(`${this.where} has a table meta but is not an ntk-sweep database; refusing to touch it`);
    const version = Number(meta.get('schema_version') ?? 0);
    if (version > PG_SCHEMA_VERSION) throw new StoreError(`${this.where} has schema version ${version}, newer than this ntk-sweep (${PG_SCHEMA_VERSION}); upgrade ntk-sweep`);
    return version;
  }
}

/**
 * Connect to the PostgreSQL database at `url` (`postgres://user:pass@host:port/db`), checking
 * (and unless `readonly`, creating or migrating) the ntk-sweep schema.
 * @throws StoreError when the server cannot be reached, the database is not an ntk-sweep one, or
 *   its schema is newer than this version.
 */
export async function openPostgres(url: string, readonly: boolean): Promise<Dialect> {
  const d = new PgDialect(url, redactUrl(url), readonly);
  try {
    await d.init();
  } catch (e) {
    await d.close().catch(() => undefined);
    const se = toStoreError(e);
    throw new StoreError(`cannot open ${redactUrl(url)}: ${se.message}`, se.code, se.transient);
  }
  d.retryMs = reconnectMs();
  return d;
}
