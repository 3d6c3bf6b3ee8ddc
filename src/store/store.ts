/**
 * The storage interface (design.md §3, in the manner of Optuna's `storages`): the engine and the
 * CLI talk only to {@link Store}; SQLite is the embedded default and PostgreSQL can arrive later
 * behind the same interface.
 */
import type { MetricRow, Params, TaskEnd, TaskInput } from '../tasks/types.js';

export type TaskStatus = 'pending' | 'running' | 'done' | 'failed' | 'diverged';

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

/** Events of the `task_log` audit trail. */
export type TaskEvent = 'claim' | 'done' | 'diverged' | 'failed' | 'released' | 'reclaimed' | 'ignored';

/**
 * The storage contract of the engine. Leases: a claimed task is `running` with `lease_owner` and
 * `lease_expires`; its owner renews the lease while the task runs. Every state change is one
 * transaction and is recorded in an audit trail (`task_log`).
 *
 * Finishing is idempotent and deterministic results make the race "two executors finish the
 * same grid point" harmless: the first {@link Store.finishTasks} wins, later ones change nothing
 * (not even metric rows) and return `false`.
 */
export interface Store {
  /**
   * Register a sweep (create or update its spec) and attach its grid, given at once or as
   * chunks (a big grid expanded on the fly). Idempotent; repeated tasks are ignored. One
   * transaction: an interrupted registration leaves either no sweep (or its previous state) or
   * the complete one.
   */
  registerSweep(sweep: SweepRecord, tasks: NewTask[] | AsyncIterable<NewTask[]>): Promise<RegisterResult>;
  /**
   * Return `running` tasks whose lease expired before `now` to `pending` (the interrupted
   * attempt is not counted). Returns how many.
   */
  reclaimExpired(now: number): Promise<number>;
  /**
   * Atomically claim the next batch of runnable tasks of a sweep (pending, or failed with
   * attempts left) under a lease of `opts.owner`; empty when none is left. Each claimed task
   * carries its latest checkpoint, if any.
   */
  claimBatch(sweep: string, opts: ClaimOptions): Promise<TaskInput[]>;
  /** Distinct owners currently holding leases on running tasks. */
  leaseOwners(): Promise<string[]>;
  /** Extend the lease of every task held by `owner`; returns how many leases were renewed. */
  renewLeases(owner: string, leaseMs: number): Promise<number>;
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
  counts(sweep: string, maxAttempts?: number): Promise<SweepCounts>;
  failures(sweep: string): Promise<FailureInfo[]>;
  sweeps(): Promise<SweepRecord[]>;
  /**
   * Give tasks new ids (a change of the identity rule, e.g. csv data identified by content
   * instead of path), in one transaction: every row that refers to `from` then refers to `to`.
   * When `to` already exists, `from`'s sweep memberships move to it and `from` stays detached.
   * Returns how many tasks changed id or were merged.
   */
  rekeyTasks(pairs: { from: string; to: string }[]): Promise<number>;
  /** Run read-only SQL (the `query` command). */
  query(sql: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}
