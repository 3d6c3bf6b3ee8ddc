/**
 * Claiming work for one run (docs/architecture.md §3–§4): the next batch or chunk of runnable
 * grid points of a sweep under this coordinator's lease, taking over the points of gone
 * coordinators when nothing else is runnable.
 */
import type { ClaimOptions, Store } from '../store/store.js';
import type { TaskInput } from '../tasks/types.js';
import { reclaimLeases } from './lease.js';

/**
 * Chunk limits for independent grid points: at most 256 points and about 0.2 s of estimated work
 * per claim (cost units are seconds), and small enough that every thread gets about four chunks.
 * @param runnable grid points runnable when the run starts.
 */
export function chunkLimits(runnable: number, threads: number): { maxTasks: number; maxCost: number } {
  return { maxTasks: Math.max(1, Math.min(256, Math.ceil(runnable / (4 * threads)))), maxCost: 0.2 };
}

export interface ClaimerOptions extends Omit<ClaimOptions, 'owner'> {
  /** Maps a claimed point's params to this machine's copy of its input files (`RunOptions.relocate`). */
  relocate?: (params: TaskInput['params']) => TaskInput['params'];
}

/** Claims the next work of `sweep` for `owner`. */
export class Claimer {
  private lastReclaim = 0;

  constructor(
    private readonly store: Store,
    private readonly sweep: string,
    private readonly owner: string,
    private opts: ClaimerOptions,
  ) {}

  /** Change claim options (e.g. the chunk limits, once the sweep is counted). */
  configure(more: Partial<ClaimerOptions>): void {
    this.opts = { ...this.opts, ...more };
  }

  /**
   * Return expired leases, and leases of coordinators on this host that are no longer alive, to
   * pending. Rate-limited to once per 500 ms unless `force`. Returns how many points came back.
   */
  async reclaim(force: boolean): Promise<number> {
    if (!force && Date.now() - this.lastReclaim < 500) return 0;
    this.lastReclaim = Date.now();
    return reclaimLeases(this.store, this.owner);
  }

  /** The next batch or chunk; when nothing is runnable, after taking over what can be reclaimed. Empty: nothing to claim. */
  async next(): Promise<TaskInput[]> {
    const got = await this.claim();
    // nothing runnable: points of a crashed or stalled coordinator may be reclaimable
    if (got.length === 0 && (await this.reclaim(false)) > 0) return this.claim();
    return got;
  }

  private async claim(): Promise<TaskInput[]> {
    const { relocate, ...opts } = this.opts;
    const got = await this.store.claimBatch(this.sweep, { ...opts, owner: this.owner });
    return relocate ? got.map((t) => ({ ...t, params: relocate(t.params) })) : got;
  }
}
