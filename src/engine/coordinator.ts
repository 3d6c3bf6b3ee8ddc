/**
 * The coordinator (docs/architecture.md §2–§5): claims runnable grid points from the store under a lease,
 * runs them as jobs on a piscina worker pool, receives progress and metrics over a comlink
 * channel per job, and writes everything in transactions. It is the only writer.
 *
 * Resume is the normal path: `run` on a sweep skips done grid points, reclaims expired leases
 * (and those of dead coordinators on this host), retries failed points up to `maxAttempts`.
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism, totalmem } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { Piscina } from 'piscina';
import type { FinishItem, Store } from '../store/store.js';
import type { MetricRow, TaskEnd, TaskInput } from '../tasks/types.js';
import type { CoordinatorChannel, JobKind, JobResult, WorkerJob } from './channel.js';
import { estimateJobBytes } from '../tasks/memory.js';
import { GroupCommit } from './group-commit.js';
import { startHeartbeat } from './heartbeat.js';
import { hostName, reclaimLeases } from './lease.js';
import { nullProgress, type ProgressSink } from './progress.js';

export interface RunOptions {
  /** Pool threads (default: all cores). */
  threads: number;
  /** Retries of a failing grid point (attempts = 1 + retries). */
  maxAttempts: number;
  /** Also retry failed points whose attempts are exhausted. */
  retryFailed?: boolean;
  /** Lease length in ms; renewed every `leaseMs / 4` while a task runs. */
  leaseMs?: number;
  /** Linear-algebra backend for workers ('auto' | 'js' | 'ml-matrix' | 'native'). */
  linalg?: string;
  /**
   * BLAS threads per job (thread budget: pool threads × BLAS threads ≤ cores). A number fixes
   * it (default 1: results are then bit-identical whatever the pool size, since OpenBLAS rounds
   * differently with another thread count). `'auto'` gives a job the spare cores when fewer
   * grid points remain runnable than pool threads (faster tails, last-bit differences).
   */
  blasThreads?: number | 'auto';
  /** Cores available to the budget (default `os.availableParallelism()`). */
  cores?: number;
  /** Name of the backend the workers will use, resolved by the caller (recorded per task). */
  backendName?: string;
  /** Max distinct depths per kernel job (splits big batches across threads). */
  maxOrdersPerBatch?: number;
  /**
   * Worker memory limit (MiB of V8 old generation); exceeding it fails the task, not the run.
   * Default {@link defaultWorkerMemoryMb}; 0 leaves V8's own default.
   */
  maxOldGenerationSizeMb?: number;
  /**
   * Memory the pool may plan for, in bytes (default 85 % of this machine's RAM): a job starts
   * only while the estimated peaks of the running jobs plus its own fit (`tasks/memory.ts`); a
   * job larger than the whole budget runs alone.
   */
  memoryBudgetBytes?: number;
  /**
   * Return as soon as nothing is claimable and none of this run's points is running, even while
   * other processes hold points of the sweep (a `worker` moves on to other sweeps and comes back;
   * `run` waits instead, to take those points over should their owner die).
   */
  exitWhenIdle?: boolean;
  /** One-line notices for the user (a job that exceeds the memory budget). */
  notice?: (message: string) => void;
  progress?: ProgressSink;
  /**
   * Where this machine keeps a claimed grid point's input files, applied to its params before it
   * runs (not part of its identity): e.g. the csv paths of the current spec, for points first
   * registered from another folder or machine. See `data/csv.ts` `relocateCsv`.
   */
  relocate?: (params: TaskInput['params']) => TaskInput['params'];
}

export interface RunSummary {
  sweep: string;
  /** Grid points of the sweep. */
  total: number;
  /** Points already finished (done or diverged) before this run. */
  already_done: number;
  /** Points this run executed to completion (done or diverged). */
  executed: number;
  /** Points failed now (after retries), and how many failures this run saw. */
  failed: number;
  failed_attempts_this_run: number;
  diverged: number;
  done: number;
  pending: number;
  /** Points held by another live coordinator when this run ended. */
  running_elsewhere: number;
  interrupted: boolean;
  elapsed_s: number;
  threads: number;
  backend: string | null;
}

interface Live {
  task: TaskInput;
  rows: MetricRow[];
  ended: TaskEnd | null;
  fraction: number;
}

/**
 * Default per-worker heap limit in MiB: half the machine's memory shared by the pool threads,
 * between 256 MiB and 2 GiB, so a runaway task fails alone (and soon) instead of exhausting the
 * machine. Numeric buffers (typed arrays) live outside this heap and are not limited by it.
 */
export function defaultWorkerMemoryMb(threads: number): number {
  const share = totalmem() / 2 ** 20 / 2 / Math.max(1, threads);
  return Math.max(256, Math.min(2048, Math.floor(share)));
}

/** Default memory budget: 85 % of this machine's RAM. */
export function defaultMemoryBudget(): number {
  return 0.85 * totalmem();
}

function gib(bytes: number): string {
  return (bytes / 2 ** 30).toFixed(1);
}

/**
 * Runs sweeps against one {@link Store}. Create one per `run` invocation.
 *
 * Lease protocol: every claimed grid point is `running` under this coordinator's owner id
 * (`host:pid:random`) with an expiry that a heartbeat renews every `leaseMs / 4`. Another
 * coordinator reclaims the point when the lease has expired, or at once when the owner is a dead
 * process on the same host. Two live coordinators never run a point at the same time; if one
 * stalls past its lease and finishes a point the other one took over, the first finish is
 * recorded and the second is discarded (results are deterministic, so nothing changes).
 */
export class Coordinator {
  readonly owner = `${hostName()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private stopping: 'no' | 'drain' | 'abort' = 'no';
  private readonly abort = new AbortController();
  private fatal: Error | null = null;
  private live = new Map<string, Live>();
  private backend: string | null = null;
  private wake: (() => void) | null = null;
  private lastReclaim = 0;

  constructor(
    private readonly store: Store,
    private readonly opts: RunOptions,
  ) {}

  /**
   * Stop dispatching. `abort` terminates running jobs (their points go back to `pending`, and
   * every metric row and checkpoint received so far is kept); `drain` lets them finish. Safe to
   * call from a signal handler; `run` then resolves.
   */
  stop(mode: 'drain' | 'abort'): void {
    if (this.stopping === 'abort') return;
    this.stopping = mode;
    if (mode === 'abort') this.abort.abort(new Error('interrupted'));
    this.wake?.();
  }

  /**
   * Run every runnable grid point of `sweep` to completion (or until stopped).
   * @throws StoreError on storage faults (disk full, read-only database); the database stays
   *   consistent because every write is one transaction.
   */
  async run(sweep: string, kind: JobKind): Promise<RunSummary> {
    const t0 = Date.now();
    const progress = this.opts.progress ?? nullProgress;
    const leaseMs = this.opts.leaseMs ?? 30_000;
    await this.reclaim(true);
    // failed points started before now (database clock) get one more attempt with retryFailed
    const dbT0 = this.opts.retryFailed ? await this.store.now() : 0;
    const before = await this.store.counts(sweep);
    const alreadyDone = before.done + before.diverged;
    const exhausted = this.opts.retryFailed ? 0 : (await this.store.failures(sweep)).filter((f) => f.attempts >= this.opts.maxAttempts).length;
    let finished = alreadyDone + exhausted;
    let executed = 0;
    let failedAttempts = 0;
    progress.start(before.total, finished);

    const memMb = this.opts.maxOldGenerationSizeMb ?? defaultWorkerMemoryMb(this.opts.threads);
    const pool = new Piscina({
      filename: new URL('./worker.js', import.meta.url).href,
      minThreads: this.opts.threads,
      maxThreads: this.opts.threads,
      idleTimeout: 30_000,
      resourceLimits: memMb > 0 ? { maxOldGenerationSizeMb: memMb } : undefined,
    });
    const stopHeartbeat = startHeartbeat(this.store, this.owner, leaseMs, () => [...this.live.keys()], (e) => this.onFatal(e));
    // running jobs, each with its estimated peak bytes (memory budget)
    const active = new Map<Promise<void>, number>();
    const budget = this.opts.memoryBudgetBytes ?? defaultMemoryBudget();
    const reserved = (): number => [...active.values()].reduce((a, b) => a + b, 0);
    let waitingForMemory = '';
    let overBudgetNoted = false;

    // fraction of the running grid points already done: makes rate and ETA smooth on long points
    const partial = (): number => [...this.live.values()].reduce((acc, l) => acc + (l.ended ? 0 : Math.min(1, Math.max(0, l.fraction))), 0);
    const note = (): string => {
      const parts = [...this.live.values()].filter((l) => !l.ended && l.fraction > 0).map((l) => `${Math.round(100 * l.fraction)}%`);
      const running = parts.length ? `| running points at ${parts.slice(0, 4).join(' ')}` : '';
      return waitingForMemory ? `${running} | ${waitingForMemory}` : running;
    };

    // finished grid points of every job are persisted together (one transaction per commit)
    const finisher = new GroupCommit<FinishItem, boolean>((items) => this.store.finishTasks(items));
    const finish = async (l: Live, end: TaskEnd, durationS: number, blasThreads: number): Promise<void> => {
      l.ended = end;
      const info: Record<string, unknown> = {
        owner: this.owner,
        threads: this.opts.threads,
        blas_threads: blasThreads,
        backend: this.backend ?? this.opts.backendName ?? null,
      };
      if (l.task.checkpoint) info.resumed_from_step = l.task.checkpoint.step;
      const item = { taskId: l.task.id, owner: this.owner, end, rows: l.rows.splice(0), durationS, info };
      let accepted: boolean;
      try {
        accepted = await finisher.submit(item);
      } catch (e) {
        this.onFatal(e);
        throw e;
      }
      if (accepted) executed++;
      finished++;
    };

    const runJob = async (tasks: TaskInput[], blasThreads: number): Promise<void> => {
      const { port1, port2 } = new MessageChannel();
      const started = new Int32Array(new SharedArrayBuffer(4));
      const t0Job = Date.now();
      for (const t of tasks) this.live.set(t.id, { task: t, rows: [], ended: null, fraction: 0 });
      // metric rows received for this job's unfinished tasks, handed over to be written
      const unwritten = (): { taskId: string; rows: MetricRow[] }[] =>
        tasks
          .map((t) => this.live.get(t.id))
          .filter((l): l is Live => !!l && !l.ended && l.rows.length > 0)
          .map((l) => ({ taskId: l.task.id, rows: l.rows.splice(0) }));
      let flushTimer: NodeJS.Timeout | null = null;
      const flush = async (): Promise<void> => {
        flushTimer = null;
        await this.store.writeMetrics(unwritten());
      };
      const channel: CoordinatorChannel = {
        events: async (events) => {
          const ends: Promise<void>[] = [];
          for (const e of events) {
            const l = this.live.get(e.taskId);
            if (!l || l.ended) continue;
            if (e.type === 'progress') {
              l.fraction = e.fraction;
            } else if (e.type === 'metrics') {
              l.rows.push(...e.rows);
              if (kind === 'train' && !flushTimer) flushTimer = setTimeout(() => void flush().catch((err) => this.onFatal(err)), 1000);
            } else {
              ends.push(finish(l, e.end, e.durationS, blasThreads));
            }
          }
          await Promise.all(ends);
          progress.update(finished, note(), partial());
        },
        checkpoint: async (id, step, data) => {
          const l = this.live.get(id);
          if (!l || l.ended) return;
          // the rows received before the checkpoint are written with it, in one transaction
          const rows = l.rows.splice(0);
          try {
            await this.store.saveCheckpoint(id, this.owner, step, data, rows);
          } catch (e) {
            this.onFatal(e);
            throw e;
          }
        },
      };
      Comlink.expose(channel, nodeEndpoint(port1 as unknown as Parameters<typeof nodeEndpoint>[0]));
      const job: WorkerJob = { kind, tasks, port: port2, started, linalg: this.opts.linalg ?? 'auto', blasThreads };
      let result: JobResult | null = null;
      let jobError: unknown = null;
      try {
        result = (await pool.run(job, { transferList: [port2] as never, signal: this.abort.signal })) as JobResult;
        if (result.backend) this.backend = result.backend;
      } catch (e) {
        jobError = e;
      } finally {
        if (flushTimer) clearTimeout(flushTimer);
        port1.close();
      }
      const open = tasks.filter((t) => !this.live.get(t.id)?.ended);
      try {
        // keep everything received (rows of steps before a crash are valid: results are deterministic)
        await this.store.writeMetrics(unwritten());
        if (open.length && jobError && this.stopping === 'abort') {
          // interrupted (Ctrl-C, SIGTERM, or a fatal storage error): not an attempt
          await this.store.releaseTasks(this.owner, open.map((t) => t.id), this.fatal ? 'storage error' : 'interrupted');
        } else if (open.length) {
          let blamed = open;
          const n = Atomics.load(started, 0);
          if (jobError && !result && n > 0) {
            // the worker died (exit, out of memory): blame the task(s) it was running; the others
            // of the job never ran (or ran but their end was lost with the thread) and go back to
            // pending without using an attempt
            const running = kind === 'kernel' ? tasks.slice(0, n) : [tasks[n - 1]];
            blamed = open.filter((t) => running.includes(t));
          }
          const innocent = open.filter((t) => !blamed.includes(t));
          if (innocent.length) await this.store.releaseTasks(this.owner, innocent.map((t) => t.id), 'the worker died running another task of its job');
          for (const t of blamed) {
            const msg = result?.errors[t.id] ?? (jobError ? describe(jobError) : 'the task finished without reporting a result');
            if (await this.store.failTask(t.id, this.owner, msg, (Date.now() - t0Job) / 1000)) failedAttempts++;
            if ((t.attempt ?? 1) >= this.opts.maxAttempts || this.opts.retryFailed) finished++;
          }
        }
      } catch (e) {
        this.onFatal(e);
      }
      for (const t of tasks) this.live.delete(t.id);
      progress.update(finished, note(), partial());
    };

    // independent grid points go to workers in chunks: ≤ 256 points and ≤ 0.2 cost units (≈ s)
    // each, and small enough that every thread gets about four chunks
    const runnableAtStart = before.pending + before.failed;
    const chunk = { maxTasks: Math.max(1, Math.min(256, Math.ceil(runnableAtStart / (4 * this.opts.threads)))), maxCost: 0.2 };
    const relocate = this.opts.relocate;
    const claim = async (): Promise<TaskInput[]> => {
      const got = await this.store.claimBatch(sweep, {
        owner: this.owner,
        leaseMs,
        maxAttempts: this.opts.maxAttempts,
        maxOrdersPerBatch: this.opts.maxOrdersPerBatch ?? Infinity,
        chunk,
        retryExhaustedBefore: this.opts.retryFailed ? dbT0 : undefined,
      });
      return relocate ? got.map((t) => ({ ...t, params: relocate(t.params) })) : got;
    };

    try {
      for (;;) {
        if (this.stopping !== 'no' || this.fatal) break;
        let claimed: TaskInput[] = [];
        if (active.size < this.opts.threads) {
          claimed = await claim();
          // nothing runnable: points of a crashed or stalled coordinator may be reclaimable
          if (claimed.length === 0 && (await this.reclaim(false)) > 0) claimed = await claim();
        }
        if (claimed.length > 0) {
          if (this.stopping !== 'no' || this.fatal) {
            await this.store.releaseTasks(this.owner, claimed.map((t) => t.id), 'interrupted');
            break;
          }
          const bytes = estimateJobBytes(kind, claimed.map((t) => t.params), this.backend ?? this.opts.backendName ?? 'js');
          if (bytes > budget && !overBudgetNoted) {
            overBudgetNoted = true;
            this.opts.notice?.(`a ${kind} job needs about ${gib(bytes)} GiB, more than the memory budget of ${gib(budget)} GiB: such jobs run alone (see --memory)`);
          }
          while (active.size > 0 && reserved() + bytes > budget && this.stopping === 'no' && !this.fatal) {
            waitingForMemory = `next job (${gib(bytes)} GiB) waits for memory: running jobs hold ${gib(reserved())} GiB, budget ${gib(budget)} GiB`;
            progress.update(finished, note(), partial());
            await Promise.race([...active.keys(), new Promise<void>((r) => (this.wake = r))]);
            this.wake = null;
          }
          waitingForMemory = '';
          if (this.stopping !== 'no' || this.fatal) {
            await this.store.releaseTasks(this.owner, claimed.map((t) => t.id), 'interrupted');
            break;
          }
          const p: Promise<void> = runJob(claimed, await this.blasBudget(sweep, active.size)).finally(() => active.delete(p));
          active.set(p, bytes);
          continue;
        }
        if (active.size === 0) {
          // nothing to claim and nothing of ours running: done, unless another coordinator holds points
          const c = await this.store.counts(sweep);
          if (c.running === 0 || this.opts.exitWhenIdle) break;
          await this.sleep(Math.min(1000, Math.max(100, leaseMs / 4)));
          continue;
        }
        await Promise.race([...active.keys(), new Promise<void>((r) => (this.wake = r))]);
        this.wake = null;
      }
      await Promise.allSettled([...active.keys()]);
    } finally {
      // finishes of jobs that were aborted while their results were being committed
      await finisher.idle();
      stopHeartbeat();
      await this.store.removeWorker(this.owner).catch(() => undefined);
      if (this.stopping === 'abort' || this.fatal) {
        await this.store.releaseTasks(this.owner, undefined, this.fatal ? 'storage error' : 'interrupted').catch(() => undefined);
      }
      progress.stop();
      await pool.destroy().catch(() => undefined);
    }
    if (this.fatal) throw this.fatal;
    const after = await this.store.counts(sweep);
    return {
      sweep,
      total: after.total,
      already_done: alreadyDone,
      executed,
      failed: after.failed,
      failed_attempts_this_run: failedAttempts,
      diverged: after.diverged,
      done: after.done,
      pending: after.pending,
      running_elsewhere: after.running,
      interrupted: this.stopping !== 'no',
      elapsed_s: (Date.now() - t0) / 1000,
      threads: this.opts.threads,
      backend: this.backend,
    };
  }

  /**
   * Return expired leases, and leases of coordinators on this host that are no longer alive.
   * Rate-limited to once per 500 ms unless `force`. Returns how many points were returned.
   */
  private async reclaim(force: boolean): Promise<number> {
    if (!force && Date.now() - this.lastReclaim < 500) return 0;
    this.lastReclaim = Date.now();
    return reclaimLeases(this.store, this.owner);
  }

  /**
   * BLAS threads for the next job (thread budget, docs/architecture.md §4): the fixed `blasThreads`, or with
   * `'auto'` the cores left over when fewer grid points remain than pool threads, shared by the
   * jobs that will run: `max(1, floor(cores / min(threads, running + 1 + pending)))`.
   */
  private async blasBudget(sweep: string, running: number): Promise<number> {
    const b = this.opts.blasThreads ?? 1;
    if (b !== 'auto') return b;
    const cores = this.opts.cores ?? availableParallelism();
    const pending = (await this.store.counts(sweep)).pending;
    const jobs = Math.max(1, Math.min(this.opts.threads, running + 1 + pending));
    return Math.max(1, Math.floor(cores / jobs));
  }

  private onFatal(e: unknown): void {
    if (!this.fatal) this.fatal = e instanceof Error ? e : new Error(String(e));
    this.stop('abort');
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => {
      const t = setTimeout(r, ms);
      this.wake = () => {
        clearTimeout(t);
        r();
      };
    });
  }
}

function describe(e: unknown): string {
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
