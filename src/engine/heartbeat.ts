/**
 * The heartbeat of a coordinator: every `leaseMs / 4` it extends the leases of the grid points
 * it is running (database clock) and records itself in `workers`, so that `status` shows it and
 * other processes take its points over only once it has stopped beating for a whole lease.
 */
import { StoreError } from '../store/errors.js';
import type { Store } from '../store/store.js';

/**
 * Start beating for `owner`; `held()` lists the task ids it runs now. A failed beat is retried at
 * the next one. `onFatal` is called when renewals keep failing for half a lease for a reason
 * other than a lost server (e.g. an SQLite database busy for long); a lost server is waited out
 * (the points keep computing, and a late finish is arbitrated by the store). Returns `stop`.
 */
export function startHeartbeat(store: Store, owner: string, leaseMs: number, held: () => string[], onFatal: (e: unknown) => void): () => void {
  let lastRenew = Date.now();
  let renewing = false;
  const beat = (): void => {
    if (renewing) return;
    renewing = true;
    store
      .renewLeases(owner, leaseMs, held())
      .then(() => (lastRenew = Date.now()))
      .catch((e) => {
        const lostServer = e instanceof StoreError && e.transient;
        if (!lostServer && Date.now() - lastRenew > leaseMs / 2) onFatal(e);
      })
      .finally(() => (renewing = false));
  };
  beat();
  const timer = setInterval(beat, Math.max(100, leaseMs / 4));
  return () => clearInterval(timer);
}
