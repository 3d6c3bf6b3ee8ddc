/**
 * The coordinator (docs/architecture.md §2–§5): claims runnable grid points from the store under a lease,
 * runs them as jobs on a piscina worker pool, receives progress and metrics over a comlink
 * channel per job, and writes everything in transactions. It is the only writer.
 *
 * Resume is the normal path: `run` on a sweep skips done grid points, reclaims expired leases
 * (and those of dead coordinators on this host), retries failed points up to `maxAttempts`.
 */
import { availableParallelism } from 'node:os';
import type { Piscina } from 'piscina';
import type { Store, SweepCounts } from '../store/store.js';
import { kindOf, type TaskKind } from '../tasks/registry.js';
import type { TaskInput } from '../tasks/types.js';
import { estimateJobBytes } from '../tasks/memory.js';
import type { JobKind } from './channel.js';
import { chunkLimits, Claimer } from './claim.js';
import { dispatch, Waker } from './dispatch.js';
import { GroupCommit } from './group-commit.js';
import { startHeartbeat } from './heartbeat.js';
import { JobRunner, type Tally } from './job.js';
import { LivePoints } from './live.js';
import { defaultMemoryBudget, MemoryBudget } from './memory-budget.js';
import { newOwnerId } from './owner.js';
import { createPool } from './pool.js';
import { nullProgress, type ProgressSink } from './progress.js';

export { defaultMemoryBudget } from './memory-budget.js';
export { defaultWorkerMemoryMb } from './pool.js';

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
  /**
   * A pool started beforehand with `createPool(threads, maxOldGenerationSizeMb)` (`engine/pool.ts`),
   * so that its threads start while the spec is read and registered; `run` uses it and destroys it.
   */
  pool?: Piscina;
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

/**
 * Jobs of independent points whose estimated cost (s) stays within this are claimed one ahead
 * (`DispatchDeps.lookahead`): the thread then starts the next job as soon as it ends one.
 */
const LOOKAHEAD_MAX_COST = 0.05;

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
  readonly owner = newOwnerId();
  private stopping: 'no' | 'drain' | 'abort' = 'no';
  private readonly abort = new AbortController();
  private fatal: Error | null = null;
  private readonly live = new LivePoints();
  private readonly waker = new Waker();
  private backend: string | null = null;

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
    this.waker.wake();
  }

  /**
   * Run every runnable grid point of `sweep` to completion (or until stopped).
   * @throws StoreError on storage faults (disk full, read-only database); the database stays
   *   consistent because every write is one transaction.
   */
  async run(sweep: string, kindName: JobKind): Promise<RunSummary> {
    const t0 = Date.now();
    const kind = kindOf(kindName);
    const progress = this.opts.progress ?? nullProgress;
    const leaseMs = this.opts.leaseMs ?? 30_000;
    const { claimer, before, finished } = await this.begin(sweep, leaseMs);
    const tally: Tally = { finished, executed: 0, failedAttempts: 0 };
    progress.start(before.total, tally.finished);
    const pool = this.opts.pool ?? createPool(this.opts.threads, this.opts.maxOldGenerationSizeMb);
    const stopHeartbeat = startHeartbeat(this.store, this.owner, leaseMs, () => this.live.ids(), (e) => this.onFatal(e));
    const budget = new MemoryBudget(this.opts.memoryBudgetBytes ?? defaultMemoryBudget(), this.opts.notice);
    let waitingForMemory = '';
    const showProgress = (): void => progress.update(tally.finished, [this.live.note(), waitingForMemory].filter(Boolean).join(' | '), this.live.partial());
    // finished grid points of every job are persisted together (one transaction per commit)
    const finisher = new GroupCommit((items: Parameters<Store['finishTasks']>[0]) => this.store.finishTasks(items));
    const jobs = new JobRunner(
      {
        ...{ kind, owner: this.owner, store: this.store, pool, live: this.live, finisher, tally, threads: this.opts.threads },
        ...{ linalg: this.opts.linalg ?? 'auto', maxAttempts: this.opts.maxAttempts, retryFailed: !!this.opts.retryFailed, signal: this.abort.signal },
        aborting: () => this.stopping === 'abort',
        fatal: () => !!this.fatal,
        onFatal: (e) => this.onFatal(e),
        onProgress: showProgress,
      },
      this.opts.backendName ?? null,
    );
    try {
      await dispatch({
        ...{ threads: this.opts.threads, claimer, budget, waker: this.waker, jobLabel: `a ${kind.name} job` },
        estimate: (tasks) => this.estimate(kind, tasks, jobs.backend),
        lookahead: (tasks) => !kind.sharedWork && tasks.reduce((sum, t) => sum + kind.cost(t.params), 0) <= LOOKAHEAD_MAX_COST,
        blasThreads: () => this.blasBudget(sweep, budget.running),
        start: (tasks, blasThreads) => jobs.run(tasks, blasThreads),
        stopped: () => this.stopping !== 'no' || !!this.fatal,
        release: async (tasks) => void (await this.store.releaseTasks(this.owner, tasks.map((t) => t.id), 'interrupted')),
        othersHold: async () => (await this.store.counts(sweep)).running > 0 && !this.opts.exitWhenIdle,
        pollMs: Math.min(1000, Math.max(100, leaseMs / 4)),
        waiting: (note) => {
          waitingForMemory = note;
          if (note) showProgress();
        },
      });
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
      this.backend = jobs.backend;
    }
    if (this.fatal) throw this.fatal;
    return this.summary(sweep, t0, before.done + before.diverged, tally);
  }

  /**
   * Start a run: take over what gone coordinators left (expired or dead leases), count the
   * sweep, and size the claims. Returns the claimer and the counts before the run.
   */
  private async begin(sweep: string, leaseMs: number): Promise<{ claimer: Claimer; before: SweepCounts; finished: number }> {
    const claimer = new Claimer(this.store, sweep, this.owner, {
      leaseMs,
      maxAttempts: this.opts.maxAttempts,
      maxOrdersPerBatch: this.opts.maxOrdersPerBatch ?? Infinity,
      relocate: this.opts.relocate,
    });
    await claimer.reclaim(true);
    // failed points started before now (database clock) get one more attempt with retryFailed
    const retryExhaustedBefore = this.opts.retryFailed ? await this.store.now() : undefined;
    const before = await this.store.counts(sweep);
    const exhausted = this.opts.retryFailed ? 0 : (await this.store.failures(sweep)).filter((f) => f.attempts >= this.opts.maxAttempts).length;
    claimer.configure({ chunk: chunkLimits(before.pending + before.failed, this.opts.threads), retryExhaustedBefore });
    return { claimer, before, finished: before.done + before.diverged + exhausted };
  }

  /** Estimated peak bytes of a job of `tasks` (memory budget). */
  private estimate(kind: TaskKind, tasks: TaskInput[], backend: string | null): number {
    return estimateJobBytes(kind, tasks.map((t) => t.params), backend ?? this.opts.backendName ?? 'js');
  }

  private summary(sweep: string, t0: number, alreadyDone: number, tally: Tally): Promise<RunSummary> {
    return this.store.counts(sweep).then((after) => ({
      sweep,
      total: after.total,
      already_done: alreadyDone,
      executed: tally.executed,
      failed: after.failed,
      failed_attempts_this_run: tally.failedAttempts,
      diverged: after.diverged,
      done: after.done,
      pending: after.pending,
      running_elsewhere: after.running,
      interrupted: this.stopping !== 'no',
      elapsed_s: (Date.now() - t0) / 1000,
      threads: this.opts.threads,
      backend: this.backend,
    }));
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
}
