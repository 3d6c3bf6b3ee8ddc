/**
 * The memory budget of a pool (docs/architecture.md §4): a job starts only while the estimated
 * peaks of the running jobs plus its own fit in the budget; a job larger than the whole budget
 * runs alone. Estimates come from the task kind (`TaskKind.memoryBytes`, `tasks/memory.ts`).
 */
import { totalmem } from 'node:os';

/** Default memory budget: 85 % of this machine's RAM. */
export function defaultMemoryBudget(): number {
  return 0.85 * totalmem();
}

/** Bytes as GiB with one decimal, for messages. */
export function gib(bytes: number): string {
  return (bytes / 2 ** 30).toFixed(1);
}

/** The running jobs of a pool, each with the peak bytes reserved for it. */
export class MemoryBudget {
  private readonly active = new Map<Promise<void>, number>();
  private overNoted = false;

  /** @param bytes what the pool may plan for; `notice` hears once of a job larger than that. */
  constructor(
    readonly bytes: number,
    private readonly notice?: (message: string) => void,
  ) {}

  /** Jobs running now. */
  get running(): number {
    return this.active.size;
  }

  /** Bytes reserved by the running jobs. */
  reserved(): number {
    let sum = 0;
    for (const b of this.active.values()) sum += b;
    return sum;
  }

  /**
   * Whether a job of `bytes` may start now (always when nothing runs: a job larger than the
   * budget runs alone). `what` names the job in the notice, e.g. `a kernel job`.
   */
  fits(bytes: number, what = 'a job'): boolean {
    if (bytes > this.bytes && !this.overNoted) {
      this.overNoted = true;
      this.notice?.(`${what} needs about ${gib(bytes)} GiB, more than the memory budget of ${gib(this.bytes)} GiB: such jobs run alone (see --memory)`);
    }
    return this.active.size === 0 || this.reserved() + bytes <= this.bytes;
  }

  /** Why a job of `bytes` waits (progress note). */
  waitingNote(bytes: number): string {
    return `next job (${gib(bytes)} GiB) waits for memory: running jobs hold ${gib(this.reserved())} GiB, budget ${gib(this.bytes)} GiB`;
  }

  /** Reserve `bytes` for `job` until it settles. */
  hold(job: Promise<void>, bytes: number): void {
    const p = job.finally(() => this.active.delete(p));
    this.active.set(p, bytes);
  }

  /** Resolves when one of the running jobs ends (never when none runs). */
  anyEnded(): Promise<void> {
    return Promise.race(this.active.keys());
  }

  /** Resolves when every running job has ended. */
  async allEnded(): Promise<void> {
    await Promise.allSettled([...this.active.keys()]);
  }
}
