/**
 * `kind: debug` tasks: engine self-tests and benchmarks (fault injection, overhead). They do no
 * science. Params: `x` (any number; metric `y = x² + 1` and `sqrt_x`), `sleep_ms` (busy-wait
 * this long, CPU-bound), `fail`: `none` | `throw` (throws an Error) | `exit` (kills the worker
 * thread) | `oom` (allocates until the worker's memory limit).
 */
import type { TaskContext, TaskInput } from './types.js';

export async function runDebugTask(task: TaskInput, ctx: TaskContext): Promise<void> {
  const p = task.params;
  const x = Number(p.x ?? 0);
  const sleep = Number(p.sleep_ms ?? 0);
  const fail = String(p.fail ?? 'none');
  const until = Date.now() + sleep;
  let acc = 0;
  let lastReport = 0;
  while (Date.now() < until) {
    for (let i = 0; i < 10_000; i++) acc += Math.sqrt(i + acc * 1e-12);
    if (Date.now() - lastReport > 200) {
      lastReport = Date.now();
      ctx.reporter.progress(task.id, 1 - (until - Date.now()) / sleep);
    }
  }
  if (fail === 'throw') throw new Error(`debug task ${task.id}: failing on purpose (fail: throw)`);
  if (fail === 'exit') process.exit(7);
  if (fail === 'oom') {
    const hog: Float64Array[] = [];
    for (;;) hog.push(new Float64Array(1 << 20).fill(hog.length));
  }
  ctx.reporter.metrics(task.id, [
    { step: 0, name: 'y', value: x * x + 1 },
    { step: 0, name: 'sqrt_x', value: Math.sqrt(x) },
  ]);
  ctx.reporter.end(task.id, { status: 'done' });
}
