/**
 * `kind: debug` tasks: engine self-tests and benchmarks (fault injection, overhead). They do no
 * science. Params (defined in `tasks/kinds/debug.ts`):
 * - `x` (any number): metrics `y = x² + 1` and `sqrt_x = √x` (NaN for x < 0, stored as NULL).
 * - `sleep_ms`: busy-wait this long (CPU-bound), reporting progress.
 * - `fail`: `none` | `throw` (throws an Error) | `exit` (kills the worker thread with
 *   `process.exit(7)`) | `oom` (allocates JavaScript heap until the worker's memory limit, see
 *   `run --max-memory`).
 * - `mem_mb`: memory the point declares for the coordinator's budget (`tasks/memory.ts`); not
 *   allocated.
 * - `fail_attempts` (optional int ≥ 1): fail only on the first `fail_attempts` attempts of the
 *   grid point, then succeed (a flaky task, to test retries); unset = fail on every attempt.
 */
import { parseParams } from '../spec/params.js';
import type { TaskContext, TaskInput } from './types.js';

/**
 * Run one debug task (see the module comment for its params).
 * @throws Error when `fail: throw`; never returns when `fail: exit` or `fail: oom`.
 */
export async function runDebugTask(task: TaskInput, ctx: TaskContext): Promise<void> {
  const p = parseParams('debug', task.params);
  const x = p.x ?? 0;
  const sleep = p.sleep_ms;
  const fail = (task.attempt ?? 1) <= (p.fail_attempts ?? Infinity) ? p.fail : 'none';
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
  if (fail === 'throw') throw new Error(`debug task ${task.id}: failing on purpose (fail: throw, attempt ${task.attempt ?? 1})`);
  if (fail === 'exit') process.exit(7);
  if (fail === 'oom') {
    // Plain arrays of doubles live on the V8 heap, which the worker's resourceLimits cap
    // (typed arrays would not count: their memory is outside the heap).
    const hog: number[][] = [];
    for (;;) {
      const a: number[] = new Array(1 << 16);
      for (let i = 0; i < a.length; i++) a[i] = i + hog.length + 0.5;
      hog.push(a);
    }
  }
  ctx.reporter.metrics(task.id, [
    { step: 0, name: 'y', value: x * x + 1 },
    { step: 0, name: 'sqrt_x', value: Math.sqrt(x) },
  ]);
  ctx.reporter.end(task.id, { status: 'done' });
}
