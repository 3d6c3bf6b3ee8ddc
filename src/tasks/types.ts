/**
 * The contract between the engine and task implementations (`kernel.ts`, `train.ts`).
 * Task code runs inside a piscina worker thread and never touches the database: everything it
 * produces goes through a {@link TaskReporter}, which the engine bridges to the coordinator over
 * a comlink channel on a `MessagePort` (docs/architecture.md §2).
 */

/** Flat, JSON-serialisable task parameters after spec expansion (docs/conventions.md §2 names). */
export type Params = Record<string, unknown>;

/** One metric value. `step` is the training step for series, or 0 for single-valued metrics. */
export interface MetricRow {
  step: number;
  name: string;
  value: number;
}

/** How a task ended, as reported by the task itself. */
export type TaskEnd =
  | { status: 'done' }
  | { status: 'diverged'; step: number; reason: string };

/**
 * Streaming channel from a running task to the coordinator. Calls are fire-and-forget from the
 * task's point of view; ordering per task is preserved.
 */
export interface TaskReporter {
  /** Live progress of one task, `fraction` in [0, 1]; `note` is a short human string. */
  progress(taskId: string, fraction: number, note?: string): void;
  /** Metric rows (intermediate or final) of one task; the coordinator persists them. */
  metrics(taskId: string, rows: MetricRow[]): void;
  /** The task is finished; all its metrics were sent before this call. */
  end(taskId: string, end: TaskEnd): void;
  /**
   * Optional: save the task's state after `step` (opaque bytes, e.g. weights and step). Every
   * metric row of a step `<= step` must have been sent before this call: a resumed task sends
   * only rows of later steps. Resolves once the checkpoint is durable (or was dropped because
   * the task is no longer this executor's); a task should keep at most one call in flight.
   */
  checkpoint?(taskId: string, step: number, data: Uint8Array): Promise<void>;
}

/** A saved state of a task, handed back when the task runs again (see `TaskReporter.checkpoint`). */
export interface TaskCheckpoint {
  step: number;
  data: Uint8Array;
}

/** One grid point handed to a worker. */
export interface TaskInput {
  id: string;
  params: Params;
  /** 1 for the first execution of this grid point, 2 for the first retry, ... */
  attempt?: number;
  /** The latest checkpoint of an interrupted earlier execution; the task continues from it. */
  checkpoint?: TaskCheckpoint;
}

/** What a task implementation receives besides its inputs. */
export interface TaskContext {
  reporter: TaskReporter;
  /** Aborted when the coordinator stops (Ctrl-C); long loops should check it and throw. */
  signal?: AbortSignal;
}
