/**
 * Taking over the grid points of coordinators that are gone: expired leases (any host; the
 * lease runs on the database clock), and at once the leases of dead processes on this host
 * (the fast path: no need to wait for the lease to expire after a kill -9 here).
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseOwner } from '../store/protocol.js';
import type { Store } from '../store/store.js';

/**
 * Whether process `pid` on this host is alive. Our own pid is not "alive" for a foreign owner id
 * (the pid was reused after that owner died); a zombie (exited, not yet reaped) is dead.
 */
export function isAlive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
  } catch {
    // no procfs (macOS): trust kill(pid, 0)
  }
  return true;
}

/**
 * This machine's name in owner ids: `NTK_SWEEP_HOSTNAME`, else the OS host name (containers on
 * one host that share no pid namespace should each set a distinct one).
 */
export function hostName(): string {
  return process.env.NTK_SWEEP_HOSTNAME || hostname();
}

/** Whether `owner` is a process of this host that no longer runs (false for other hosts). */
export function isDeadHere(owner: string): boolean {
  const parsed = parseOwner(owner);
  return !!parsed && parsed.host === hostName() && !isAlive(parsed.pid);
}

/**
 * Return expired leases, and leases of dead coordinators on this host, to `pending`, except
 * those of `self`. Returns how many points were returned.
 */
export async function reclaimLeases(store: Store, self: string): Promise<number> {
  let n = await store.reclaimExpired();
  for (const owner of await store.leaseOwners()) {
    if (owner !== self && isDeadHere(owner)) n += await store.releaseTasks(owner, undefined, `owner process ${parseOwner(owner)!.pid} is dead`);
  }
  return n;
}
