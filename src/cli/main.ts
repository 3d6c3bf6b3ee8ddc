#!/usr/bin/env node
/**
 * ntk-sweep command line (yargs). Every command takes `--db` (a file, or a postgres:// URL; default $NTK_SWEEP_DB, else db/ntk-sweep.sqlite).
 * Exit codes are in ./exit.ts.
 */
import { readFileSync } from 'node:fs';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { SpecError } from '../spec/errors.js';
import { StoreError } from '../store/errors.js';
import { defaultDb } from '../store/open.js';
import { CliError, EXIT, EXIT_HELP } from './exit.js';

type Register = (y: Argv) => Argv;

/**
 * The commands, each loaded on demand: a command's module (and what it imports: the store, the
 * pool, Vega, …) is loaded only when that command runs, or for the overall help.
 */
const COMMANDS: Record<string, () => Promise<Register[]>> = {
  run: async () => [(await import('./commands/run.js')).registerRun],
  submit: async () => [(await import('./commands/submit.js')).registerSubmit],
  worker: async () => [(await import('./commands/worker.js')).registerWorker],
  status: async () => [(await import('./commands/read.js')).registerStatus],
  query: async () => [(await import('./commands/read.js')).registerQuery],
  export: async () => [(await import('./commands/read.js')).registerExport],
  report: async () => [(await import('./commands/report.js')).registerReport],
  kernel: async () => [(await import('./commands/kernel.js')).registerKernel],
  slope: async () => [(await import('./commands/slope.js')).registerSlope],
  params: async () => [(await import('./commands/params.js')).registerParams],
  doctor: async () => [(await import('./commands/doctor.js')).registerDoctor],
};

/** The commands to register: the one named first on the command line, else all (help, typos). */
async function commandsFor(argv: string[]): Promise<Register[]> {
  const first = argv[0];
  if (first !== undefined && Object.hasOwn(COMMANDS, first)) return COMMANDS[first]();
  return (await Promise.all(Object.values(COMMANDS).map((load) => load()))).flat();
}

/** The version in our package.json (dist/src/cli/main.js → ../../../package.json). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function report(e: unknown): number {
  if (e instanceof SpecError) {
    process.stderr.write(`error: ${e.message}\n`);
    return EXIT.USAGE;
  }
  if (e instanceof CliError) {
    process.stderr.write(`error: ${e.message}\n`);
    return e.exitCode;
  }
  if (e instanceof StoreError) {
    process.stderr.write(`storage error: ${e.message}\n`);
    return EXIT.STORAGE;
  }
  if (e instanceof Error && e.name === 'DataError') {
    process.stderr.write(`data error: ${e.message}\n`);
    return EXIT.USAGE;
  }
  process.stderr.write(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return 70;
}

async function main(): Promise<void> {
  // `ntk-sweep export | head`: the reader went away; that is not an error
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  let cli: Argv = yargs(hideBin(process.argv))
    .scriptName('ntk-sweep')
    .version(packageVersion())
    .usage(
      '$0 <command> [options]\n\nExhaustive width × depth × dataset-size sweeps for Neural Tangent Kernel research: ' +
        'closed-form infinite-width kernels (kind: kernel) and finite-width training (kind: train), on every core, into SQLite or PostgreSQL (one sweep over many machines).',
    )
    .option('db', { type: 'string', default: defaultDb(), describe: 'SQLite database file, or a postgres:// URL (default: $NTK_SWEEP_DB, else db/ntk-sweep.sqlite)', global: true })
    .strict()
    .demandCommand(1, 'name a command: run, submit, worker, status, query, export, report, kernel, slope, params, doctor')
    .recommendCommands()
    .epilog(EXIT_HELP + '\nDocs: README.md; spec fields: `ntk-sweep params`.')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err) throw err;
      process.stderr.write(`error: ${msg}\nrun with --help for usage\n`);
      process.exit(EXIT.USAGE);
    });
  for (const reg of await commandsFor(hideBin(process.argv))) cli = reg(cli);
  try {
    await cli.parseAsync();
  } catch (e) {
    process.exitCode = report(e);
  }
}

await main();
