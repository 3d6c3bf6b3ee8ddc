/**
 * The storage protocol, written once over a {@link Dialect}: registration, claims, leases,
 * finish arbitration, checkpoints, the audit trail and the `results` view. SQLite and PostgreSQL
 * differ only in what the dialect supplies (connection, transactions, clock, row locks).
 */
import type { MetricRow, TaskInput } from '../tasks/types.js';
import { decodeParams, encodeParams } from '../util/json.js';
import { StoreError } from './errors.js';
import { inChunks, insertRows, marks, type Dialect, type SqlConn, type SqlValue } from './sql.js';
import { importPoints, readFinished } from './merge.js';
import { finishedPointsSql, quoteString } from './schema.js';
import { recordSweep } from './sweep-rows.js';
import type {
  ClaimOptions,
  FailureInfo,
  FinishedPoint,
  FinishedRows,
  FinishItem,
  ImportOptions,
  ImportOutcome,
  NewTask,
  PruneResult,
  RegisterResult,
  Store,
  SweepCounts,
  SweepRecord,
  TaskEvent,
  WorkerInfo,
} from './store.js';

/** A task that can still take results (neither done nor diverged; undefined: unknown task). */
function isOpen(status: string | undefined): boolean {
  return status !== undefined && status !== 'done' && status !== 'diverged';
}

type LogRow = [string, string | null, TaskEvent, string | null];

/** A point just claimed: its task row, and its checkpoint if it has one. */
type ClaimedRow = { id: string; params: string; attempts: number; step: number | null; data: Buffer | null };

/** What a worker gets of a claimed point. */
function claimedTask(r: ClaimedRow): TaskInput {
  const t: TaskInput = { id: r.id, params: decodeParams(r.params), attempt: Number(r.attempts) };
  if (r.data) t.checkpoint = { step: Number(r.step), data: new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength) };
  return t;
}

/** Back to pending without counting the interrupted attempt. */
const UNCLAIM = "status = 'pending', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, lease_owner = NULL, lease_expires = NULL";

/** Split an owner id `host:pid:random` (the host may itself contain ':'). */
export function parseOwner(owner: string): { host: string; pid: number } | null {
  const parts = owner.split(':');
  if (parts.length < 3) return null;
  const pid = Number(parts[parts.length - 2]);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  return { host: parts.slice(0, -2).join(':'), pid };
}

export class SqlStore implements Store {
  private metricNames = new Set<string>();
  private pendingNames = new Set<string>();

  private constructor(private readonly d: Dialect) {}

  /** A store over an opened, migrated dialect. */
  static async over(d: Dialect): Promise<SqlStore> {
    const s = new SqlStore(d);
    for (const n of await d.all<{ name: string }>('SELECT name FROM metric_names')) s.metricNames.add(n.name);
    return s;
  }

  get dialect(): string {
    return this.d.name;
  }

  /** The database server's clock (ms), as SQL. */
  private get now_(): string {
    return this.d.nowMs;
  }

  /** ` FOR UPDATE` where rows can be locked. */
  private get forUpdate(): string {
    return this.d.rowLocks ? ' FOR UPDATE' : '';
  }

  async now(): Promise<number> {
    const [r] = await this.d.all<{ now: number }>(`SELECT ${this.now_} AS now`);
    return Number(r.now);
  }

  async registerSweep(sweep: SweepRecord, tasks: NewTask[] | AsyncIterable<NewTask[]>): Promise<RegisterResult> {
    const chunks: AsyncIterable<NewTask[]> | NewTask[][] = Array.isArray(tasks) ? [tasks] : tasks;
    return this.d.transaction(async (c) => {
      const [prev] = await c.all<{ spec_json: string; spec_hash: string }>(`SELECT spec_json, spec_hash FROM sweeps WHERE name = ?${this.forUpdate}`, [sweep.name]);
      if (prev && prev.spec_hash !== sweep.specHash) {
        await c.run(`UPDATE sweeps SET spec_json = ?, spec_hash = ?, kind = ?, updated_at = ${this.now_} WHERE name = ?`, [sweep.specJson, sweep.specHash, sweep.kind, sweep.name]);
      }
      await recordSweep(c, this.now_, sweep, !prev);
      let inserted = 0;
      const members = async () => Number((await c.all<{ n: number }>('SELECT COUNT(*) AS n FROM sweep_tasks WHERE sweep = ?', [sweep.name]))[0].n);
      const before = await members();
      for await (const chunk of chunks) {
        inserted += await insertRows(
          c,
          'INSERT INTO tasks (id, kind, params, batch_key, batch_order, cost, created_at) VALUES',
          chunk.map((x) => [x.id, x.kind, encodeParams(x.params), x.batchKey, x.batchOrder, x.cost]),
          'ON CONFLICT DO NOTHING',
          `(?, ?, ${this.d.param('json')}, ?, ?, ?, ${this.now_})`,
        );
        // a point of this spec is current (the `current_results` view)
        await insertRows(
          c,
          'INSERT INTO sweep_tasks (sweep, task_id, spec_hash) VALUES',
          chunk.map((x) => [sweep.name, x.id, sweep.specHash]),
          'ON CONFLICT (sweep, task_id) DO UPDATE SET spec_hash = excluded.spec_hash WHERE sweep_tasks.spec_hash IS DISTINCT FROM excluded.spec_hash',
        );
      }
      const attached = (await members()) - before;
      await this.d.notifyWork(c);
      return { inserted, attached, previousSpecJson: prev && prev.spec_hash !== sweep.specHash ? prev.spec_json : null };
    });
  }

  /** Append audit-trail rows `(task_id, owner, event, detail)` (inside the caller's transaction). */
  private async log(c: SqlConn, rows: LogRow[]): Promise<void> {
    await inChunks(rows, async (chunk) => {
      const v = this.d.rows(['text', 'text', 'text', 'text'], chunk);
      await c.run(`INSERT INTO task_log (task_id, at, owner, event, detail) SELECT v.column1, ${this.now_}, v.column2, v.column3, v.column4 FROM ${v.sql} AS v`, v.params);
    });
  }

  async reclaimExpired(): Promise<number> {
    return this.d.transaction(async (c) => {
      const expired = await c.all<{ id: string; lease_owner: string | null }>(
        `SELECT id, lease_owner FROM tasks WHERE status = 'running' AND lease_expires < ${this.now_} ORDER BY id${this.d.rowLocks ? ' FOR UPDATE SKIP LOCKED' : ''}`,
      );
      if (expired.length === 0) return 0;
      const back = new Set<string>();
      await inChunks(expired.map((t) => t.id), async (ids) => {
        const l = this.d.inList(ids);
        const rows = await c.all<{ id: string }>(`UPDATE tasks SET ${UNCLAIM} WHERE id IN ${l.sql} AND status = 'running' AND lease_expires < ${this.now_} RETURNING id`, l.params);
        for (const r of rows) back.add(r.id);
      });
      await this.log(c, expired.filter((t) => back.has(t.id)).map((t) => [t.id, t.lease_owner, 'reclaimed', 'lease expired']));
      if (back.size) await this.d.notifyWork(c);
      return back.size;
    });
  }

  /**
   * Runnable tasks of `sweep` (pending, or failed with attempts left) matching `where`, in claim
   * order (most expensive first, batches together), at most `limit` (-1: all). PostgreSQL locks
   * them, skipping rows another claim holds; SQLite merges two index walks (no sort per claim).
   */
  private runnable(c: SqlConn, sweep: string, opts: ClaimOptions, where: string, params: SqlValue[], limit: number) {
    const retry = opts.retryExhaustedBefore !== undefined;
    const failedOk = retry ? '(t.attempts < ? OR t.started_at < ?)' : 't.attempts < ?';
    const failedParams = [opts.maxAttempts, ...(retry ? [opts.retryExhaustedBefore!] : [])];
    const member = 'EXISTS (SELECT 1 FROM sweep_tasks s WHERE s.sweep = ? AND s.task_id = t.id)';
    const cols = 't.id AS id, t.batch_key AS batch_key, t.batch_order AS batch_order, t.cost AS cost';
    type Row = { id: string; batch_key: string; batch_order: number; cost: number };
    if (this.d.rowLocks) {
      return c.all<Row>(
        `SELECT ${cols} FROM tasks t WHERE (t.status = 'pending' OR (t.status = 'failed' AND ${failedOk})) ${where} AND ${member}
         ORDER BY t.cost DESC, t.batch_key, t.id${limit >= 0 ? ' LIMIT ?' : ''} FOR UPDATE OF t SKIP LOCKED`,
        [...failedParams, ...params, sweep, ...(limit >= 0 ? [limit] : [])],
      );
    }
    return c.all<Row>(
      `SELECT ${cols} FROM tasks t WHERE t.status = 'pending' ${where} AND ${member}
       UNION ALL
       SELECT ${cols} FROM tasks t WHERE t.status = 'failed' AND ${failedOk} ${where} AND ${member}
       ORDER BY cost DESC, batch_key LIMIT ?`,
      [...params, sweep, ...failedParams, ...params, sweep, limit],
    );
  }

  /** Which runnable tasks one claim takes: a chunk of independent points, or (part of) a batch. */
  private async pick(c: SqlConn, sweep: string, opts: ClaimOptions): Promise<string[]> {
    const [head] = await this.runnable(c, sweep, opts, '', [], 1);
    if (!head) return [];
    if (head.batch_key === '') {
      // independent grid points: as many as the chunk allows, most expensive first
      const chunk = opts.chunk ?? { maxTasks: 1, maxCost: 0 };
      const next = await this.runnable(c, sweep, opts, this.d.rowLocks ? "AND t.batch_key = ''" : "AND +t.batch_key = ''", [], Math.max(1, chunk.maxTasks));
      const picked: string[] = [];
      let cost = 0;
      for (const r of next) {
        if (picked.length > 0 && cost + r.cost > chunk.maxCost) break;
        picked.push(r.id);
        cost += r.cost;
      }
      return picked;
    }
    // a shared-work batch: its runnable points with the smallest `maxOrdersPerBatch` orders
    const members = await this.runnable(c, sweep, opts, 'AND t.batch_key = ?', [head.batch_key], -1);
    const orders = [...new Set(members.map((m) => m.batch_order))].sort((a, b) => a - b);
    const maxOrder = orders[Math.min(orders.length, opts.maxOrdersPerBatch) - 1];
    return members.filter((m) => m.batch_order <= maxOrder).map((m) => m.id);
  }

  /**
   * PostgreSQL: claim a chunk of independent grid points (batch key `''`) in one statement, without
   * a transaction around it (one round trip instead of seven): lock the runnable rows in claim order
   * skipping those another claim holds, keep the prefix of independent points within the chunk's
   * cost budget, mark them running (the status re-checked), log the claims and return them with
   * their checkpoints. Empty when the next runnable point heads a shared-work batch (or none is
   * runnable): the caller then takes the general path.
   */
  private async claimChunkPg(sweep: string, opts: ClaimOptions): Promise<TaskInput[]> {
    const chunk = opts.chunk ?? { maxTasks: 1, maxCost: 0 };
    const retry = opts.retryExhaustedBefore !== undefined;
    const failedOk = retry ? '(t.attempts < ? OR t.started_at < ?)' : 't.attempts < ?';
    const order = 'cost DESC, batch_key, id';
    const rows = await this.d.all<{ id: string; params: string; attempts: number; step: number | null; data: Buffer | null }>(
      `WITH locked AS (
         SELECT t.id, t.batch_key, t.cost FROM tasks t
         WHERE (t.status = 'pending' OR (t.status = 'failed' AND ${failedOk})) AND EXISTS (SELECT 1 FROM sweep_tasks s WHERE s.sweep = ? AND s.task_id = t.id)
         ORDER BY t.${order.replace(/, /g, ', t.')} LIMIT ? FOR UPDATE OF t SKIP LOCKED),
       ranked AS (
         SELECT id, cost, batch_key, ROW_NUMBER() OVER w AS rn, SUM(cost) OVER w AS cum,
                COUNT(*) FILTER (WHERE batch_key <> '') OVER w AS batches
         FROM locked WINDOW w AS (ORDER BY ${order} ROWS UNBOUNDED PRECEDING)),
       claimed AS (
         UPDATE tasks SET status = 'running', lease_owner = ?, lease_expires = ${this.now_} + ?, started_at = ${this.now_}, attempts = tasks.attempts + 1
         FROM ranked r WHERE tasks.id = r.id AND r.batches = 0 AND (r.rn = 1 OR r.cum <= ?) AND tasks.status IN ('pending', 'failed')
         RETURNING tasks.id, tasks.params, tasks.attempts, tasks.cost, tasks.batch_key),
       logged AS (
         INSERT INTO task_log (task_id, at, owner, event, detail)
         SELECT c.id, ${this.now_}, ?, 'claim', 'attempt ' || c.attempts || COALESCE(', from checkpoint at step ' || k.step, '')
         FROM claimed c LEFT JOIN checkpoints k ON k.task_id = c.id)
       SELECT c.id, c.params, c.attempts, k.step, k.data FROM claimed c LEFT JOIN checkpoints k ON k.task_id = c.id ORDER BY c.${order.replace(/, /g, ', c.')}`,
      [opts.maxAttempts, ...(retry ? [opts.retryExhaustedBefore!] : []), sweep, Math.max(1, chunk.maxTasks), opts.owner, opts.leaseMs, chunk.maxCost, opts.owner],
    );
    return rows.map(claimedTask);
  }

  async claimBatch(sweep: string, opts: ClaimOptions): Promise<TaskInput[]> {
    if (this.d.rowLocks && process.env.NTK_SWEEP_PG_CLAIM !== 'transaction') {
      const got = await this.claimChunkPg(sweep, opts);
      if (got.length > 0) return got;
    }
    return this.d.transaction(async (c) => {
      // SQLite: a chunk of independent points in one statement; a shared-work batch (or, on
      // PostgreSQL, a claim whose chunk statement found nothing) takes the general path
      let rows = this.d.rowLocks ? [] : await this.claimChunkSqlite(c, sweep, opts);
      if (rows.length === 0) rows = await this.claimPicked(c, await this.pick(c, sweep, opts), opts);
      await this.log(
        c,
        rows.map((r) => [r.id, opts.owner, 'claim', `attempt ${r.attempts}` + (r.step !== null ? `, from checkpoint at step ${r.step}` : '')]),
      );
      return rows.map(claimedTask);
    });
  }

  /**
   * SQLite: claim a chunk of independent grid points (batch key `''`) in one statement, inside the
   * caller's transaction: the runnable points in claim order up to the first shared-work batch,
   * the prefix within the chunk's cost budget, marked running, returned in claim order with their
   * checkpoints. Empty when a batch heads the queue or nothing is runnable.
   */
  private async claimChunkSqlite(c: SqlConn, sweep: string, opts: ClaimOptions): Promise<ClaimedRow[]> {
    const chunk = opts.chunk ?? { maxTasks: 1, maxCost: 0 };
    const retry = opts.retryExhaustedBefore !== undefined;
    const failedOk = retry ? '(t.attempts < ? OR t.started_at < ?)' : 't.attempts < ?';
    const member = 'EXISTS (SELECT 1 FROM sweep_tasks s WHERE s.sweep = ? AND s.task_id = t.id)';
    const cols = 't.id AS id, t.batch_key AS batch_key, t.cost AS cost';
    const ckpt = (col: string) => `(SELECT k.${col} FROM checkpoints k WHERE k.task_id = tasks.id) AS ${col}`;
    const rows = await c.all<ClaimedRow & { cost: number }>(
      `UPDATE tasks SET status = 'running', lease_owner = ?, lease_expires = ${this.now_} + ?, started_at = ${this.now_}, attempts = attempts + 1
       WHERE status IN ('pending', 'failed') AND id IN (
         SELECT id FROM (
           SELECT id, ROW_NUMBER() OVER w AS rn, SUM(cost) OVER w AS cum, SUM(batch_key <> '') OVER w AS batches
           FROM (SELECT ${cols} FROM tasks t WHERE t.status = 'pending' AND ${member}
                 UNION ALL
                 SELECT ${cols} FROM tasks t WHERE t.status = 'failed' AND ${failedOk} AND ${member}
                 ORDER BY cost DESC, batch_key LIMIT ?)
           WINDOW w AS (ORDER BY cost DESC, batch_key ROWS UNBOUNDED PRECEDING))
         WHERE batches = 0 AND (rn = 1 OR cum <= ?))
       RETURNING id, params, attempts, cost, ${ckpt('step')}, ${ckpt('data')}`,
      [opts.owner, opts.leaseMs, sweep, opts.maxAttempts, ...(retry ? [opts.retryExhaustedBefore!] : []), sweep, Math.max(1, chunk.maxTasks), chunk.maxCost],
    );
    // claim order: most expensive first (RETURNING gives the rows in no particular order)
    return rows.sort((a, b) => b.cost - a.cost || (a.id < b.id ? -1 : 1));
  }

  /** Mark the picked points running where they still are runnable (inside the caller's transaction); with their checkpoints, in `picked` order. */
  private async claimPicked(c: SqlConn, picked: string[], opts: ClaimOptions): Promise<ClaimedRow[]> {
    const byId = new Map<string, ClaimedRow>();
    await inChunks(picked, async (ids) => {
      const l = this.d.inList(ids);
      // the status is checked again: only a runnable row becomes ours
      const rows = await c.all<{ id: string; params: string; attempts: number }>(
        `UPDATE tasks SET status = 'running', lease_owner = ?, lease_expires = ${this.now_} + ?, started_at = ${this.now_}, attempts = attempts + 1
         WHERE id IN ${l.sql} AND status IN ('pending', 'failed') RETURNING id, params, attempts`,
        [opts.owner, opts.leaseMs, ...l.params],
      );
      for (const r of rows) byId.set(r.id, { ...r, step: null, data: null });
    });
    await inChunks([...byId.keys()], async (ids) => {
      const l = this.d.inList(ids);
      const found = await c.all<{ task_id: string; step: number; data: Buffer }>(`SELECT task_id, step, data FROM checkpoints WHERE task_id IN ${l.sql}`, l.params);
      for (const k of found) Object.assign(byId.get(k.task_id)!, { step: Number(k.step), data: k.data });
    });
    return picked.filter((id) => byId.has(id)).map((id) => byId.get(id)!);
  }

  async leaseOwners(): Promise<string[]> {
    const rows = await this.d.all<{ o: string }>("SELECT DISTINCT lease_owner AS o FROM tasks WHERE status = 'running' AND lease_owner IS NOT NULL");
    return rows.map((r) => r.o);
  }

  async renewLeases(owner: string, leaseMs: number, taskIds: string[]): Promise<number> {
    const who = parseOwner(owner);
    return this.d.transaction(async (c) => {
      let n = 0;
      await inChunks([...taskIds].sort(), async (ids) => {
        const l = this.d.inList(ids);
        n += await c.run(`UPDATE tasks SET lease_expires = ${this.now_} + ? WHERE lease_owner = ? AND status = 'running' AND id IN ${l.sql}`, [leaseMs, owner, ...l.params]);
      });
      await c.run(
        `INSERT INTO workers (owner, host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ${this.now_}, ${this.now_})
         ON CONFLICT (owner) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`,
        [owner, who?.host ?? '', who?.pid ?? 0],
      );
      return n;
    });
  }

  async removeWorker(owner: string): Promise<void> {
    await this.d.transaction(async (c) => {
      await c.run('DELETE FROM workers WHERE owner = ?', [owner]);
      // workers that wait while this one holds points (to take them over should it die) look again now
      await this.d.notifyWork(c);
    });
  }

  async workers(): Promise<WorkerInfo[]> {
    const rows = await this.d.all<{ owner: string; held: number; expired: number; age: number | null }>(
      `SELECT o.owner AS owner, COALESCE(h.held, 0) AS held, COALESCE(h.expired, 0) AS expired, (${this.now_} - w.heartbeat_at) / 1000.0 AS age
       FROM (SELECT owner FROM workers UNION SELECT lease_owner FROM tasks WHERE status = 'running' AND lease_owner IS NOT NULL) o
       LEFT JOIN (SELECT lease_owner, COUNT(*) AS held, SUM(CASE WHEN lease_expires < ${this.now_} THEN 1 ELSE 0 END) AS expired
                  FROM tasks WHERE status = 'running' GROUP BY lease_owner) h ON h.lease_owner = o.owner
       LEFT JOIN workers w ON w.owner = o.owner ORDER BY o.owner`,
    );
    return rows.map((r) => {
      const who = parseOwner(r.owner);
      return { owner: r.owner, host: who?.host ?? '', pid: who?.pid ?? 0, held: Number(r.held), expired: Number(r.expired), heartbeatAgeS: r.age === null ? null : Number(r.age) };
    });
  }

  async backends(sweep: string): Promise<string[]> {
    const b = this.d.jsonField('t.run_info', 'backend', 'text');
    const rows = await this.d.all<{ b: string }>(
      `SELECT DISTINCT ${b} AS b FROM tasks t JOIN sweep_tasks s ON s.task_id = t.id WHERE s.sweep = ? AND t.status IN ('done', 'diverged') AND ${b} IS NOT NULL ORDER BY 1`,
      [sweep],
    );
    return rows.map((r) => String(r.b));
  }

  async workUnits(sweep: string): Promise<number> {
    const [r] = await this.d.all<{ n: number }>(
      'SELECT COUNT(*) AS n FROM (SELECT DISTINCT t.batch_key, t.batch_order FROM tasks t JOIN sweep_tasks s ON s.task_id = t.id WHERE s.sweep = ?) AS u',
      [sweep],
    );
    return Number(r.n);
  }

  resultColumns(): Promise<string[]> {
    return this.d.resultColumns();
  }

  paramSql(alias: string, name: string, as: 'number' | 'text' = 'number'): string {
    return this.d.jsonField(`${alias}.params`, name, as);
  }

  waitForWork(ms: number): Promise<void> {
    return this.d.waitForWork(ms);
  }

  /**
   * Insert metric rows of several tasks (inside the caller's transaction): `metrics`, the last
   * step per name in `final_metrics`, and new names into `metric_names` (regenerating the
   * `results` view).
   */
  private async insertMetrics(c: SqlConn, batch: { taskId: string; rows: MetricRow[] }[]): Promise<void> {
    // one row per key (a statement may not update the same row twice on PostgreSQL)
    const all = new Map<string, SqlValue[]>();
    const finals = new Map<string, { row: SqlValue[]; step: number }>();
    const names = new Set<string>();
    for (const { taskId, rows } of batch) {
      for (const r of rows) {
        const row = [taskId, r.step, r.name, Number.isNaN(r.value) ? null : r.value];
        all.set(`${taskId}\0${r.name}\0${r.step}`, row);
        const key = `${taskId}\0${r.name}`;
        const p = finals.get(key);
        if (!p || r.step >= p.step) finals.set(key, { row, step: r.step });
        names.add(r.name);
      }
    }
    if (all.size === 0) return;
    const tuple = `(?, ${this.d.param('int')}, ?, ${this.d.param('real')})`;
    // (task_id, name, step) is the primary key: a row re-sent by a resumed execution replaces
    // the identical row, it never duplicates it
    await insertRows(c, 'INSERT INTO metrics (task_id, step, name, value) VALUES', [...all.values()], 'ON CONFLICT (task_id, name, step) DO UPDATE SET value = excluded.value', tuple);
    await insertRows(
      c,
      'INSERT INTO final_metrics (task_id, step, name, value) VALUES',
      [...finals.values()].map((f) => f.row),
      'ON CONFLICT (task_id, name) DO UPDATE SET step = excluded.step, value = excluded.value WHERE excluded.step >= final_metrics.step',
      tuple,
    );
    const fresh = [...names].filter((n) => !this.metricNames.has(n));
    if (fresh.length > 0) {
      await this.d.lockMetricNames(c);
      await insertRows(c, 'INSERT INTO metric_names (name) VALUES', fresh.map((n) => [n]), 'ON CONFLICT DO NOTHING');
      const known = await c.all<{ name: string }>('SELECT name FROM metric_names');
      await c.exec(this.d.resultsViewSql(known.map((r) => r.name)));
      // remembered only once the transaction commits (withNames); a rollback retries next time
      for (const n of known) this.pendingNames.add(n.name);
    }
  }

  /** Run a transaction that may add metric names; remember them only if it commits. */
  private async withNames<T>(fn: (c: SqlConn) => Promise<T>): Promise<T> {
    try {
      const out = await this.d.transaction(fn);
      for (const n of this.pendingNames) this.metricNames.add(n);
      return out;
    } finally {
      this.pendingNames.clear();
    }
  }

  /** Status and lease owner of each of `ids` that exists, locked (inside the caller's transaction). */
  private async states(c: SqlConn, ids: string[]): Promise<Map<string, { status: string; lease_owner: string | null }>> {
    const out = new Map<string, { status: string; lease_owner: string | null }>();
    await inChunks([...new Set(ids)].sort(), async (chunk) => {
      const l = this.d.inList(chunk);
      const rows = await c.all<{ id: string; status: string; lease_owner: string | null }>(
        `SELECT id, status, lease_owner FROM tasks WHERE id IN ${l.sql} ORDER BY id${this.forUpdate}`,
        l.params,
      );
      for (const r of rows) out.set(r.id, r);
    });
    return out;
  }

  async writeMetrics(batch: { taskId: string; rows: MetricRow[] }[]): Promise<void> {
    const nonEmpty = batch.filter((b) => b.rows.length > 0);
    if (nonEmpty.length === 0) return;
    await this.withNames(async (c) => {
      const states = await this.states(c, nonEmpty.map((b) => b.taskId));
      await this.insertMetrics(c, nonEmpty.filter((b) => isOpen(states.get(b.taskId)?.status)));
    });
  }

  async finishTasks(items: FinishItem[]): Promise<boolean[]> {
    if (items.length === 0) return [];
    return this.withNames(async (c) => {
      const states = await this.states(c, items.map((i) => i.taskId));
      const accepted: boolean[] = [];
      const logs: LogRow[] = [];
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
      await this.insertMetrics(c, winners.map((w) => ({ taskId: w.taskId, rows: w.rows })));
      await this.markFinished(c, winners);
      await this.log(c, logs);
      return accepted;
    });
  }

  /** Write the end state and run facts of accepted finishes, and drop their checkpoints (inside the caller's transaction). */
  private async markFinished(c: SqlConn, winners: FinishItem[]): Promise<void> {
    const ends = winners.map((w) => [
      w.taskId,
      w.end.status,
      w.end.status === 'diverged' ? w.end.reason : null,
      w.end.status === 'diverged' ? w.end.step : null,
      w.durationS,
      JSON.stringify(w.info),
    ]);
    await inChunks(ends, async (chunk) => {
      const v = this.d.rows(['text', 'text', 'text', 'int', 'real', 'json'], chunk);
      await c.run(
        `UPDATE tasks SET status = v.column2, error = v.column3, diverged_step = v.column4, finished_at = ${this.now_}, duration_s = v.column5,
           run_info = v.column6, attempts = CASE WHEN attempts < 1 THEN 1 ELSE attempts END, lease_owner = NULL, lease_expires = NULL
         FROM ${v.sql} AS v WHERE tasks.id = v.column1`,
        v.params,
      );
    });
    await inChunks(winners.map((w) => w.taskId), async (ids) => {
      const l = this.d.inList(ids);
      await c.run(`DELETE FROM checkpoints WHERE task_id IN ${l.sql}`, l.params);
    });
  }

  async failTask(taskId: string, owner: string, error: string, durationS: number): Promise<boolean> {
    return this.d.transaction(async (c) => {
      const n = await c.run(
        `UPDATE tasks SET status = 'failed', error = ?, finished_at = ${this.now_}, duration_s = ?, lease_owner = NULL, lease_expires = NULL
         WHERE id = ? AND lease_owner = ? AND status = 'running'`,
        [error, durationS, taskId, owner],
      );
      if (n > 0) {
        await this.log(c, [[taskId, owner, 'failed', error.split('\n')[0].slice(0, 500)]]);
        await this.d.notifyWork(c);
      }
      return n > 0;
    });
  }

  async saveCheckpoint(taskId: string, owner: string, step: number, data: Uint8Array, rows: MetricRow[]): Promise<boolean> {
    const blob = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const t = this.d.types;
    return this.withNames(async (c) => {
      const cur = (await this.states(c, [taskId])).get(taskId);
      if (!isOpen(cur?.status)) return false;
      await this.insertMetrics(c, [{ taskId, rows }]);
      if (cur!.status !== 'running' || cur!.lease_owner !== owner) return false;
      const n = await c.run(
        `INSERT INTO checkpoints (task_id, step, data, bytes, owner, saved_at) VALUES (?, CAST(? AS ${t.int}), ?, CAST(? AS ${t.int}), ?, ${this.now_})
         ON CONFLICT (task_id) DO UPDATE SET step = excluded.step, data = excluded.data, bytes = excluded.bytes,
           owner = excluded.owner, saved_at = excluded.saved_at`,
        [taskId, step, blob, blob.length, owner],
      );
      return n > 0;
    });
  }

  async releaseTasks(owner: string, taskIds?: string[], reason = 'interrupted'): Promise<number> {
    return this.d.transaction(async (c) => {
      const base = `UPDATE tasks SET ${UNCLAIM} WHERE lease_owner = ? AND status = 'running'`;
      const released: string[] = [];
      if (!taskIds) {
        const rows = await c.all<{ id: string }>(base + ' RETURNING id', [owner]);
        released.push(...rows.map((r) => r.id));
      } else {
        await inChunks(taskIds, async (ids) => {
          const l = this.d.inList(ids);
          const rows = await c.all<{ id: string }>(base + ` AND id IN ${l.sql} RETURNING id`, [owner, ...l.params]);
          released.push(...rows.map((r) => r.id));
        });
      }
      if (released.length) {
        await this.log(c, released.map((id) => [id, owner, 'released', reason]));
        await this.d.notifyWork(c);
      }
      return released.length;
    });
  }

  async counts(sweep: string): Promise<SweepCounts> {
    const rows = await this.d.all<{ status: string; n: number }>(
      `SELECT t.status AS status, COUNT(*) AS n FROM tasks t JOIN sweep_tasks s ON s.task_id = t.id WHERE s.sweep = ? GROUP BY t.status`,
      [sweep],
    );
    const c: SweepCounts = { total: 0, pending: 0, running: 0, done: 0, failed: 0, diverged: 0 };
    for (const r of rows) {
      c.total += Number(r.n);
      c[r.status as keyof Omit<SweepCounts, 'total'>] += Number(r.n);
    }
    return c;
  }

  async failures(sweep: string): Promise<FailureInfo[]> {
    const rows = await this.d.all<{ id: string; attempts: number; error: string | null; params: string }>(
      `SELECT t.id, t.attempts, t.error, t.params FROM tasks t JOIN sweep_tasks s ON s.task_id = t.id
       WHERE s.sweep = ? AND t.status = 'failed' ORDER BY t.id`,
      [sweep],
    );
    return rows.map((r) => ({ taskId: r.id, attempts: Number(r.attempts), error: r.error ?? '', params: decodeParams(r.params) }));
  }

  async sweeps(): Promise<SweepRecord[]> {
    const rows = await this.d.all<{ name: string; kind: string; spec_json: string; spec_hash: string }>('SELECT name, kind, spec_json, spec_hash FROM sweeps ORDER BY created_at, name');
    return rows.map((r) => ({ name: r.name, kind: r.kind, specJson: r.spec_json, specHash: r.spec_hash }));
  }

  async rekeyTasks(pairs: { from: string; to: string }[]): Promise<number> {
    if (pairs.length === 0) return 0;
    return this.d.transaction(async (c) => {
      let n = 0;
      for (const { from, to } of pairs) {
        const [old] = await c.all(`SELECT * FROM tasks WHERE id = ?${this.forUpdate}`, [from]);
        if (from === to || !old) continue;
        n++;
        const exists = (await c.all('SELECT 1 AS one FROM tasks WHERE id = ?', [to])).length > 0;
        if (!exists) {
          // Copy the row under its new id (foreign keys are not deferrable on both dialects).
          const cols = Object.keys(old).filter((k) => k !== 'id');
          await c.run(`INSERT INTO tasks (id, ${cols.join(', ')}) SELECT ?, ${cols.join(', ')} FROM tasks WHERE id = ?`, [to, from]);
          for (const table of ['metrics', 'final_metrics', 'checkpoints', 'task_log']) {
            await c.run(`UPDATE ${table} SET task_id = ? WHERE task_id = ?`, [to, from]);
          }
        }
        await c.run('INSERT INTO sweep_tasks (sweep, task_id) SELECT sweep, ? FROM sweep_tasks WHERE task_id = ? ON CONFLICT DO NOTHING', [to, from]);
        await c.run('DELETE FROM sweep_tasks WHERE task_id = ?', [from]);
        if (!exists) await c.run('DELETE FROM tasks WHERE id = ?', [from]);
      }
      return n;
    });
  }

  async pruneSweep(sweep: string, current: string[][] | AsyncIterable<string[]>, opts: { apply: boolean }): Promise<PruneResult> {
    // the current grid is read before the transaction: expanding it may take a while
    const keep = new Set<string>();
    for await (const ids of current) for (const id of ids) keep.add(id);
    const look = async (c: SqlConn): Promise<PruneResult> => {
      const [sw] = await c.all<{ spec_hash: string }>(`SELECT spec_hash FROM sweeps WHERE name = ?${this.forUpdate}`, [sweep]);
      if (!sw) throw new StoreError(`no sweep named ${sweep}`);
      const members = await c.all<{ id: string }>('SELECT task_id AS id FROM sweep_tasks WHERE sweep = ? ORDER BY task_id', [sweep]);
      const staleIds = members.map((m) => m.id).filter((id) => !keep.has(id));
      const states = await this.states(c, staleIds);
      const held = new Set<string>();
      await inChunks(staleIds, async (ids) => {
        const rows = await c.all<{ id: string }>(`SELECT DISTINCT task_id AS id FROM sweep_tasks WHERE task_id IN (${marks(ids)}) AND sweep <> ?`, [...ids, sweep]);
        for (const r of rows) held.add(r.id);
      });
      const stale: SweepCounts = { total: 0, pending: 0, running: 0, done: 0, failed: 0, diverged: 0 };
      for (const id of staleIds) {
        stale.total++;
        stale[states.get(id)!.status as keyof Omit<SweepCounts, 'total'>]++;
      }
      const detach = staleIds.filter((id) => states.get(id)!.status !== 'running');
      const drop = detach.filter((id) => !held.has(id));
      const shown = staleIds.slice(0, 20);
      const sample = shown.length
        ? (await c.all<{ id: string; params: string }>(`SELECT id, params FROM tasks WHERE id IN (${marks(shown)}) ORDER BY id`, shown)).map((r) => ({
            taskId: r.id,
            status: states.get(r.id)!.status,
            params: decodeParams(r.params),
          }))
        : [];
      const result: PruneResult = { applied: opts.apply, current: members.length - staleIds.length, stale, detached: detach.length, shared: detach.length - drop.length, deleted: drop.length, sample };
      if (opts.apply) await this.detach(c, sweep, sw.spec_hash, members.map((m) => m.id).filter((id) => keep.has(id)), detach, drop);
      return result;
    };
    return this.d.transaction(look);
  }

  /** Prune's writes: mark `current` memberships, detach `detach` from `sweep`, delete the tasks `drop`. */
  private async detach(c: SqlConn, sweep: string, specHash: string, current: string[], detach: string[], drop: string[]): Promise<void> {
    await inChunks(current, (ids) =>
      c.run(`UPDATE sweep_tasks SET spec_hash = ? WHERE sweep = ? AND task_id IN (${marks(ids)}) AND spec_hash IS DISTINCT FROM ?`, [specHash, sweep, ...ids, specHash]),
    );
    await inChunks(detach, (ids) => c.run(`DELETE FROM sweep_tasks WHERE sweep = ? AND task_id IN (${marks(ids)})`, [sweep, ...ids]));
    for (const table of ['metrics', 'final_metrics', 'checkpoints']) {
      await inChunks(drop, (ids) => c.run(`DELETE FROM ${table} WHERE task_id IN (${marks(ids)})`, ids));
    }
    await inChunks(drop, (ids) => c.run(`DELETE FROM tasks WHERE id IN (${marks(ids)})`, ids));
  }

  async finishedPoints(opts: { after?: string; limit: number }): Promise<FinishedPoint[]> {
    return readFinished(this.d, opts.after, opts.limit);
  }

  async importFinished(points: FinishedPoint[], sweeps: SweepRecord[], opts: ImportOptions): Promise<ImportOutcome[]> {
    if (points.length === 0) return [];
    const hooks = { insertMetrics: (c: SqlConn, b: { taskId: string; rows: MetricRow[] }[]) => this.insertMetrics(c, b), log: (c: SqlConn, rows: LogRow[]) => this.log(c, rows) };
    return this.withNames((c) => importPoints(this.d, c, points, sweeps, opts, hooks));
  }

  async finishedRows(sweep: string, where: string | undefined, series: boolean): Promise<FinishedRows> {
    const scope = `SELECT task_id FROM ${finishedPointsSql(sweep, where)} AS fp`;
    const tasks = await this.d.all<{ id: string; params: string }>(`SELECT id, params FROM tasks WHERE id IN (${scope}) ORDER BY id`);
    const metrics = await this.d.all<{ task_id: string; step: number; name: string; value: number | null }>(
      `SELECT task_id, ${series ? 'step' : '0 AS step'}, name, value FROM ${series ? 'metrics' : 'final_metrics'} WHERE task_id IN (${scope}) ORDER BY task_id, name, step`,
    );
    return {
      params: new Map(tasks.map((t) => [t.id, decodeParams(t.params)])),
      metrics: metrics.map((m) => ({ taskId: m.task_id, step: Number(m.step), name: m.name, value: m.value === null ? null : Number(m.value) })),
    };
  }

  async lastActivity(sweep: string): Promise<number | null> {
    const [r] = await this.d.all<{ at: number | null }>(
      'SELECT MAX(COALESCE(t.finished_at, t.started_at)) AS at FROM sweep_tasks s JOIN tasks t ON t.id = s.task_id WHERE s.sweep = ?',
      [sweep],
    );
    return r?.at === null || r?.at === undefined ? null : Number(r.at);
  }

  async resultRows(sweep?: string): Promise<Record<string, unknown>[]> {
    const rows = await this.d.all(`SELECT * FROM results ${sweep === undefined ? '' : `WHERE sweep = ${quoteString(sweep)}`} ORDER BY sweep, task_id`);
    // params in their canonical JSON on both dialects (PostgreSQL prints JSONB its own way)
    for (const r of rows) if (typeof r.params === 'string') r.params = encodeParams(decodeParams(r.params));
    return rows;
  }

  async metricSeries(sweep?: string): Promise<Record<string, unknown>[]> {
    return this.d.all(
      `SELECT s.sweep AS sweep, m.task_id AS task_id, m.step AS step, m.name AS name, m.value AS value FROM metrics m JOIN sweep_tasks s ON s.task_id = m.task_id
       ${sweep === undefined ? '' : `WHERE s.sweep = ${quoteString(sweep)}`} ORDER BY s.sweep, m.task_id, m.name, m.step`,
    );
  }

  async query(sql: string): Promise<Record<string, unknown>[]> {
    return this.d.all(sql);
  }

  async close(): Promise<void> {
    await this.d.close();
  }
}
