/**
 * Piscina worker entry: runs one {@link WorkerJob} and streams everything back over the comlink
 * channel. Workers never touch the database (design.md §3).
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
  };
  const errors: Record<string, string> = {};
  try {
    useLinalg(job.linalg, job.blasThreads);
    if (job.kind === 'kernel') {
      await runKernelBatch(job.tasks, { reporter });
    } else {
      for (const task of job.tasks) {
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
