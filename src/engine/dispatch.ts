/**
 * The dispatch loop of a run: claim the next work, wait for memory, start it as a job on the
 * pool, and repeat while threads are free; when nothing is claimable, wait for the running jobs,
 * or (nothing of ours running) end unless another process still holds points of the sweep.
 */
import type { TaskInput } from '../tasks/types.js';
import type { Claimer } from './claim.js';
import type { MemoryBudget } from './memory-budget.js';

/** Interruptible waits: `wake()` ends the current one early (a stop request). */
export class Waker {
  private wakeFn: (() => void) | null = null;

  /** Resolves when one of `events` settles, after `ms` (if given), or on {@link wake}. */
  async wait(events: Promise<unknown>[], ms?: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const woken = new Promise<void>((r) => {
      this.wakeFn = r;
      if (ms !== undefined) timer = setTimeout(r, ms);
    });
    try {
      await Promise.race([...events, woken]);
    } finally {
      clearTimeout(timer);
      this.wakeFn = null;
    }
  }

  wake(): void {
    this.wakeFn?.();
  }
}

/** What the loop drives. */
export interface DispatchDeps {
  threads: number;
  claimer: Claimer;
  budget: MemoryBudget;
  waker: Waker;
  /** `a <kind> job`, for the over-budget notice. */
  jobLabel: string;
  /**
   * Whether to claim the next job before a thread is free, after claiming `tasks`: for jobs so
   * short that the claim, the pool's hand-over and the last commit of a job would otherwise
   * leave the thread idle between jobs. The job waits in the pool's queue.
   */
  lookahead(tasks: TaskInput[]): boolean;
  /** Estimated peak bytes of a job of these points. */
  estimate(tasks: TaskInput[]): number;
  /** BLAS threads for the next job (thread budget). */
  blasThreads(): Promise<number>;
  /** Start a job; resolves when it has ended (it is held by the budget until then). */
  start(tasks: TaskInput[], blasThreads: number): Promise<void>;
  /** Whether the run is stopping (a signal or a fatal error). */
  stopped(): boolean;
  /** Return claimed points that will not run to pending. */
  release(tasks: TaskInput[]): Promise<void>;
  /** Whether to keep waiting while nothing of ours runs: other processes hold points of the sweep. */
  othersHold(): Promise<boolean>;
  /** Poll interval while other processes hold points (ms). */
  pollMs: number;
  /** Progress note while a job waits for memory ('' when none waits). */
  waiting(note: string): void;
}

/** Run the loop until nothing is left to claim and nothing of ours runs, or the run stops. */
export async function dispatch(d: DispatchDeps): Promise<void> {
  let ahead = 0;
  while (!d.stopped()) {
    const claimed = d.budget.running < d.threads + ahead ? await d.claimer.next() : [];
    if (claimed.length > 0) {
      ahead = d.lookahead(claimed) ? 1 : 0;
      const bytes = await admit(d, claimed);
      if (bytes === null) {
        await d.release(claimed);
        break;
      }
      const blasThreads = await d.blasThreads();
      d.budget.hold(d.start(claimed, blasThreads), bytes);
      continue;
    }
    if (d.budget.running === 0) {
      // nothing to claim and nothing of ours running: done, unless another coordinator holds points
      if (!(await d.othersHold())) break;
      await d.waker.wait([], d.pollMs);
      continue;
    }
    await d.waker.wait([d.budget.anyEnded()]);
  }
  await d.budget.allEnded();
}

/** Wait until the memory budget admits a job of `claimed`; its bytes, or null when the run stops meanwhile. */
async function admit(d: DispatchDeps, claimed: TaskInput[]): Promise<number | null> {
  if (d.stopped()) return null;
  const bytes = d.estimate(claimed);
  while (!d.budget.fits(bytes, d.jobLabel) && !d.stopped()) {
    d.waiting(d.budget.waitingNote(bytes));
    await d.waker.wait([d.budget.anyEnded()]);
  }
  d.waiting('');
  return d.stopped() ? null : bytes;
}
