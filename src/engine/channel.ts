/**
 * The typed channel between a worker thread and the coordinator (design.md §3). The coordinator
 * `Comlink.expose`s a {@link CoordinatorChannel} on one end of a `MessageChannel`; the worker
 * `Comlink.wrap`s the other end, which it receives inside its {@link WorkerJob}.
 */
import type { MessagePort } from 'node:worker_threads';
import type { MetricRow, TaskEnd, TaskInput } from '../tasks/types.js';

/** What the coordinator offers a running job. Every method is called by the worker. */
export interface CoordinatorChannel {
  /** The worker starts executing this task (used to attribute a worker death to its task). */
  start(taskId: string): void;
  progress(taskId: string, fraction: number, note?: string): void;
  metrics(taskId: string, rows: MetricRow[]): void;
  /** Persist a checkpoint (with every metric row received before it); resolves when durable. */
  checkpoint(taskId: string, step: number, data: Uint8Array): Promise<void>;
  end(taskId: string, end: TaskEnd): void;
}

/** Task kinds a worker can execute. `debug` exists for engine tests and benchmarks. */
export type JobKind = 'kernel' | 'train' | 'debug';

/** One piscina task: a batch of grid points of one kind that share work. */
export interface WorkerJob {
  kind: JobKind;
  tasks: TaskInput[];
  /** Worker end of the channel; transferred, not cloned. */
  port: MessagePort;
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
