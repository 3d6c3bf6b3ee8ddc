/**
 * Who runs a grid point: the owner id a coordinator holds its leases under
 * (docs/architecture.md §3), and the run facts stored with each point it finishes.
 */
import { randomUUID } from 'node:crypto';
import { hostName } from './lease.js';

/** A fresh owner id `host:pid:random` (`store/protocol.ts` `parseOwner` reads it back). */
export function newOwnerId(): string {
  return `${hostName()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/** What a finished grid point records about its execution (`run_info`). */
export interface RunFacts {
  owner: string;
  /** Pool threads of the run. */
  threads: number;
  /** BLAS threads of the job that ran the point. */
  blas_threads: number;
  /** Linear-algebra backend the workers used (or the one resolved for them), if known. */
  backend: string | null;
  /** Step of the checkpoint the point continued from, if any. */
  resumed_from_step?: number;
}
