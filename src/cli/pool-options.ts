/**
 * The options of the commands that execute grid points (`run`, `worker`): pool threads, BLAS
 * threads, linear-algebra backend, memory limits, lease, attempts. Defined and checked once here.
 */
import { availableParallelism } from 'node:os';
import type { Argv } from 'yargs';
import type { RunOptions } from '../engine/coordinator.js';
import { badOption, CliError, EXIT } from './exit.js';

export interface PoolArgs {
  threads: number;
  quiet: boolean;
  'max-attempts'?: number;
  'retry-failed': boolean;
  linalg: string;
  'max-memory'?: number;
  lease: number;
  'blas-threads': string;
  memory?: string;
}

/** Add the pool options to a command. */
export function poolOptions<T>(c: Argv<T>): Argv<T & PoolArgs> {
  return c
    .option('threads', { type: 'number', default: availableParallelism(), describe: 'Worker threads (default: all cores)' })
    .option('quiet', { type: 'boolean', default: false, describe: 'No progress output' })
    .option('max-attempts', { type: 'number', describe: "Attempts per grid point before it stays failed (default: the spec's max_attempts, else 3)" })
    .option('retry-failed', { type: 'boolean', default: false, describe: 'Also retry grid points whose attempts are exhausted' })
    .option('linalg', { type: 'string', default: 'auto', choices: ['auto', 'js', 'ml-matrix', 'native'], describe: 'Linear-algebra backend' })
    .option('max-memory', {
      type: 'number',
      describe: 'Per-worker V8 heap limit in MiB; a grid point exceeding it fails instead of the run (default: half the RAM shared by the threads, 256..2048; 0 = V8 default)',
    })
    .option('blas-threads', {
      type: 'string',
      default: '1',
      describe:
        'BLAS threads per job (pool threads × BLAS threads ≤ cores). A number fixes it (1: bit-identical results ' +
        'whatever --threads); "auto" gives the spare cores to the last jobs of a sweep (faster, last-bit differences)',
    })
    .option('memory', {
      type: 'string',
      describe:
        "GiB of RAM the pool may plan for (default: 85% of this machine's). A job starts only while the estimated " +
        'peaks of the running jobs plus its own fit, so big kernel jobs (about 7.7 GiB at n_train 20,000) do not run side by side',
    })
    .option('lease', {
      type: 'number',
      default: 30,
      describe:
        'Lease of a running grid point in seconds (database clock), renewed every quarter; another process takes the point over ' +
        'once it expires (at once if the owner process died on the same host). Default 30: a killed worker\'s points run again within about 30 s',
    }) as unknown as Argv<T & PoolArgs>;
}

/** Checked pool options, without what depends on the sweep (attempts, batch splitting, progress). */
export type PoolSettings = Omit<RunOptions, 'maxAttempts' | 'maxOrdersPerBatch' | 'progress' | 'notice'> & { maxAttempts?: number };

/** The smallest `--memory` budget accepted, GiB. */
export const MIN_MEMORY_GIB = 0.25;

/**
 * Check the pool options and resolve the linear-algebra backend (noting a fallback on stderr
 * unless quiet). The backend modules are loaded here, not when the options are declared.
 * @throws CliError (exit 2) naming the option.
 */
export async function resolvePoolOptions(a: PoolArgs): Promise<PoolSettings> {
  if (!Number.isInteger(a.threads) || a.threads < 1) throw badOption('--threads', 'a positive integer', a.threads);
  if (!(a.lease >= 0.2 && a.lease <= 86_400)) throw badOption('--lease', 'a number of seconds between 0.2 and 86400', a.lease);
  const mm = a['max-memory'];
  // below ~64 MiB a worker thread cannot even start (piscina then fails the whole pool)
  if (mm !== undefined && !(Number.isInteger(mm) && (mm === 0 || mm >= 64))) throw badOption('--max-memory', 'a number of MiB ≥ 64, or 0 for the V8 default', mm);
  const ma = a['max-attempts'];
  if (ma !== undefined && !(Number.isInteger(ma) && ma >= 1)) throw badOption('--max-attempts', 'a positive integer', ma);
  const memoryGiB = a.memory === undefined ? undefined : Number(a.memory);
  if (memoryGiB !== undefined && !(memoryGiB > 0 && Number.isFinite(memoryGiB) && a.memory!.trim() !== '')) {
    throw new CliError(`--memory: expected a positive number of GiB, got ${JSON.stringify(a.memory)}`, EXIT.USAGE);
  }
  if (memoryGiB !== undefined && memoryGiB < MIN_MEMORY_GIB) {
    // a worker thread with a dataset needs more than this: such a budget is a unit slip (MiB for GiB)
    throw new CliError(`--memory: ${a.memory} GiB is below the smallest budget, ${MIN_MEMORY_GIB} GiB (one worker thread and its data); --memory is in GiB, e.g. --memory 8`, EXIT.USAGE);
  }
  const bt = a['blas-threads'];
  const blasThreads: number | 'auto' = bt === 'auto' ? 'auto' : Number(bt);
  if (blasThreads !== 'auto' && !(Number.isInteger(blasThreads) && blasThreads >= 1)) {
    throw new CliError(`--blas-threads: expected a positive integer or auto, got ${bt}`, EXIT.USAGE);
  }
  const cores = availableParallelism();
  if (blasThreads !== 'auto' && a.threads * blasThreads > cores && !a.quiet) {
    process.stderr.write(`note: --threads ${a.threads} × --blas-threads ${blasThreads} = ${a.threads * blasThreads} threads on ${cores} cores: oversubscribed, jobs will compete for cores\n`);
  }
  // resolve the backend the workers will pick (same rules, same machine), and say so once
  const { linalgFallbackReason, useLinalg } = await import('../linalg/select.js');
  let backendName: string;
  try {
    backendName = useLinalg(a.linalg, 1);
  } catch (e) {
    throw new CliError(`--linalg ${a.linalg}: ${(e as Error).message}`, EXIT.USAGE);
  }
  const fallback = linalgFallbackReason();
  if (fallback && !a.quiet) process.stderr.write(`native backend unavailable (${fallback}); using the ${backendName} backend\n`);
  return {
    threads: a.threads,
    maxAttempts: ma,
    retryFailed: a['retry-failed'],
    linalg: a.linalg,
    blasThreads,
    backendName,
    maxOldGenerationSizeMb: mm,
    leaseMs: Math.round(a.lease * 1000),
    memoryBudgetBytes: memoryGiB === undefined ? undefined : memoryGiB * 2 ** 30,
  };
}

/** Batch splitting: at most this many depths per kernel job, so every thread gets work. */
export function ordersPerBatch(units: number, threads: number): number {
  return Math.max(1, Math.ceil(units / (2 * threads)));
}

/** A one-line notice on its own line (a progress bar redraws below it at its next update). */
export function noticeTo(quiet: boolean): (m: string) => void {
  return (m) => {
    if (!quiet) process.stderr.write(`\nnote: ${m}\n`);
  };
}
