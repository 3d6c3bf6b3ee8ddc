/**
 * The typed channel between a worker thread and the coordinator (docs/architecture.md §2). The coordinator
 * `Comlink.expose`s a {@link CoordinatorChannel} on one end of a `MessageChannel`; the worker
 * `Comlink.wrap`s the other end, which it receives inside its {@link WorkerJob}.
 */
import type { MessagePort } from 'node:worker_threads';
import type { KindName } from '../tasks/registry.js';
import type { MetricRow, TaskEnd, TaskInput } from '../tasks/types.js';

/** Something a running task reported, in the order it happened. */
export type ChannelEvent =
  | { type: 'progress'; taskId: string; fraction: number; note?: string }
  | { type: 'metrics'; taskId: string; rows: MetricRow[] }
  | { type: 'end'; taskId: string; end: TaskEnd; /** Seconds the task ran (a kernel batch: since the job started). */ durationS: number };

/** What the coordinator offers a running job. Every method is called by the worker. */
export interface CoordinatorChannel {
  /**
   * Events of the job's tasks, batched by the worker (a message per event would cost more than
   * a short task). Resolves once every `end` among them is persisted.
   */
  events(events: ChannelEvent[]): Promise<void>;
  /** Persist a checkpoint (with every metric row received before it); resolves when durable. */
  checkpoint(taskId: string, step: number, data: Uint8Array): Promise<void>;
}

/** Task kinds a worker can execute: the registered ones (`tasks/registry.ts`). */
export type JobKind = KindName;

/** One piscina task: grid points of one kind, run together (a batch kind) or in order. */
export interface WorkerJob {
  kind: JobKind;
  /** The module of a kind registered at run time (`registerKind`), which the worker imports to know it; absent for the package's kinds. */
  kindModule?: string;
  tasks: TaskInput[];
  /** Worker end of the channel; transferred, not cloned. */
  port: MessagePort;
  /**
   * `Int32Array` of length 1 over a `SharedArrayBuffer`: how many of `tasks` (in order) the
   * worker has started, written before each starts (a batch kind starts all at once). Read by the
   * coordinator when the worker thread dies, to blame the task that was running; shared memory,
   * because a message could be lost with the thread.
   */
  started: Int32Array;
  /** Linear-algebra backend the worker must use ('auto' picks the fastest available). */
  linalg: string;
  /** BLAS threads for this job (thread budget: pool threads × BLAS threads ≤ cores). */
  blasThreads: number;
}

/** What a job returns when it finishes without throwing. */
export interface JobResult {
  backend: string;
  /** Per-task error text for tasks that failed inside an otherwise working job. */
  errors: Record<string, string>;
}
