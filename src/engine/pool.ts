/**
 * The worker-thread pool of a run: piscina threads running `worker.ts`, each with a V8 heap
 * limit so that a runaway task fails alone instead of exhausting the machine.
 */
import { totalmem } from 'node:os';
import { Piscina } from 'piscina';

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
  return new Piscina({
    filename: new URL('./worker.js', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 30_000,
    resourceLimits: memMb > 0 ? { maxOldGenerationSizeMb: memMb } : undefined,
  });
}
