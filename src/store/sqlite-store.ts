/**
 * SQLite implementation of {@link Store} over the `sqlite3` driver: WAL journal, busy timeout
 * plus retried `BEGIN IMMEDIATE` transactions, schema version with migrations, and leases so
 * several coordinators can share one file.
 */
import { accessSync, constants as fsConstants, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { MetricRow, TaskInput } from '../tasks/types.js';
import { decodeParams, encodeParams } from '../util/json.js';
import { APP_ID, MIGRATIONS, SCHEMA_VERSION, resultsViewSql } from './schema.js';
import { SqliteDb, StoreError, insertRows, type SqlValue } from './sqlite-db.js';
import type {
  ClaimOptions,
  FailureInfo,
  FinishItem,
  NewTask,
  RegisterResult,
  Store,
  SweepCounts,
  SweepRecord,
  TaskEvent,
} from './store.js';

export { StoreError } from './sqlite-db.js';

/** Whether this process may write `path` (a file or a directory). */
function isWritable(path: string): boolean {
  try {
    accessSync(path, fsConstants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** `?, ?, …` for an `IN (…)` list of `ids`. */
function marks(ids: unknown[]): string {
  return ids.map(() => '?').join(', ');
}

/** Call `fn` on consecutive slices of at most 500 ids (SQLite's bound-parameter limit). */
async function inChunks(ids: string[], fn: (chunk: string[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) await fn(ids.slice(i, i + 500));
}

/** A task that can still take results (neither done nor diverged; undefined: unknown task). */
function isOpen(status: string | undefined): boolean {
  return status !== undefined && status !== 'done' && status !== 'diverged';
}

/** Default database location, relative to the working directory. */
export const DEFAULT_DB = 'db/ntk-sweep.sqlite';

export class SqliteStore implements Store {
  private metricNames = new Set<string>();

  private constructor(private readonly db: SqliteDb) {}

  /**
   * Open a database for reading and writing, creating the file (and its directory) if needed,
   * and migrating its schema to the current version.
   * @throws StoreError if the file is not an ntk-sweep database, was written by a newer version,
   *   or cannot be opened or written (read-only file, full disk).
   */
  static async open(path: string): Promise<SqliteStore> {
    if (path !== ':memory:') {
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
        try {
          mkdirSync(dir, { recursive: true });
        } catch (e) {
          throw new StoreError(`cannot create directory ${dir} for the database: ${(e as Error).message}`);
        }
      }
      if (existsSync(path) && statSync(path).isDirectory()) throw new StoreError(`${path} is a directory, not a database file`);
    }
    const db = await SqliteDb.open(path);
    const store = new SqliteStore(db);
    try {
      await store.init();
    } catch (e) {
      await db.close().catch(() => undefined);
      throw e;
    }
    return store;
  }

  /**
   * Open an existing database read-only (for `status`, `query`, `export`, `report`).
   * @throws StoreError if the file does not exist or is not an ntk-sweep database.
   */
  static async openReadonly(path: string): Promise<SqliteStore> {
    if (!existsSync(path)) throw new StoreError(`no database at ${path} (run \`ntk-sweep run <spec>\` first, or pass --db)`);
    const attempt = async (immutable: boolean): Promise<SqliteStore> => {
      const db = await SqliteDb.open(path, { readonly: true, immutable });
      const store = new SqliteStore(db);
      try {
        await db.exec('PRAGMA busy_timeout = 10000');
        await store.checkApp(false);
      } catch (e) {
        await db.close().catch(() => undefined);
        throw e;
      }
      return store;
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

  private async checkApp(allowEmpty: boolean): Promise<number> {
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
    const names = await this.db.all<{ name: string }>('SELECT name FROM metric_names').catch(() => []);
    for (const n of names) this.metricNames.add(n.name);
    return version;
  }

  private async init(): Promise<void> {
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
      if (!hasView) await this.db.exec(resultsViewSql([...this.metricNames]));
    });
  }

  async registerSweep(sweep: SweepRecord, tasks: NewTask[] | AsyncIterable<NewTask[]>): Promise<RegisterResult> {
    const now = Date.now();
    return this.db.transaction(async () => {
      const prev = await this.db.get<{ spec_json: string; spec_hash: string }>('SELECT spec_json, spec_hash FROM sweeps WHERE name = ?', [sweep.name]);
      if (prev && prev.spec_hash !== sweep.specHash) {
        await this.db.run('UPDATE sweeps SET spec_json = ?, spec_hash = ?, kind = ?, updated_at = ? WHERE name = ?', [
          sweep.specJson,
          sweep.specHash,
          sweep.kind,
          now,
          sweep.name,
        ]);
      } else if (!prev) {
        await this.db.run('INSERT INTO sweeps (name, kind, spec_json, spec_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)', [
          sweep.name,
          sweep.kind,
          sweep.specJson,
          sweep.specHash,
          now,
          now,
        ]);
      }
      await this.db.run('INSERT OR IGNORE INTO sweep_specs (sweep, spec_hash, spec_json, first_seen) VALUES (?, ?, ?, ?)', [
        sweep.name,
        sweep.specHash,
        sweep.specJson,
        now,
      ]);
      let inserted = 0;
      let attached = 0;
      for await (const chunk of Array.isArray(tasks) ? [tasks] : tasks) {
        inserted += await insertRows(
          this.db,
          'INSERT OR IGNORE INTO tasks (id, kind, params, batch_key, batch_order, cost, created_at) VALUES',
          chunk.map((t) => [t.id, t.kind, encodeParams(t.params), t.batchKey, t.batchOrder, t.cost, now]),
        );
        attached += await insertRows(
          this.db,
          'INSERT OR IGNORE INTO sweep_tasks (sweep, task_id) VALUES',
          chunk.map((t) => [sweep.name, t.id]),
        );
      }
      return { inserted, attached, previousSpecJson: prev && prev.spec_hash !== sweep.specHash ? prev.spec_json : null };
    });
  }

  /** Append audit-trail rows `(task_id, owner, event, detail)` (inside the caller's transaction). */
  private async log(rows: [string, string | null, TaskEvent, string | null][]): Promise<void> {
    const at = Date.now();
    await insertRows(
      this.db,
      'INSERT INTO task_log (task_id, at, owner, event, detail) VALUES',
      rows.map(([id, owner, event, detail]) => [id, at, owner, event, detail]),
    );
  }

  async reclaimExpired(now: number): Promise<number> {
    return this.db.transaction(async () => {
      const expired = await this.db.all<{ id: string; lease_owner: string | null }>(
        "SELECT id, lease_owner FROM tasks WHERE status = 'running' AND lease_expires < ?",
        [now],
      );
      if (expired.length === 0) return 0;
      const r = await this.db.run(
        `UPDATE tasks SET status = 'pending', attempts = MAX(attempts - 1, 0), lease_owner = NULL, lease_expires = NULL
         WHERE status = 'running' AND lease_expires < ?`,
        [now],
      );
      await this.log(expired.map((t) => [t.id, t.lease_owner, 'reclaimed', 'lease expired']));
      return r.changes;
    });
  }

  /**
   * Runnable tasks of `sweep` (pending, or failed with attempts left) matching `where`, in claim
   * order (most expensive first, batches together), at most `limit` (-1: all). Two index walks
   * merged by SQLite, so no sort of the sweep per claim.
   */
  private runnable(sweep: string, opts: ClaimOptions, where: string, params: SqlValue[], limit: number) {
    const retry = opts.retryExhaustedBefore !== undefined;
    const member = 'EXISTS (SELECT 1 FROM sweep_tasks s WHERE s.sweep = ? AND s.task_id = t.id)';
    const cols = 't.id AS id, t.batch_key AS batch_key, t.batch_order AS batch_order, t.cost AS cost';
    return this.db.all<{ id: string; batch_key: string; batch_order: number; cost: number }>(
      `SELECT ${cols} FROM tasks t WHERE t.status = 'pending' ${where} AND ${member}
       UNION ALL
       SELECT ${cols} FROM tasks t WHERE t.status = 'failed' AND ${retry ? '(t.attempts < ? OR t.started_at < ?)' : 't.attempts < ?'} ${where} AND ${member}
       ORDER BY cost DESC, batch_key LIMIT ?`,
      [...params, sweep, opts.maxAttempts, ...(retry ? [opts.retryExhaustedBefore!] : []), ...params, sweep, limit],
    );
  }

  async claimBatch(sweep: string, opts: ClaimOptions): Promise<TaskInput[]> {
    return this.db.transaction(async () => {
      const [head] = await this.runnable(sweep, opts, '', [], 1);
      if (!head) return [];
      let picked: string[];
      if (head.batch_key === '') {
        // independent grid points: as many as the chunk allows, most expensive first
        const chunk = opts.chunk ?? { maxTasks: 1, maxCost: 0 };
        const next = await this.runnable(sweep, opts, "AND +t.batch_key = ''", [], Math.max(1, chunk.maxTasks));
        picked = [];
        let cost = 0;
        for (const r of next) {
          if (picked.length > 0 && cost + r.cost > chunk.maxCost) break;
          picked.push(r.id);
          cost += r.cost;
        }
      } else {
        // a shared-work batch: its runnable points with the smallest `maxOrdersPerBatch` orders
        const members = await this.runnable(sweep, opts, 'AND t.batch_key = ?', [head.batch_key], -1);
        const orders = [...new Set(members.map((m) => m.batch_order))].sort((a, b) => a - b);
        const maxOrder = orders[Math.min(orders.length, opts.maxOrdersPerBatch) - 1];
        picked = members.filter((m) => m.batch_order <= maxOrder).map((m) => m.id);
      }
      const now = Date.now();
      const byId = new Map<string, { id: string; params: string; attempts: number }>();
      await inChunks(picked, async (ids) => {
        const rows = await this.db.all<{ id: string; params: string; attempts: number }>(
          `UPDATE tasks SET status = 'running', lease_owner = ?, lease_expires = ?, started_at = ?, attempts = attempts + 1
           WHERE id IN (${marks(ids)}) RETURNING id, params, attempts`,
          [opts.owner, now + opts.leaseMs, now, ...ids],
        );
        for (const r of rows) byId.set(r.id, r);
      });
      const rows = picked.map((id) => byId.get(id)!);
      const ckpts = new Map<string, { step: number; data: Buffer }>();
      await inChunks(picked, async (ids) => {
        const found = await this.db.all<{ task_id: string; step: number; data: Buffer }>(
          `SELECT task_id, step, data FROM checkpoints WHERE task_id IN (${marks(ids)})`,
          ids,
        );
        for (const c of found) ckpts.set(c.task_id, { step: c.step, data: c.data });
      });
      await this.log(
        rows.map((r) => {
          const c = ckpts.get(r.id);
          return [r.id, opts.owner, 'claim', `attempt ${r.attempts}` + (c ? `, from checkpoint at step ${c.step}` : '')];
        }),
      );
      return rows.map((r) => {
        const t: TaskInput = { id: r.id, params: decodeParams(r.params), attempt: r.attempts };
        const c = ckpts.get(r.id);
        if (c) t.checkpoint = { step: c.step, data: new Uint8Array(c.data.buffer, c.data.byteOffset, c.data.byteLength) };
        return t;
      });
    });
  }

  async leaseOwners(): Promise<string[]> {
    const rows = await this.db.all<{ o: string }>("SELECT DISTINCT lease_owner AS o FROM tasks WHERE status = 'running' AND lease_owner IS NOT NULL");
    return rows.map((r) => r.o);
  }

  async renewLeases(owner: string, leaseMs: number): Promise<number> {
    return this.db.transaction(async () => {
      const r = await this.db.run("UPDATE tasks SET lease_expires = ? WHERE lease_owner = ? AND status = 'running'", [Date.now() + leaseMs, owner]);
      return r.changes;
    });
  }

  /**
   * Insert metric rows of several tasks (inside the caller's transaction): `metrics`, the last
   * step per name in `final_metrics`, and new names into `metric_names` (regenerating the
   * `results` view).
   */
  private async insertMetrics(batch: { taskId: string; rows: MetricRow[] }[]): Promise<void> {
    const all: SqlValue[][] = [];
    const finals: SqlValue[][] = [];
    const names = new Set<string>();
    for (const { taskId, rows } of batch) {
      // keep, per metric name, the row of the largest step
      const last = new Map<string, MetricRow>();
      for (const r of rows) {
        all.push([taskId, r.step, r.name, Number.isNaN(r.value) ? null : r.value]);
        const p = last.get(r.name);
        if (!p || r.step >= p.step) last.set(r.name, r);
      }
      for (const r of last.values()) {
        finals.push([taskId, r.step, r.name, Number.isNaN(r.value) ? null : r.value]);
        names.add(r.name);
      }
    }
    if (all.length === 0) return;
    // (task_id, name, step) is the primary key: a row re-sent by a resumed execution replaces
    // the identical row, it never duplicates it
    await insertRows(this.db, 'INSERT OR REPLACE INTO metrics (task_id, step, name, value) VALUES', all);
    await insertRows(
      this.db,
      'INSERT INTO final_metrics (task_id, step, name, value) VALUES',
      finals,
      'ON CONFLICT (task_id, name) DO UPDATE SET step = excluded.step, value = excluded.value WHERE excluded.step >= final_metrics.step',
    );
    const fresh = [...names].filter((n) => !this.metricNames.has(n));
    if (fresh.length > 0) {
      await insertRows(this.db, 'INSERT OR IGNORE INTO metric_names (name) VALUES', fresh.map((n) => [n]));
      const known = await this.db.all<{ name: string }>('SELECT name FROM metric_names');
      await this.db.exec(resultsViewSql(known.map((r) => r.name)));
      // remembered only once the transaction commits (withNames); a rollback retries next time
      for (const n of known) this.pendingNames.add(n.name);
    }
  }

  private pendingNames = new Set<string>();

  /** Run a transaction that may add metric names; remember them only if it commits. */
  private async withNames<T>(fn: () => Promise<T>): Promise<T> {
    try {
      const out = await this.db.transaction(fn);
      for (const n of this.pendingNames) this.metricNames.add(n);
      return out;
    } finally {
      this.pendingNames.clear();
    }
  }

  /** Status and lease owner of each of `ids` that exists (inside the caller's transaction). */
  private async states(ids: string[]): Promise<Map<string, { status: string; lease_owner: string | null }>> {
    const out = new Map<string, { status: string; lease_owner: string | null }>();
    await inChunks([...new Set(ids)], async (chunk) => {
      const rows = await this.db.all<{ id: string; status: string; lease_owner: string | null }>(
        `SELECT id, status, lease_owner FROM tasks WHERE id IN (${marks(chunk)})`,
        chunk,
      );
      for (const r of rows) out.set(r.id, r);
    });
    return out;
  }

  async writeMetrics(batch: { taskId: string; rows: MetricRow[] }[]): Promise<void> {
    const nonEmpty = batch.filter((b) => b.rows.length > 0);
    if (nonEmpty.length === 0) return;
    await this.withNames(async () => {
      const states = await this.states(nonEmpty.map((b) => b.taskId));
      await this.insertMetrics(nonEmpty.filter((b) => isOpen(states.get(b.taskId)?.status)));
    });
  }

  async finishTasks(items: FinishItem[]): Promise<boolean[]> {
    if (items.length === 0) return [];
    return this.withNames(async () => {
      const states = await this.states(items.map((i) => i.taskId));
      const accepted: boolean[] = [];
      const logs: [string, string | null, TaskEvent, string | null][] = [];
      const winners: FinishItem[] = [];
      for (const it of items) {
        const cur = states.get(it.taskId);
        if (!cur) throw new StoreError(`finishTasks: no task ${it.taskId} in the database`);
        if (!isOpen(cur.status)) {
          logs.push([it.taskId, it.owner, 'ignored', `already ${cur.status}; this execution's result was discarded`]);
          accepted.push(false);
          continue;
        }
        const notes: string[] = [];
        if (it.end.status === 'diverged') notes.push(`at step ${it.end.step}: ${it.end.reason}`);
        if (cur.lease_owner !== it.owner) notes.push(`finished after its lease had passed to ${cur.lease_owner ?? 'nobody'} (status ${cur.status})`);
        logs.push([it.taskId, it.owner, it.end.status, notes.join('; ') || null]);
        // a second finish of the same task in this batch loses, like a later one would
        states.set(it.taskId, { status: it.end.status, lease_owner: null });
        winners.push(it);
        accepted.push(true);
      }
      await this.insertMetrics(winners.map((w) => ({ taskId: w.taskId, rows: w.rows })));
      const now = Date.now();
      await insertRows(
        this.db,
        `UPDATE tasks SET status = v.column2, error = v.column3, diverged_step = v.column4, finished_at = ${now}, duration_s = v.column5,
           run_info = v.column6, attempts = MAX(attempts, 1), lease_owner = NULL, lease_expires = NULL
         FROM (VALUES`,
        winners.map((w) => [
          w.taskId,
          w.end.status,
          w.end.status === 'diverged' ? w.end.reason : null,
          w.end.status === 'diverged' ? w.end.step : null,
          w.durationS,
          JSON.stringify(w.info),
        ]),
        ') AS v WHERE tasks.id = v.column1',
      );
      await inChunks(
        winners.map((w) => w.taskId),
        (ids) => this.db.run(`DELETE FROM checkpoints WHERE task_id IN (${marks(ids)})`, ids),
      );
      await this.log(logs);
      return accepted;
    });
  }

  async failTask(taskId: string, owner: string, error: string, durationS: number): Promise<boolean> {
    return this.db.transaction(async () => {
      const r = await this.db.run(
        `UPDATE tasks SET status = 'failed', error = ?, finished_at = ?, duration_s = ?, lease_owner = NULL, lease_expires = NULL
         WHERE id = ? AND lease_owner = ? AND status = 'running'`,
        [error, Date.now(), durationS, taskId, owner],
      );
      if (r.changes > 0) await this.log([[taskId, owner, 'failed', error.split('\n')[0].slice(0, 500)]]);
      return r.changes > 0;
    });
  }

  async saveCheckpoint(taskId: string, owner: string, step: number, data: Uint8Array, rows: MetricRow[]): Promise<boolean> {
    const blob = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return this.withNames(async () => {
      if (!isOpen((await this.states([taskId])).get(taskId)?.status)) return false;
      await this.insertMetrics([{ taskId, rows }]);
      const r = await this.db.run(
        `INSERT INTO checkpoints (task_id, step, data, bytes, owner, saved_at)
         SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM tasks WHERE id = ? AND lease_owner = ? AND status = 'running')
         ON CONFLICT (task_id) DO UPDATE SET step = excluded.step, data = excluded.data, bytes = excluded.bytes,
           owner = excluded.owner, saved_at = excluded.saved_at`,
        [taskId, step, blob, blob.length, owner, Date.now(), taskId, owner],
      );
      return r.changes > 0;
    });
  }

  async releaseTasks(owner: string, taskIds?: string[], reason = 'interrupted'): Promise<number> {
    return this.db.transaction(async () => {
      const base = `UPDATE tasks SET status = 'pending', attempts = MAX(attempts - 1, 0), lease_owner = NULL, lease_expires = NULL
                    WHERE lease_owner = ? AND status = 'running'`;
      const released: string[] = [];
      if (!taskIds) {
        const rows = await this.db.all<{ id: string }>(base + ' RETURNING id', [owner]);
        released.push(...rows.map((r) => r.id));
      } else {
        for (const id of taskIds) {
          const rows = await this.db.all<{ id: string }>(base + ' AND id = ? RETURNING id', [owner, id]);
          released.push(...rows.map((r) => r.id));
        }
      }
      if (released.length) await this.log(released.map((id) => [id, owner, 'released', reason]));
      return released.length;
    });
  }

  async counts(sweep: string, maxAttempts = Infinity): Promise<SweepCounts> {
    const rows = await this.db.all<{ status: string; exhausted: number; n: number }>(
      `SELECT t.status AS status, (t.attempts >= ?) AS exhausted, COUNT(*) AS n FROM tasks t JOIN sweep_tasks s ON s.task_id = t.id
       WHERE s.sweep = ? GROUP BY 1, 2`,
      [Number.isFinite(maxAttempts) ? maxAttempts : 1e9, sweep],
    );
    const c: SweepCounts = { total: 0, pending: 0, running: 0, done: 0, failed: 0, diverged: 0 };
    for (const r of rows) {
      c.total += r.n;
      c[r.status as keyof Omit<SweepCounts, 'total'>] += r.n;
    }
    return c;
  }

  async failures(sweep: string): Promise<FailureInfo[]> {
    const rows = await this.db.all<{ id: string; attempts: number; error: string | null; params: string }>(
      `SELECT t.id, t.attempts, t.error, t.params FROM tasks t JOIN sweep_tasks s ON s.task_id = t.id
       WHERE s.sweep = ? AND t.status = 'failed' ORDER BY t.id`,
      [sweep],
    );
    return rows.map((r) => ({ taskId: r.id, attempts: r.attempts, error: r.error ?? '', params: decodeParams(r.params) }));
  }

  async sweeps(): Promise<SweepRecord[]> {
    const rows = await this.db.all<{ name: string; kind: string; spec_json: string; spec_hash: string }>(
      'SELECT name, kind, spec_json, spec_hash FROM sweeps ORDER BY created_at',
    );
    return rows.map((r) => ({ name: r.name, kind: r.kind, specJson: r.spec_json, specHash: r.spec_hash }));
  }

  async rekeyTasks(pairs: { from: string; to: string }[]): Promise<number> {
    if (pairs.length === 0) return 0;
    return this.db.transaction(async () => {
      await this.db.exec('PRAGMA defer_foreign_keys = ON');
      let n = 0;
      for (const { from, to } of pairs) {
        if (from === to || !(await this.db.get('SELECT 1 FROM tasks WHERE id = ?', [from]))) continue;
        n++;
        if (await this.db.get('SELECT 1 FROM tasks WHERE id = ?', [to])) {
          await this.db.run('INSERT OR IGNORE INTO sweep_tasks (sweep, task_id) SELECT sweep, ? FROM sweep_tasks WHERE task_id = ?', [to, from]);
          await this.db.run('DELETE FROM sweep_tasks WHERE task_id = ?', [from]);
          continue;
        }
        await this.db.run('UPDATE tasks SET id = ? WHERE id = ?', [to, from]);
        for (const table of ['sweep_tasks', 'metrics', 'final_metrics', 'checkpoints', 'task_log']) {
          await this.db.run(`UPDATE ${table} SET task_id = ? WHERE task_id = ?`, [to, from]);
        }
      }
      return n;
    });
  }

  async query(sql: string): Promise<Record<string, unknown>[]> {
    return this.db.all(sql);
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
