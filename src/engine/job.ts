/**
 * One job on the pool (docs/architecture.md §2–§3): a batch or chunk of claimed grid points of
 * one kind, sent to a worker thread with its end of a comlink channel; what comes back over the
 * channel is written (finished points through the group commit, intermediate rows and
 * checkpoints in their own transactions); when the job ends, points that did not finish are
 * failed (the blamed ones) or returned to pending.
 */
import { MessageChannel } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { Piscina } from 'piscina';
import type { FinishItem, Store } from '../store/store.js';
import { kindModule, type TaskKind } from '../tasks/registry.js';
import type { TaskEnd, TaskInput } from '../tasks/types.js';
import type { ChannelEvent, CoordinatorChannel, JobResult, WorkerJob } from './channel.js';
import type { GroupCommit } from './group-commit.js';
import type { LivePoint, LivePoints } from './live.js';
import type { RunFacts } from './owner.js';

/** What a run has done so far (for its summary and its progress display). */
export interface Tally {
  /** Points finished (done, diverged, or failed for good), including those done before the run. */
  finished: number;
  /** Points this run executed to completion (its finish was the first). */
  executed: number;
  /** Failed attempts this run recorded. */
  failedAttempts: number;
}

/** What the jobs of one run share. */
export interface JobEnv {
  kind: TaskKind;
  owner: string;
  store: Store;
  pool: Piscina;
  live: LivePoints;
  /** Writes finished points, many per transaction. */
  finisher: GroupCommit<FinishItem, boolean>;
  tally: Tally;
  threads: number;
  linalg: string;
  maxAttempts: number;
  retryFailed: boolean;
  /** Aborts running jobs (Ctrl-C, fatal storage error). */
  signal: AbortSignal;
  /** Whether the run is aborting (then unfinished points are released, not failed). */
  aborting(): boolean;
  /** Whether a fatal storage error ended the run. */
  fatal(): boolean;
  onFatal(e: unknown): void;
  /** Something changed that the progress display shows. */
  onProgress(): void;
}

/**
 * The points of a job whose worker thread died to blame for it: those it had started (a batch
 * kind starts all its points at once; other kinds run in order, so only the last started one was
 * running). When the worker did not die, or had started nothing, every unfinished point.
 * @param started how many of `tasks` (in order) the worker had started.
 */
export function blamed(kind: Pick<TaskKind, 'execution'>, tasks: TaskInput[], open: TaskInput[], started: number, died: boolean): TaskInput[] {
  if (!died || started <= 0) return open;
  const running = new Set(kind.execution === 'batch' ? tasks.slice(0, started) : [tasks[started - 1]]);
  return open.filter((t) => running.has(t));
}

/** Runs the jobs of one run, one call per job; learns the workers' backend from their results. */
export class JobRunner {
  /** Backend the workers reported (null until a job has returned). */
  backend: string | null = null;

  constructor(
    private readonly env: JobEnv,
    private readonly backendHint: string | null,
  ) {}

  /** Run `tasks` (held in `env.live`) as one job with `blasThreads` BLAS threads; never throws. */
  async run(tasks: TaskInput[], blasThreads: number): Promise<void> {
    const { env } = this;
    const { port1, port2 } = new MessageChannel();
    const started = new Int32Array(new SharedArrayBuffer(4));
    const t0 = Date.now();
    env.live.add(tasks);
    const flusher = new RowFlusher(env, tasks);
    Comlink.expose(this.channel(blasThreads, flusher), nodeEndpoint(port1 as unknown as Parameters<typeof nodeEndpoint>[0]));
    const job: WorkerJob = { kind: env.kind.name, kindModule: kindModule(env.kind.name), tasks, port: port2, started, linalg: env.linalg, blasThreads };
    let result: JobResult | null = null;
    let jobError: unknown = null;
    try {
      result = (await env.pool.run(job, { transferList: [port2] as never, signal: env.signal })) as JobResult;
      if (result.backend) this.backend = result.backend;
    } catch (e) {
      jobError = e;
    } finally {
      flusher.cancel();
      port1.close();
    }
    try {
      // keep everything received (rows of steps before a crash are valid: results are deterministic)
      await env.store.writeMetrics(env.live.takeRows(tasks));
      await this.settle(tasks, result, jobError, Atomics.load(started, 0), (Date.now() - t0) / 1000);
    } catch (e) {
      env.onFatal(e);
    }
    env.live.remove(tasks);
    env.onProgress();
  }

  /** The channel a job's worker reports on. */
  private channel(blasThreads: number, flusher: RowFlusher): CoordinatorChannel {
    const { env } = this;
    return {
      events: async (events: ChannelEvent[]) => {
        const ends: Promise<void>[] = [];
        for (const e of events) {
          const l = env.live.open(e.taskId);
          if (!l) continue;
          if (e.type === 'progress') l.fraction = e.fraction;
          else if (e.type === 'metrics') {
            for (const r of e.rows) l.rows.push(r);
            flusher.schedule();
          } else ends.push(this.finish(l, e.end, e.durationS, blasThreads));
        }
        if (ends.length) await Promise.all(ends);
        env.onProgress();
      },
      checkpoint: async (id, step, data) => {
        const l = env.live.open(id);
        if (!l) return;
        // the rows received before the checkpoint are written with it, in one transaction
        try {
          await env.store.saveCheckpoint(id, env.owner, step, data, l.rows.splice(0));
        } catch (e) {
          env.onFatal(e);
          throw e;
        }
      },
    };
  }

  /** Write a point's end (group commit); resolves once durable. */
  private async finish(l: LivePoint, end: TaskEnd, durationS: number, blasThreads: number): Promise<void> {
    const { env } = this;
    l.ended = end;
    const info: RunFacts = { owner: env.owner, threads: env.threads, blas_threads: blasThreads, backend: this.backend ?? this.backendHint };
    if (l.task.checkpoint) info.resumed_from_step = l.task.checkpoint.step;
    let accepted: boolean;
    try {
      accepted = await env.finisher.submit({ taskId: l.task.id, owner: env.owner, end, rows: l.rows.splice(0), durationS, info: info as unknown as Record<string, unknown> });
    } catch (e) {
      env.onFatal(e);
      throw e;
    }
    if (accepted) env.tally.executed++;
    env.tally.finished++;
  }

  /** After the job: release (interrupted) or fail (blamed) its points that did not finish. */
  private async settle(tasks: TaskInput[], result: JobResult | null, jobError: unknown, started: number, durationS: number): Promise<void> {
    const { env } = this;
    const open = tasks.filter((t) => !env.live.ended(t.id));
    if (open.length === 0) return;
    if (jobError && env.aborting()) {
      // interrupted (Ctrl-C, SIGTERM, or a fatal storage error): not an attempt
      await env.store.releaseTasks(env.owner, open.map((t) => t.id), env.fatal() ? 'storage error' : 'interrupted');
      return;
    }
    // a dead worker: the points it was not running never ran (or their end was lost with the
    // thread) and go back to pending without using an attempt
    const guilty = blamed(env.kind, tasks, open, started, !!jobError && !result);
    const innocent = open.filter((t) => !guilty.includes(t));
    if (innocent.length) await env.store.releaseTasks(env.owner, innocent.map((t) => t.id), 'the worker died running another task of its job');
    for (const t of guilty) {
      const msg = result?.errors[t.id] ?? (jobError ? describe(jobError) : 'the task finished without reporting a result');
      if (await env.store.failTask(t.id, env.owner, msg, durationS)) env.tally.failedAttempts++;
      if ((t.attempt ?? 1) >= env.maxAttempts || env.retryFailed) env.tally.finished++;
    }
  }
}

/** Writes a job's intermediate metric rows periodically, for kinds that stream them (`metricsFlushMs`). */
class RowFlusher {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly env: JobEnv,
    private readonly tasks: TaskInput[],
  ) {}

  /** Rows arrived: write them within the kind's flush interval (nothing for other kinds). */
  schedule(): void {
    const ms = this.env.kind.metricsFlushMs;
    if (ms === undefined || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.env.store.writeMetrics(this.env.live.takeRows(this.tasks)).catch((err) => this.env.onFatal(err));
    }, ms);
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** Error text of a job that failed as a whole (a dead worker, out of memory, an exception). */
export function describe(e: unknown): string {
  if (e instanceof Error) {
    const msg = e.message || e.name;
    if (/ERR_WORKER_OUT_OF_MEMORY|out of memory/i.test(msg + ((e as { code?: string }).code ?? ''))) {
      return `worker ran out of memory (${msg}); raise --max-memory or reduce the problem size`;
    }
    if (/exited|terminated/i.test(msg)) return `worker thread died: ${msg}`;
    return e.stack ?? msg;
  }
  return String(e);
}
