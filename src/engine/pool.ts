/**
 * The worker-thread pool of a run: piscina threads running `worker.ts`, each with a V8 heap
 * limit so that a runaway task fails alone instead of exhausting the machine. The threads share
 * the dataset classes they read (`data/shared-classes.ts`), and can warm up (load the task code,
 * read the dataset) while the sweep is still being registered.
 */
import { totalmem } from 'node:os';
import { Piscina } from 'piscina';
import { createPoolDataCache, type DataParams, type SharedDataCache } from '../data/index.js';
import type { JobKind } from './channel.js';

/** What a pool thread can prepare before its first job (the `warm` task of `worker.ts`). */
export interface WarmUp {
  /** The kind whose task code to load. */
  kind: JobKind;
  /** The module that registers `kind` when it is not built in (as `WorkerJob.kindModule`). */
  kindModule?: string;
  /** Data params of a grid point: the dataset files to read ahead. */
  data?: DataParams;
}

/** The `workerData` of the pool's threads. */
export interface PoolWorkerData {
  /** Dataset classes shared by the threads. */
  data: SharedDataCache;
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

/**
 * A pool of `threads` worker threads (all started at once, kept while the run lasts).
 * @param memMb heap limit per thread in MiB (default {@link defaultWorkerMemoryMb}); 0 leaves V8's own.
 */
export function createPool(threads: number, memMb = defaultWorkerMemoryMb(threads)): Piscina {
  const workerData: PoolWorkerData = { data: createPoolDataCache() };
  return new Piscina({
    filename: new URL('./worker.js', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 30_000,
    resourceLimits: memMb > 0 ? { maxOldGenerationSizeMb: memMb } : undefined,
    workerData,
  });
}

/**
 * Let the pool's threads prepare for the first jobs while the caller registers the sweep: one
 * `warm` task per thread loads the task code of `w.kind` and reads the dataset classes that no
 * other thread has taken (shared between the threads), so the threads split the reading and the
 * first jobs find it done. Queued ahead of any job; nothing is awaited and nothing can fail the
 * run (a problem shows in the job that meets it). Results do not depend on it.
 */
export function warmPool(pool: Piscina, threads: number, w: WarmUp): void {
  for (let i = 0; i < threads; i++) pool.run(w, { name: 'warm' }).catch(() => undefined);
}
