/**
 * `ntk-sweep worker`: run the registered sweeps of a database (all, or the named ones) on this
 * machine, alongside any number of other workers on other machines sharing the database. It
 * exits when nothing is left, or waits for new points (`--idle-exit`), woken by `LISTEN/NOTIFY`
 * on PostgreSQL. SIGTERM or SIGUSR1 (Slurm's `--signal=USR1@120`) drain it.
 */
import type { Piscina } from 'piscina';
import type { Argv } from 'yargs';
import type { JobKind } from '../../engine/channel.js';
import type { Coordinator } from '../../engine/coordinator.js';
import type { Store, SweepRecord } from '../../store/store.js';
import type { Params } from '../../tasks/types.js';
import { badOption, CliError, EXIT, EXIT_HELP, takeOverSignals } from '../exit.js';
import { noticeTo, ordersPerBatch, poolOptions, resolvePoolOptions, type PoolArgs, type PoolSettings } from '../pool-options.js';

interface WorkerArgs extends PoolArgs {
  db: string;
  sweep?: string[];
  spec?: string[];
  'idle-exit': number;
}

type Stop = 'no' | 'drain' | 'abort';

export function registerWorker(y: Argv): Argv {
  return y.command<WorkerArgs>(
    'worker',
    'Run the runnable grid points of every registered sweep (or of --sweep NAME…), sharing the work with workers on other machines',
    (c) =>
      poolOptions(c)
        .option('sweep', { type: 'string', array: true, describe: 'Only these sweeps (default: every sweep with runnable points)' })
        .option('spec', {
          type: 'string',
          array: true,
          describe:
            "This machine's copy of a sweep's spec (csv data): grid points whose csv file has the same content (SHA-256) read this machine's copy, " +
            'wherever the sweep was submitted from',
        })
        .option('idle-exit', {
          type: 'number',
          default: 0,
          describe:
            'Once nothing is left to run, wait this many seconds for new grid points (submit, or points returned by a dead worker) before exiting; ' +
            '-1 waits forever. While other workers still hold points, a worker always waits, to take them over should their owner die',
        })
        .example('$0 worker --db postgres://ntk@dbhost/ntk', 'work on every sweep of a shared database')
        .example('$0 worker --db postgres://ntk@dbhost/ntk --sweep quickstart --threads 8 --idle-exit 600', 'one sweep; wait up to 10 min for more')
        .example('$0 worker --db postgres://ntk@dbhost/ntk --spec ~/proj/sweeps/my-csv.yaml', "csv data: use this machine's copy of the files")
        .epilog(
          'SIGTERM or SIGUSR1 (Slurm: sbatch --signal=USR1@120) drain the worker: it stops claiming, lets running grid points finish, ' +
            'and exits (143 after SIGTERM, 0 after SIGUSR1); a second signal returns running points to pending at once, a third exits at once. ' +
            'A worker cut off from PostgreSQL keeps computing and reconnects with backoff for up to NTK_SWEEP_RECONNECT_S seconds (default 600). ' +
            EXIT_HELP,
        ),
    async (a) => {
      process.exitCode = await work(a);
    },
  );
}

/** Whether a sweep has points this worker can claim now (pending, or failed with attempts left). */
async function runnable(store: Store, s: SweepRecord, maxAttempts: number, retryFailed: boolean): Promise<{ yes: boolean; running: number }> {
  const c = await store.counts(s.name);
  if (c.pending > 0) return { yes: true, running: c.running };
  const retry = c.failed > 0 && (retryFailed || (await store.failures(s.name)).some((f) => f.attempts < maxAttempts));
  return { yes: retry, running: c.running };
}

/**
 * Where this machine keeps the csv data of grid points: one relocation per local spec copy
 * (`--spec`), the first that recognizes a point's data by its content wins.
 * @throws SpecError or DataError for a bad spec or unreadable data (exit 2).
 */
async function localData(specs: string[] | undefined): Promise<((p: Params) => Params) | undefined> {
  if (!specs?.length) return undefined;
  const { prepareSpec } = await import('../submit-spec.js');
  const moves: ((p: Params) => Params)[] = [];
  for (const path of specs) {
    const prepared = await prepareSpec(path);
    if (!prepared.relocate) throw new CliError(`--spec ${path}: sweep ${prepared.spec.name} has no csv data; --spec tells a worker where its csv files are`, EXIT.USAGE);
    moves.push(prepared.relocate);
  }
  return (p) => {
    for (const m of moves) {
      const q = m(p);
      if (q !== p) return q;
    }
    return p;
  };
}

/** The spec's max_attempts of a registered sweep (3 when absent). */
function specAttempts(s: SweepRecord): number {
  const m = (JSON.parse(s.specJson) as { max_attempts?: unknown }).max_attempts;
  return typeof m === 'number' ? m : 3;
}

/**
 * A worker's signal handling: the first SIGTERM/SIGUSR1/SIGINT drains (no new claims; running
 * points finish), the second returns running points to pending, the third exits at once.
 * `code()` is the exit code the first signal asks for.
 */
function workerSignals(say: (m: string) => void, coordinator: () => Coordinator | null): { stop(): Stop; code(): number; dispose(): void } {
  let stop: Stop = 'no';
  let count = 0;
  let code: number = EXIT.OK;
  const onSignal = (sig: NodeJS.Signals) => () => {
    count++;
    if (count === 1) code = sig === 'SIGINT' ? EXIT.SIGINT : sig === 'SIGTERM' ? EXIT.SIGTERM : EXIT.OK;
    if (count >= 3) process.exit(code || EXIT.SIGTERM);
    stop = count === 1 ? 'drain' : 'abort';
    say(stop === 'drain' ? `${sig}: draining (no new claims; running grid points finish); signal again to return them to pending` : `${sig}: returning running grid points to pending`);
    coordinator()?.stop(stop);
  };
  const handlers = (['SIGTERM', 'SIGUSR1', 'SIGINT'] as const).map((s) => [s, onSignal(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  takeOverSignals();
  return {
    stop: () => stop,
    code: () => code,
    dispose: () => {
      for (const [s, h] of handlers) process.off(s, h);
    },
  };
}

/** @throws CliError (usage) naming each of `names` that is not a sweep of `store`. */
async function checkSweepNames(store: Store, names: string[] | undefined, db: string): Promise<void> {
  if (!names?.length) return;
  const known = new Set((await store.sweeps()).map((s) => s.name));
  const missing = names.filter((n) => !known.has(n));
  if (missing.length) throw new CliError(`--sweep: no sweep named ${missing.join(', ')} in ${db}; sweeps: ${[...known].join(', ') || '(none)'} (register one with \`ntk-sweep submit <spec>\`)`, EXIT.USAGE);
}

async function work(a: WorkerArgs): Promise<number> {
  if (!(Number.isFinite(a['idle-exit']) && (a['idle-exit'] >= 0 || a['idle-exit'] === -1))) throw badOption('--idle-exit', 'a number of seconds ≥ 0, or -1', a['idle-exit']);
  const pool: PoolSettings = await resolvePoolOptions(a);
  const idleMs = a['idle-exit'] === -1 ? Infinity : a['idle-exit'] * 1000;
  const relocate = await localData(a.spec);
  const say = (m: string) => {
    if (!a.quiet) process.stderr.write(`worker ${process.pid}: ${m}\n`);
  };
  let coord: Coordinator | null = null;
  const signals = workerSignals(say, () => coord);
  // loaded here, not at startup: `worker --help` and a bad command line do not pay for them
  const { createPool } = await import('../../engine/pool.js');
  // the first sweep's pool threads start (load their modules) while the database is opened and read
  let early: Piscina | undefined = createPool(pool.threads, pool.maxOldGenerationSizeMb);
  const [{ openStore, redactUrl }, { reclaimLeases }, { Coordinator }] = await Promise.all([
    import('../../store/open.js'),
    import('../../engine/lease.js'),
    import('../../engine/coordinator.js'),
  ]);
  const store = await openStore(a.db).catch(async (e: unknown) => {
    await early?.destroy();
    throw e;
  });
  try {
    const names = a.sweep;
    await checkSweepNames(store, names, redactUrl(a.db));
    let idleSince = Date.now();
    let executed = 0;
    let retryFailed = pool.retryFailed ?? false;
    say(`working on ${names?.length ? names.join(', ') : 'every sweep'} of ${redactUrl(a.db)} with ${pool.threads} threads`);
    while (signals.stop() === 'no') {
      await reclaimLeases(store, '');
      let worked = false;
      let elsewhere = 0;
      for (const s of (await store.sweeps()).filter((x) => !names?.length || names.includes(x.name))) {
        if (signals.stop() !== 'no') break;
        const maxAttempts = pool.maxAttempts ?? specAttempts(s);
        const r = await runnable(store, s, maxAttempts, retryFailed);
        elsewhere += r.running;
        if (!r.yes) continue;
        const units = await store.workUnits(s.name);
        coord = new Coordinator(store, { ...pool, retryFailed, maxAttempts, maxOrdersPerBatch: ordersPerBatch(units, pool.threads), exitWhenIdle: true, notice: noticeTo(a.quiet), relocate, pool: early });
        early = undefined; // the coordinator destroys it when its run ends
        const sum = await coord.run(s.name, s.kind as JobKind);
        coord = null;
        executed += sum.executed;
        if (sum.executed > 0 || sum.failed_attempts_this_run > 0) {
          worked = true;
          say(`sweep ${s.name}: ${sum.executed} executed, ${sum.failed_attempts_this_run} failed attempts, ${sum.pending} pending, ${sum.running_elsewhere} running elsewhere (${sum.elapsed_s.toFixed(1)} s)`);
        }
      }
      // --retry-failed: one more attempt for the exhausted points, once per worker
      retryFailed = false;
      if (worked) {
        idleSince = Date.now();
        continue;
      }
      if (signals.stop() !== 'no') break;
      if (elsewhere === 0 && Date.now() - idleSince >= idleMs) break;
      // wake on new work; poll while other workers hold points (their leases may expire)
      await store.waitForWork(elsewhere > 0 ? Math.min(1000, Math.max(100, (pool.leaseMs ?? 30_000) / 4)) : Math.min(5000, idleMs - (Date.now() - idleSince)));
    }
    say(`${signals.stop() === 'no' ? 'nothing left to run' : 'stopped'}; executed ${executed} grid points`);
    return signals.code();
  } finally {
    await early?.destroy().catch(() => undefined);
    await store.close();
    signals.dispose();
  }
}
