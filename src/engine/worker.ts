/**
 * Piscina worker entry: runs one {@link WorkerJob} and streams everything back over the comlink
 * channel. Workers never touch the database (docs/architecture.md §2): progress, metric rows and checkpoint
 * bytes all go to the coordinator, which writes them. The task code of a kind is loaded on the
 * first job of that kind (`TaskKind.taskCode`); a kind registered at run time in the main thread is
 * imported from its module first (`job.kindModule`).
 */
import { workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { installSharedDataCache, prefetchDataset } from '../data/index.js';
import { linalg } from '../linalg/index.js';
import { useLinalg } from '../linalg/select.js';
import type { TaskReporter } from '../tasks/types.js';
import type { ChannelEvent, CoordinatorChannel, JobResult, WorkerJob } from './channel.js';
import type { PoolWorkerData, WarmUp } from './pool.js';

// the dataset classes this pool's threads share (absent when run outside `createPool`)
installSharedDataCache((workerData as PoolWorkerData | null)?.data);

/**
 * Events are sent at most this often (ms), in one message: a message per event would dominate
 * short tasks. The `end` of a task that ran at least this long is sent at once.
 */
const FLUSH_MS = 20;

/** The reporter of a job: batches events into messages; `settled()` awaits every message sent. */
function jobReporter(remote: Comlink.Remote<CoordinatorChannel>): { reporter: TaskReporter; taskStarts(): void; settled(): Promise<void> } {
  const inflight: Promise<unknown>[] = [];
  const outbox: ChannelEvent[] = [];
  let lastFlush = performance.now();
  let taskStart = lastFlush;
  const flush = (): void => {
    lastFlush = performance.now();
    if (outbox.length) inflight.push((remote.events(outbox.splice(0)) as Promise<unknown>).catch(() => undefined));
  };
  const post = (e: ChannelEvent, urgent = false): void => {
    outbox.push(e);
    if (urgent || performance.now() - lastFlush >= FLUSH_MS) flush();
  };
  const reporter: TaskReporter = {
    progress: (taskId, fraction, note) => post({ type: 'progress', taskId, fraction, note }),
    metrics: (taskId, rows) => post({ type: 'metrics', taskId, rows }),
    end: (taskId, end) => {
      const ms = performance.now() - taskStart;
      post({ type: 'end', taskId, end, durationS: ms / 1000 }, ms >= FLUSH_MS);
    },
    checkpoint: (taskId, step, data) => {
      flush(); // the rows before a checkpoint travel first
      // transferred, not copied: the task hands over a fresh buffer
      const p = (remote.checkpoint(taskId, step, Comlink.transfer(data, [data.buffer as ArrayBuffer])) as Promise<void>).catch(() => undefined);
      inflight.push(p);
      return p;
    },
  };
  return {
    reporter,
    taskStarts: () => (taskStart = performance.now()),
    settled: async () => {
      flush();
      await Promise.all(inflight);
    },
  };
}

/**
 * The registry (kind descriptors, their param schemas), imported once per thread on its first job
 * or warm-up, not at thread start: pool threads start while `run` reads the spec, and start faster
 * without it.
 */
let registryModule: Promise<typeof import('../tasks/registry.js')> | undefined;
const registry = (): Promise<typeof import('../tasks/registry.js')> => (registryModule ??= import('../tasks/registry.js'));

/**
 * Piscina task `warm` (`pool.ts` `warmPool`): load the task code of `w.kind` and read the dataset
 * classes of `w.data` that no other thread of the pool has taken. Never throws: a problem (a
 * missing file, bad params) is reported by the job that meets it.
 */
export async function warm(w: WarmUp): Promise<void> {
  try {
    const { importKind, loadRunner } = await registry();
    await loadRunner(await importKind(w.kind, w.kindModule));
    if (w.data) prefetchDataset(w.data);
  } catch {
    // the first job reports it
  }
}

/**
 * Run one job (grid points of one kind) and report per-task errors in the result.
 * Every message sent is awaited before returning, so the coordinator has received (and, for
 * `end` and `checkpoint`, persisted) everything when the piscina task resolves.
 */
export default async function runJob(job: WorkerJob): Promise<JobResult> {
  const remote = Comlink.wrap<CoordinatorChannel>(nodeEndpoint(job.port as unknown as Parameters<typeof nodeEndpoint>[0]));
  const { reporter, taskStarts, settled } = jobReporter(remote);
  const errors: Record<string, string> = {};
  try {
    useLinalg(job.linalg, job.blasThreads);
    const { importKind, loadRunner } = await registry();
    const kind = await importKind(job.kind, job.kindModule);
    if (kind.execution === 'batch') {
      const run = await loadRunner(kind);
      Atomics.store(job.started, 0, job.tasks.length);
      await run(job.tasks, { reporter });
    } else {
      const run = await loadRunner(kind);
      for (const [i, task] of job.tasks.entries()) {
        Atomics.store(job.started, 0, i + 1);
        taskStarts();
        try {
          await run(task, { reporter });
        } catch (e) {
          errors[task.id] = e instanceof Error ? (e.stack ?? e.message) : String(e);
        }
      }
    }
  } finally {
    await settled();
    remote[Comlink.releaseProxy]();
    job.port.close();
  }
  return { backend: linalg().name, errors };
}
