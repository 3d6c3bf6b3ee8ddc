/** `ntk-sweep run <spec>`: validate, expand, register and execute a sweep (resuming it if it exists). */
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import type { Argv } from 'yargs';
import { checkDataParams, type DataParams } from '../../data/index.js';
import { relocateCsv } from '../../data/csv.js';
import { Coordinator, type RunSummary } from '../../engine/coordinator.js';
import { makeProgress, nullProgress, type ProgressSink } from '../../engine/progress.js';
import { SpecError } from '../../spec/errors.js';
import { checkGridSize, DEFAULT_MAX_POINTS, specHash } from '../../spec/expand.js';
import { migrateCsvIds } from '../../spec/legacy-ids.js';
import { loadSpecFile, type SweepSpec } from '../../spec/spec.js';
import type { Params } from '../../tasks/types.js';
import { DEFAULT_DB, SqliteStore } from '../../store/sqlite-store.js';
import { encodeParams } from '../../util/json.js';
import { linalgFallbackReason, useLinalg } from '../../linalg/select.js';
import { badOption, CliError, EXIT, EXIT_HELP } from '../exit.js';
import { describeSpecChange } from '../spec-diff.js';
import { registrationChunks, scanGrid, type GridScan } from '../grid-registration.js';

interface RunArgs {
  spec: string;
  db: string;
  threads: number;
  json: boolean;
  quiet: boolean;
  'max-attempts'?: number;
  'retry-failed': boolean;
  drain: boolean;
  linalg: string;
  'max-memory'?: number;
  lease: number;
  'blas-threads': string;
  memory?: string;
  'max-points': number;
}

export function registerRun(y: Argv): Argv {
  return y.command<RunArgs>(
    'run <spec>',
    'Run (or resume) the sweep described by a YAML spec',
    (c) =>
      c
        .positional('spec', { type: 'string', demandOption: true, describe: 'Sweep spec, e.g. sweeps/quickstart.yaml' })
        .option('threads', { type: 'number', default: availableParallelism(), describe: 'Worker threads (default: all cores)' })
        .option('json', { type: 'boolean', default: false, describe: 'Print the summary as JSON on stdout (total, already_done, executed, failed, ...)' })
        .option('quiet', { type: 'boolean', default: false, describe: 'No progress output' })
        .option('max-attempts', { type: 'number', describe: 'Attempts per grid point before it stays failed (default: the spec\'s max_attempts, else 3)' })
        .option('retry-failed', { type: 'boolean', default: false, describe: 'Also retry grid points whose attempts are exhausted' })
        .option('drain', { type: 'boolean', default: false, describe: 'On Ctrl-C/SIGTERM let running grid points finish instead of aborting them' })
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
            'GiB of RAM the pool may plan for (default: 85% of this machine\'s). A job starts only while the estimated ' +
            'peaks of the running jobs plus its own fit, so big kernel jobs (about 13 GiB at n_train 20,000) do not run side by side',
        })
        .option('max-points', {
          type: 'number',
          default: DEFAULT_MAX_POINTS,
          describe: 'Largest grid (product of the grid list lengths) run accepts; a bigger one is refused before anything is written (exit 2)',
        })
        .option('lease', {
          type: 'number',
          default: 30,
          describe: 'Lease of a running grid point in seconds, renewed every quarter; another run takes the point over once it expires (at once if the owner process died on this host)',
        })
        .example('$0 run sweeps/quickstart.yaml', 'run the quickstart sweep on all cores')
        .example('$0 run sweeps/quickstart.yaml --threads 1 --json', 'one thread, machine-readable summary')
        .epilog(
          'Re-running the same spec executes nothing already done: that is the resume. Ctrl-C stops ' +
            'dispatching, returns running grid points to pending (with --drain: lets them finish) and exits 130 ' +
            '(SIGTERM: 143); a second Ctrl-C exits at once, and the next run takes over its grid points immediately. ' +
            'Several runs of one sweep on one database split the work. ' +
            EXIT_HELP,
        ),
    async (a) => {
      process.exitCode = await run(a);
    },
  );
}

function checkData(data: Iterable<Params>): void {
  const problems = new Set<string>();
  for (const dp of data) for (const p of checkDataParams(dp as unknown as DataParams)) problems.add(`dataset: ${p}`);
  if (problems.size) throw new SpecError([...problems]);
}

async function run(a: RunArgs): Promise<number> {
  // Signals are handled from the first moment: before the coordinator exists there is nothing
  // to stop (any transaction in flight is rolled back by SQLite), so exit at once.
  // After the coordinator has returned (closing the database, printing the summary) a signal
  // also exits at once, with the signal's exit code: the handlers stay installed until the end.
  let coord: Coordinator | null = null;
  let progress: ProgressSink = nullProgress;
  let ended = false;
  let signalCode: number = EXIT.OK;
  const onSignal = (sig: 'SIGINT' | 'SIGTERM') => () => {
    const code = sig === 'SIGINT' ? EXIT.SIGINT : EXIT.SIGTERM;
    if (!coord || signalCode !== EXIT.OK || ended) {
      process.stderr.write(`\n${sig}: exiting now; the database is consistent and the next run resumes\n`);
      process.exit(code);
    }
    signalCode = code;
    progress.stop(); // the bar would otherwise redraw over the messages
    process.stderr.write(
      `\n${sig}: stopping; ${a.drain ? 'letting running grid points finish' : 'running grid points go back to pending'} (${sig === 'SIGINT' ? 'Ctrl-C' : 'signal'} again to exit at once)\n`,
    );
    coord.stop(a.drain ? 'drain' : 'abort');
  };
  const hInt = onSignal('SIGINT');
  const hTerm = onSignal('SIGTERM');
  process.on('SIGINT', hInt);
  process.on('SIGTERM', hTerm);
  try {
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
    let backendName: string;
    try {
      backendName = useLinalg(a.linalg, 1);
    } catch (e) {
      throw new CliError(`--linalg ${a.linalg}: ${(e as Error).message}`, EXIT.USAGE);
    }
    const fallback = linalgFallbackReason();
    if (fallback && !a.quiet) process.stderr.write(`native backend unavailable (${fallback}); using the ${backendName} backend\n`);
    const spec = loadSpecFile(a.spec);
    const specDir = dirname(a.spec);
    let scan: GridScan;
    let total: number;
    try {
      if (!(Number.isInteger(a['max-points']) && a['max-points'] >= 1)) throw badOption('--max-points', 'a positive integer', a['max-points']);
      total = checkGridSize(spec, a['max-points']);
      scan = await scanGrid(spec, specDir);
      checkData(scan.data.values());
    } catch (e) {
      if (e instanceof SpecError) throw new SpecError(e.problems, a.spec);
      throw e;
    }
    // a changed csv file changes every task id: make it part of the spec so the drift notice says so
    if (typeof scan.first?.data_sha256 === 'string') spec.dataset.data_sha256 = scan.first.data_sha256;
    const store = await SqliteStore.open(a.db);
    try {
      const existing = (await store.sweeps()).find((w) => w.name === spec.name);
      if (existing && existing.kind !== spec.kind) {
        throw new CliError(
          `${a.spec}: sweep ${spec.name} already exists with kind ${existing.kind}; a sweep cannot change kind (its grid points would mix ${existing.kind} and ${spec.kind} results). Give this spec another name.`,
          EXIT.USAGE,
        );
      }
      if (spec.dataset.dataset === 'csv') {
        const moved = await migrateCsvIds(store);
        if (moved > 0 && !a.quiet) process.stderr.write(`note: ${moved} csv grid point${moved === 1 ? '' : 's'} of this database re-identified by the data's content instead of its path\n`);
      }
      const specJson = encodeParams(spec as unknown as Record<string, unknown>);
      const reg = await store.registerSweep({ name: spec.name, kind: spec.kind, specJson, specHash: specHash(spec) }, registrationChunks(spec, specDir, total, a.quiet || a.json));
      if (reg.previousSpecJson && !a.json) {
        process.stderr.write(describeSpecChange(spec.name, reg.previousSpecJson, specJson, reg.attached) + '\n');
      }
      const units = scan.units;
      progress = a.quiet ? nullProgress : makeProgress();
      coord = new Coordinator(store, {
        threads: a.threads,
        maxAttempts: a['max-attempts'] ?? spec.max_attempts,
        retryFailed: a['retry-failed'],
        linalg: a.linalg,
        blasThreads,
        backendName,
        maxOrdersPerBatch: Math.max(1, Math.ceil(units / (2 * a.threads))),
        maxOldGenerationSizeMb: mm,
        leaseMs: Math.round(a.lease * 1000),
        memoryBudgetBytes: memoryGiB === undefined ? undefined : memoryGiB * 2 ** 30,
        notice: (m) => {
          // on its own line; a progress bar redraws below it at its next update
          if (!a.quiet) process.stderr.write(`\nnote: ${m}\n`);
        },
        progress,
        relocate: spec.dataset.dataset === 'csv' && scan.first ? relocateCsv(scan.first) : undefined,
      });
      let summary: RunSummary;
      try {
        summary = await coord.run(spec.name, spec.kind);
      } finally {
        ended = true;
      }
      if (a.json) process.stdout.write(JSON.stringify({ ...summary, db: a.db, new_grid_points: reg.inserted }, null, 2) + '\n');
      else printSummary(summary, a.db);
      if (signalCode !== EXIT.OK) return signalCode;
      return summary.failed > 0 ? EXIT.FAILED : EXIT.OK;
    } finally {
      await store.close();
    }
  } finally {
    ended = true;
  }
}

function printSummary(s: RunSummary, db: string): void {
  const lines = [
    `sweep ${s.sweep}: ${s.total} grid point${s.total === 1 ? '' : 's'}; ${s.already_done} already done, ${s.executed} executed now, ` +
      `${s.failed} failed, ${s.diverged} diverged, ${s.pending} pending` +
      (s.running_elsewhere ? `, ${s.running_elsewhere} running in another process` : '') +
      ` (${s.threads} threads, ${s.elapsed_s.toFixed(1)} s${s.backend ? ', linalg ' + s.backend : ''})`,
  ];
  if (s.interrupted) lines.push('interrupted: run the same command again to resume');
  if (s.failed) lines.push(`failures: npx ntk-sweep status ${s.sweep} --db ${db}`);
  lines.push(`results: npx ntk-sweep query "SELECT * FROM results WHERE sweep = '${s.sweep}' LIMIT 20" --db ${db}`);
  process.stdout.write(lines.join('\n') + '\n');
}

export { DEFAULT_DB };
