/**
 * The storage interface (docs/architecture.md §6, in the manner of Optuna's `storages`): the engine and the CLI talk only
 * to {@link Store}, opened by `openStore(url)` (`open.ts`). One protocol (`protocol.ts`) implements
 * it over two dialects: SQLite (a file, one machine) and PostgreSQL (many machines).
 */
import type { MetricRow, Params, TaskEnd, TaskInput } from '../tasks/types.js';

/** A task row as the spec expander produces it. */
export interface NewTask {
  id: string;
  kind: string;
  params: Params;
  /**
   * Tasks with the same non-empty batch key share work and run together in one worker execution
   * (a kernel recursion shared by depths and times). `''` marks an independent grid point: a
   * claim may still hand several of them to one worker, one after the other (see
   * {@link ClaimOptions.chunk}).
   */
  batchKey: string;
  /** Relative cost estimate, used to start expensive work first. */
  cost: number;
  /** Sort key inside a batch (e.g. depth), used to split a batch into chunks. */
  batchOrder: number;
}

export interface SweepRecord {
  name: string;
  kind: string;
  specJson: string;
  specHash: string;
}

/** Outcome of registering a sweep and its grid. */
export interface RegisterResult {
  /** Grid points newly created as tasks (not previously in the database under any sweep). */
  inserted: number;
  /** Grid points newly attached to this sweep. */
  attached: number;
  /** The stored spec of the same sweep name if it differed from the new one, else null. */
  previousSpecJson: string | null;
}

export interface SweepCounts {
  total: number;
  pending: number;
  running: number;
  done: number;
  failed: number;
  diverged: number;
}

/**
 * What {@link Store.pruneSweep} found in a sweep, and did unless it was a dry run. A stale point
 * is one attached to the sweep that its current spec no longer generates.
 */
export interface PruneResult {
  /** Whether the changes were made (false: a dry run that only looked). */
  applied: boolean;
  /** Attached points that the current spec generates (they stay). */
  current: number;
  /** Stale points, by status. */
  stale: SweepCounts;
  /** Stale points detached from the sweep (all stale points but the running ones). */
  detached: number;
  /** Of the detached points, those another sweep still holds: kept as tasks, with their results. */
  shared: number;
  /** Detached points no other sweep holds: deleted with their metrics and checkpoints. */
  deleted: number;
  /** Up to 20 stale points, for the user to see what goes. */
  sample: { taskId: string; status: string; params: Params }[];
}

export interface FailureInfo {
  taskId: string;
  attempts: number;
  error: string;
  params: Params;
}

/** Options for claiming work. */
export interface ClaimOptions {
  owner: string;
  leaseMs: number;
  maxAttempts: number;
  /** At most this many distinct `batchOrder` values per claimed batch (splits big batches). */
  maxOrdersPerBatch: number;
  /**
   * How many independent grid points (batch key `''`) one claim may take: at most `maxTasks`, and
   * beyond the first only while their summed `cost` stays within `maxCost`. Default: one.
   */
  chunk?: { maxTasks: number; maxCost: number };
  /**
   * Also pick `failed` tasks whose attempts are exhausted, once each: those whose last attempt
   * started before this time (ms epoch; the start of the `run --retry-failed`).
   */
  retryExhaustedBefore?: number;
}

/** One finished grid point, as {@link Store.finishTasks} persists it. */
export interface FinishItem {
  taskId: string;
  /** The coordinator (lease owner id) whose execution produced the result. */
  owner: string;
  end: TaskEnd;
  /** Metric rows not persisted yet. */
  rows: MetricRow[];
  durationS: number;
  /** Run facts recorded with the task (`tasks.run_info`, JSON): threads, backend, ... */
  info: Record<string, unknown>;
}

/** A finished grid point (done or diverged) with everything `merge` copies to another store. */
export interface FinishedPoint {
  id: string;
  kind: string;
  /** Canonical params JSON (`encodeParams`). */
  params: string;
  batchKey: string;
  batchOrder: number;
  cost: number;
  status: 'done' | 'diverged';
  attempts: number;
  error: string | null;
  divergedStep: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  durationS: number | null;
  /** Run facts (`tasks.run_info`) as JSON text, or null. */
  runInfo: string | null;
  /** Sweeps the point belongs to. */
  sweeps: string[];
  /** Every logged metric row; NaN is stored (and given) as null. */
  metrics: { step: number; name: string; value: number | null }[];
  /** The lease owner whose end was accepted (from the audit trail), when known. */
  owner: string | null;
}

/** What {@link Store.importFinished} did (or, in a dry run, would do) with one point. */
export interface ImportOutcome {
  taskId: string;
  /**
   * `added`: new in the target; `completed`: the target had it unfinished (pending, failed or
   * running) and now has the merged result; `same`: already finished there with identical values;
   * `conflict`: finished there with other values (or of another kind), left untouched.
   */
  result: 'added' | 'completed' | 'same' | 'conflict';
  /** Sweep memberships newly attached. */
  attached: number;
  /** Why it conflicts (the first difference), for `conflict`. */
  reason?: string;
}

/** Options of {@link Store.importFinished}. */
export interface ImportOptions {
  /** Where the points come from, for the audit trail (`merged from …`). */
  source: string;
  /** Decide and report everything, write nothing. */
  dryRun?: boolean;
}

/** One finished grid point of a sweep, for the readers (`report`, `slope`): its params and metric rows. */
export interface FinishedRows {
  /** Params of each selected point, by task id (decoded: ±Infinity restored). */
  params: Map<string, Params>;
  /** Final metrics (`step` 0), or with `series` every logged step. NaN is null. */
  metrics: { taskId: string; step: number; name: string; value: number | null }[];
}

/** Events of the `task_log` audit trail. */
export type TaskEvent = 'claim' | 'done' | 'diverged' | 'failed' | 'released' | 'reclaimed' | 'ignored';

/** A process holding leases, or registered as a worker, as `status` shows it. */
export interface WorkerInfo {
  /** Owner id `host:pid:random`. */
  owner: string;
  host: string;
  pid: number;
  /** Running grid points under its lease. */
  held: number;
  /** Of those, how many have an expired lease (waiting for another process to take them over). */
  expired: number;
  /** Seconds since its last heartbeat (database clock), null when it never sent one. */
  heartbeatAgeS: number | null;
}

/**
 * The storage contract of the engine. Leases: a claimed task is `running` with `lease_owner` and
 * `lease_expires`; its owner renews the lease while the task runs. Lease times are on the
 * database's clock (PostgreSQL: the server's), so machines need no synchronized clocks. Every
 * state change is one transaction and is recorded in an audit trail (`task_log`).
 *
 * Isolation every claim relies on: a claim reads runnable rows and marks them `running` in one
 * transaction, and no other transaction can claim the same row in between. SQLite guarantees it
 * with the database write lock (`BEGIN IMMEDIATE`); PostgreSQL, at READ COMMITTED, with
 * `SELECT … FOR UPDATE SKIP LOCKED` on the rows and the status re-checked in the `UPDATE`.
 * Finishing, failing and checkpointing lock the task rows they decide on the same way.
 *
 * Finishing is idempotent and deterministic results make the race "two executors finish the
 * same grid point" harmless: the first {@link Store.finishTasks} wins, later ones change nothing
 * (not even metric rows) and return `false`.
 */
export interface Store {
  /**
   * Register a sweep (create or update its spec) and attach its grid, given whole or in chunks,
   * in one transaction: an interrupted registration leaves no trace, or the complete sweep.
   * Idempotent. Wakes waiting workers.
   */
  registerSweep(sweep: SweepRecord, tasks: NewTask[] | AsyncIterable<NewTask[]>): Promise<RegisterResult>;
  /** The database's clock, ms since the epoch (the clock of leases and of `started_at`). */
  now(): Promise<number>;
  /**
   * Return `running` tasks whose lease has expired (database clock) to `pending` (the
   * interrupted attempt is not counted). Returns how many.
   */
  reclaimExpired(): Promise<number>;
  /**
   * Atomically claim the next batch of runnable tasks of a sweep (pending, or failed with
   * attempts left) under a lease of `opts.owner`; empty when none is left. Each claimed task
   * carries its latest checkpoint, if any.
   */
  claimBatch(sweep: string, opts: ClaimOptions): Promise<TaskInput[]>;
  /** Distinct owners currently holding leases on running tasks. */
  leaseOwners(): Promise<string[]>;
  /**
   * Heartbeat of `owner`: extend its leases on `taskIds` (the points it is running) by `leaseMs`
   * from now, and record the beat in `workers`. Returns how many leases were renewed.
   */
  renewLeases(owner: string, leaseMs: number, taskIds: string[]): Promise<number>;
  /** Forget the `workers` row of `owner` (a worker leaving cleanly), and wake the processes in {@link waitForWork}. */
  removeWorker(owner: string): Promise<void>;
  /** Processes holding leases or registered as workers, with what they hold. */
  workers(): Promise<WorkerInfo[]>;
  /** Linear-algebra backends recorded by the finished points of `sweep` (distinct, sorted). */
  backends(sweep: string): Promise<string[]>;
  /** Distinct (batch key, batch order) pairs of `sweep`: the units a kernel job can be split into. */
  workUnits(sweep: string): Promise<number>;
  /** Column names of the `results` view. */
  resultColumns(): Promise<string[]>;
  /**
   * SQL of the task param `name` of a `results` (or `tasks`) row aliased `alias`, as a number
   * (default; NULL for a non-numeric value on PostgreSQL) or as text: the JSON access differs by
   * dialect (`json_extract(params, '$.x')`, `params->>'x'`).
   */
  paramSql(alias: string, name: string, as?: 'number' | 'text'): string;
  /**
   * Resolve after `ms`, or earlier when another process registers or returns runnable points
   * (PostgreSQL `LISTEN/NOTIFY`; SQLite waits the whole time).
   */
  waitForWork(ms: number): Promise<void>;
  /** `sqlite` or `postgres`. */
  readonly dialect: string;
  /**
   * Persist intermediate metric rows (one transaction). Rows of tasks that are already finished
   * (`done`/`diverged`) are dropped: a finished task's metrics never change afterwards.
   */
  writeMetrics(batch: { taskId: string; rows: MetricRow[] }[]): Promise<void>;
  /**
   * Persist finished grid points (last metric rows, end state, run facts) in one transaction
   * (a group commit) and delete their checkpoints. Returns, per item, `false` for a task that
   * was already finished (e.g. by another coordinator that took over after this one's lease
   * expired): nothing of that item is written.
   * @throws StoreError for an unknown task id or a storage fault (then nothing is written).
   */
  finishTasks(items: FinishItem[]): Promise<boolean[]>;
  /**
   * Mark a task failed with its error text (it will be retried while attempts < max). Only the
   * current lease holder can fail a task; returns whether it did.
   */
  failTask(taskId: string, owner: string, error: string, durationS: number): Promise<boolean>;
  /**
   * Save a running task's checkpoint (state after `step`) together with the metric rows received
   * before it, in one transaction, so that every metric of a step `<= step` is stored whenever
   * the checkpoint is. Only the lease holder's checkpoint is kept; returns whether it was.
   */
  saveCheckpoint(taskId: string, owner: string, step: number, data: Uint8Array, rows: MetricRow[]): Promise<boolean>;
  /**
   * Return tasks held by `owner` (all, or those listed) to `pending`; the interrupted attempt is
   * not counted. `reason` goes to the audit trail.
   */
  releaseTasks(owner: string, taskIds?: string[], reason?: string): Promise<number>;
  counts(sweep: string): Promise<SweepCounts>;
  failures(sweep: string): Promise<FailureInfo[]>;
  sweeps(): Promise<SweepRecord[]>;
  /**
   * Give tasks new ids (a change of the identity rule, e.g. csv data identified by content
   * instead of path), in one transaction: every row that refers to `from` then refers to `to`.
   * When `to` already exists, `from`'s sweep memberships move to it and `from` stays detached.
   * Returns how many tasks changed id or were merged.
   */
  rekeyTasks(pairs: { from: string; to: string }[]): Promise<number>;
  /**
   * Detach from `sweep` the points its current spec no longer generates (`current`: the task ids
   * of the current grid, whole or in chunks) in one transaction, unless `apply` is false (a dry
   * run: nothing is written). Stale points that are running stay attached until they finish; a
   * detached point that no other sweep holds is deleted with its metrics and checkpoint, one that
   * another sweep holds stays as a task (its audit trail always stays). The current points are
   * marked as such in `sweep_tasks.spec_hash`, which the `current_results` view reads.
   * @throws StoreError when no sweep has that name.
   */
  pruneSweep(sweep: string, current: string[][] | AsyncIterable<string[]>, opts: { apply: boolean }): Promise<PruneResult>;
  /**
   * Finished grid points (done or diverged) of every sweep, in id order: at most `limit` with
   * an id after `after` (paging). What `merge` reads from a source store.
   */
  finishedPoints(opts: { after?: string; limit: number }): Promise<FinishedPoint[]>;
  /**
   * Copy finished grid points from another store, in one transaction: a point new here is added
   * with its metrics, run facts and sweep memberships (sweeps missing here are created from
   * `sweeps`); an unfinished one here takes the merged result (a running execution's later
   * finish is then ignored); one finished here with identical status and metric values only gains
   * missing memberships; one finished here with other values is a conflict and is never changed.
   * Idempotent by task id. Each added or completed point gets one `done`/`diverged` audit entry.
   */
  importFinished(points: FinishedPoint[], sweeps: SweepRecord[], opts: ImportOptions): Promise<ImportOutcome[]>;
  /**
   * The finished (`done`) grid points of `sweep` matching `where` (an SQL condition on `results`
   * columns from the command line, kept inside the sweep), with their final metrics or (`series`)
   * every logged step.
   * @throws StoreError for a bad filter (see `explainFilterError`); Error for `;` or a comment in it.
   */
  finishedRows(sweep: string, where: string | undefined, series: boolean): Promise<FinishedRows>;
  /** The last start or finish time of a grid point of `sweep` (ms epoch, database clock), or null. */
  lastActivity(sweep: string): Promise<number | null>;
  /** Rows of the `results` view (one per sweep and grid point), of one sweep or all, by sweep and task id. */
  resultRows(sweep?: string): Promise<Record<string, unknown>[]>;
  /** Every logged metric row (`sweep, task_id, step, name, value`), of one sweep or all. */
  metricSeries(sweep?: string): Promise<Record<string, unknown>[]>;
  /** Run read-only SQL (the `query` command). */
  query(sql: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}
