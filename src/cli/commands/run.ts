/** `ntk-sweep run <spec>`: validate, expand, register and execute a sweep (resuming it if it exists): `submit` + `worker` on this machine for one sweep. */
import type { Argv } from 'yargs';
import type { Coordinator, RunSummary } from '../../engine/coordinator.js';
import type { ProgressSink } from '../../engine/progress.js';
import type { Piscina } from 'piscina';
import type { DataParams } from '../../data/index.js';
import type { SweepSpec } from '../../spec/spec.js';
import { earlySummary, EXIT, EXIT_HELP, takeOverSignals } from '../exit.js';
import { noticeTo, ordersPerBatch, poolOptions, resolvePoolOptions, type PoolArgs } from '../pool-options.js';
import { MAX_POINTS_OPTION } from '../spec-options.js';

interface RunArgs extends PoolArgs {
  spec: string;
  db: string;
  json: boolean;
  drain: boolean;
  'max-points': number;
}

export function registerRun(y: Argv): Argv {
  return y.command<RunArgs>(
    'run <spec>',
    'Run (or resume) the sweep described by a YAML spec',
    (c) =>
      poolOptions(c)
        .positional('spec', { type: 'string', demandOption: true, describe: 'Sweep spec, e.g. sweeps/quickstart.yaml' })
        .option('json', { type: 'boolean', default: false, describe: 'Print the summary as JSON on stdout (total, already_done, executed, failed, ...)' })
        .option('drain', { type: 'boolean', default: false, describe: 'On Ctrl-C/SIGTERM let running grid points finish instead of aborting them' })
        .option('max-points', MAX_POINTS_OPTION)
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

async function run(a: RunArgs): Promise<number> {
  // Signals are handled from the first moment: before the coordinator exists there is nothing
  // to stop (any transaction in flight is rolled back by SQLite), so exit at once.
  // After the coordinator has returned (closing the database, printing the summary) a signal
  // also exits at once, with the signal's exit code: the handlers stay installed until the end.
  let coord: Coordinator | null = null;
  let progress: ProgressSink = { start() {}, update() {}, stop() {} }; // no bar until the run starts
  let ended = false;
  let signalCode: number = EXIT.OK;
  const onSignal = (sig: 'SIGINT' | 'SIGTERM') => () => {
    const code = sig === 'SIGINT' ? EXIT.SIGINT : EXIT.SIGTERM;
    if (!coord || signalCode !== EXIT.OK || ended) {
      if (!coord && !ended && a.json) process.stdout.write(JSON.stringify({ ...earlySummary(sig), db: a.db }, null, 2) + '\n');
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
  takeOverSignals();
  let workers: Piscina | null = null;
  try {
    // loaded here, not at startup: `run --help` and a bad command line do not pay for them
    const pool = await resolvePoolOptions(a);
    const { createPool, warmPool } = await import('../../engine/pool.js');
    // the pool threads start (load their modules) while the spec is read and registered
    workers = createPool(pool.threads, pool.maxOldGenerationSizeMb);
    const [{ prepareSpec, registerSpec }, { openStore }, { Coordinator }, { makeProgress, nullProgress }] = await Promise.all([
      import('../submit-spec.js'),
      import('../../store/open.js'),
      import('../../engine/coordinator.js'),
      import('../../engine/progress.js'),
    ]);
    const prepared = await prepareSpec(a.spec, a['max-points']);
    const { spec } = prepared;
    // the threads load the task code and read the dataset while the grid is registered
    warmPool(workers, pool.threads, { kind: spec.kind, kindModule: (await import('../../tasks/registry.js')).kindModule(spec.kind), data: prepared.scan.data.values().next().value as unknown as DataParams | undefined });
    const store = await openStore(a.db);
    try {
      const reg = await registerSpec(store, prepared, { quiet: a.quiet, json: a.json });
      const units = prepared.scan.units;
      progress = a.quiet ? nullProgress : makeProgress();
      coord = new Coordinator(store, {
        ...pool,
        maxAttempts: pool.maxAttempts ?? spec.max_attempts,
        maxOrdersPerBatch: ordersPerBatch(units, a.threads),
        notice: noticeTo(a.quiet),
        progress,
        relocate: prepared.relocate,
        pool: workers,
      });
      let summary: RunSummary;
      try {
        summary = await coord.run(spec.name, spec.kind);
      } finally {
        ended = true;
      }
      if (a.json) process.stdout.write(JSON.stringify({ ...summary, db: a.db, new_grid_points: reg.inserted }, null, 2) + '\n');
      else printSummary(summary, a.db, summary.done > 0 ? await resultsHint(spec) : undefined);
      if (signalCode !== EXIT.OK) return signalCode;
      return summary.failed > 0 ? EXIT.FAILED : EXIT.OK;
    } finally {
      await store.close();
    }
  } finally {
    ended = true;
    await workers?.destroy().catch(() => undefined);
  }
}

/**
 * A first query to look at the sweep: its grid axes that are columns of `results`, then the main
 * metrics of its kind (the first two the report draws, and test_acc when it draws that too).
 */
async function resultsHint(spec: SweepSpec): Promise<string> {
  const [{ AXES }, { kindOf }] = await Promise.all([import('../../store/schema.js'), import('../../tasks/registry.js')]);
  const axes = [...Object.keys(spec.grid), ...Object.keys(spec.derived ?? {})].filter((k) => (AXES as readonly string[]).includes(k));
  const drawn = kindOf(spec.kind).report.metrics;
  const metrics = [...new Set([...drawn.slice(0, 2), ...drawn.filter((m) => m === 'test_acc')])];
  const select = metrics.length ? [...axes, ...metrics].join(', ') : '*';
  return `SELECT ${select} FROM results WHERE sweep = '${spec.name}'${axes.length ? ` ORDER BY ${axes.join(', ')}` : ''} LIMIT 20`;
}

function printSummary(s: RunSummary, db: string, hint = `SELECT * FROM results WHERE sweep = '${s.sweep}' LIMIT 20`): void {
  const lines = [
    `sweep ${s.sweep}: ${s.total} grid point${s.total === 1 ? '' : 's'}; ${s.already_done} already done, ${s.executed} executed now, ` +
      `${s.failed} failed, ${s.diverged} diverged, ${s.pending} pending` +
      (s.running_elsewhere ? `, ${s.running_elsewhere} running in another process` : '') +
      ` (${s.threads} threads, ${s.elapsed_s.toFixed(1)} s${s.backend ? ', linalg ' + s.backend : ''})`,
  ];
  if (s.interrupted) lines.push('interrupted: run the same command again to resume');
  if (s.failed) lines.push(`failures: npx ntk-sweep status ${s.sweep} --db ${db}`);
  lines.push(`results: npx ntk-sweep query "${hint}" --db ${db}`);
  process.stdout.write(lines.join('\n') + '\n');
}

