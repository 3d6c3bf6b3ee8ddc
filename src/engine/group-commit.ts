/**
 * Group commit: every item submitted while a commit is in flight is written by the next commit,
 * all together. The items submitted in one turn of the event loop (the ends of one message from a
 * worker) start a commit together, without waiting for anything else (no added latency); under
 * load, commits grow to whatever arrived meanwhile, so the cost of a transaction is shared by
 * many grid points (the engine-overhead case, `scripts/bench/engine-overhead.ts`).
 */
export class GroupCommit<I, R> {
  private queue: { item: I; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private draining: Promise<void> | null = null;

  /**
   * @param commit writes a batch in one transaction and returns one result per item, in order;
   *   if it throws, every item of that batch is rejected with the error.
   */
  constructor(private readonly commit: (items: I[]) => Promise<R[]>) {}

  /** Queue `item`; resolves with its result once the commit that contains it is durable. */
  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.draining ??= this.drain();
    });
  }

  /** Resolves once every submitted item is committed (or rejected). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      // let the rest of this turn's submissions join the first commit
      await Promise.resolve();
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0);
        try {
          const results = await this.commit(batch.map((b) => b.item));
          batch.forEach((b, i) => b.resolve(results[i]));
        } catch (e) {
          for (const b of batch) b.reject(e);
        }
      }
    } finally {
      this.draining = null;
    }
  }
}
