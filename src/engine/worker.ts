/**
 * Piscina worker entry: runs one {@link WorkerJob} and streams everything back over the comlink
 * channel. Workers never touch the database (design.md §3): progress, metric rows and checkpoint
 * bytes all go to the coordinator, which writes them.
 */
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { linalg } from '../linalg/index.js';
import { useLinalg } from '../linalg/select.js';
import { runDebugTask } from '../tasks/debug.js';
import { runKernelBatch } from '../tasks/kernel.js';
import { runTrainTask } from '../tasks/train.js';
import type { TaskReporter } from '../tasks/types.js';
import type { CoordinatorChannel, JobResult, WorkerJob } from './channel.js';

/**
 * Run one job (a batch of grid points of one kind) and report per-task errors in the result.
 * Every message sent is awaited before returning, so the coordinator has received (and, for
 * `end` and `checkpoint`, persisted) everything when the piscina task resolves.
 */
export default async function runJob(job: WorkerJob): Promise<JobResult> {
  const remote = Comlink.wrap<CoordinatorChannel>(nodeEndpoint(job.port as unknown as Parameters<typeof nodeEndpoint>[0]));
  const inflight: Promise<unknown>[] = [];
  const send = (p: Promise<unknown>): void => {
    inflight.push(p.catch(() => undefined));
  };
  const reporter: TaskReporter = {
    progress: (id, fraction, note) => send(remote.progress(id, fraction, note) as Promise<unknown>),
    metrics: (id, rows) => send(remote.metrics(id, rows) as Promise<unknown>),
    end: (id, end) => send(remote.end(id, end) as Promise<unknown>),
    checkpoint: (id, step, data) => {
      // transferred, not copied: the task hands over a fresh buffer
      const p = (remote.checkpoint(id, step, Comlink.transfer(data, [data.buffer as ArrayBuffer])) as Promise<void>).catch(() => undefined);
      inflight.push(p);
      return p;
    },
  };
  const errors: Record<string, string> = {};
  try {
    useLinalg(job.linalg, job.blasThreads);
    if (job.kind === 'kernel') {
      for (const task of job.tasks) send(remote.start(task.id) as Promise<unknown>);
      await runKernelBatch(job.tasks, { reporter });
    } else {
      for (const task of job.tasks) {
        send(remote.start(task.id) as Promise<unknown>);
        try {
          if (job.kind === 'train') await runTrainTask(task, { reporter });
          else await runDebugTask(task, { reporter });
        } catch (e) {
          errors[task.id] = e instanceof Error ? (e.stack ?? e.message) : String(e);
        }
      }
    }
  } finally {
    await Promise.all(inflight);
    remote[Comlink.releaseProxy]();
    job.port.close();
  }
  return { backend: linalg().name, errors };
}
