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
  /** Tasks with the same batch key may run together in one worker execution (shared work). */
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
   * Also pick `failed` tasks whose attempts are exhausted, once each: those whose last attempt
   * started before this time (ms epoch; the start of the `run --retry-failed`).
   */
  retryExhaustedBefore?: number;
}

export interface Store {
  /** Register a sweep (create or update its spec) and attach its grid. Idempotent. */
  registerSweep(sweep: SweepRecord, tasks: NewTask[]): Promise<RegisterResult>;
  /** Return tasks whose lease expired to `pending`. Returns how many. */
  reclaimExpired(now: number): Promise<number>;
  /** Atomically claim the next batch of runnable tasks of a sweep; empty when none is left. */
  claimBatch(sweep: string, opts: ClaimOptions): Promise<TaskInput[]>;
  /** Distinct owners currently holding leases on running tasks. */
  leaseOwners(): Promise<string[]>;
  /** Extend the lease of every task held by `owner`. */
  renewLeases(owner: string, leaseMs: number): Promise<void>;
  /** Persist intermediate metric rows of running tasks (one transaction). */
  writeMetrics(batch: { taskId: string; rows: MetricRow[] }[]): Promise<void>;
  /** Persist a task's last metrics and its end state in one transaction. */
  finishTask(taskId: string, owner: string, end: TaskEnd, rows: MetricRow[], durationS: number, info: Record<string, unknown>): Promise<void>;
  /** Mark a task failed with its error text (it will be retried while attempts < max). */
  failTask(taskId: string, owner: string, error: string, durationS: number): Promise<void>;
  /** Return tasks held by `owner` to `pending` (interrupted, not counted as an attempt). */
  releaseTasks(owner: string, taskIds?: string[]): Promise<number>;
  counts(sweep: string, maxAttempts?: number): Promise<SweepCounts>;
  failures(sweep: string): Promise<FailureInfo[]>;
  sweeps(): Promise<SweepRecord[]>;
  /** Run read-only SQL (the `query` command). */
  query(sql: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}
